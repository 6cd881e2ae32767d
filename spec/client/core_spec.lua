-- azrp.core and the client object: types, options, argument checks,
-- validation before sending, lifetimes.
local azrp = require "azrp"
local core = azrp.core

local SUB = "00000000-0000-4000-8000-000000000001"

describe("azrp.core", function()
  it("reports versions and the operation registry", function()
    local v = core.versions()
    assert.matches("^%d", v.curl)
    assert.matches("OpenSSL", v.openssl)
    local ops = core.operations()
    local by_id = {}
    for _, o in ipairs(ops) do by_id[o.id] = o end
    assert.are.equal("PUT", by_id.RestorePoints_Create.method)
    assert.is_true(by_id.RestorePoints_Create.lro)
    assert.are.equal("location", by_id.RestorePoints_Create.final_state_via)
    assert.are.equal("2025-11-01", by_id.RestorePoints_Create.api_version)
    assert.are.equal("2026-03-02", by_id.DiskRestorePoint_GrantAccess.api_version)
    assert.is_true(by_id.RestorePointCollections_ListAll.pageable)
    for _, o in ipairs(ops) do
      assert.is_true(o.api_version >= core.MIN_API_VERSION, o.id)
    end
  end)

  it("makes one client method per operation", function()
    local c = azrp.client{ endpoint = "https://127.0.0.1:9", subscription_id = SUB }
    for _, o in ipairs(core.operations()) do
      local name = require("azrp.client").snake(o.id)
      assert.is_function(c[name], name)
    end
    assert.is_function(c.restore_points_create)
    assert.is_function(c.disk_restore_point_grant_access)
    c:close()
  end)

  it("raises for bad options naming them", function()
    assert.has_error(function() azrp.client{ endpoint = "https://x", frobnicate = 1 } end,
      "azrp client: unknown option 'frobnicate'")
    assert.has_error(function() azrp.client{ endpoint = "https://x", timeout = "soon" } end,
      "option 'timeout' must be a number")
    assert.has_error(function() azrp.client{ endpoint = "ftp://x" } end)
    assert.has_error(function() azrp.client{ endpoint = "https://x", retry = { attempts = 3 } } end,
      "retry: unknown option 'attempts'")
    assert.has_error(function() azrp.client{ endpoint = "https://x", api_versions = { compute = "2020-06-01" } } end)
    assert.has_error(function() azrp.client{ endpoint = "https://x", credential = {} } end)
  end)

  describe("begin", function()
    local c
    before_each(function() c = azrp.client{ endpoint = "https://127.0.0.1:9", subscription_id = SUB } end)
    after_each(function() c:close() end)

    it("raises for unknown operations and parameters and missing ones", function()
      assert.has_error(function() c:begin("RestorePoints_Frobnicate", {}) end)
      assert.has_error(function() c:restore_points_get{ resource_group_name = "rg", nope = 1 } end,
        "RestorePoints_Get: unknown parameter 'nope'")
      assert.has_error(function() c:restore_points_get{ resource_group_name = "rg" } end,
        "RestorePoints_Get: missing parameter 'restore_point_collection_name'")
      assert.has_error(function() c:restore_points_get{ resource_group_name = 42, restore_point_collection_name = "a",
        restore_point_name = "b" } end, "RestorePoints_Get: parameter 'resource_group_name' must be a string, not number")
      assert.has_error(function() c:restore_points_create{ resource_group_name = "rg",
        restore_point_collection_name = "a", restore_point_name = "b" } end,
        "RestorePoints_Create: missing parameter 'body'")
    end)

    it("returns nil, err naming the field for invalid names, ids, api-versions and bodies", function()
      local op, err = c:restore_points_get{ resource_group_name = "bad/rg", restore_point_collection_name = "a",
        restore_point_name = "b" }
      assert.is_nil(op)
      assert.are.equal("invalid", err.kind)
      assert.are.equal("resource_group_name", err.target)
      assert.is_true(azrp.is_error(err))
      op, err = c:disks_get{ resource_group_name = "rg", disk_name = "has space" }
      assert.are.equal("disk_name", err.target)
      op, err = c:restore_points_get{ id = "/subscriptions/" .. SUB .. "/resourceGroups/rg/providers/Microsoft.Compute/disks/d" }
      assert.are.equal("id", err.target)
      op, err = c:restore_points_get{ resource_group_name = "rg", restore_point_collection_name = "a",
        restore_point_name = "b", api_version = "2020-12-01" }
      assert.are.equal("api_version", err.target)
      op, err = c:restore_points_create{ resource_group_name = "rg", restore_point_collection_name = "a",
        restore_point_name = "b", body = { properties = { consistencyMode = "Sloppy" } } }
      assert.are.equal("body.properties.consistencyMode", err.target)
      op, err = c:restore_points_create{ resource_group_name = "rg", restore_point_collection_name = "a",
        restore_point_name = "b", body = { properties = { excludeDisks = { { id = "disk1" } } } } }
      assert.are.equal("body.properties.excludeDisks[1].id", err.target)
      op, err = c:disk_restore_point_grant_access{ resource_group_name = "rg", restore_point_collection_name = "a",
        restore_point_name = "b", disk_restore_point_name = "d", body = { access = "Read" } }
      assert.are.equal("body.durationInSeconds", err.target)
      op, err = c:disks_create_or_update{ resource_group_name = "rg", disk_name = "d",
        body = { location = "westeurope", properties = { creationData = { createOption = "Restor" } } } }
      assert.are.equal("body.properties.creationData.createOption", err.target)
      assert.matches("field body.properties.creationData.createOption", tostring(err))
      local stats = c:stats()
      assert.are.equal(0, stats.requests)
    end)

    it("fills path parameters from an ARM id", function()
      local op = c:disk_restore_point_grant_access{
        id = "/subscriptions/" .. SUB .. "/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c/restorePoints/r/diskRestorePoints/d_1",
        body = { access = "Read", durationInSeconds = 60 } }
      assert.is_userdata(op)
      assert.matches("DiskRestorePoint_GrantAccess", tostring(op))
      op:cancel()
      assert.are.equal("canceled", op:status())
      local v, err = op:result()
      assert.is_nil(v)
      assert.are.equal("canceled", err.kind)
    end)

    it("reads params.body once: the body sent and the wait for replication come from one value", function()
      local reads, plain = {}, { resource_group_name = "rg", restore_point_collection_name = "c",
        restore_point_name = "r" }
      -- a params table that answers with a new body each time it is asked
      local params = setmetatable({}, { __index = function(_, k)
        reads[k] = (reads[k] or 0) + 1
        if k == "body" then
          return reads.body == 1 and { properties = { sourceRestorePoint = { id = "/subscriptions/x" } } }
            or { properties = {} }
        end
        return plain[k]
      end })
      local op = c.core:begin("RestorePoints_Create", params)
      assert.is_userdata(op)
      assert.are.equal(1, reads.body)
      op:cancel()
      -- and once with wait_replication given, or a JSON string body
      reads = {}
      plain.wait_replication, plain.body = false, nil
      op = c.core:begin("RestorePoints_Create", params)
      assert.are.equal(1, reads.body)
      op:cancel()
      reads = {}
      params = setmetatable({}, { __index = function(_, k)
        reads[k] = (reads[k] or 0) + 1
        if k == "body" then return '{"properties":{}}' end
        return plain[k]
      end })
      op = c.core:begin("RestorePoints_Create", params)
      assert.are.equal(1, reads.body)
      op:cancel()
    end)

    it("refuses to send a token over plain http", function()
      local h = azrp.client{ endpoint = "http://example.invalid", subscription_id = SUB }
      h:set_token("t0ken-value", nil)
      local op = h:virtual_machines_get{ resource_group_name = "rg", vm_name = "vm" }
      local v, err = op:wait(5)
      assert.is_nil(v)
      assert.are.equal("InsecureTransport", err.code)
      assert.is_nil(tostring(err):find("t0ken", 1, true))
      h:close()
    end)
  end)

  it("closes idempotently and refuses use after close", function()
    local c = azrp.client{ endpoint = "https://127.0.0.1:9" }
    c:close()
    c:close()
    assert.has_error(function() c:step() end, "attempt to use a closed azrp.Client")
  end)

  it("survives garbage collection of clients and operations", function()
    for _ = 1, 50 do
      local c = azrp.client{ endpoint = "https://127.0.0.1:9", subscription_id = SUB }
      local op = c:virtual_machines_get{ resource_group_name = "rg", vm_name = "vm" }
      op:cancel()
    end
    collectgarbage()
    collectgarbage()
  end)
end)
