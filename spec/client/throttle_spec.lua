-- The client-side token bucket follows what ARM says is left
-- (x-ms-ratelimit-remaining-subscription-*), so that clients sharing a
-- subscription slow down together before ARM answers 429.
local C = require "support.client"

describe("client-side throttling", function()
  local em
  setup(function() em = C.start("--time-scale 0.01") end)
  teardown(function() em.stop() end)

  it("lowers its bucket to ARM's remaining count", function()
    local a = C.client(em)
    local b = C.client(em)
    local azrp = require "azrp"
    local ops = {}
    for i = 1, 120 do
      ops[i] = a:virtual_machines_get{ resource_group_name = C.RG, vm_name = "vm-app-01" }
    end
    for _, r in ipairs(azrp.wait_all(ops)) do assert.is_table(r[1], tostring(r[2])) end
    assert(b:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" }))
    -- b has sent one read, but ARM (shared by a and b: the same principal) counted 121
    assert.is_true(b:stats().tokens.read < 200, "b's bucket: " .. b:stats().tokens.read)
    a:close()
    b:close()
  end)
end)
