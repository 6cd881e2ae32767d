-- The DR drill under the emulator's faults (20 % of requests: 429, 500,
-- 503, reset, truncate; and long-running operations that end Failed):
-- every run completes or fails with its cleanup done; a cleanup that a
-- fault stopped is finished by `workflow.cleanup`; nothing is left in
-- rg-dr, and the report tells a leftover it could not verify from one it
-- could not delete.
local C = require "support.client"
local I = require "support.inventory"
local workflow = require "azrp.workflow"
local drill = require "azrp.workflows.dr_drill"
local small_seed = require "support.small_seed"

local tmpdir = require("support.tmp").name

local function set_faults(em, spec)
  assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = spec })))
end

local CONFIG = { vm_id = C.VM_ID, dr_location = "northeurope", dr_resource_group = "rg-dr" }

describe("a DR drill under faults", function()
  local em, client, before
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file())
    client = C.client(em, { retry = { base_delay = 0.01, max_delay = 0.1, max_attempts = 8 } })
    before = I.dr(em, client)
  end)
  teardown(function() client:close(); em.stop() end)

  local cases = {}
  for seed = 1, 4 do
    cases[#cases + 1] = "429=0.04,500=0.04,503=0.04,reset=0.04,truncate=0.04,retry_after=1,seed=" .. seed
  end
  for seed = 1, 2 do cases[#cases + 1] = "failed=0.2,seed=" .. seed end
  for _, spec in ipairs(cases) do
    it(spec .. ": passes or cleans up, and nothing is left", function()
      local dir = tmpdir()
      set_faults(em, spec)
      C.admin(em, "POST", "/_emulator/counters/reset")
      local report, err = workflow.start(drill, client, CONFIG, { state_dir = dir, time_scale = 0.002, trap = false })
      assert.is_table(report, tostring(err))
      local tries = 0
      while report.exit_code == 5 and tries < 3 do
        -- A delete the faults stopped: the run's own cleanup finishes it.
        for _, r in ipairs(report.resources) do
          assert.is_true(r.state == "left" or r.state == "deleted" or r.state == "kept" or r.state == "unverified", r.state)
        end
        tries = tries + 1
        report = assert(workflow.cleanup(client, report.run_id, { state_dir = dir, trap = false }))
      end
      set_faults(em, "")
      local injected = 0
      for _, n in pairs(C.counters(em).faults or {}) do injected = injected + n end
      assert.is_true(injected > 0, "no fault was injected")
      print(string.format("  %s: exit %d, %d faults injected, %d cleanup retries", spec, report.exit_code, injected, tries))
      assert.is_true(report.exit_code == 0 or report.exit_code == 1, tostring(report.exit_code) .. " "
        .. tostring(report.error and report.error.message))
      for _, r in ipairs(report.resources) do
        assert.is_true(r.state == "deleted" or r.state == "kept", r.kind .. " " .. r.state)
      end
      assert.are.same(before, I.dr(em, client))
    end)
  end
end)
