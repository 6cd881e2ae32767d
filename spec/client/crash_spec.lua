-- The DR drill killed at every moment of its run (SIGKILL from inside, at
-- its Nth progress event), then resumed or cleaned up from its journal:
-- nothing left in rg-dr, no duplicate, the source restore point kept once.
-- SIGTERM and SIGINT stop it cleanly with exit code 4; two drills at once
-- do not touch each other's resources.
local C = require "support.client"
local I = require "support.inventory"
local workflow = require "azrp.workflow"
local small_seed = require "support.small_seed"
local json = require "cjson"
local files = require "support.files"
local tmp = require "support.tmp"
local q = require("support.shell").q

local children = require "support.child"
local shard = require "support.shard"

-- The command that runs a drill of vm (default vm-app-01, its unsupported
-- disks excluded) in a child, killed with sig at its nth progress event
-- (0: never).
local function child_cmd(em, state_dir, n, sig, scale, vm)
  local config = { vm_id = vm and C.VM_ID:gsub("vm%-app%-01$", vm) or C.VM_ID, dr_location = "northeurope",
    dr_resource_group = "rg-dr", unsupported_disks = "exclude" }
  return children.cmd{ em = em, state = state_dir, n = n, sig = sig, scale = scale,
    workflow = "dr_drill", config = config }
end

-- Runs the child; -> run id, exit code, output.
local function child(em, state_dir, n, sig)
  local config = { vm_id = C.VM_ID, dr_location = "northeurope", dr_resource_group = "rg-dr", unsupported_disks = "exclude" }
  return children.run{ em = em, state = state_dir, n = n, sig = sig or "KILL", scale = 0.002,
    workflow = "dr_drill", config = config }
end

local function source_rps(client)
  return I.restore_points(client, "rg-prod", "rpc-vm-app-01")
end

-- Restore points of this run in the source collection (0 or 1, never 2).
local function count_run_rps(client, run_id)
  local stamp = run_id:match("^drill%-(.+)$")
  local n = 0
  for _, name in ipairs(source_rps(client)) do if name:find(stamp, 1, true) then n = n + 1 end end
  return n
end

describe("a DR drill killed with SIGKILL #crash", function()
  local em, client, before, state_dir, events
  setup(function()
    em = C.start("--time-scale 0.002 --no-throttle --seed " .. small_seed.file())
    client = C.client(em)
    state_dir = tmp.dir()
    -- A whole run first: how many progress events a drill has.
    local run_id, rc, out = child(em, state_dir, 0)
    assert.are.equal(0, rc, out)
    events = tonumber(out:match("events (%d+)"))
    assert.is_true(events > 20, out)
    before = I.dr(em, client)
    assert.are.equal(1, count_run_rps(client, run_id))
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  -- spec/run.sh shares the points among several processes
  -- (support.shard), in `make test` among those of all five Luas, so
  -- that each point runs once, on one of them.
  for k = 1, 60 do
    local how = (k % 2 == 1) and "resume" or "cleanup"
    local name = ("at event %d, then %s"):format(k, how)
    if not shard.mine(k) then
      -- another process's
    else it(name, function()
      if k > events then pending("the drill had " .. events .. " events") end
      local run_id, rc, out = child(em, state_dir, k, "KILL")
      assert.is_string(run_id, out)
      if rc == 0 then
        -- This run had fewer progress events than the first (polls vary
        -- with the machine's load): it ended before event k, and cleaned
        -- up as a drill does.  Nothing to recover.
        assert.is_true(tonumber(out:match("events (%d+)")) < k, out)
        assert.are.same(before, I.dr(em, client))
        return
      end
      local report, err
      if how == "resume" then
        report, err = workflow.resume(client, run_id, { state_dir = state_dir, time_scale = 0.002 })
        assert.is_table(report, tostring(err))
        assert.are.equal("succeeded", report.state, tostring(report.error and report.error.message))
        assert.are.equal(0, report.exit_code)
      else
        report, err = workflow.cleanup(client, run_id, { state_dir = state_dir })
        assert.is_table(report, tostring(err))
        assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
      end
      for _, r in ipairs(report.resources) do
        assert.is_true(r.state == "deleted" or r.state == "kept", r.kind .. " " .. tostring(r.id) .. " " .. r.state)
      end
      assert.are.same(before, I.dr(em, client))
      assert.is_true(count_run_rps(client, run_id) <= 1)
      if how == "resume" then assert.are.equal(1, count_run_rps(client, run_id)) end
      -- A second resume has nothing left to do and makes nothing.
      local again = workflow.resume(client, run_id, { state_dir = state_dir })
      assert.is_table(again)
      assert.are.same(before, I.dr(em, client))
    end) end
  end
end)

-- The other tests of this file go to the shards after the kill points'.
if shard.mine(61) then describe("a DR drill stopped by a signal #crash", function()
  local em, client, before, state_dir
  setup(function()
    em = C.start("--time-scale 0.002 --no-throttle --seed " .. small_seed.file())
    client = C.client(em)
    state_dir = tmp.dir()
    before = I.dr(em, client)
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  for _, k in ipairs({ 4, 9, 14, 22 }) do
    it("SIGTERM at event " .. k .. " cleans up, writes its state and exits 4", function()
      local run_id, rc, out = child(em, state_dir, k, "TERM")
      assert.are.equal(4, rc, out)
      assert.are.same(before, I.dr(em, client))
      local runs = workflow.runs(state_dir)
      local mine
      for _, m in ipairs(runs) do if m.run_id == run_id then mine = m end end
      assert.are.equal("interrupted", mine.state)
      assert.are.equal(4, mine.exit_code)
    end)
  end

  it("SIGINT from outside, mid-copy, the same", function()
    local p = io.popen(child_cmd(em, state_dir, 0, "KILL", 0.02) .. " & echo $!")
    local pid = tonumber(p:read("*l"))
    -- Wait for the copy to start (its step record in the journal).
    local found
    for _ = 1, 400 do
      local h = io.popen("grep -l '\"name\":\"copy\"' " .. state_dir .. "/runs/*/journal.jsonl 2>/dev/null | xargs -r grep -L '\"state\":\"interrupted\"' | head -1")
      found = h:read("*l"); h:close()
      if found and found ~= "" then break end
      os.execute("sleep 0.05")
    end
    os.execute("kill -INT " .. pid)
    local out = p:read("*a")
    p:close()
    assert.matches("exit 4", out)
    assert.are.same(before, I.dr(em, client))
  end)
end) end

if shard.mine(62) then describe("two DR drills at once #crash", function()
  local em, client, state_dir
  setup(function()
    em = C.start("--time-scale 0.002 --no-throttle --seed " .. small_seed.file())
    client = C.client(em)
    state_dir = tmp.dir()
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  local function both(vm_a, vm_b)
    local before = I.dr(em, client)
    local function cmd(vm, out) return child_cmd(em, state_dir, 0, "KILL", 0.002, vm) .. " > " .. out .. " 2>&1; echo $? >> " .. out end
    local a, b = os.tmpname(), os.tmpname()
    os.execute("(" .. cmd(vm_a, a) .. ") & (" .. cmd(vm_b, b) .. ") & wait")
    local function read(f) local s = assert(files.read(f)); os.remove(f); return s end
    local oa, ob = read(a), read(b)
    assert.matches("exit 0", oa)
    assert.matches("exit 0", ob)
    local ida, idb = oa:match("run (%S+)"), ob:match("run (%S+)")
    assert.are_not.equal(ida, idb)
    assert.are.same(before, I.dr(em, client))
    return ida, idb
  end

  it("of one VM: both pass (one restore point at a time), each with its own resources, and both clean up", function()
    local ida, idb = both("vm-app-01", "vm-app-01")
    assert.are.equal(1, count_run_rps(client, ida))
    assert.are.equal(1, count_run_rps(client, idb))
  end)

  it("of two VMs into one resource group: both pass and clean up", function()
    local ida = both("vm-app-01", "vm-sql-01")
    assert.are.equal(1, count_run_rps(client, ida))
  end)
end) end
