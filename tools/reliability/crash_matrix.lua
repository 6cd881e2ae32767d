-- The crash matrix (issue 11): every workflow killed with SIGKILL right
-- after each of its journal records, then resumed and, separately,
-- cleaned up; the results into RELIABILITY.md.
--
--   lua5.4 tools/reliability/crash_matrix.lua [--only drill,golden,...]
--     [--every N] [--out RELIABILITY.md | --out -] [--no-recovery]
--
-- (--no-recovery neither resumes nor cleans up: a check of the checks,
-- every killed run must then fail them.)
--
-- For each workflow (spec/support/crash_cases.lua): a whole run first, on
-- an emulator of its own, counts its journal records (its steps here) and
-- gives the reference end state.  Then for each record k, twice from the
-- same start (a fresh emulator, the same setup; the kill is at the same
-- record, so the two are copies of one crash): a child run
-- (spec/support/workflow_child.lua) is killed right after record k is on
-- disk and
--   (a) resumed to the end: the end state (every resource by kind and
--       name, the run's stamp replaced by <run>: spec/support/inventory.lua
--       through the emulator's API) must be the reference's, nothing
--       twice, and the workflow's own check hold (an export's SHA-256);
--   (b) cleaned up: nothing the run made is left but what its report
--       keeps, nothing that was there before is gone unless the
--       reference run removes it too (a rotation's pruned points).
-- For the rotation, the newest good restore point of each region must
-- be there (or a newer good one) while the run lies dead and after both.
-- Run from the repository's root, after `make build`.
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = "./build/5.4/?.so;" .. package.cpath

local C = require "support.client"
local I = require "support.inventory"
local children = require "support.child"
local cases = require "support.crash_cases"
local tmp = require "support.tmp"
local workflow = require "azrp.workflow"
local azrp = require "azrp"

local opts = { every = 1, out = "RELIABILITY.md" }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--only" then opts.only = arg[i + 1]; i = i + 1
    elseif a == "--every" then opts.every = assert(tonumber(arg[i + 1]), "--every N"); i = i + 1
    elseif a == "--out" then opts.out = arg[i + 1]; i = i + 1
    elseif a == "--no-recovery" then opts.no_recovery = true   -- the checks' own test: they must fail
    else io.stderr:write("unknown argument ", a, "\n"); os.exit(2) end
    i = i + 1
  end
end

local SCALE = cases.SCALE
local function log(...) io.stderr:write(string.format(...), "\n"); io.stderr:flush() end

-- The run's stamp in every key becomes <run>, any other run's <other>.
local STAMP = "%d%d%d%d%d%d%d%dt%d%d%d%d%d%d%-%x%x%x%x%x%x"
local function normal(inv, run_id)
  local mine = run_id and run_id:match("%-(%d+T%d+%-%x+)$"):lower()
  local out = {}
  for k in pairs(inv) do
    local n = k:gsub(STAMP, function(s) return s == mine and "<run>" or "<other>" end)
    out[n] = (out[n] or 0) + 1
  end
  return out
end

local function minus(a, b)
  local out = {}
  for k in pairs(a) do if not b[k] then out[#out + 1] = k end end
  table.sort(out)
  return out
end

local open_ems = {}   -- em -> { client, dir }: what close_all() stops

-- A fresh emulator with the case's setup -> em, client, dir, config, baseline.
local function fresh(case)
  local em = C.start("--time-scale " .. SCALE .. " --seed " .. case.seed())
  local client = C.client(em)
  local dir = tmp.dir()
  open_ems[em] = { client, dir }
  local config = case.setup(em, client, dir)
  -- A setup that moved the emulator's clock (a rotation's) outdated the
  -- token: a new client.
  client:close()
  client = C.client(em)
  open_ems[em] = { client, dir }
  return em, client, dir, config
end

local function close(em, client, dir)
  if not open_ems[em] then return end
  open_ems[em] = nil
  pcall(client.close, client)
  em.stop()
  tmp.remove(em.dir)
  tmp.remove(dir)
end

-- Closes what a raised error left open.
local function close_all()
  for em, t in pairs(open_ems) do close(em, t[1], t[2]) end
end

-- For the rotation: collection key -> { name, created } of its newest
-- Succeeded restore point.
local function newest_good(client)
  local out = {}
  for _, c in ipairs(assert(client:list("RestorePointCollections_ListAll", {}))) do
    local full = assert(client:call("RestorePointCollections_Get", { id = c.id, expand = "restorePoints" }))
    for _, rp in ipairs(full.properties.restorePoints or {}) do
      local p = rp.properties
      if p.provisioningState == "Succeeded" then
        local t = p.timeCreated or ""
        local cur = out[I.key(c.id)]
        if not cur or t > cur.created then out[I.key(c.id)] = { name = rp.name, created = t } end
      end
    end
  end
  return out
end

-- Is each collection's newest good point of before still there, or a
-- newer good one?  -> nil | a problem.
local function guard(before, client)
  local now = newest_good(client)
  for coll, rp in pairs(before) do
    local n = now[coll]
    if not n then return coll .. ": no good restore point left" end
    if n.name ~= rp.name and n.created < rp.created then return coll .. ": " .. rp.name .. " deleted" end
  end
  return nil
end

local function run_child(em, dir, config, case, k)
  return children.run{ em = em, state = dir .. "/state", n = k, sig = "KILL", scale = SCALE,
    workflow = case.workflow, config = config, event = "journal" }
end

-- The reference: a whole run -> records, its normalised end state, baseline.
local function reference(case)
  local em, client, dir, config = fresh(case)
  local base = I.all(em, client)
  local run_id, rc, out = run_child(em, dir, config, case, 0)
  assert(rc == 0, case.name .. ": the whole run failed: " .. out)
  local records = tonumber(out:match("events (%d+)"))
  local problem = case.check and case.check(em, client, config, "reference")
  assert(not problem, case.name .. ": the whole run: " .. tostring(problem))
  local ref = { records = records, end_state = normal(I.all(em, client), run_id), base = normal(base) }
  close(em, client, dir)
  return ref
end

-- One branch at record k -> { killed, ok, duplicates, orphans, foreign, problem }.
local function branch(case, ref, k, how)
  local em, client, dir, config = fresh(case)
  local base = I.all(em, client)
  local before_good = case.guard and newest_good(client)
  local run_id, rc, out = run_child(em, dir, config, case, k)
  local r = { killed = out:find("event " .. k .. " journal", 1, true) ~= nil, ok = false, duplicates = 0, orphans = 0, foreign = 0 }
  local function fail(msg) r.problem = r.problem or (how .. " at record " .. k .. ": " .. msg) end
  if not run_id then fail("no run: " .. out) close(em, client, dir) return r end
  if not r.killed and rc ~= 0 then fail("ended by itself with " .. tostring(rc) .. ": " .. out) end
  if before_good then
    local p = guard(before_good, client)
    if p then fail("while dead, " .. p) end
  end
  local report, err
  if opts.no_recovery then
    report = { exit_code = 0, resources = {} }
  elseif how == "resume" then
    report, err = workflow.resume(client, run_id, { state_dir = dir .. "/state", time_scale = SCALE, trap = false })
  else
    report, err = workflow.cleanup(client, run_id, { state_dir = dir .. "/state", trap = false })
  end
  if not report then fail(tostring(err))
  elseif report.exit_code ~= 0 then fail("exit " .. tostring(report.exit_code) .. " " .. tostring(report.error and report.error.message)) end
  local after = I.all(em, client)
  local now = normal(after, run_id)
  if how == "resume" then
    for key, n in pairs(now) do
      local want = ref.end_state[key] or 0
      if n > want then r.duplicates = r.duplicates + n - want end
    end
    local extra, missing = minus(now, ref.end_state), minus(ref.end_state, now)
    if #extra > 0 or #missing > 0 then
      fail("end state differs from a whole run's: extra " .. table.concat(extra, " ") .. "; missing " .. table.concat(missing, " "))
    end
  else
    -- What the report keeps, by key (and a VM's disks when they are kept).
    local kept = {}
    for _, res in ipairs(report and report.resources or {}) do
      if res.state == "kept" and res.id then kept[I.key(res.id)] = true end
    end
    for _, key in ipairs(minus(after, base)) do
      local vm_disk = key:match("#[%w]+=(.+)$")
      if not (kept[key] or (vm_disk and kept[vm_disk])) then r.orphans = r.orphans + 1; fail("left behind: " .. key) end
    end
    -- Gone since the start: only what a whole run removes too.
    local removed_by_ref = {}
    for _, key in ipairs(minus(ref.base, ref.end_state)) do removed_by_ref[key] = true end
    local base_n = normal(base)
    for _, key in ipairs(minus(base_n, now)) do
      if not removed_by_ref[key] then r.foreign = r.foreign + 1; fail("deleted what it did not create: " .. key) end
    end
  end
  if before_good then
    local p = guard(before_good, client)
    if p then fail("after the " .. how .. ", " .. p) end
  end
  local p = case.check and case.check(em, client, config, how)
  if p then fail(p) end
  r.ok = r.problem == nil
  close(em, client, dir)
  return r
end

local function sh(cmd)
  local p = io.popen(cmd)
  local s = p:read("*a"):gsub("%s+$", "")
  p:close()
  return s
end

local rows, problems = {}, {}
local wall0 = azrp.wall()

local function write_section(partial)
  if partial and opts.out == "-" then return end
  -- The section.
  local cmd = "make check-crash"
  if opts.only or opts.every ~= 1 then
    cmd = "lua5.4 tools/reliability/crash_matrix.lua" .. (opts.only and (" --only " .. opts.only) or "")
      .. (opts.every ~= 1 and (" --every " .. opts.every) or "")
  end
  local L = {}
  L[#L + 1] = "<!-- BEGIN crash-matrix -->"
  L[#L + 1] = "## Crash matrix"
  L[#L + 1] = ""
  L[#L + 1] = "Every workflow killed with SIGKILL right after each of its journal records (the record on disk, the"
  L[#L + 1] = "request it announces not yet sent), twice from the same start: once resumed to the end, once"
  L[#L + 1] = "cleaned up (`tools/reliability/crash_matrix.lua`, the setups in `spec/support/crash_cases.lua`)."
  L[#L + 1] = "*Steps*: journal records of a whole run (each a kill point); *kills*: children that died at their"
  L[#L + 1] = "record (a run whose polls are fewer can end before its last ones); *resumed OK*: exit 0 and the"
  L[#L + 1] = "end state (every resource by kind and name through the emulator's API, SAS grants included)"
  L[#L + 1] = "identical to a whole run's, the export's image hashing like its disk restore point, the rotation's"
  L[#L + 1] = "newest good restore point of each region there throughout; *cleaned OK*: exit 0, nothing the run"
  L[#L + 1] = "made left but what its report keeps, nothing deleted that a whole run does not delete;"
  L[#L + 1] = "*duplicates*: resources beyond a whole run's after a resume; *orphans*: resources left after a"
  L[#L + 1] = "cleanup; *not its own*: resources it deleted that were not its to delete."
  L[#L + 1] = ""
  L[#L + 1] = "| workflow | steps | kills | resumed OK | cleaned OK | duplicates | orphans | not its own | wall (s) |"
  L[#L + 1] = "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  local total = { steps = 0, kills = 0, resumed = 0, cleaned = 0, duplicates = 0, orphans = 0, foreign = 0, points = 0, wall = 0 }
  for _, r in ipairs(rows) do
    L[#L + 1] = string.format("| %s | %d | %d | %d/%d | %d/%d | %d | %d | %d | %.0f |", r.case.label, r.steps, r.kills,
      r.resumed, r.points, r.cleaned, r.points, r.duplicates, r.orphans, r.foreign, r.wall)
    for k in pairs(total) do total[k] = total[k] + r[k] end
  end
  L[#L + 1] = string.format("| **all** | %d | %d | %d/%d | %d/%d | %d | %d | %d | %.0f |", total.steps, total.kills,
    total.resumed, total.points, total.cleaned, total.points, total.duplicates, total.orphans, total.foreign, total.wall)
  L[#L + 1] = ""
  if #problems > 0 then
    L[#L + 1] = "Failures (" .. #problems .. "):"
    L[#L + 1] = ""
    for i = 1, math.min(#problems, 20) do L[#L + 1] = "- " .. problems[i]:gsub("|", "\\|") end
    L[#L + 1] = ""
  end
  L[#L + 1] = string.format("Machine: %s CPUs, Linux %s; run %s UTC, %.0f s in all, Lua 5.4, emulator time scale %s.",
    sh("nproc"), sh("uname -r"), os.date("!%Y-%m-%d %H:%M"), azrp.wall() - wall0, tostring(SCALE))
  L[#L + 1] = "Reproduce: `" .. cmd .. "` (after `make build`)."
  if partial then L[#L + 1] = "(Partial: the run was still going.)" end
  L[#L + 1] = "<!-- END crash-matrix -->"
  local section = table.concat(L, "\n")

  if opts.out == "-" then
    print(section)
  else
    local f = io.open(opts.out, "rb")
    local text = f and f:read("*a") or ""
    if f then f:close() end
    local s, e = text:find("<!-- BEGIN crash-matrix -->", 1, true)
    local s2, e2 = text:find("<!-- END crash-matrix -->", 1, true)
    if s and s2 then
      text = text:sub(1, s - 1) .. section .. text:sub(e2 + 1)
    else
      text = text:gsub("\n*$", "\n\n") .. section .. "\n"
    end
    f = assert(io.open(opts.out, "wb"))
    f:write(text)
    f:close()
    log("wrote the crash-matrix section of %s", opts.out)
  end
end

for _, case in ipairs(cases.list) do
  if not opts.only or ("," .. opts.only .. ","):find("," .. case.name .. ",", 1, true) then
    local t0 = azrp.wall()
    local okref, ref = pcall(reference, case)
    close_all()
    if not okref then
      problems[#problems + 1] = case.name .. ": " .. tostring(ref)
      log("  %s", problems[#problems])
      ref = { records = 0 }
    end
    log("%s: %d journal records", case.name, ref.records)
    local row = { case = case, steps = ref.records, kills = 0, resumed = 0, cleaned = 0, duplicates = 0, orphans = 0,
      foreign = 0, points = 0 }
    for k = 1, ref.records, opts.every do
      row.points = row.points + 1
      for _, how in ipairs({ "resume", "cleanup" }) do
        local okb, r = pcall(branch, case, ref, k, how)
        close_all()
        if not okb then r = { killed = false, ok = false, duplicates = 0, orphans = 0, foreign = 0, problem = how .. " at record " .. k .. ": raised " .. tostring(r) } end
        if r.killed then row.kills = row.kills + 1 end
        if r.ok then
          if how == "resume" then row.resumed = row.resumed + 1 else row.cleaned = row.cleaned + 1 end
        else
          problems[#problems + 1] = case.name .. ": " .. r.problem
          log("  %s", problems[#problems])
        end
        row.duplicates, row.orphans, row.foreign = row.duplicates + r.duplicates, row.orphans + r.orphans, row.foreign + r.foreign
      end
      log("  %s record %d/%d: %d kills, %d resumed, %d cleaned", case.name, k, ref.records, row.kills, row.resumed, row.cleaned)
    end
    row.wall = azrp.wall() - t0
    rows[#rows + 1] = row
    write_section(true)
  end
end

write_section(false)
os.exit(#problems == 0 and 0 or 1)
