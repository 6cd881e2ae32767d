-- --state FILE: the model, disk bytes included, survives a restart.
local H = require "support.emu"
local json = require "azrp.emulator.json"

describe("emulator state", function()
  it("saves and loads resources, restore points and disk bytes", function()
    local file = os.tmpname()
    os.remove(file)
    local t = H.app{ state_file = file }
    local data0 = H.RG .. H.COMPUTE .. "/disks/vm-app-01-data0"
    t.write(data0, 777, "persisted bytes")
    local rpc = H.RG .. H.COMPUTE .. "/restorePointCollections/rpc"
    assert.are.equal(201, (t.call("PUT", rpc, { location = "westeurope", properties = { source = { id = H.VM } } })))
    local st, _, h = t.call("PUT", rpc .. "/restorePoints/rp1", { properties = {} })
    assert.are.equal(201, st)
    t.wait(h)
    local target = H.DR .. H.COMPUTE .. "/restorePointCollections/dr"
    assert.are.equal(201, (t.call("PUT", target, { location = "northeurope", properties = { source = { id = rpc } } })))
    st, _, h = t.call("PUT", target .. "/restorePoints/rp1", { properties = { sourceRestorePoint = { id = rpc .. "/restorePoints/rp1" } } })
    assert.are.equal(201, st)
    t.wait(h)
    t.write(data0, 0, "after the restore point")
    local sha_now = t.sha(data0)
    local _, before = t.call("GET", rpc .. "/restorePoints/rp1")
    assert(t.app:save_state(file))

    local t2 = H.app{ state_file = file }
    local st2, after = t2.call("GET", rpc .. "/restorePoints/rp1")
    assert.are.equal(200, st2)
    assert.are.same(before, after)
    assert.are.equal(sha_now, t2.sha(data0))
    local e = t2.app.store:get(data0)
    assert.are.equal("persisted bytes", e.x.content:read(777, 15))
    -- the copy still replicates, and can be restored once complete
    local _, list = t2.call("GET", target .. "/restorePoints/rp1/diskRestorePoints")
    local drp
    for _, d in ipairs(list.value) do if d.name:find("data0", 1, true) then drp = d.id end end
    local rst = t2.call("PUT", H.DR .. H.COMPUTE .. "/disks/r1", { location = "northeurope",
      properties = { creationData = { createOption = "Restore", sourceResourceId = drp } } })
    assert.are.equal(409, rst)
    t2.advance(1800)
    local rst2, body, rh = t2.call("PUT", H.DR .. H.COMPUTE .. "/disks/r1", { location = "northeurope",
      properties = { creationData = { createOption = "Restore", sourceResourceId = drp } } })
    assert.are.equal(202, rst2, json.encode(body))
    t2.wait(rh)
    local restored = t2.app.store:get(H.DR .. H.COMPUTE .. "/disks/r1").x.content
    assert.are.equal("persisted bytes", restored:read(777, 15))
    assert.are_not.equal("after the", restored:read(0, 9))
    os.remove(file)
  end)

  it("refuses a file that is not a state", function()
    local file = os.tmpname()
    local f = io.open(file, "w")
    f:write("return { version = 99 }")
    f:close()
    assert.has_error(function() H.app{ state_file = file } end)
    os.remove(file)
  end)
end)
