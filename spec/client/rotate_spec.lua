-- Cross-region rotation against the emulator: restore points made, copied
-- to two regions byte for byte (SHA-256 of the disk restore points), and
-- pruned by a GFS policy; a year of daily runs (the emulator's clock moved a
-- day between runs) leaves in every region the set this spec computes on
-- its own; a copy that fails leaves its region unpruned; a Failed newest
-- point is not a good one; keep-last 1; collections the tool does not
-- manage are never touched.
local C = require "support.client"
local azrp_cmd = require "support.azrp_cmd"
local json = require "cjson.safe"
local rotate = require "azrp.workflows.rotate"
local small_seed = require "support.small_seed"

local SCALE = 0.002
local DAY = 86400
local PROD = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/"
local DR = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Compute/restorePointCollections/"
local SRC = PROD .. "rpc-vm-app-01-rotate"
local NE = DR .. "rpc-vm-app-01-rotate-northeurope"
local FR = DR .. "rpc-vm-app-01-rotate-francecentral"
local REGIONS = { westeurope = SRC, northeurope = NE, francecentral = FR }

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  return d
end

local function config(extra)
  local c = { vm_ids = { C.VM_ID }, targets = { { location = "northeurope", resource_group = "rg-dr" },
    { location = "francecentral", resource_group = "rg-dr" } }, retention = { keep_last = 2 } }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

-- The restore points of a collection: { name = { state, time, source } }.
local function points(client, id)
  local coll, err = client:call("RestorePointCollections_Get", { id = id, expand = "restorePoints" })
  if not coll then
    assert.are.equal(404, err.status, tostring(err))
    return {}
  end
  local out = {}
  for _, rp in ipairs(coll.properties.restorePoints or {}) do
    out[rp.name] = { state = rp.properties.provisioningState, time = rp.properties.timeCreated,
      source = rp.properties.sourceRestorePoint and rp.properties.sourceRestorePoint.id, id = rp.id }
  end
  return out
end

local function names(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- advance(em, seconds [, client]): moves the emulator's clock; through
-- client (a raw request, no token) when given: the year below does it 365
-- times, and a curl process each time cost it a third of its time.
local function advance(em, seconds, client)
  if not client then
    local st = C.admin(em, "POST", "/_emulator/clock/advance", { seconds = seconds })
    assert.are.equal(200, st)
    return
  end
  local res, err = client:request{ method = "POST", url = em.url .. "/_emulator/clock/advance",
    headers = { ["content-type"] = "application/json" }, body = json.encode{ seconds = seconds } }:wait()
  assert.is_table(res, tostring(err))
  assert.are.equal(200, res.status, res.body)
end

local function set_faults(em, spec)
  local st, body = C.admin(em, "POST", "/_emulator/faults", { spec = spec })
  assert.are.equal(200, st, json.encode(body))
end

local sha = C.disk_digest

local function rows_by_region(report)
  local out = {}
  for _, r in ipairs(report.details.rows) do out[r.region] = r end
  return out
end

local function run(client, dir, cfg, opts)
  local o = { state_dir = dir, time_scale = SCALE, trap = false }
  for k, v in pairs(opts or {}) do o[k] = v end
  local r, err, partial = rotate.run(client, cfg, o)
  return r or partial, err
end

describe("azrp rotate, one VM and two regions", function()
  local em, client, dir
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. small_seed.file())
    client = C.client(em)
    dir = tmpdir()
  end)
  teardown(function() client:close(); em.stop(); os.execute("rm -rf " .. dir) end)

  it("copies a restore point byte for byte to both regions, and prunes by the policy", function()
    -- A collection of the VM that rotate does not manage, with a point of its own.
    assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-mine", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-mine",
      restore_point_name = "rp-mine", body = {} }))
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local disks = { [vm.properties.storageProfile.osDisk.name] = sha(em, vm.properties.storageProfile.osDisk.managedDisk.id) }
    for _, d in ipairs(vm.properties.storageProfile.dataDisks) do disks[d.name] = sha(em, d.managedDisk.id) end

    local report, err = run(client, dir, config{ retention = { keep_last = 1 } })
    assert.are.equal(0, report.exit_code, tostring(err))
    local rows = rows_by_region(report)
    assert.are.same({ "francecentral", "northeurope", "westeurope" }, names(rows))
    for region, r in pairs(rows) do
      assert.are.equal("ok", r.state, region)
      assert.are.equal(0, r.deleted)
      assert.is_true(r.pruned)
    end
    local name = rows.westeurope.restore_point
    assert.matches("^rot%-%d+T%d+%-%x+$", name)
    -- The collections it made are tagged as managed, in the right regions.
    for region, id in pairs(REGIONS) do
      local coll = assert(client:call("RestorePointCollections_Get", { id = id }))
      assert.are.equal(region, coll.location)
      assert.are.equal("rotate", coll.tags["azrp-managed"])
      local p = points(client, id)
      assert.are.same({ name }, names(p))
      assert.are.equal("Succeeded", p[name].state)
    end
    -- Each copy is fully replicated and holds the VM's bytes, disk by disk.
    for _, id in ipairs({ NE, FR }) do
      local copy = assert(client:call("RestorePoints_Get", { id = id .. "/restorePoints/" .. name, expand = "instanceView" }))
      assert.are.equal((SRC .. "/restorePoints/" .. name):lower(), copy.properties.sourceRestorePoint.id:lower())
      local n = 0
      for _, d in ipairs(copy.properties.instanceView.diskRestorePoints) do
        assert.are.equal(100, d.replicationStatus.completionPercent)
        local disk = d.id:match("/diskRestorePoints/(.+)_[%x%-]+$")
        assert.are.equal(disks[disk], sha(em, d.id), disk)
        n = n + 1
      end
      assert.are.equal(3, n)
    end

    -- The next day, keep_last 1: the new point replaces the old one everywhere.
    advance(em, DAY)
    local second = run(client, dir, config{ retention = { keep_last = 1 } })
    assert.are.equal(0, second.exit_code)
    local name2 = rows_by_region(second).westeurope.restore_point
    assert.are_not.equal(name, name2)
    for region, id in pairs(REGIONS) do
      assert.are.same({ name2 }, names(points(client, id)), region)
      local r = rows_by_region(second)[region]
      assert.are.equal(1, r.deleted)
      assert.are.same({ name }, r.deleted_names)
      assert.are.same({ name2 .. " (newest_good, keep_last)" }, r.kept)
    end
    -- What it does not manage is left alone.
    assert.are.same({ "rp-mine" }, names(points(client, PROD .. "rpc-mine")))
  end)

  it("plans without creating: what each region would get, lose and keep, and why", function()
    local before = {}
    for region, id in pairs(REGIONS) do before[region] = points(client, id) end
    local function plan(policy, now)
      local rows = assert(rotate.plan(client, config{ retention = policy }, { now = now }))
      local by = {}
      for _, r in ipairs(rows) do
        by[r.region .. " " .. r.action] = by[r.region .. " " .. r.action] or {}
        table.insert(by[r.region .. " " .. r.action], r)
      end
      return by
    end
    local name = names(points(client, SRC))[1]
    local t = require("azrp.retention").epoch(points(client, SRC)[name].time)
    -- A run a day later: yesterday's point is the newest of its day.
    local by = plan({ keep_last = 1, daily = 5 }, t + DAY)
    for region in pairs(REGIONS) do
      assert.are.equal(1, #by[region .. " create"])
      assert.matches("kept by newest_good, keep_last, daily", by[region .. " create"][1].why, 1, true)
      assert.are.equal(1, #by[region .. " keep"])
      assert.are.equal(name, by[region .. " keep"][1].name)
      assert.are.equal("daily", by[region .. " keep"][1].why)
      assert.is_nil(by[region .. " delete"])
    end
    -- A run the same day: the new point is that day's, yesterday's goes.
    by = plan({ keep_last = 1, daily = 5 }, t + 60)
    for region in pairs(REGIONS) do
      assert.is_nil(by[region .. " keep"])
      assert.are.equal(name, by[region .. " delete"][1].name)
      assert.are.equal("no rule keeps it", by[region .. " delete"][1].why)
    end
    for region, id in pairs(REGIONS) do assert.are.same(before[region], points(client, id)) end
    -- A fleet by resource group and tag: the VMs whose tag matches, by value or by name alone.
    local function vms_of(extra)
      local cfg = config(extra)
      cfg.vm_ids = nil
      local seen = {}
      for _, r in ipairs(assert(rotate.plan(client, cfg))) do seen[r.vm] = true end
      return names(seen)
    end
    assert.are.same({ "vm-app-01" }, vms_of{ resource_group = "rg-prod", tag = "tier=web" })
    assert.are.same({ "vm-app-01", "vm-sql-01" }, vms_of{ resource_group = "rg-prod", tag = "app" })
    assert.are.same({ "vm-app-01", "vm-sql-01" }, vms_of{ tag = "app=shop" })
    local nobody, nerr = rotate.plan(client, (function() local c = config{ tag = "app=none" }; c.vm_ids = nil; return c end)())
    assert.is_nil(nobody)
    assert.are.equal("tag", nerr.target)
    -- A policy that keeps nothing is refused before any request, naming the field.
    local none, err = rotate.plan(client, config{ retention = { keep_last = 0 } })
    assert.is_nil(none)
    assert.are.equal("invalid", err.kind)
    assert.are.equal("retention.keep_last", err.target)
  end)

  it("does not prune a region whose copy failed, and leaves no failed copy behind", function()
    advance(em, DAY)
    local old = names(points(client, FR))
    assert.are.equal(1, #old)
    set_faults(em, "failed@RestorePoints_Create~/restorePointCollections/rpc-vm-app-01-rotate-francecentral/=1")
    local report = run(client, dir, config{ retention = { keep_last = 1 } })
    set_faults(em, "")
    assert.are.equal(1, report.exit_code)
    local rows = rows_by_region(report)
    assert.are.equal("failed", rows.francecentral.state)
    assert.are.equal("copy", rows.francecentral.stage)
    assert.is_false(rows.francecentral.pruned)
    assert.are.equal("ok", rows.northeurope.state)
    assert.are.equal("ok", rows.westeurope.state)
    local name = rows.westeurope.restore_point
    -- francecentral: yesterday's copy is still its only (and newest good) point;
    -- the failed copy was deleted by the run's cleanup.
    assert.are.same(old, names(points(client, FR)))
    -- the others rotated.
    assert.are.same({ name }, names(points(client, NE)))
    assert.are.same({ name }, names(points(client, SRC)))
    for _, r in ipairs(report.resources) do
      assert.is_true(r.state == "kept" or r.state == "deleted", r.kind .. " " .. r.name .. " " .. r.state)
    end
  end)

  it("does not count a Failed newest point as good: the newest Succeeded one is kept", function()
    advance(em, DAY)
    local other = C.client(em)
    finally(function() other:close() end)
    local late
    local report = run(client, dir, config{ retention = { keep_last = 1 } }, { progress = function(e)
      -- Once the run's restore point is made, someone else's fails in the
      -- same collection: the newest point there, but not a good one.
      if e.type == "resource" and e.state == "created" and e.kind == "restore_point" and not late then
        late = "rp-late"
        set_faults(em, "failed@RestorePoints_Create~/restorePoints/rp-late=1")
        local rp = other:call("RestorePoints_Create", { resource_group_name = "rg-prod",
          restore_point_collection_name = "rpc-vm-app-01-rotate", restore_point_name = late, body = {} })
        assert.is_nil(rp)
        set_faults(em, "")
      end
    end })
    assert.are.equal(0, report.exit_code)
    assert.is_string(late)
    local name = rows_by_region(report).westeurope.restore_point
    -- The Failed one was newer, but keep_last 1 kept this run's, and the
    -- Failed one went with the older good one.
    assert.are.same({ name }, names(points(client, SRC)))
    local deleted = rows_by_region(report).westeurope.deleted_names
    table.sort(deleted)
    assert.are.equal(2, #deleted)
    assert.are.equal("rp-late", deleted[2])
  end)

  it("refuses a collection of the same name that it does not manage, and a bad config before any request", function()
    local bad, err = rotate.check(config{ targets = { { location = "northeurope" } } })
    assert.is_nil(bad)
    assert.are.equal("targets[1].resource_group", err.target)
    bad, err = rotate.check(config{ retention = { daily = -2 } })
    assert.is_nil(bad)
    assert.are.equal("retention.daily", err.target)
    bad, err = rotate.check(config{ vm_ids = { "vm-app-01" } })
    assert.is_nil(bad)
    assert.are.equal("vm_ids[1]", err.target)
    bad, err = rotate.check(config{ source_collection = "rpc-{host}" })
    assert.is_nil(bad)
    assert.are.equal("source_collection", err.target)
    -- vm-sql-01: its rotate collection exists, made by someone else, untagged.
    local sql = C.VM_ID:gsub("vm%-app%-01$", "vm-sql-01")
    assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-vm-sql-01-rotate", body = { location = "westeurope", properties = { source = { id = sql } } } }))
    local report = run(client, dir, config{ vm_ids = { sql }, retention = { keep_last = 1 } })
    assert.are.equal(1, report.exit_code)
    local row = rows_by_region(report).westeurope
    assert.are.equal("failed", row.state)
    assert.matches("not managed by azrp rotate", row.error, 1, true)
    assert.are.same({}, points(client, PROD .. "rpc-vm-sql-01-rotate"))
  end)
end)

-- ---------------------------------------------------------------------
-- A year of daily runs

-- The spec's own GFS, on os.date's calendar: the names a policy keeps of
-- points { name = epoch }.
local function is_leap(y) return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 end
local function iso_week(t)
  local f = os.date("!*t", t)
  local wday = (f.wday + 5) % 7 + 1
  local week = math.floor((f.yday - wday + 10) / 7)
  local year = f.year
  if week < 1 then
    local d = os.date("!*t", t - f.yday * DAY)
    year, week = year - 1, math.floor((d.yday - ((d.wday + 5) % 7 + 1) + 10) / 7)
  elseif week == 53 and f.yday - wday + 4 > (is_leap(year) and 366 or 365) then
    year, week = year + 1, 1
  end
  return string.format("%d-%02d", year, week)
end
local PERIOD = {
  daily = function(t) return os.date("!%Y-%m-%d", t) end,
  weekly = iso_week,
  monthly = function(t) return os.date("!%Y-%m", t) end,
  yearly = function(t) return os.date("!%Y", t) end,
}
local function expected_survivors(history, policy)
  local list = {}
  for name, t in pairs(history) do list[#list + 1] = { name = name, t = t } end
  table.sort(list, function(a, b) return a.t > b.t end)
  local keep = { [list[1].name] = true }
  for i = 1, math.min(policy.keep_last or 0, #list) do keep[list[i].name] = true end
  for rule, key in pairs(PERIOD) do
    local seen, n = {}, 0
    for _, p in ipairs(list) do
      local k = key(p.t)
      if not seen[k] and n < (policy[rule] or 0) then seen[k] = true; n = n + 1; keep[p.name] = true end
      seen[k] = true
    end
  end
  return names(keep)
end

local function epoch_of(iso)
  return require("azrp.retention").epoch(iso)
end

-- A year on one Lua of those spec/run.sh runs together (support.shard's
-- lead(); every Lua when it runs alone), 60 days on the others (two
-- month boundaries: every rule but the yearly one keeps and drops): their
-- bindings run the same retention, and a year's 365 runs cost each a
-- minute of CPU.
-- spec/run.sh: one job per Lua
local DAYS = require("support.shard").lead() and 365 or 60

describe(DAYS .. " days of daily rotations", function()
  local YEAR_SCALE = 0.0001
  local em, client, dir
  setup(function()
    em = C.start("--time-scale " .. YEAR_SCALE .. " --no-throttle --seed " .. small_seed.file())
    -- The client's own token bucket off: it paces reads at ARM's 25/s of
    -- wall time, and a day of emulated time passes in a blink here; the
    -- emulator's buckets refill when its clock moves (the fleet spec below
    -- checks the pacing).
    client = C.client(em, { throttle = false, poll = { default = 0.01, max = 0.05 } })
    dir = tmpdir()
  end)
  teardown(function() client:close(); em.stop(); os.execute("rm -rf " .. dir) end)

  it("leaves in both regions and at the source the set this spec computes", function()
    local policy = { keep_last = 2, daily = 5, weekly = 3, monthly = 4, yearly = 1 }
    local cfg = config{ retention = policy }
    local history = {}   -- every point ever made: name -> creation time
    local t0 = os.time()
    local days = DAYS
    for day = 1, days do
      local report, err = run(client, dir, cfg, { time_scale = YEAR_SCALE })
      assert.are.equal(0, report.exit_code, tostring(err))
      for name, p in pairs(points(client, SRC)) do history[name] = history[name] or math.floor(epoch_of(p.time)) end
      -- A day and a few hours, so that runs fall at every hour.
      advance(em, DAY + (day % 5) * 3600, client)
    end
    local want = expected_survivors(history, policy)
    local count = 0
    for _ in pairs(history) do count = count + 1 end
    assert.are.equal(days, count)
    for region, id in pairs(REGIONS) do
      local got = points(client, id)
      assert.are.same(want, names(got), region)
      for name, p in pairs(got) do
        assert.are.equal("Succeeded", p.state)
        -- a copy keeps its source's creation time
        assert.are.equal(history[name], math.floor(epoch_of(p.time)), region .. " " .. name)
      end
    end
    print(string.format("\n  %d daily runs in %d s on %s: %d restore points kept per region of %d made",
      days, os.time() - t0, jit and jit.version or _VERSION, #want, days))
  end)
end)

-- ---------------------------------------------------------------------
-- The command

describe("azrp rotate (bin/azrp)", function()
  local em, client, dir
  local function azrp(...) return azrp_cmd.run(em, { ... }, { lua = "lua5.4" }) end
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. small_seed.file())
    client = C.client(em)
    dir = tmpdir()
    assert(os.execute("mkdir -p " .. dir))
  end)
  teardown(function() client:close(); em.stop(); os.execute("rm -rf " .. dir) end)

  it("plans, runs with a table of rows, and refuses a policy that keeps nothing before any request", function()
    local cfg = dir .. "/rotate.json"
    local f = assert(io.open(cfg, "w"))
    f:write(json.encode(config{ retention = { keep_last = 1, weekly = 2 } }))
    f:close()
    local r = azrp("rotate", cfg, "--plan", "-o", "tsv")
    assert.are.equal(0, r.code, r.err)
    for _, region in ipairs({ "westeurope", "northeurope", "francecentral" }) do
      assert.matches("vm%-app%-01\t" .. region .. "\tcreate\tcollection\trpc%-vm%-app%-01%-rotate", r.out)
      assert.matches("vm%-app%-01\t" .. region .. "\tcreate\trestore_point\t<run>\t", r.out)
    end
    assert.are.same({}, points(client, SRC))   -- the plan made nothing
    r = azrp("rotate", cfg, "--state-dir", dir .. "/state", "-o", "tsv")
    assert.are.equal(0, r.code, r.err)
    assert.matches("azrp: run rotate%-", r.err)
    local lines = 0
    for line in r.out:gmatch("[^\n]+") do
      if line:match("^vm%-app%-01\t") then
        lines = lines + 1
        assert.matches("\tok\trot%-", line)
      end
    end
    assert.are.equal(3, lines, r.out)
    -- keep_last 0 from the command line over the file: nothing is sent.
    C.admin(em, "POST", "/_emulator/counters/reset")
    r = azrp("rotate", cfg, "--keep-last", "0", "--weekly", "0", "--state-dir", dir .. "/state")
    assert.are.equal(2, r.code, r.err)
    assert.matches("retention.keep_last: the policy keeps nothing", r.err, 1, true)
    local counters = C.counters(em)
    assert.is_nil(counters.operations.RestorePoints_Create)
    assert.is_nil(counters.operations.RestorePointCollections_Get)
  end)
end)
