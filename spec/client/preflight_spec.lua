-- Preflight of regions and vCPU quotas (azrp.workflow.preflight), against
-- the emulator: the demo fleet with small quotas seeded in two regions.
-- A drill into a region that does not exist, or without the vCPUs of its
-- test VM, is refused naming dr_location before any request that creates
-- anything (counted from the emulator's counters).
local C = require "support.client"
local azrp = require "azrp"
local drill = require "azrp.workflows.dr_drill"
local preflight = require "azrp.workflow.preflight"
local seed_file = require "support.seed"
local small_seed = require "support.small_seed"

local state_dir = require("support.tmp").name

-- The requests of the emulator's counters that change something.
local function writes(em)
  local kinds = {}
  for _, d in ipairs(azrp.operations()) do kinds[d.id] = d.kind end
  local n = 0
  for op, count in pairs(C.counters(em).operations) do
    if kinds[op] and kinds[op] ~= "read" then n = n + count end
  end
  return n
end

describe("preflight", function()
  local em, client
  setup(function()
    local seed = small_seed.shrink(seed_file.demo())
    seed.quotas = {
      { location = "swedencentral", name = "cores", limit = 1 },             -- vm-app-01 is a D2s_v5: 2 vCPUs
      { location = "uksouth", name = "standardDSv5Family", limit = 3 },
    }
    em = C.start("--time-scale 0.002 --seed " .. seed_file.write(seed))
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  local function run(dr_location)
    return drill.run(client, { vm_id = C.VM_ID, dr_location = dr_location, dr_resource_group = "rg-dr" },
      { state_dir = state_dir(), time_scale = 0.002, trap = false })
  end

  it("refuses a region that does not exist, naming dr_location, before any write", function()
    local before = writes(em)
    local r, err = run("westeurope2")
    assert.is_nil(r)
    assert.are.equal("invalid", err.kind)
    assert.are.equal("dr_location", err.target)
    assert.matches("dr_location: region westeurope2 does not exist", err.message, 1, true)
    assert.matches("did you mean westeurope", err.message, 1, true)
    assert.are.equal(before, writes(em))
    -- and directly, with the caller's field
    local ok, e = preflight.region(client, "North Europe2", "target_location")
    assert.is_nil(ok)
    assert.are.equal("target_location", e.target)
    assert.is_true(preflight.region(client, "North Europe", "target_location"))
  end)

  it("refuses a DR region without the test VM's vCPUs, with both numbers, before any write", function()
    local before = writes(em)
    local r, err = run("swedencentral")
    assert.is_nil(r)
    assert.are.equal("dr_location", err.target)
    assert.matches("Total Regional vCPUs in swedencentral: 2 vCPUs needed for 1 x Standard_D2s_v5, 1 free",
      err.message, 1, true)
    assert.are.equal(before, writes(em))
  end)

  it("refuses by the size family's quota too", function()
    -- 3 DSv5 vCPUs in uksouth: one D2s_v5 fits, two do not
    assert.is_true(preflight.cores(client, "uksouth", "Standard_D2s_v5", 1, { field = "dr_location" }))
    local ok, err = preflight.cores(client, "uksouth", "Standard_D2s_v5", 2, { field = "dr_location" })
    assert.is_nil(ok)
    assert.matches("standardDSv5Family in uksouth: 4 vCPUs needed for 2 x Standard_D2s_v5, 3 free", err.message, 1, true)
    -- a size the region does not offer
    ok, err = preflight.cores(client, "uksouth", "Standard_Z99_v9", 1, { field = "size" })
    assert.is_nil(ok)
    assert.are.equal("size", err.target)
  end)

  it("lets a region with enough quota pass, and the emulator holds VM creates to the quota", function()
    assert.is_true(preflight.cores(client, "northeurope", "Standard_D2s_v5", 1, { field = "dr_location" }))
    -- Azure's own refusal of a VM beyond the regional quota (swedencentral: 1 vCPU)
    local _, err = client:call("VirtualMachines_CreateOrUpdate", { resource_group_name = "rg-dr", vm_name = "vm-over",
      body = { location = "swedencentral", properties = { hardwareProfile = { vmSize = "Standard_D2s_v5" },
        storageProfile = { imageReference = { publisher = "Canonical", offer = "0001-com-ubuntu-server-jammy",
          sku = "22_04-lts-gen2", version = "latest" }, osDisk = { createOption = "FromImage" } },
        osProfile = { computerName = "vm-over", adminUsername = "azureuser" } } } })
    assert.is_table(err)
    assert.are.equal(409, err.status)
    assert.are.equal("OperationNotAllowed", err.code)
    assert.matches("exceeding approved Total Regional Cores quota", err.message, 1, true)
    assert.matches("Current Limit: 1, Current Usage: 0, Additional Required: 2", err.message, 1, true)
  end)

  it("lets a drill into a region with enough quota run end to end", function()
    local r, err = run("northeurope")
    assert.is_table(r, tostring(err))
    for _, s in ipairs(r.steps) do assert.is_true(s.ok, s.name .. ": " .. tostring(s.error)) end
  end)

  it("only warns when the quota API is not there (404)", function()
    -- the emulator answers 404 NoRegisteredProviderFound for Compute's
    -- locations endpoints of a region it does not have
    local heard
    local ok, warning = preflight.cores(client, "westeurope2", "Standard_D2s_v5", 1,
      { warn = function(m) heard = m end })
    assert.is_true(ok)
    assert.matches("not checked", warning, 1, true)
    assert.matches("NoRegisteredProviderFound", warning, 1, true)
    assert.are.equal(warning, heard)
  end)
end)
