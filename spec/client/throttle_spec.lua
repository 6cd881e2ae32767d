-- The client-side token bucket follows what ARM says is left
-- (x-ms-ratelimit-remaining-subscription-*), so that clients sharing a
-- subscription slow down together before ARM answers 429.
--
-- ARM's read bucket here refills at a thousandth of a token a second
-- (--throttle), and so do the clients' own: what is left after the
-- reads is the same however slowly they run (under valgrind, on a loaded
-- machine), and the levels can be checked to the token.
local C = require "support.client"

local RATE = 0.001

describe("client-side throttling", function()
  local em
  setup(function() em = C.start("--time-scale 0.01 --throttle read=250/" .. RATE) end)
  teardown(function() em.stop() end)

  it("lowers its bucket to ARM's remaining count", function()
    local opts = { throttle = { read = { size = 250, rate = RATE } } }
    local a = C.client(em, opts)
    local b = C.client(em, opts)
    local azrp = require "azrp"
    local ops = {}
    for i = 1, 120 do
      ops[i] = a:virtual_machines_get{ resource_group_name = C.RG, vm_name = "vm-app-01" }
    end
    for _, r in ipairs(azrp.wait_all(ops)) do assert.is_table(r[1], tostring(r[2])) end
    -- a's token request went to Entra ID, not to ARM: 120 reads of 250
    local level = a:stats().tokens.read
    assert.is_true(math.abs(level - 130) < 1, "a's bucket: " .. level)
    assert(b:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" }))
    -- b has sent one read, but ARM (shared by a and b: the same principal)
    -- counted 121 and said 129 were left: b's bucket is ARM's, not 249
    level = b:stats().tokens.read
    assert.is_true(math.abs(level - 129) < 1, "b's bucket: " .. level)
    -- and a learns the same from its next answer
    assert(a:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" }))
    level = a:stats().tokens.read
    assert.is_true(math.abs(level - 128) < 1, "a's bucket after b's read: " .. level)
    a:close()
    b:close()
  end)
end)
