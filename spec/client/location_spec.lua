-- Locations: the client sends them in ARM's form and refuses non-strings
-- before anything is sent; the emulator refuses a region that does not
-- exist as ARM does, so a typo can never leave a resource "somewhere".
local C = require "support.client"
local azrp = require "azrp"

describe("locations", function()
  local em, client
  setup(function() em = C.start(); client = C.client(em) end)
  teardown(function() if client then client:close() end; if em then em:stop() end end)

  local function rpc(name, loc)
    return { resource_group_name = "rg-dr", restore_point_collection_name = name,
      body = { location = loc, properties = { source = { id = C.VM_ID } } } }
  end

  it("azrp.location gives ARM's form", function()
    assert.are.equal("northeurope", azrp.location("North Europe"))
    assert.are.equal("westus2", azrp.location(" West US 2 "))
    assert.is_nil(azrp.location(5))
  end)

  it("sends 'West Europe' as westeurope and leaves the caller's table alone", function()
    local p = rpc("rpc-loc-ne", "West Europe")
    local coll = assert(client:call("RestorePointCollections_CreateOrUpdate", p))
    assert.are.equal("westeurope", coll.location)
    assert.are.equal("West Europe", p.body.location)
    assert(client:call("RestorePointCollections_Delete", { resource_group_name = "rg-dr",
      restore_point_collection_name = "rpc-loc-ne" }))
  end)

  it("a region that does not exist is refused with ARM's code and the allowed list; nothing is created", function()
    local v, err = client:call("RestorePointCollections_CreateOrUpdate", rpc("rpc-loc-typo", "northeurop"))
    assert.is_nil(v)
    assert.are.equal(400, err.status)
    assert.are.equal("LocationNotAvailableForResourceType", err.code)
    assert.matches("northeurope", err.message, 1, true)
    local _, gerr = client:call("RestorePointCollections_Get", { resource_group_name = "rg-dr",
      restore_point_collection_name = "rpc-loc-typo" })
    assert.are.equal(404, gerr.status)
  end)

  it("a location that is not a string is refused before any request", function()
    C.admin(em, "POST", "/_emulator/counters/reset")
    local v, err = client:call("Disks_CreateOrUpdate", { resource_group_name = "rg-dr", disk_name = "d-loc",
      body = { location = 5, properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } } })
    assert.is_nil(v)
    assert.are.equal("body.location", err.target)
    assert.are.equal(0, (C.counters(em).operations or {}).Disks_CreateOrUpdate or 0)
  end)
end)
