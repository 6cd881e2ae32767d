-- A rotation killed with SIGKILL at every moment of its run (from inside,
-- at its Nth progress event), then resumed from its journal, with and
-- without faults (20 % of requests: 429, 500, 503, dropped connections).
-- While it lies dead, every region still has a good restore point; after
-- the resume: no restore point twice, none left over (no Failed or
-- half-made one), no collection twice, and the newest good restore point
-- of each region kept (keep_last 1: it is the only one).
local C = require "support.client"
local children = require "support.child"
local json = require "cjson"
local workflow = require "azrp.workflow"
local small_seed = require "support.small_seed"
local faults = require "support.faults"
local shard = require "support.shard"

local SCALE = 0.002
local PROD = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/"
local DR = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Compute/restorePointCollections/"
local REGIONS = { westeurope = PROD .. "rpc-vm-app-01-rotate", northeurope = DR .. "rpc-vm-app-01-rotate-northeurope",
  francecentral = DR .. "rpc-vm-app-01-rotate-francecentral" }
local CONFIG = { vm_ids = { C.VM_ID }, targets = { { location = "northeurope", resource_group = "rg-dr" },
  { location = "francecentral", resource_group = "rg-dr" } }, retention = { keep_last = 1 } }

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

local function child(em, state_dir, n)
  return children.run{ em = em, state = state_dir, n = n, sig = "KILL", scale = SCALE,
    workflow = "rotate", config = CONFIG }
end

local function set_faults(em, spec) faults.set(em, spec) end

-- region -> { name = state } of its collection.
local function survey(client)
  local out = {}
  for region, id in pairs(REGIONS) do
    local coll = assert(client:call("RestorePointCollections_Get", { id = id, expand = "restorePoints" }))
    out[region] = {}
    for _, rp in ipairs(coll.properties.restorePoints or {}) do out[region][rp.name] = rp.properties.provisioningState end
  end
  return out
end

local function good(points)
  local n = 0
  for _, state in pairs(points) do if state == "Succeeded" then n = n + 1 end end
  return n
end

local function rotate_collections(client)
  local n = 0
  for _, rg in ipairs({ "rg-prod", "rg-dr" }) do
    for _, c in ipairs(assert(client:list("RestorePointCollections_List", { resource_group_name = rg }))) do
      if c.name:match("^rpc%-vm%-app%-01%-rotate") then n = n + 1 end
    end
  end
  return n
end

-- Under faults, every third event.  spec/run.sh shares the points among
-- several processes (support.shard), in `make test` among those of all
-- five Luas, so that each point runs once, on one of them:
-- those without faults are 1..60, those under faults 61..120; a process
-- runs a part's setup only if it has points in it.
local POINTS = 60

for f, faulty in ipairs({ false, true }) do
  local base = (f - 1) * POINTS
  if shard.any(base + 1, base + POINTS) then
  describe("a rotation killed with SIGKILL" .. (faulty and " under 20 % faults" or "") .. " #crash", function()
    local em, client, state_dir, events
    local killed, tried = 0, 0
    setup(function()
      em = C.start("--time-scale " .. SCALE .. " --no-throttle --seed " .. small_seed.file())
      client = C.client(em, { retry = { base_delay = 0.01, max_delay = 0.1, max_attempts = 8 } })
      state_dir = tmpdir()
      -- A whole run first: the points every later run rotates, and how
      -- many progress events a run has.
      local run_id, rc, out = child(em, state_dir, 0)
      assert.are.equal(0, rc, out)
      assert.is_string(run_id)
      events = tonumber(out:match("events (%d+)"))
      assert.is_true(events > 10, out)
    end)
    teardown(function() client:close(); em.stop(); os.execute("rm -rf " .. state_dir) end)

    for k = 1, POINTS do
      local title = ("at event %d, then resumed"):format(k)
      if not shard.mine(base + k) then
        -- another process's
      elseif faulty and k % 3 ~= 1 then
        pending(title .. " (under faults, every third event only)")
      else it(title, function()
        if k > events then pending("the rotation had " .. events .. " events") end
        tried = tried + 1
        C.admin(em, "POST", "/_emulator/clock/advance", { seconds = 3600 })
        if faulty then set_faults(em, faults.spec(faults.ARM, k)) end
        local run_id, rc, out = child(em, state_dir, k)
        assert.is_string(run_id, out)
        local name = "rot-" .. run_id:match("^rotate%-(.+)$")
        if rc ~= 0 then
          killed = killed + 1
          -- Dead mid-run: every region still holds a good point.
          if faulty then set_faults(em, "") end
          for region, pts in pairs(survey(client)) do
            assert.is_true(good(pts) >= 1, region .. ": " .. json.encode(pts))
          end
          if faulty then set_faults(em, faults.spec(faults.ARM, k + 100)) end
          local report, err = workflow.resume(client, run_id, { state_dir = state_dir, time_scale = SCALE, trap = false })
          assert.is_table(report, tostring(err))
          if report.exit_code == 5 then
            -- A delete the faults stopped: cleanup finishes it.
            set_faults(em, "")
            report = assert(workflow.cleanup(client, run_id, { state_dir = state_dir, trap = false }))
          end
          if not faulty then assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message)) end
          assert.is_true(report.exit_code == 0 or report.exit_code == 1, tostring(report.exit_code))
          for _, r in ipairs(report.resources) do
            assert.is_true(r.state == "kept" or r.state == "deleted", r.kind .. " " .. tostring(r.name) .. " " .. r.state)
          end
        end
        set_faults(em, "")
        local after = survey(client)
        for region, pts in pairs(after) do
          -- Nothing half-made or failed is left, and a good point is.
          for n, state in pairs(pts) do assert.are.equal("Succeeded", state, region .. " " .. n) end
          assert.is_true(good(pts) >= 1, region)
        end
        local rows = {}
        local r = workflow.resume(client, run_id, { state_dir = state_dir })   -- the run is over: its report
        for _, row in ipairs(r.details and r.details.rows or {}) do rows[row.region] = row end
        for region, pts in pairs(after) do
          if rows[region] and rows[region].state == "ok" then
            -- Rotated: this run's point, once, and nothing else.
            local list = {}
            for n in pairs(pts) do list[#list + 1] = n end
            assert.are.same({ name }, list, region)
          end
        end
        if not faulty then for region in pairs(REGIONS) do assert.are.equal("ok", rows[region].state, region) end end
        assert.are.equal(3, rotate_collections(client))
        -- A second resume has nothing left to do and changes nothing.
        assert.is_table(workflow.resume(client, run_id, { state_dir = state_dir }))
        assert.are.same(after, survey(client))
      end) end
    end
    it("was killed at most of its moments", function()
      print(string.format("\n  %d kills in %d tries, of a run of %d events%s", killed, tried, events, faulty and " (faults on)" or ""))
      -- A run that ends before its kill point (fewer polls, or a failure
      -- under faults) is not a kill; most are.
      assert.is_true(killed >= math.floor(tried * (faulty and 0.4 or 0.6)), killed .. " kills in " .. tried .. " tries")
    end)
  end) end
end
