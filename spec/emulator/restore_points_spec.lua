-- Restore point collections, restore points and disk restore points, in
-- process: Azure's rules, LRO shapes, incremental sizes and byte-exact
-- restores.
local H = require "support.emu"
local json = require "azrp.emulator.json"

local RPC = H.RG .. H.COMPUTE .. "/restorePointCollections/"
local DISKS = H.RG .. H.COMPUTE .. "/disks/"

local function collection(t, name, body)
  return t.call("PUT", RPC .. name, body or { location = "westeurope", properties = { source = { id = H.VM } } })
end

local function restore_point(t, coll, name, props)
  local st, body, h = t.call("PUT", RPC .. coll .. "/restorePoints/" .. name, { properties = props or {} })
  return st, body, h
end

local function created(t, coll, name, props)
  local st, body, h = restore_point(t, coll, name, props)
  assert.are.equal(201, st, json.encode(body))
  local op = t.wait(h)
  assert.are.equal("Succeeded", op.status, json.encode(op))
  return body
end

describe("restore point collections", function()
  local t
  before_each(function() t = H.app() end)

  it("are created (201), read, updated by tags only (200) and listed", function()
    local st, body = collection(t, "rpc1")
    assert.are.equal(201, st)
    assert.are.equal("Succeeded", body.properties.provisioningState)
    assert.are.equal(H.VM, body.properties.source.id)
    assert.are.equal("westeurope", body.properties.source.location)
    st, body = t.call("PUT", RPC .. "rpc1", { location = "westeurope", tags = { a = "b" },
      properties = { source = { id = H.VM } } })
    assert.are.equal(200, st)
    assert.are.same({ a = "b" }, body.tags)
    st, body = t.call("PATCH", RPC .. "rpc1", { tags = { c = "d" } })
    assert.are.equal(200, st)
    assert.are.same({ c = "d" }, body.tags)
    st, body = t.call("PUT", RPC .. "rpc1", { location = "westeurope",
      properties = { source = { id = H.RG .. H.COMPUTE .. "/virtualMachines/vm-sql-01" } } })
    assert.are.equal(409, st)
    assert.are.equal("PropertyChangeNotAllowed", body.error.code)
    st, body = t.call("GET", RPC .. "RPC1")   -- names are case-insensitive
    assert.are.equal(200, st)
    assert.are.equal("rpc1", body.name)
    st, body = t.call("GET", H.RG .. H.COMPUTE .. "/restorePointCollections")
    assert.are.equal(200, st)
    assert.are.equal(1, #body.value)
  end)

  it("must be in the VM's region and name a source", function()
    local st, body = collection(t, "rpc1", { location = "northeurope", properties = { source = { id = H.VM } } })
    assert.are.equal(400, st)
    assert.are.equal("location", body.error.target)
    st, body = collection(t, "rpc2", { location = "westeurope" })
    assert.are.equal(400, st)
    assert.are.equal("properties.source.id", body.error.target)
    st, body = collection(t, "rpc3", { properties = { source = { id = H.VM } } })
    assert.are.equal(400, st)
    assert.matches("location", body.error.message)
    st, body = collection(t, "bad name!")
    assert.are.equal(400, st)
    assert.are.equal("restorePointCollectionName", body.error.target)
  end)

  it("answer 404 ResourceGroupNotFound and ResourceNotFound", function()
    local st, body = t.call("GET", "/subscriptions/" .. H.SUB ..
      "/resourceGroups/nope/providers/Microsoft.Compute/restorePointCollections/x")
    assert.are.equal(404, st)
    assert.are.equal("ResourceGroupNotFound", body.error.code)
    st, body = t.call("GET", RPC .. "missing")
    assert.are.equal(404, st)
    assert.are.equal("ResourceNotFound", body.error.code)
    st, body = restore_point(t, "missing", "rp1")
    assert.are.equal(404, st)
    assert.are.equal("ParentResourceNotFound", body.error.code)
  end)

  it("refuse a missing or older than 2021-03-01 api-version", function()
    local st, body = t.call("GET", RPC .. "x", nil, { api = false })
    assert.are.equal(400, st)
    assert.are.equal("MissingApiVersionParameter", body.error.code)
    st, body = t.call("GET", RPC .. "x", nil, { api = "2020-12-01" })
    assert.are.equal(400, st)
    assert.are.equal("NoRegisteredProviderFound", body.error.code)
    st = t.call("GET", RPC .. "x", nil, { api = "2021-03-01" })
    assert.are.equal(404, st)
    st, body = t.call("GET", RPC .. "x", nil, { api = "yesterday" })
    assert.are.equal(400, st)
    assert.are.equal("InvalidApiVersionParameter", body.error.code)
  end)

  it("page list-all with absolute nextLinks", function()
    t = H.app{ page_size = 2 }
    for i = 1, 5 do assert.are.equal(201, (collection(t, "rpc" .. i))) end
    local names, path, pages = {}, "/subscriptions/" .. H.SUB .. "/providers/Microsoft.Compute/restorePointCollections", 0
    while path do
      local st, body = t.call("GET", path, nil, { api = path:find("api%-version") and false or nil })
      assert.are.equal(200, st)
      pages = pages + 1
      for _, c in ipairs(body.value) do names[#names + 1] = c.name end
      if body.nextLink then
        assert.matches("^https://127%.0%.0%.1:1/", body.nextLink)
        path = body.nextLink:gsub("^https://[^/]+", "")
      else
        path = nil
      end
    end
    assert.are.equal(3, pages)
    assert.are.same({ "rpc1", "rpc2", "rpc3", "rpc4", "rpc5" }, names)
  end)
end)

describe("restore points", function()
  local t
  before_each(function()
    t = H.app()
    assert.are.equal(201, (collection(t, "rpc")))
  end)

  it("are created through an LRO: 201 Creating, absolute status URLs, Retry-After, then Succeeded", function()
    local st, body, h = restore_point(t, "rpc", "rp1")
    assert.are.equal(201, st)
    assert.are.equal("Creating", body.properties.provisioningState)
    assert.matches("^https://127%.0%.0%.1:1/subscriptions/.+/operations/", h["azure-asyncoperation"])
    assert.matches("monitor=true", h.location)
    assert.is_true(tonumber(h["retry-after"]) >= 1)
    assert.is_nil(h["retry-after-ms"])   -- sent only when time is scaled down
    local _, op = t.call("GET", h["azure-asyncoperation"]:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal("InProgress", op.status)
    local mst = t.call("GET", h.location:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal(202, mst)
    t.advance(120)
    _, op = t.call("GET", h["azure-asyncoperation"]:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal("Succeeded", op.status)
    local fst, final = t.call("GET", h.location:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal(200, fst)
    assert.are.equal("Succeeded", final.properties.provisioningState)
    assert.are.equal("FileSystemConsistent", final.properties.consistencyMode)
    local meta = final.properties.sourceMetadata
    assert.are.equal("Standard_D2s_v5", meta.hardwareProfile.vmSize)
    assert.are.equal("Linux", meta.storageProfile.osDisk.osType)
    assert.are.equal(2, #meta.storageProfile.dataDisks)
    assert.matches("/diskRestorePoints/vm%-app%-01%-osdisk_", meta.storageProfile.osDisk.diskRestorePoint.id)
  end)

  it("have one disk restore point per included disk, listed and read", function()
    created(t, "rpc", "rp1", { excludeDisks = { { id = DISKS .. "vm-app-01-data1" } } })
    local st, list = t.call("GET", RPC .. "rpc/restorePoints/rp1/diskRestorePoints")
    assert.are.equal(200, st)
    assert.are.equal(2, #list.value)
    local drp = list.value[1]
    assert.matches("^vm%-app%-01%-osdisk_%x+", drp.name)
    assert.are.equal(DISKS .. "vm-app-01-osdisk", drp.properties.sourceResourceId)
    local gst, got = t.call("GET", drp.id)
    assert.are.equal(200, gst)
    assert.are.equal(drp.id, got.id)
    local _, rp = t.call("GET", RPC .. "rpc/restorePoints/rp1?$expand=instanceView")
    assert.are.equal(2, #rp.properties.instanceView.diskRestorePoints)
    assert.are.equal(100, rp.properties.instanceView.diskRestorePoints[1].replicationStatus.completionPercent)
    assert.are.equal(1, #rp.properties.excludeDisks)
    local _, coll = t.call("GET", RPC .. "rpc?%24expand=restorePoints")
    assert.are.equal(1, #coll.properties.restorePoints)
  end)

  it("allow one creation at a time per VM (409)", function()
    assert.are.equal(201, (restore_point(t, "rpc", "rp1")))
    assert.are.equal(201, (collection(t, "rpc-other")))
    local st, body = restore_point(t, "rpc-other", "rp2")
    assert.are.equal(409, st)
    assert.matches("Concurrent", body.error.message)
    t.advance(120)
    assert.are.equal(201, (restore_point(t, "rpc-other", "rp2")))
  end)

  it("refuse Ultra, shared and ephemeral OS disks unless they are excluded", function()
    local sql = H.RG .. H.COMPUTE .. "/virtualMachines/vm-sql-01"
    assert.are.equal(201, (collection(t, "sql", { location = "westeurope", properties = { source = { id = sql } } })))
    local st, body = restore_point(t, "sql", "rp1")
    assert.are.equal(400, st)
    assert.are.equal("properties.excludeDisks", body.error.target)
    assert.matches("UltraSSD_LRS", body.error.message)
    assert.matches("shared", body.error.message)
    local _, vm = t.call("GET", sql)
    local ultra = vm.properties.storageProfile.dataDisks[1].managedDisk.id
    local shared = vm.properties.storageProfile.dataDisks[2].managedDisk.id
    created(t, "sql", "rp1", { excludeDisks = { { id = ultra }, { id = shared:upper() } } })
    local _, list = t.call("GET", RPC .. "sql/restorePoints/rp1/diskRestorePoints")
    assert.are.equal(2, #list.value)

    local eph = H.RG .. H.COMPUTE .. "/virtualMachines/vm-eph-01"
    assert.are.equal(201, (collection(t, "eph", { location = "westeurope", properties = { source = { id = eph } } })))
    st, body = restore_point(t, "eph", "rp1")
    assert.are.equal(400, st)
    assert.matches("ephemeral", body.error.message)
  end)

  it("check excludeDisks, consistencyMode and re-creation", function()
    local st, body = restore_point(t, "rpc", "rp1", { excludeDisks = { { id = DISKS .. "not-mine" } } })
    assert.are.equal(400, st)
    assert.are.equal("properties.excludeDisks", body.error.target)
    st, body = restore_point(t, "rpc", "rp1", { consistencyMode = "Sloppy" })
    assert.are.equal(400, st)
    assert.are.equal("properties.consistencyMode", body.error.target)
    local rp = created(t, "rpc", "rp1", { consistencyMode = "CrashConsistent" })
    assert.are.equal("CrashConsistent", rp.properties.consistencyMode)
    st, body = restore_point(t, "rpc", "rp1", { consistencyMode = "ApplicationConsistent" })
    assert.are.equal(409, st)
    assert.are.equal("OperationNotAllowed", body.error.code)
  end)

  it("end Failed when provisioning fails", function()
    local st, _, h = t.call("PUT", RPC .. "rpc/restorePoints/rpf", { properties = {} },
      { headers = { ["x-azrp-fault"] = "failed" } })
    assert.are.equal(201, st)
    local op = t.wait(h)
    assert.are.equal("Failed", op.status)
    assert.is_string(op.error.code)
    local _, rp = t.call("GET", RPC .. "rpc/restorePoints/rpf")
    assert.are.equal("Failed", rp.properties.provisioningState)
  end)

  it("are deleted (LRO), with the collection deleting what it contains", function()
    created(t, "rpc", "rp1")
    local st, _, h = t.call("DELETE", RPC .. "rpc/restorePoints/rp1")
    assert.are.equal(202, st)
    assert.are.equal("Succeeded", t.wait(h).status)
    assert.are.equal(404, (t.call("GET", RPC .. "rpc/restorePoints/rp1")))
    assert.are.equal(204, (t.call("DELETE", RPC .. "rpc/restorePoints/rp1")))
    created(t, "rpc", "rp2")
    st, _, h = t.call("DELETE", RPC .. "rpc")
    assert.are.equal(202, st)
    t.wait(h)
    assert.are.equal(404, (t.call("GET", RPC .. "rpc")))
    assert.is_nil(t.app.store:get(RPC .. "rpc/restorePoints/rp2"))
  end)
end)

describe("disk content through restore points", function()
  local t
  local data0 = DISKS .. "vm-app-01-data0"
  before_each(function()
    t = H.app()
    assert.are.equal(201, (collection(t, "rpc")))
  end)

  local function restore(name, drp_id, location, rg)
    local st, body, h = t.call("PUT", (rg or H.RG) .. H.COMPUTE .. "/disks/" .. name, {
      location = location or "westeurope", sku = { name = "Premium_LRS" },
      properties = { creationData = { createOption = "Restore", sourceResourceId = drp_id } } })
    return st, body, h
  end

  local function drp_of(rp, disk_name)
    local _, list = t.call("GET", RPC .. "rpc/restorePoints/" .. rp .. "/diskRestorePoints")
    for _, d in ipairs(list.value) do
      if d.properties.sourceResourceId:find(disk_name, 1, true) then return d.id end
    end
  end

  it("restore byte-exact and keep only changed blocks (incremental)", function()
    t.write(data0, 0, string.rep("A", 300000))
    local sha_a = t.sha(data0)
    created(t, "rpc", "rp1")
    t.write(data0, 1024 * 1024, string.rep("B", 1000))
    local sha_b = t.sha(data0)
    created(t, "rpc", "rp2")
    t.write(data0, 0, "C")
    assert.are_not.equal(sha_b, t.sha(data0))

    local st, _, h = restore("restored-a", drp_of("rp1", "vm-app-01-data0"))
    assert.are.equal(202, st)
    assert.are.equal("Succeeded", t.wait(h).status)
    assert.are.equal(sha_a, t.sha(DISKS .. "restored-a"))
    st, _, h = restore("restored-b", drp_of("rp2", "vm-app-01-data0"))
    assert.are.equal(202, st)
    t.wait(h)
    assert.are.equal(sha_b, t.sha(DISKS .. "restored-b"))
    local _, disk = t.call("GET", DISKS .. "restored-b")
    assert.are.equal("Restore", disk.properties.creationData.createOption)
    local _, src = t.call("GET", data0)
    assert.are.equal(src.properties.diskSizeGB, disk.properties.diskSizeGB)   -- the source's size
    assert.are.equal(src.properties.diskSizeBytes, disk.properties.diskSizeBytes)

    local _, s1 = t.call("GET", "/_emulator/restorePoints/" .. (RPC .. "rpc/restorePoints/rp1"):gsub("/", "%%2F") .. "/sizes")
    local _, s2 = t.call("GET", "/_emulator/restorePoints/" .. (RPC .. "rpc/restorePoints/rp2"):gsub("/", "%%2F") .. "/sizes")
    local function changed(s, name)
      for _, d in ipairs(s.disks) do if d.source_disk:find(name, 1, true) then return d.changed_bytes end end
    end
    assert.is_true(changed(s1, "vm-app-01-data0") >= 300000)
    assert.is_true(changed(s2, "vm-app-01-data0") < 300000)
    assert.is_true(changed(s2, "vm-app-01-data0") >= 1000)
    -- the OS disk did not change between rp1 and rp2
    assert.are.equal(0, changed(s2, "vm-app-01-osdisk"))
  end)

  it("copy to another region, replicate to 100 % and restore there", function()
    t.write(data0, 4096, string.rep("Z", 70000))
    local sha = t.sha(data0)
    created(t, "rpc", "rp1")
    local target = H.DR .. H.COMPUTE .. "/restorePointCollections/rpc-dr"
    local st, body = t.call("PUT", target, { location = "northeurope", properties = { source = { id = RPC .. "rpc" } } })
    assert.are.equal(201, st, json.encode(body))
    st, body = t.call("PUT", target .. "/restorePoints/rp1", { properties = {} })
    assert.are.equal(400, st)
    assert.are.equal("properties.sourceRestorePoint.id", body.error.target)
    local h
    st, body, h = t.call("PUT", target .. "/restorePoints/rp1-copy",
      { properties = { sourceRestorePoint = { id = RPC .. "rpc/restorePoints/rp1" } } })
    assert.are.equal(201, st, json.encode(body))
    assert.are.equal("Creating", body.properties.provisioningState)
    assert.are.equal("Succeeded", t.wait(h).status)
    local seen = {}
    local drp
    for _ = 1, 100 do
      local _, rp = t.call("GET", target .. "/restorePoints/rp1-copy?$expand=instanceView")
      local views = rp.properties.instanceView.diskRestorePoints
      assert.are.equal(3, #views)
      local p = 100
      for _, v in ipairs(views) do p = math.min(p, v.replicationStatus.completionPercent) end
      seen[#seen + 1] = p
      if p == 100 then
        for _, v in ipairs(views) do
          assert.are.equal("ReplicationState/succeeded", v.replicationStatus.status.code)
        end
        break
      end
      local any_in_progress = false
      for _, v in ipairs(views) do
        if v.replicationStatus.status.code == "ReplicationState/inProgress" then any_in_progress = true end
      end
      assert.is_true(any_in_progress)
      if not drp then
        local _, list = t.call("GET", target .. "/restorePoints/rp1-copy/diskRestorePoints")
        for _, d in ipairs(list.value) do
          if d.name:find("vm-app-01-data0", 1, true) then drp = d.id end
        end
        local rst, rbody = restore("too-early", drp, "northeurope", H.DR)
        assert.are.equal(409, rst)
        assert.matches("replicating", rbody.error.message)
      end
      t.advance(30)
    end
    assert.is_true(#seen > 3, "progress should be seen growing")
    for i = 2, #seen do assert.is_true(seen[i] >= seen[i - 1]) end
    assert.are.equal(100, seen[#seen])
    local rst, _, rh = restore("restored-dr", drp, "northeurope", H.DR)
    assert.are.equal(202, rst)
    t.wait(rh)
    assert.are.equal(sha, t.sha(H.DR .. H.COMPUTE .. "/disks/restored-dr"))
    -- a restore in the wrong region is refused
    local wst, wbody = restore("wrong-region", drp, "westeurope")
    assert.are.equal(400, wst)
    assert.are.equal("location", wbody.error.target)
    -- no copy of a copy: neither a collection sourced from a copy target,
    -- nor a restore point whose source is a copy
    local third = "/subscriptions/" .. H.SUB .. "/resourceGroups/rg-prod" .. H.COMPUTE .. "/restorePointCollections/rpc-back"
    st, body = t.call("PUT", third, { location = "westeurope", properties = { source = { id = target } } })
    assert.are.equal(400, st)
    assert.matches("copies of copies", body.error.message)
    -- one copy per source per region
    st = t.call("PUT", target .. "/restorePoints/rp1-copy2",
      { properties = { sourceRestorePoint = { id = RPC .. "rpc/restorePoints/rp1" } } })
    assert.are.equal(409, st)
  end)

  it("copy only a Succeeded source", function()
    local st, _ = restore_point(t, "rpc", "rp-pending")
    assert.are.equal(201, st)
    local target = H.DR .. H.COMPUTE .. "/restorePointCollections/rpc-dr"
    assert.are.equal(201, (t.call("PUT", target, { location = "northeurope", properties = { source = { id = RPC .. "rpc" } } })))
    local body
    st, body = t.call("PUT", target .. "/restorePoints/early",
      { properties = { sourceRestorePoint = { id = RPC .. "rpc/restorePoints/rp-pending" } } })
    assert.are.equal(409, st)
    assert.matches("Succeeded", body.error.message)
  end)

  it("grant SAS on a disk restore point, block deletion while active, revoke", function()
    t.write(data0, 0, "hello restore point")
    created(t, "rpc", "rp1")
    local drp = drp_of("rp1", "vm-app-01-data0")
    local st, _, h = t.call("POST", drp .. "/beginGetAccess", { access = "Read", durationInSeconds = 3600 })
    assert.are.equal(202, st)
    assert.are.equal("Succeeded", t.wait(h).status)
    local fst, grant = t.call("GET", h.location:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal(200, fst)
    assert.matches("^https://127%.0%.0%.1:1/", grant.accessSAS)
    local blob_path = grant.accessSAS:gsub("^https://[^/]+", "")
    local bst, bytes = t.call("GET", blob_path, nil, { api = false, headers = { range = "bytes=0-18" } })
    assert.are.equal(206, bst)
    assert.are.equal("hello restore point", bytes)

    local dst, dbody = t.call("DELETE", RPC .. "rpc/restorePoints/rp1")
    assert.are.equal(409, dst)
    assert.are.equal("DiskRestorePointUsedByCustomer", dbody.error.code)

    -- a second grant returns the same URL, extended
    st, _, h = t.call("POST", drp .. "/beginGetAccess", { access = "Read", durationInSeconds = 7200 })
    t.wait(h)
    local _, again = t.call("GET", h.location:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal(grant.accessSAS, again.accessSAS)

    st, _, h = t.call("POST", drp .. "/endGetAccess")
    assert.are.equal(202, st)
    t.wait(h)
    bst = t.call("GET", blob_path, nil, { api = false, headers = { range = "bytes=0-18" } })
    assert.are.equal(403, bst)
    dst = t.call("DELETE", RPC .. "rpc/restorePoints/rp1")
    assert.are.equal(202, dst)
  end)

  it("validates grant data before anything happens", function()
    created(t, "rpc", "rp1")
    local drp = drp_of("rp1", "vm-app-01-data0")
    local st, body = t.call("POST", drp .. "/beginGetAccess", { access = "Read" })
    assert.are.equal(400, st)
    assert.are.equal("grantAccessData.durationInSeconds", body.error.target)
    st, body = t.call("POST", drp .. "/beginGetAccess", { access = "Sometimes", durationInSeconds = 60 })
    assert.are.equal(400, st)
    assert.are.equal("grantAccessData.access", body.error.target)
  end)
end)
