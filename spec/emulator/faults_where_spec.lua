-- A fault rule narrowed to the requests whose path holds a text
-- (NAME@OPERATION~TEXT): a copy fails in one collection, not in the others.
local H = require "support.emu"

describe("a fault narrowed by path (failed@RestorePoints_Create~TEXT)", function()
  it("fails the operation in the collection named, and nowhere else", function()
    local t = H.app()
    local coll = H.RG .. H.COMPUTE .. "/restorePointCollections/"
    assert.are.equal(201, (t.call("PUT", coll .. "rpc-a", { location = "westeurope", properties = { source = { id = H.VM } } })))
    assert.are.equal(201, (t.call("PUT", coll .. "rpc-b", { location = "westeurope", properties = { source = { id = H.VM } } })))
    local st, body = t.call("POST", "/_emulator/faults", { spec = "failed@RestorePoints_Create~/restorePointCollections/RPC-B/=1" })
    assert.are.equal(200, st, body)
    local function create(c, name)
      local s, b, h = t.call("PUT", coll .. c .. "/restorePoints/" .. name, {})
      assert.are.equal(201, s)
      return t.wait(h).status, b
    end
    assert.are.equal("Succeeded", create("rpc-a", "rp1"))
    assert.are.equal("Failed", create("rpc-b", "rp1"))
    assert.are.equal("Succeeded", create("rpc-a", "rp2"))
    local _, rp = t.call("GET", coll .. "rpc-b/restorePoints/rp1")
    assert.are.equal("Failed", rp.properties.provisioningState)
    -- Without an operation: every request whose path holds the text.
    st = t.call("POST", "/_emulator/faults", { spec = "500@~/restorePointCollections/rpc-a=1" })
    assert.are.equal(200, st)
    assert.are.equal(500, (t.call("GET", coll .. "rpc-a")))
    assert.are.equal(200, (t.call("GET", coll .. "rpc-b")))
  end)
end)
