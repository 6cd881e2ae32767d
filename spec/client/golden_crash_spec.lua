-- A golden image run killed with SIGKILL at every moment of its run (from
-- inside, at its Nth progress event: after each journalled step, create
-- and replication report), then resumed or cleaned up from its journal.
-- After a resume: exactly one image version more, the run's, replicated
-- to both regions, and nothing else of the run left.  After a cleanup:
-- nothing of the run is left and the definition has the versions it had.
-- Then the same under 20 % faults (429, 500, 503, dropped connections,
-- truncated bodies, failed provisioning), killed right after each of its
-- journal records and resumed under other faults: the version published
-- once or not at all, nothing of the run left but it, and a VM made from
-- it holds the VM's OS disk as it was at the restore point's moment.
local C = require "support.client"
local children = require "support.child"
local json = require "cjson"
local workflow = require "azrp.workflow"
local golden_seed = require "support.golden_seed"
local golden = require "support.golden"
local faults = require "support.faults"
local tmp = require "support.tmp"
local shard = require "support.shard"

local SCALE = 0.002
local DEF = golden.DEF

local function child(em, state_dir, n, config, event)
  return children.run{ em = em, state = state_dir, n = n, sig = "KILL", scale = SCALE,
    workflow = "golden_image", config = config, event = event }
end

local versions = golden.versions

local function of_run(client, run_id)
  local out = {}
  for _, d in ipairs(assert(client:list("Disks_ListByResourceGroup", { resource_group_name = "rg-prod" }))) do
    if d.tags and d.tags["azrp-run"] == run_id then out[#out + 1] = "disk " .. d.name end
  end
  local stamp = run_id:match("^golden%-(.+)$")
  local coll = client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-vm-app-01", expand = "restorePoints" })
  for _, rp in ipairs(coll and coll.properties.restorePoints or {}) do
    if rp.name:find(stamp, 1, true) then out[#out + 1] = "restore_point " .. rp.name end
  end
  for name, v in pairs(versions(client)) do
    if v.run == run_id then out[#out + 1] = "image_version " .. name end
  end
  table.sort(out)
  return out
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- spec/run.sh shares the points of the three parts below among several
-- processes (support.shard), in `make test` among those of all five
-- Luas, so that each point runs once, on one of them: the
-- kill-at-event points are 1..90, the kill-at-record ones 101..180, the
-- last record's 200; a process runs a part's setup only if it has points
-- in it.
local EVENTS, RECORDS = 90, 80

if shard.any(1, EVENTS) then describe("a golden image run killed with SIGKILL #crash", function()
  local em, client, state_dir, events
  local killed, tried = 0, 0
  local config = golden.CONFIG
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --no-throttle --seed " .. golden_seed.file())
    client = C.client(em)
    state_dir = tmp.dir()
    golden.setup(client)
    -- A whole run first: how many progress events a run has.
    local run_id, rc, out = child(em, state_dir, 0, config)
    assert.are.equal(0, rc, out)
    events = tonumber(out:match("events (%d+)"))
    assert.is_true(events > 10, out)
    local mine = of_run(client, run_id)
    assert.are.same({ "image_version 1.0.0" }, mine)
    assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
    assert.are.same({}, versions(client))
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  for k = 1, EVENTS do
    local how = (k % 2 == 1) and "resume" or "cleanup"
    local name = ("at event %d, then %s"):format(k, how)
    if not shard.mine(k) then
      -- another process's
    else it(name, function()
      if k > events then pending("the run had " .. events .. " events") end
      tried = tried + 1
      local before = versions(client)
      local run_id, rc, out = child(em, state_dir, k, config)
      assert.is_string(run_id, out)
      if rc == 0 then
        -- This run had fewer progress events (polls vary): it ended
        -- before event k.  Nothing to recover.
        workflow.cleanup(client, run_id, { state_dir = state_dir, all = true })
        return
      end
      killed = killed + 1
      local report, err
      if how == "resume" then
        report, err = workflow.resume(client, run_id, { state_dir = state_dir, time_scale = SCALE })
      else
        report, err = workflow.cleanup(client, run_id, { state_dir = state_dir })
      end
      assert.is_table(report, tostring(err))
      assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
      local published = false
      for _, s in ipairs(report.steps) do if s.name == "publish" and s.ok then published = true end end
      local after = versions(client)
      if how == "resume" or published then
        -- One version more, this run's, replicated; nothing else left.
        local mine = of_run(client, run_id)
        assert.are.equal(1, #mine, table.concat(mine, ", "))
        assert.matches("^image_version ", mine[1])
        assert.are.equal(count(before) + 1, count(after))
        local name = mine[1]:match("^image_version (.+)$")
        assert.are.equal("Succeeded", after[name].state)
        local v = assert(client:call("GalleryImageVersions_Get", { id = DEF .. "/versions/" .. name, expand = "ReplicationStatus" }))
        assert.are.equal("Completed", v.properties.replicationStatus.aggregatedState)
        assert.are.equal(2, #v.properties.replicationStatus.summary)
        if how == "resume" then
          assert.are.equal(2, #report.details.regions)
          for _, r in ipairs(report.details.regions) do assert.is_number(r.seconds) end
        end
      else
        assert.are.same({}, of_run(client, run_id))
        assert.are.same(before, after)
      end
      -- A second resume has nothing left to do and changes nothing.
      local snapshot = of_run(client, run_id)
      assert.is_table(workflow.resume(client, run_id, { state_dir = state_dir }))
      assert.are.same(snapshot, of_run(client, run_id))
      -- Next kill starts from an empty definition.
      assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
      assert.are.same({}, of_run(client, run_id))
    end) end
  end
  it("was killed at most of its moments", function()
    -- A run that ends before its kill point (fewer polls than the first)
    -- is not a kill; most are.
    assert.is_true(killed >= math.floor(tried * 0.6), killed .. " kills in " .. tried .. " tries of " .. events .. " events")
  end)
end) end

-- rg-prod's disks and rpc-vm-app-01's restore points, by name: what a
-- run could leave twice or behind.
local function disks_and_points(client)
  local out = {}
  for _, d in ipairs(assert(client:list("Disks_ListByResourceGroup", { resource_group_name = "rg-prod" }))) do
    out[#out + 1] = "disk " .. d.name
  end
  local coll = client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-vm-app-01", expand = "restorePoints" })
  for _, rp in ipairs(coll and coll.properties.restorePoints or {}) do out[#out + 1] = "restore_point " .. rp.name end
  table.sort(out)
  return out
end

-- Does the run's journal say it made the resource under key?
local function made(state_dir, run_id, key)
  for line in io.lines(state_dir .. "/runs/" .. run_id .. "/journal.jsonl") do
    local rec = json.decode(line)
    if rec.type == "created" and rec.key == key then return true end
  end
  return false
end

if shard.any(101, 100 + RECORDS) then
describe("a golden image run under 20 % faults killed with SIGKILL after each journal record #crash", function()
  local em, client, state_dir, records
  local killed, published, failed, tried = 0, 0, 0, 0
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --no-throttle --seed " .. golden_seed.file())
    client = C.client(em, { retry = { base_delay = 0.01, max_delay = 0.1, max_attempts = 8 } })
    state_dir = tmp.dir()
    golden.setup(client)
    -- A whole run without faults first: how many journal records a run has.
    local run_id, rc, out = child(em, state_dir, 0, golden.CONFIG, "journal")
    assert.are.equal(0, rc, out)
    records = tonumber(out:match("events (%d+)"))
    assert.is_true(records > 30, out)
    assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
    assert.are.same({}, versions(client))
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  for k = 1, RECORDS do
    local name = ("at record %d, then resumed"):format(k)
    if not shard.mine(100 + k) then
      -- another process's
    else it(name, function()
      if k > records then pending("the run had " .. records .. " records") end
      tried = tried + 1
      local base = disks_and_points(client)
      local before = versions(client)
      -- The OS disk's content for this run, and its hash.
      local at_start = golden.mark(em, client, "golden run " .. k)
      faults.set(em, faults.spec(faults.ARM_PROVISIONING, k))
      local run_id, rc, out = child(em, state_dir, k, golden.CONFIG, "journal")
      faults.set(em, "")
      assert.is_string(run_id, out)
      if out:find("event " .. k .. " journal", 1, true) then killed = killed + 1 end
      -- While it lies dead the VM writes on: a restore point already made
      -- holds at_start, one made by the resume holds the new content.
      local rp_made = made(state_dir, run_id, "restore_point")
      for _, r in ipairs(of_run(client, run_id)) do if r:match("^restore_point ") then rp_made = true end end
      local later = golden.mark(em, client, "golden run " .. k .. " after the kill")
      local want = rp_made and at_start or later
      faults.set(em, faults.spec(faults.ARM_PROVISIONING, k + 1000))
      local report, err = workflow.resume(client, run_id, { state_dir = state_dir, time_scale = SCALE, trap = false })
      faults.set(em, "")
      assert.is_table(report, tostring(err))
      if report.exit_code == 5 then
        -- A delete the faults stopped: cleanup finishes it.
        report = assert(workflow.cleanup(client, run_id, { state_dir = state_dir, trap = false }))
        assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
      end
      assert.is_true(report.exit_code == 0 or report.exit_code == 1,
        report.exit_code .. " " .. tostring(report.error and report.error.message))
      local ok_publish = false
      for _, s in ipairs(report.steps) do if s.name == "publish" and s.ok then ok_publish = true end end
      local after = versions(client)
      local mine = of_run(client, run_id)
      -- Nothing else of the run: no disk, no restore point, left or twice.
      assert.are.same(base, disks_and_points(client))
      -- What went on, should an assertion fail: the child's output, the
      -- report and the journal's records.
      local function story()
        local recs = {}
        for line in io.lines(state_dir .. "/runs/" .. run_id .. "/journal.jsonl") do
          local r = json.decode(line)
          recs[#recs + 1] = r.seq .. ":" .. r.type .. ":" .. tostring(r.key or r.name) .. ":" .. tostring(r.state or r.keep or r.ok)
            .. (r.error and (":" .. tostring(r.error)) or "")
        end
        local res = {}
        for _, x in ipairs(report.resources) do res[#res + 1] = x.kind .. " " .. tostring(x.name) .. " " .. x.state end
        return out .. "\nreport: " .. tostring(report.state) .. " exit " .. tostring(report.exit_code) .. " "
          .. tostring(report.error and report.error.message) .. "\nresources: " .. table.concat(res, ", ")
          .. "\nversions: " .. json.encode(after) .. "\njournal: " .. table.concat(recs, " ")
      end
      if ok_publish then
        published = published + 1
        assert.are.equal(1, #mine, story())
        local name = assert(mine[1]:match("^image_version (.+)$"))
        assert.are.equal(count(before) + 1, count(after))
        assert.are.equal("Succeeded", after[name].state)
        local v = assert(client:call("GalleryImageVersions_Get", { id = DEF .. "/versions/" .. name, expand = "ReplicationStatus" }))
        assert.are.equal("Completed", v.properties.replicationStatus.aggregatedState)
        assert.are.equal(2, #v.properties.replicationStatus.summary)
        -- The data proof: a VM made from the version boots from the OS
        -- disk as it was at the restore point's moment.
        assert.are.equal(want, golden.proof(em, client, v.id, "vm-proof-" .. k))
      else
        -- Failed under the faults: cleaned up, the definition as it was.
        failed = failed + 1
        assert.are.same({}, mine)
        assert.are.same(before, after)
      end
      -- A second resume has nothing left to do and changes nothing.
      assert.is_table(workflow.resume(client, run_id, { state_dir = state_dir, trap = false }))
      assert.are.same(mine, of_run(client, run_id))
      -- Next kill starts from an empty definition.
      assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true, trap = false }).exit_code)
      assert.are.same({}, of_run(client, run_id))
    end) end
  end
  it("was killed at most of its records and published most of its runs", function()
    print(string.format("\n  %d kills in %d tries, of a run of %d journal records, under faults: %d published, %d failed and cleaned up",
      killed, tried, records, published, failed))
    -- Faults can end a run before its kill point (a failure cleaned up);
    -- most runs are killed, and most of those publish on resume.
    assert.is_true(killed >= math.floor(tried / 2), killed .. " kills in " .. tried .. " tries")
    assert.is_true(published >= math.floor(tried / 3), published .. " published in " .. tried .. " tries")
  end)
end) end

-- Regression (found by the runs under faults above): a run killed
-- right after its last journal record, before meta.json said how it
-- ended, resumed to a report without an exit code.
if shard.mine(200) then describe("a golden image run killed after its last journal record #crash", function()
  local em, client, state_dir
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --no-throttle --seed " .. golden_seed.file())
    client = C.client(em)
    state_dir = tmp.dir()
    golden.setup(client)
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  it("resumes to its exit code, and says it in its state folder", function()
    -- Two whole runs first: the second one's records (the first also
    -- makes the restore point collection).
    local run_id, rc, out, records
    for _ = 1, 2 do
      run_id, rc, out = child(em, state_dir, 0, golden.CONFIG, "journal")
      assert.are.equal(0, rc, out)
      records = tonumber(out:match("events (%d+)"))
      assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
    end
    run_id, rc, out = child(em, state_dir, records, golden.CONFIG, "journal")
    assert.matches("event " .. records .. " journal state", out, 1, true)
    assert.are_not.equal(0, rc, out)
    local report = assert(workflow.resume(client, run_id, { state_dir = state_dir }))
    assert.are.equal(0, report.exit_code)
    assert.are.equal("succeeded", report.state)
    for _, m in ipairs(workflow.runs(state_dir)) do
      if m.run_id == run_id then assert.are.equal(0, m.exit_code); assert.are.equal("succeeded", m.state) end
    end
    assert.are.equal(1, #of_run(client, run_id))
    assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
  end)
end) end
