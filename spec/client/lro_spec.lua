-- Long-running operations against the emulator: the three ARM polling
-- styles, Failed and Canceled, and a cross-region copy followed to 100 %.
local C = require "support.client"

local function rp_params(coll, name, props)
  return { resource_group_name = C.RG, restore_point_collection_name = coll, restore_point_name = name,
    body = { properties = props or {} } }
end

local function make_collection(client, name)
  local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
    restore_point_collection_name = name, body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } })
  assert.is_table(coll, tostring(err))
  return coll
end

for _, style in ipairs({ "async", "location", "state" }) do
  describe("LROs announced with --lro-style " .. style, function()
    local em, client
    setup(function()
      em = C.start("--time-scale 0.002 --lro-style " .. style)
      client = C.client(em)
    end)
    teardown(function() client:close(); em.stop() end)

    it("create a restore point and return the final resource", function()
      make_collection(client, "rpc-" .. style)
      local rp, err = client:call("RestorePoints_Create", rp_params("rpc-" .. style, "rp1"))
      assert.is_table(rp, tostring(err))
      assert.are.equal("Succeeded", rp.properties.provisioningState)
      assert.are.equal("rp1", rp.name)
      local counters = C.counters(em)
      assert.is_true(counters.operations.RestorePoints_Create >= 1)
      if style == "state" then
        assert.is_nil(counters.operations.Operations_Get)        -- followed provisioningState
        assert.is_true(counters.operations.RestorePoints_Get >= 1)
      else
        assert.is_true(counters.operations.Operations_Get >= 1)  -- status or Location URL
      end
    end)

    it("delete (DELETE LRO) and grant access (POST LRO)", function()
      make_collection(client, "rpc2-" .. style)
      local rp = assert(client:call("RestorePoints_Create", rp_params("rpc2-" .. style, "rp1")))
      local drp = rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id
      local grant, err = client:call("DiskRestorePoint_GrantAccess", { id = drp,
        body = { access = "Read", durationInSeconds = 300 } })
      assert.is_table(grant, tostring(err))
      assert.matches("^https://", grant.accessSAS)
      assert.is_true(client:call("DiskRestorePoint_RevokeAccess", { id = drp }))
      assert.is_true(client:call("RestorePoints_Delete", { resource_group_name = C.RG,
        restore_point_collection_name = "rpc2-" .. style, restore_point_name = "rp1" }))
      local gone, gerr = client:call("RestorePoints_Get", { resource_group_name = C.RG,
        restore_point_collection_name = "rpc2-" .. style, restore_point_name = "rp1" })
      assert.is_nil(gone)
      assert.are.equal(404, gerr.status)
      assert.are.equal("ResourceNotFound", gerr.code)
    end)
  end)
end

describe("LRO outcomes", function()
  local em, client
  setup(function()
    em = C.start("--time-scale 0.002 --faults 'failed@RestorePoints_Create=1,canceled@Disks_CreateOrUpdate=1'")
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  it("report Failed with the operation's error", function()
    make_collection(client, "rpc-f")
    local rp, err = client:call("RestorePoints_Create", rp_params("rpc-f", "rp1"))
    assert.is_nil(rp)
    assert.are.equal("lro", err.kind)
    assert.are.equal("InternalOperationError", err.code)
    assert.are.equal("RestorePoints_Create", err.operation)
    assert.matches("^%x+%-", err.client_request_id)
  end)

  it("report Canceled", function()
    local disk, err = client:call("Disks_CreateOrUpdate", { resource_group_name = C.RG, disk_name = "d-cancel",
      body = { location = "westeurope", properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } } })
    assert.is_nil(disk)
    assert.are.equal("canceled", err.kind)
  end)
end)

describe("a cross-region copy", function()
  local em, client
  setup(function()
    -- Replication takes 240 s nominal: 0.48 s here, followed every 50 ms.
    em = C.start("--time-scale 0.002")
    client = C.client(em, { poll = { default = 0.05, max = 2 } })
  end)
  teardown(function() client:close(); em.stop() end)

  -- #timing: it counts progress reports, which a run under valgrind is too slow to see
  it("is followed to 100 % replication with progress callbacks #timing", function()
    make_collection(client, "rpc-src")
    local src = assert(client:call("RestorePoints_Create", rp_params("rpc-src", "rp1")))
    local target, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-dr",
      restore_point_collection_name = "rpc-dst", body = { location = "northeurope",
        properties = { source = { id = src.id:match("^(.*)/restorePoints/") } } } })
    assert.is_table(target, tostring(err))
    local seen = {}
    local op = client:restore_points_create{ resource_group_name = "rg-dr", restore_point_collection_name = "rpc-dst",
      restore_point_name = "rp1-copy", body = { properties = { sourceRestorePoint = { id = src.id } } } }
    local copy, cerr = op:wait{ timeout = 120, progress = function(pct, disks)
      seen[#seen + 1] = pct
      assert.is_table(disks)
    end }
    assert.is_table(copy, tostring(cerr))
    for _, d in ipairs(copy.properties.instanceView.diskRestorePoints) do
      assert.are.equal(100, d.replicationStatus.completionPercent)
    end
    assert.is_true(#seen >= 3, "progress reported " .. #seen .. " times")
    assert.are.equal(100, seen[#seen])
    for i = 2, #seen do assert.is_true(seen[i] >= seen[i - 1]) end
    local pct, disks = op:progress()
    assert.are.equal(100, pct)
    assert.are.equal(3, #disks)
  end)
end)
