-- Regions and vCPU quotas: Subscriptions_ListLocations, Usage_List and
-- VirtualMachineSizes_List (providers/locations.lua), and Azure's 409 for
-- a VM create, resize or start beyond a seeded quota.
local H = require "support.emu"
local seed_mod = require "azrp.emulator.seed"

local SUB = "/subscriptions/" .. H.SUB
local USAGES = SUB .. "/providers/Microsoft.Compute/locations/westeurope/usages"

local function app(quotas)
  local seed = require("support.small_seed").shrink(seed_mod.default())
  seed.quotas = quotas
  return H.app{ seed = seed }
end

local function usage(t)
  local st, body = t.call("GET", USAGES)
  assert.are.equal(200, st)
  local out = {}
  for _, u in ipairs(body.value) do out[u.name.value] = u end
  return out
end

describe("regional capacity", function()
  it("lists the regions, the sizes and the usage of the demo fleet", function()
    local t = app()
    local st, body = t.call("GET", SUB .. "/locations", nil, { api = "2022-12-01" })
    assert.are.equal(200, st)
    assert.are.equal(#require("azrp.emulator.regions").LIST, #body.value)
    st, body = t.call("GET", SUB .. "/providers/Microsoft.Compute/locations/westeurope/vmSizes")
    assert.are.equal(200, st)
    local sizes = {}
    for _, s in ipairs(body.value) do sizes[s.name] = s end
    assert.are.equal(4, sizes.Standard_E4s_v5.numberOfCores)
    local u = usage(t)
    -- vm-app-01 D2s_v5 (2) + vm-sql-01 E4s_v5 (4) + vm-eph-01 D4ds_v5 (4)
    assert.are.equal(10, u.cores.currentValue)
    assert.are.equal(350, u.cores.limit)
    assert.are.equal(2, u.standardDSv5Family.currentValue)
    assert.are.equal(4, u.standardDDSv5Family.currentValue)
    assert.are.equal(3, u.virtualMachines.currentValue)
    st = t.call("GET", SUB .. "/providers/Microsoft.Compute/locations/westeurope2/usages")
    assert.are.equal(404, st)
  end)

  it("refuses a resize and a start beyond the quota; a deallocated VM holds no cores", function()
    local t = app{ { location = "westeurope", name = "cores", limit = 12 } }
    assert.are.equal(12, usage(t).cores.limit)
    local st, body = t.call("PATCH", H.VM, { properties = { hardwareProfile = { vmSize = "Standard_D8s_v5" } } })
    assert.are.equal(409, st)
    assert.are.equal("OperationNotAllowed", body.error.code)
    assert.matches("Total Regional Cores quota.-Current Limit: 12, Current Usage: 8, Additional Required: 8", body.error.message)
    local h
    st, body, h = t.call("POST", H.VM .. "/deallocate")
    assert.are.equal(202, st)
    t.wait(h)
    assert.are.equal(8, usage(t).cores.currentValue)
    -- deallocated, it may be resized; started, the new size no longer fits
    st = t.call("PATCH", H.VM, { properties = { hardwareProfile = { vmSize = "Standard_D8s_v5" } } })
    assert.are.equal(200, st)
    st, body = t.call("POST", H.VM .. "/start")
    assert.are.equal(409, st)
    assert.matches("Additional Required: 8", body.error.message, 1, true)
  end)

  it("holds creates to a family's quota, and checks the seed's", function()
    local t = app{ { location = "westeurope", name = "standardDSv5Family", limit = 3 } }
    local st, body = t.call("PATCH", H.VM, { properties = { hardwareProfile = { vmSize = "Standard_D4s_v5" } } })
    assert.are.equal(409, st)
    assert.matches("exceeding approved standardDSv5Family Cores quota", body.error.message, 1, true)
    local seed = seed_mod.default()
    seed.quotas = { { location = "westeurope", name = "cores" } }
    local ok, err = seed_mod.check(seed)
    assert.is_nil(ok)
    assert.matches("quotas[1].limit", err, 1, true)
  end)
end)
