-- Snapshots, managed images and Compute Gallery image versions: each keeps
-- the bytes its source had when it was made, and refuses bad requests
-- naming the field, before changing anything.
assert(require("azrp.emulator.deps").setup())

local json = require "azrp.emulator.json"
local router = require "azrp.emulator.router"
local app_mod = require "azrp.emulator.app"

local SUB = "00000000-0000-4000-8000-000000000001"
local RG = "/subscriptions/" .. SUB .. "/resourceGroups/rg-prod"
local PFX = RG .. "/providers/Microsoft.Compute"
local BASE = "https://127.0.0.1:1"
local DISK_API, COMPUTE_API, GALLERY_API = "2026-03-02", "2025-11-01", "2025-03-03"
local VM = PFX .. "/virtualMachines/vm-app-01"
local OS_DISK = PFX .. "/disks/vm-app-01-osdisk"
local DATA0 = PFX .. "/disks/vm-app-01-data0"
local DATA1 = PFX .. "/disks/vm-app-01-data1"
local DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"

describe("emulator snapshots, images and galleries", function()
  local app, token

  local function request(method, path, query, body)
    local res = app:handle{ method = method, path = path, query = query,
      headers = { authorization = token and ("Bearer " .. token) or nil },
      body = body and json.encode(body) or "", base_url = BASE }
    local doc = res.body ~= "" and json.decode(res.body) or nil
    return res, doc
  end

  local function call(method, path, api, body, extra)
    local q = { ["api-version"] = api }
    for k, v in pairs(extra or {}) do q[k] = v end
    return request(method, path, q, body)
  end

  -- Follows an LRO's absolute Location URL.
  local function follow(res)
    local url = assert(res.headers.location, "no Location header")
    local path, q = url:match("^https?://[^/]+([^?]*)%??(.*)$")
    return request("GET", path, router.parse_query(q))
  end

  -- Emulated time jumps ahead; the next request finishes what is due.
  local function later(seconds) app.clock:advance(seconds or 5) end

  local function content_of(id) return app.store:get(id).x.content end

  local function assert_error(res, doc, status, code, target)
    assert.equal(status, res.status, res.body)
    assert.equal(code, doc.error.code)
    if target then assert.equal(target, doc.error.target) end
  end

  local function snapshot_body(source, option)
    return { location = "westeurope", properties = { creationData = {
      createOption = option or "Copy", sourceResourceId = source } } }
  end

  local function make_snapshot(name, source, option)
    local res, doc = call("PUT", PFX .. "/snapshots/" .. name, DISK_API, snapshot_body(source, option))
    assert.equal(202, res.status, res.body)
    later()
    return doc.id
  end

  before_each(function()
    -- Time stands still unless a test moves it (later), so that progress
    -- does not depend on how fast this machine hashes.
    local t = 1.7e9
    -- vm-app-01 as a standard VM: Azure makes no managed image of a
    -- Trusted Launch one (golden_image_spec checks that refusal).
    local seed = require("azrp.emulator.seed").default()
    for _, vm in ipairs(seed.vms) do
      if vm.name == "vm-app-01" then vm.security_type = nil end
    end
    app = app_mod.new{ time_scale = 0.001, now = function() return t end,
      signing_key = require("support.emu").signing_key(), seed = seed }
    token = nil
    if app.identity then
      token = app.identity:mint{ client_id = "22222222-2222-4222-8222-222222222222",
        tenant = "11111111-1111-4111-8111-111111111111", expires_in = 3600 }
    end
  end)

  describe("snapshots", function()
    it("keep the bytes the disk had when they were taken", function()
      assert(content_of(DATA1):write(4096, "before the snapshot"))
      local before = content_of(DATA1):sha256()
      local res, doc = call("PUT", PFX .. "/snapshots/snap-data1", DISK_API, snapshot_body(DATA1))
      assert.equal(202, res.status, res.body)
      assert.equal("Updating", doc.properties.provisioningState)
      assert.truthy(res.headers["azure-asyncoperation"])
      -- a copy takes 10 s nominal: Retry-After says 1 s (the floor), and
      -- retry-after-ms the hint of an unscaled emulator (10 s) scaled
      assert.equal("1", res.headers["retry-after"])
      assert.equal("10", res.headers["retry-after-ms"])
      assert(content_of(DATA1):write(4096, "after the snapshot!"))

      local snap = app.store:get(doc.id).x.snap
      assert.equal(before, snap:sha256())
      assert.not_equal(content_of(DATA1):sha256(), snap:sha256())
      assert.equal("before the snapshot", snap:read(4096, 19))

      later()
      local gres, g = call("GET", PFX .. "/snapshots/snap-data1", DISK_API)
      assert.equal(200, gres.status)
      assert.equal("Succeeded", g.properties.provisioningState)
      assert.equal("Copy", g.properties.creationData.createOption)
      assert.equal(DATA1, g.properties.creationData.sourceResourceId)
      local disk = app.store:get(DATA1).body
      assert.equal(disk.properties.uniqueId, g.properties.creationData.sourceUniqueId)
      assert.equal(1, g.properties.diskSizeGB)
      assert.equal(1024 ^ 3, g.properties.diskSizeBytes)
      assert.is_false(g.properties.incremental)
      assert.equal("Unattached", g.properties.diskState)
      assert.same({ name = "Standard_LRS", tier = "Standard" }, g.sku)
      assert.equal("EncryptionAtRestWithPlatformKey", g.properties.encryption.type)
    end)

    it("give a disk copied from them their bytes, and snapshot a snapshot", function()
      assert(content_of(DATA1):write(0, "data v1"))
      local snap_id = make_snapshot("snap-d1", DATA1)
      local sha = app.store:get(snap_id).x.snap:sha256()
      assert(content_of(DATA1):write(0, "data v2"))

      local res, doc = call("PUT", PFX .. "/disks/disk-from-snap", DISK_API, { location = "westeurope",
        properties = { creationData = { createOption = "Copy", sourceResourceId = snap_id } } })
      assert.equal(202, res.status, res.body)
      assert.equal(sha, content_of(doc.id):sha256())
      assert.equal("data v1", content_of(doc.id):read(0, 7))
      -- A snapshot of an OS disk keeps its OS type.
      local os_snap = make_snapshot("snap-os", OS_DISK)
      assert.equal("Linux", app.store:get(os_snap).body.properties.osType)
      assert.equal("V2", app.store:get(os_snap).body.properties.hyperVGeneration)

      local copy_id = make_snapshot("snap-of-snap", snap_id)
      assert.equal(sha, app.store:get(copy_id).x.snap:sha256())
    end)

    it("are made from a disk restore point with Restore", function()
      local rpc = PFX .. "/restorePointCollections/rpc-app"
      local res = call("PUT", rpc, COMPUTE_API, { location = "westeurope", properties = { source = { id = VM } } })
      assert.equal(201, res.status, res.body)
      assert(content_of(DATA1):write(0, "restore point data"))
      res = call("PUT", rpc .. "/restorePoints/rp1", COMPUTE_API, { properties = {} })
      assert.equal(201, res.status, res.body)
      later()
      call("GET", rpc .. "/restorePoints/rp1", COMPUTE_API)
      local drp
      for _, e in ipairs(app.store:list(DRP_TYPE, { parent = rpc .. "/restorePoints/rp1" })) do
        if e.body.properties.sourceResourceId:lower() == DATA1:lower() then drp = e end
      end
      assert.truthy(drp)
      assert(content_of(DATA1):write(0, "changed since then"))

      local sres, sdoc = call("PUT", PFX .. "/snapshots/snap-drp", DISK_API, snapshot_body(drp.id, "Restore"))
      assert.equal(202, sres.status, sres.body)
      assert.equal(drp.x.snap:sha256(), app.store:get(sdoc.id).x.snap:sha256())
      assert.equal("Restore", sdoc.properties.creationData.createOption)

      -- Copy names disks and snapshots; a restore point needs Restore.
      local cres, cdoc = call("PUT", PFX .. "/snapshots/snap-drp2", DISK_API, snapshot_body(drp.id, "Copy"))
      assert_error(cres, cdoc, 400, "InvalidParameter", "properties.creationData.sourceResourceId")

      -- Not a direct gallery or image source either.
      call("PUT", PFX .. "/galleries/gal", GALLERY_API, { location = "westeurope" })
      call("PUT", PFX .. "/galleries/gal/images/def", GALLERY_API, { location = "westeurope", properties = {
        osType = "Linux", osState = "Specialized", identifier = { publisher = "p", offer = "o", sku = "s" } } })
      later()
      local vres, vdoc = call("PUT", PFX .. "/galleries/gal/images/def/versions/1.0.0", GALLERY_API, {
        location = "westeurope", properties = { storageProfile = { osDiskImage = { source = { id = drp.id } } } } })
      assert_error(vres, vdoc, 400, "InvalidParameter", "properties.storageProfile.osDiskImage.source.id")
      assert.truthy(vdoc.error.message:find("disk restore point", 1, true))
      local ires, idoc = call("PUT", PFX .. "/images/img-drp", COMPUTE_API, { location = "westeurope",
        properties = { storageProfile = { osDisk = { osType = "Linux", osState = "Specialized",
          snapshot = { id = drp.id } } } } })
      assert_error(ires, idoc, 400, "InvalidParameter", "properties.storageProfile.osDisk.snapshot.id")
      assert.is_nil(app.store:get(PFX .. "/galleries/gal/images/def/versions/1.0.0"))
    end)

    it("name the bad field and change nothing", function()
      local cases = {
        { { location = "westeurope", properties = { creationData = { sourceResourceId = DATA0 } } },
          400, "InvalidParameter", "properties.creationData.createOption" },
        { { location = "westeurope", properties = { creationData = { createOption = "Copy" } } },
          400, "InvalidParameter", "properties.creationData.sourceResourceId" },
        { { location = "westeurope", sku = { name = "UltraSSD_LRS" }, properties = {
          creationData = { createOption = "Copy", sourceResourceId = DATA0 } } },
          400, "InvalidParameter", "sku.name" },
        { { location = "westeurope", properties = { incremental = "yes",
          creationData = { createOption = "Copy", sourceResourceId = DATA0 } } },
          400, "InvalidParameter", "properties.incremental" },
        { { properties = { creationData = { createOption = "Copy", sourceResourceId = DATA0 } } },
          400, "LocationRequired" },
        { { location = "northeurope", properties = { creationData = { createOption = "Copy", sourceResourceId = DATA0 } } },
          400, "InvalidParameter", "location" },
        { snapshot_body(PFX .. "/disks/nope"), 404, "NotFound", "properties.creationData.sourceResourceId" },
      }
      for i, c in ipairs(cases) do
        local res, doc = call("PUT", PFX .. "/snapshots/bad-" .. i, DISK_API, c[1])
        assert_error(res, doc, c[2], c[3], c[4])
        assert.is_nil(app.store:get(PFX .. "/snapshots/bad-" .. i))
      end
      local res, doc = call("PUT", "/subscriptions/" .. SUB .. "/resourceGroups/rg-nope/providers/Microsoft.Compute/snapshots/s",
        DISK_API, snapshot_body(DATA0))
      assert_error(res, doc, 404, "ResourceGroupNotFound")
      res, doc = call("GET", PFX .. "/snapshots/missing", DISK_API)
      assert_error(res, doc, 404, "ResourceNotFound")
      res = call("DELETE", PFX .. "/snapshots/missing", DISK_API)
      assert.equal(204, res.status)
    end)

    it("list, update tags, grant access and delete", function()
      local id = make_snapshot("snap-a", DATA0)
      local res, doc = call("GET", PFX .. "/snapshots", DISK_API)
      assert.equal(200, res.status)
      assert.equal("snap-a", doc.value[1].name)
      res, doc = call("GET", "/subscriptions/" .. SUB .. "/providers/Microsoft.Compute/snapshots", DISK_API)
      assert.equal(1, #doc.value)

      res, doc = call("PATCH", id, DISK_API, { tags = { purpose = "golden" } })
      assert.equal(200, res.status, res.body)
      assert.same({ purpose = "golden" }, doc.tags)

      if app.blob then
        res = call("POST", id .. "/beginGetAccess", DISK_API, { access = "Read", durationInSeconds = 600 })
        assert.equal(202, res.status, res.body)
        later(1)
        local fres, fdoc = follow(res)
        assert.equal(200, fres.status, fres.body)
        assert.truthy(fdoc.accessSAS)
        local _, g = call("GET", id, DISK_API)
        assert.equal("ActiveSAS", g.properties.diskState)
        local dres, ddoc = call("DELETE", id, DISK_API)
        assert_error(dres, ddoc, 409, "OperationNotAllowed")
        res = call("POST", id .. "/endGetAccess", DISK_API)
        assert.equal(202, res.status)
        later(1)
        _, g = call("GET", id, DISK_API)
        assert.equal("Unattached", g.properties.diskState)
      end

      res = call("DELETE", id, DISK_API)
      assert.equal(202, res.status, res.body)
      later()
      res = call("GET", id, DISK_API)
      assert.equal(404, res.status)
    end)
  end)

  describe("managed images", function()
    it("are made from a snapshot and a disk, keeping their bytes", function()
      assert(content_of(OS_DISK):write(0, "golden OS"))
      local snap_id = make_snapshot("snap-golden", OS_DISK)
      assert(content_of(DATA1):write(0, "golden data"))
      local data_sha = content_of(DATA1):sha256()
      local res, doc = call("PUT", PFX .. "/images/img-golden", COMPUTE_API, { location = "westeurope",
        properties = { hyperVGeneration = "V2", storageProfile = {
          osDisk = { osType = "Linux", osState = "Generalized", snapshot = { id = snap_id } },
          dataDisks = { { lun = 3, managedDisk = { id = DATA1 } } } } } })
      assert.equal(201, res.status, res.body)
      assert.equal("Creating", doc.properties.provisioningState)
      assert.equal("ReadWrite", doc.properties.storageProfile.osDisk.caching)
      assert.equal(3, doc.properties.storageProfile.dataDisks[1].lun)
      assert(content_of(DATA1):write(0, "changed later"))

      local x = app.store:get(doc.id).x
      assert.equal(app.store:get(snap_id).x.snap, x.disks.os)
      assert.equal("golden OS", x.disks.os:read(0, 9))
      assert.equal(data_sha, x.disks[3]:sha256())

      later()
      local fres, fdoc = follow(res)
      assert.equal(200, fres.status, fres.body)
      assert.equal("Succeeded", fdoc.properties.provisioningState)
      assert.equal("img-golden", fdoc.name)
      assert.equal("V2", fdoc.properties.hyperVGeneration)

      res, doc = call("GET", PFX .. "/images", COMPUTE_API)
      assert.equal(1, #doc.value)
      res = call("DELETE", PFX .. "/images/img-golden", COMPUTE_API)
      assert.equal(202, res.status)
      later()
      res = call("GET", PFX .. "/images/img-golden", COMPUTE_API)
      assert.equal(404, res.status)
    end)

    it("are made from a stopped VM's disks", function()
      local body = { location = "westeurope", properties = { sourceVirtualMachine = { id = VM } } }
      local res, doc = call("PUT", PFX .. "/images/img-vm", COMPUTE_API, body)
      assert_error(res, doc, 409, "OperationNotAllowed", "properties.sourceVirtualMachine.id")

      assert.equal(202, call("POST", VM .. "/deallocate", COMPUTE_API).status)
      later()
      local marks = { os = { OS_DISK, "vm os" }, [0] = { DATA0, "vm data0" }, [1] = { DATA1, "vm data1" } }
      for _, m in pairs(marks) do assert(content_of(m[1]):write(512, m[2])) end
      local data1_sha = content_of(DATA1):sha256()
      res, doc = call("PUT", PFX .. "/images/img-vm", COMPUTE_API, body)
      assert.equal(201, res.status, res.body)
      local sp = doc.properties.storageProfile
      assert.equal("Linux", sp.osDisk.osType)
      assert.equal("Generalized", sp.osDisk.osState)
      assert.equal(2, #sp.dataDisks)
      assert.equal(VM, doc.properties.sourceVirtualMachine.id)
      for _, m in pairs(marks) do assert(content_of(m[1]):write(512, "overwritten")) end
      local x = app.store:get(doc.id).x
      for k, m in pairs(marks) do assert.equal(m[2], x.disks[k]:read(512, #m[2])) end
      assert.equal(data1_sha, x.disks[1]:sha256())
      later()
      local _, g = call("GET", doc.id, COMPUTE_API)
      assert.equal("Succeeded", g.properties.provisioningState)
    end)

    it("refuse bad requests naming the field", function()
      local function os_disk(t)
        local d = { osType = "Linux", osState = "Generalized", managedDisk = { id = DATA0 } }
        for k, v in pairs(t) do d[k] = v end
        for k, v in pairs(t) do if v == false then d[k] = nil end end
        return { location = "westeurope", properties = { storageProfile = { osDisk = d } } }
      end
      local cases = {
        { os_disk{ osType = false }, 400, "InvalidParameter", "properties.storageProfile.osDisk.osType" },
        { os_disk{ osType = "BeOS" }, 400, "InvalidParameter", "properties.storageProfile.osDisk.osType" },
        { os_disk{ osState = false }, 400, "InvalidParameter", "properties.storageProfile.osDisk.osState" },
        { os_disk{ managedDisk = false }, 400, "InvalidParameter", "properties.storageProfile.osDisk" },
        { os_disk{ managedDisk = { id = PFX .. "/disks/nope" } }, 404, "NotFound",
          "properties.storageProfile.osDisk.managedDisk.id" },
        { { location = "westeurope", properties = { storageProfile = {
          osDisk = { osType = "Linux", osState = "Generalized", managedDisk = { id = OS_DISK } },
          dataDisks = { { managedDisk = { id = DATA0 } } } } } },
          400, "InvalidParameter", "properties.storageProfile.dataDisks[0].lun" },
        { { location = "westeurope", properties = { sourceVirtualMachine = { id = PFX .. "/virtualMachines/nope" } } },
          404, "NotFound", "properties.sourceVirtualMachine.id" },
        { { location = "westeurope", properties = {} }, 400, "InvalidParameter", "properties.storageProfile" },
      }
      for i, c in ipairs(cases) do
        local res, doc = call("PUT", PFX .. "/images/bad-" .. i, COMPUTE_API, c[1])
        assert_error(res, doc, c[2], c[3], c[4])
        assert.is_nil(app.store:get(PFX .. "/images/bad-" .. i))
      end
    end)
  end)

  describe("Compute Gallery", function()
    local GAL = PFX .. "/galleries/gal_prod"
    local DEF = GAL .. "/images/app-linux"

    local function make_definition()
      local res = call("PUT", GAL, GALLERY_API, { location = "westeurope", properties = { description = "prod" } })
      assert.equal(201, res.status, res.body)
      res = call("PUT", DEF, GALLERY_API, { location = "westeurope", properties = {
        osType = "Linux", osState = "Specialized", hyperVGeneration = "V2",
        identifier = { publisher = "contoso", offer = "app", sku = "prod" } } })
      assert.equal(201, res.status, res.body)
      later()
    end

    local function version_body(source_id)
      return { location = "westeurope", properties = {
        publishingProfile = { targetRegions = {
          { name = "West Europe", regionalReplicaCount = 1 },
          { name = "North Europe", regionalReplicaCount = 2, storageAccountType = "Standard_ZRS" } } },
        storageProfile = { osDiskImage = { source = { id = source_id }, hostCaching = "ReadOnly" },
          dataDiskImages = { { lun = 0, source = { id = DATA1 } } } } } }
    end

    it("replicate an image version from a snapshot to every target region", function()
      make_definition()
      assert(content_of(OS_DISK):write(0, "gallery OS"))
      local snap_id = make_snapshot("snap-gal", OS_DISK)
      local res, doc = call("PUT", DEF .. "/versions/1.0.0", GALLERY_API, version_body(snap_id))
      assert.equal(201, res.status, res.body)
      assert.equal("Creating", doc.properties.provisioningState)
      assert.truthy(res.headers["azure-asyncoperation"])
      assert.equal(4, doc.properties.storageProfile.osDiskImage.sizeInGB)
      assert.equal("ReadOnly", doc.properties.storageProfile.osDiskImage.hostCaching)
      assert.equal("Standard_ZRS", doc.properties.publishingProfile.targetRegions[2].storageAccountType)
      assert.equal("Standard_LRS", doc.properties.publishingProfile.targetRegions[1].storageAccountType)
      local x = app.store:get(doc.id).x
      assert.equal(app.store:get(snap_id).x.snap, x.disks.os)
      assert.equal("gallery OS", x.disks.os:read(0, 10))
      assert.equal(content_of(DATA1):sha256(), x.disks[0]:sha256())

      local _, g = call("GET", doc.id, GALLERY_API, nil, { ["$expand"] = "ReplicationStatus" })
      assert.equal("InProgress", g.properties.replicationStatus.aggregatedState)
      assert.equal(2, #g.properties.replicationStatus.summary)

      -- 100 nominal seconds: the home region is done, the other is not.
      later(0.1)
      _, g = call("GET", doc.id, GALLERY_API, nil, { ["$expand"] = "replicationstatus" })
      local s = g.properties.replicationStatus.summary
      assert.equal("Completed", s[1].state)
      assert.equal(100, s[1].progress)
      assert.equal("Replicating", s[2].state)
      assert.is_true(s[2].progress > 0 and s[2].progress < 100)
      assert.equal("Creating", g.properties.provisioningState)
      assert.is_false(app.store:get(doc.id).x.replicated(app, "northeurope"))

      later()
      local fres, fdoc = follow(res)
      assert.equal(200, fres.status, fres.body)
      assert.equal("Succeeded", fdoc.properties.provisioningState)
      _, g = call("GET", doc.id, GALLERY_API, nil, { ["$expand"] = "ReplicationStatus" })
      assert.equal("Completed", g.properties.replicationStatus.aggregatedState)
      for _, r in ipairs(g.properties.replicationStatus.summary) do
        assert.equal("Completed", r.state)
        assert.equal(100, r.progress)
      end
      assert.is_true(app.store:get(doc.id).x.replicated(app, "North Europe"))
      -- Without $expand there is no replicationStatus.
      _, g = call("GET", doc.id, GALLERY_API)
      assert.is_nil(g.properties.replicationStatus)

      local lres, ldoc = call("GET", DEF .. "/versions", GALLERY_API)
      assert.equal(200, lres.status)
      assert.equal("1.0.0", ldoc.value[1].name)

      -- Children first: a definition with versions cannot go.
      local dres, ddoc = call("DELETE", DEF, GALLERY_API)
      assert_error(dres, ddoc, 409, "CannotDeleteResource")
      assert.equal(202, call("DELETE", doc.id, GALLERY_API).status)
      later()
      assert.equal(202, call("DELETE", DEF, GALLERY_API).status)
      later()
      assert.equal(202, call("DELETE", GAL, GALLERY_API).status)
      later()
      assert.equal(404, call("GET", GAL, GALLERY_API).status)
    end)

    it("take a version from a managed image", function()
      make_definition()
      local snap_id = make_snapshot("snap-img", OS_DISK)
      local res, doc = call("PUT", PFX .. "/images/img", COMPUTE_API, { location = "westeurope", properties = {
        storageProfile = { osDisk = { osType = "Linux", osState = "Generalized", snapshot = { id = snap_id } } } } })
      assert.equal(201, res.status, res.body)
      later()
      local vres, vdoc = call("PUT", DEF .. "/versions/2.0.0", GALLERY_API, { location = "westeurope",
        properties = { storageProfile = { source = { id = doc.id } } } })
      assert.equal(201, vres.status, vres.body)
      assert.equal(doc.id, vdoc.properties.storageProfile.source.id)
      assert.equal("westeurope", vdoc.properties.publishingProfile.targetRegions[1].name)
      assert.equal(app.store:get(snap_id).x.snap, app.store:get(vdoc.id).x.disks.os)

      -- A new target region replicates while the old one stays complete.
      later()
      local body = { location = "westeurope", properties = { storageProfile = { source = { id = doc.id } },
        publishingProfile = { targetRegions = { { name = "westeurope" }, { name = "northeurope" } } } } }
      local ures, udoc = call("PUT", vdoc.id, GALLERY_API, body)
      assert.equal(200, ures.status, ures.body)
      assert.equal("Updating", udoc.properties.provisioningState)
      local _, g = call("GET", vdoc.id, GALLERY_API, nil, { ["$expand"] = "ReplicationStatus" })
      assert.equal("Completed", g.properties.replicationStatus.summary[1].state)
      assert.equal("Replicating", g.properties.replicationStatus.summary[2].state)
      later()
      _, g = call("GET", vdoc.id, GALLERY_API, nil, { ["$expand"] = "ReplicationStatus" })
      assert.equal("Succeeded", g.properties.provisioningState)
      assert.equal("Completed", g.properties.replicationStatus.aggregatedState)

      -- Its source is fixed.
      body.properties.storageProfile = { osDiskImage = { source = { id = snap_id } } }
      local cres, cdoc = call("PUT", vdoc.id, GALLERY_API, body)
      assert_error(cres, cdoc, 409, "PropertyChangeNotAllowed", "properties.storageProfile")
    end)

    it("refuse bad requests naming the field, and missing parents", function()
      local res, doc = call("PUT", PFX .. "/galleries/gal-prod", GALLERY_API, { location = "westeurope" })
      assert_error(res, doc, 400, "InvalidParameter", "galleryName")

      res, doc = call("PUT", DEF, GALLERY_API, { location = "westeurope", properties = {
        osType = "Linux", osState = "Specialized", identifier = { publisher = "p", offer = "o", sku = "s" } } })
      assert_error(res, doc, 404, "ParentResourceNotFound")
      res, doc = call("GET", DEF .. "/versions/1.0.0", GALLERY_API)
      assert_error(res, doc, 404, "ParentResourceNotFound")

      make_definition()
      res, doc = call("PUT", GAL .. "/images/other", GALLERY_API, { location = "westeurope", properties = {
        osType = "Linux", osState = "Specialized", identifier = { publisher = "p", offer = "o" } } })
      assert_error(res, doc, 400, "InvalidParameter", "properties.identifier.sku")
      res, doc = call("PUT", GAL .. "/images/other", GALLERY_API, { location = "westeurope", properties = {
        osState = "Specialized", identifier = { publisher = "p", offer = "o", sku = "s" } } })
      assert_error(res, doc, 400, "InvalidParameter", "properties.osType")

      local snap_id = make_snapshot("snap-v", OS_DISK)
      res, doc = call("PUT", DEF .. "/versions/1.0", GALLERY_API, version_body(snap_id))
      assert_error(res, doc, 400, "InvalidParameter", "galleryImageVersionName")
      res, doc = call("PUT", DEF .. "/versions/1.0.0", GALLERY_API, { location = "westeurope", properties = {
        storageProfile = {} } })
      assert_error(res, doc, 400, "InvalidParameter", "properties.storageProfile.osDiskImage.source.id")
      local body = version_body(snap_id)
      body.properties.publishingProfile.targetRegions = { { name = "northeurope" } }
      res, doc = call("PUT", DEF .. "/versions/1.0.0", GALLERY_API, body)
      assert_error(res, doc, 400, "InvalidParameter", "properties.publishingProfile.targetRegions")
      body = version_body(snap_id)
      body.properties.storageProfile.dataDiskImages[1].lun = nil
      res, doc = call("PUT", DEF .. "/versions/1.0.0", GALLERY_API, body)
      assert_error(res, doc, 400, "InvalidParameter", "properties.storageProfile.dataDiskImages[0].lun")
      res, doc = call("PUT", DEF .. "/versions/1.0.0", GALLERY_API, version_body(PFX .. "/snapshots/nope"))
      assert_error(res, doc, 404, "NotFound", "properties.storageProfile.osDiskImage.source.id")
      assert.is_nil(app.store:get(DEF .. "/versions/1.0.0"))

      res, doc = call("GET", DEF .. "/versions/9.9.9", GALLERY_API)
      assert_error(res, doc, 404, "ResourceNotFound")
      res, doc = call("GET", DEF .. "/versions/9.9.9", GALLERY_API, nil, { ["$expand"] = "everything" })
      assert_error(res, doc, 400, "InvalidParameter", "$expand")
    end)
  end)
end)
