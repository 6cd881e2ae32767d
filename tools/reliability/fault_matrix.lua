#!/usr/bin/env lua5.4
-- The fault matrix: every workflow and every core operation family of
-- azrp, run against an emulator injecting faults into a share of the
-- requests (the rate) with a seed, one fresh emulator per cell.
--
--   lua5.4 tools/reliability/fault_matrix.lua [--seeds N] [--rates 0.05,0.2,0.5]
--     [--only drill,export,...] [--no-region-down] [--write RELIABILITY.md] [--json FILE]
--     [--jobs N]
--
-- The mix at a rate r: r of the requests get one fault, in equal shares,
-- of 429 (with Retry-After), 429bare (none), 500, 503, reset, truncate,
-- slow, failed (the long-running operation ends Failed) and expired (401
-- ExpiredAuthenticationToken).  One more cell per workflow that crosses
-- regions: its second region stops answering (region_down).
--
-- Per cell, checked (a cell that fails any is FAIL):
--   outcome   completed (exit 0), or cleaned up (the run failed and its
--             own cleanup, or `azrp cleanup` passes under the same faults,
--             left nothing); a failure must be an azrp error (kind, code)
--             whose text names an operation of the registry (Xxx_Yyy);
--   requests  what the emulator served while the faults were on (its
--             counters; admin requests not counted), and faults injected;
--   left      resources the run made and did not keep (the emulator's
--             inventory after minus before, minus what the report says it
--             kept): must be 0; and nothing that was there before deleted;
--   bytes     SHA-256 (emulator admin API) of what the workflow moved,
--             against the source's, where it moves data and completed.
-- The table goes into RELIABILITY.md between the fault-matrix markers.
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;./tools/?.lua;" .. package.path
package.cpath = (rawget(_G, "jit") and "./build/jit/?.so;" or ("./build/" .. _VERSION:match("%d%.%d") .. "/?.so;"))
  .. package.cpath

local json = require "cjson.safe"
local C = require "support.client"
local small_seed = require "support.small_seed"
local golden_seed = require "support.golden_seed"
local tmp = require "support.tmp"
local inv = require "reliability.inventory"
local targets = require "reliability.fault_targets"

local M = {}

M.SCALE = 0.002
M.KINDS = { "429", "429bare", "500", "503", "reset", "truncate", "slow", "failed", "expired" }
M.RATES = { 0.05, 0.2, 0.5 }
M.PAGE_SIZE = 3
M.CLIENT = { timeout = 5, retry = { base_delay = 0.01, max_delay = 0.1, max_attempts = 8 } }
-- Region down: the client gives up on each request after 2 s, 3 tries.
M.DOWN_CLIENT = { timeout = 2, retry = { base_delay = 0.01, max_delay = 0.1, max_attempts = 3 } }

--- mix(rate, seed) -> the emulator's fault spec: rate of the requests
-- faulted, in equal shares of M.KINDS (the rules are drawn in order, so
-- the k-th has probability share / (1 - (k - 1) * share)).
function M.mix(rate, seed)
  local share = rate / #M.KINDS
  local parts = {}
  for k, name in ipairs(M.KINDS) do
    local p = share / (1 - (k - 1) * share)
    parts[#parts + 1] = string.format("%s=%.6f", name, p)
  end
  parts[#parts + 1] = "retry_after=1"
  parts[#parts + 1] = "slow_seconds=0.3"
  parts[#parts + 1] = "seed=" .. seed
  return table.concat(parts, ",")
end

local function set_faults(em, spec)
  local st, body = C.admin(em, "POST", "/_emulator/faults", { spec = spec })
  assert(st == 200, "admin faults: " .. tostring(st) .. " " .. json.encode(body))
end

-- Requests and injected faults since the counters were reset, admin
-- requests left out.
local function served(em)
  local c = C.counters(em)
  local n = c.total or 0
  for op, k in pairs(c.operations or {}) do
    if op:match("^Admin_") then n = n - k end
  end
  local faults, f = 0, {}
  for name, k in pairs(c.faults or {}) do faults = faults + k; f[name] = k end
  return math.floor(n), math.floor(faults), f
end

local OP_NAME = "%u%w+_%u%w+"

-- Is err (a report's error, with the failed step's text) an azrp error
-- naming an operation?
local function names_operation(report)
  local e = report.error
  if type(e) ~= "table" or not e.kind then return false, "no azrp error in the report" end
  local texts = { e.message or "", e.operation or "" }
  for _, s in ipairs(report.steps or {}) do
    if s.name == report.failed_step or not s.ok then texts[#texts + 1] = tostring(s.error or "") end
  end
  for _, r in ipairs(report.resources or {}) do texts[#texts + 1] = tostring(r.error or "") end
  for _, t in ipairs(texts) do
    if t:match(OP_NAME) then return true end
  end
  return false, string.format("error names no operation: [%s] %s", tostring(e.kind), tostring(e.message))
end

--- run_cell(cell) -> result.  cell: { target = name, rate, seed, down = region? }
function M.run_cell(cell)
  local t = assert(targets[cell.target], "no target " .. tostring(cell.target))
  local wall = require("azrp").wall
  local t0 = wall()
  local phases = {}
  local function mark(name) phases[#phases + 1] = string.format("%s %.1f", name, wall() - t0); t0 = wall() end
  local seed_file = t.golden and golden_seed.file() or small_seed.file()
  local em = C.start(string.format("--time-scale %s --page-size %d --seed %s", M.SCALE, M.PAGE_SIZE, seed_file))
  local client = C.client(em, cell.down and M.DOWN_CLIENT or M.CLIENT)
  local r = { target = cell.target, rate = cell.rate, seed = cell.seed, down = cell.down, problems = {}, phases = phases }
  mark("start")
  local function problem(fmt, ...) r.problems[#r.problems + 1] = string.format(fmt, ...) end
  local ok, err = xpcall(function()
    local env = { em = em, client = client, dir = tmp.dir(), scale = M.SCALE, seed = cell.seed, down = cell.down }
    if t.setup then t.setup(env) end
    mark("setup")
    local before_list, before = inv.of(em, client)
    mark("inventory")
    r.before = #before_list
    set_faults(em, cell.down and ("region_down=" .. cell.down .. ",region_down_seconds=60") or M.mix(cell.rate, cell.seed))
    assert(C.admin(em, "POST", "/_emulator/counters/reset") == 200)
    local started = os.time()
    local out = t.run(env)
    local report = out.report
    -- A cleanup the faults stopped: `azrp cleanup` (workflow.cleanup)
    -- under the same faults, as an operator would run it, up to 3 times.
    -- (Not in a region-down cell: nothing can be cleaned there until the
    -- region answers again.)  The run's own report stays the outcome.
    local final = report
    r.passes = 0
    while final and final.exit_code == 5 and r.passes < 3 and t.cleanup and not cell.down do
      r.passes = r.passes + 1
      final = t.cleanup(env, report) or final
    end
    r.requests, r.injected, r.by_fault = served(em)
    set_faults(em, "")
    if final and final.exit_code == 5 and t.cleanup then
      -- Still not clean under faults: once more with the faults off (the
      -- outage over).  Counted, and said in the outcome.
      r.fault_free_pass = true
      final = t.cleanup(env, report) or final
    end
    r.seconds = os.time() - started
    mark("run")
    r.exit_code = report and report.exit_code
    r.final_exit_code = final and final.exit_code
    if r.exit_code == 0 then
      r.outcome = "completed"
    elseif r.exit_code == 1 or r.exit_code == 5 then
      r.outcome = "cleaned up"
      local named, why = names_operation(report)
      r.error = report.error and string.format("%s %s", tostring(report.error.kind), tostring(report.error.code))
      r.failed_step = report.failed_step
      if not named then problem("%s", why) end
      if r.final_exit_code ~= 0 and r.final_exit_code ~= 1 then
        r.outcome = "left resources"
        problem("cleanup left resources after %d passes (exit %s)", r.passes, tostring(r.final_exit_code))
      end
    else
      r.outcome = "exit " .. tostring(r.exit_code)
      problem("unexpected exit code %s: %s", tostring(r.exit_code),
        report and report.error and tostring(report.error.message) or "no report")
    end
    if cell.down and not t.family then
      local text = report and report.error and tostring(report.error.message) or "no error"
      r.names_region = text:lower():find(cell.down, 1, true) ~= nil
      if r.exit_code == 0 then problem("completed with %s down", cell.down) end
      if not r.names_region then problem("the error does not name region %s: %s", cell.down, text) end
    elseif cell.down and r.exit_code == 0 then
      problem("completed with %s down", cell.down)
    end
    local after_list, after = inv.of(em, client)
    r.after = #after_list
    local kept = t.kept and t.kept(env, report) or {}
    if report then
      for _, res in ipairs(report.resources or {}) do
        if res.state == "kept" and res.id then kept[res.id:lower()] = true end
      end
    end
    local made = inv.minus(after, before)
    local left = {}
    for _, id in ipairs(made) do
      if not kept[id] and not (t.allowed and t.allowed(id, r)) then left[#left + 1] = id end
    end
    r.left = #left
    r.left_ids = left
    mark("inventory")
    if #left > 0 then problem("%d left behind: %s", #left, table.concat(left, " ")) end
    local gone = inv.minus(before, after)
    local lost = {}
    for _, id in ipairs(gone) do
      if not (t.may_delete and t.may_delete(id, r)) then lost[#lost + 1] = id end
    end
    if #lost > 0 then problem("%d deleted that the run did not make: %s", #lost, table.concat(lost, " ")) end
    if t.bytes then
      local checked, bad = t.bytes(env, out, r)
      r.bytes_checked = checked
      if bad then problem("bytes: %s", bad) end
    end
  end, debug.traceback)
  mark("bytes")
  if not ok then problem("harness: %s", tostring(err)) end
  pcall(client.close, client)
  em.stop()
  r.ok = #r.problems == 0
  return r
end

--- cells(opts) -> the list of cells: { targets, rates, seeds, region_down }.
function M.cells(opts)
  opts = opts or {}
  local out = {}
  local names = opts.targets or targets.ORDER
  for _, name in ipairs(names) do
    for _, rate in ipairs(opts.rates or M.RATES) do
      for seed = 1, opts.seeds or 3 do
        out[#out + 1] = { target = name, rate = rate, seed = seed }
      end
    end
  end
  if opts.region_down ~= false then
    for _, name in ipairs(names) do
      local t = targets[name]
      if t.down_region then out[#out + 1] = { target = name, down = t.down_region, seed = 1 } end
    end
  end
  return out
end

local function pct(x) return string.format("%g %%", x * 100) end

--- table_md(results) -> markdown: one row per target and rate (seeds
-- together), then the region-down rows.
function M.table_md(results)
  local rows, order = {}, {}
  for _, r in ipairs(results) do
    local key = r.target .. "|" .. (r.down and ("down " .. r.down) or pct(r.rate))
    if not rows[key] then rows[key] = { target = r.target, col = r.down and ("region " .. r.down .. " down") or pct(r.rate), list = {} }; order[#order + 1] = key end
    table.insert(rows[key].list, r)
  end
  local lines = {
    "| target | faults | seeds | completed | cleaned up | FAIL | requests (min-max) | faults injected | left behind | bytes checked | notes |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  }
  for _, key in ipairs(order) do
    local g = rows[key]
    local done, cleaned, bad, left, injected, bytes = 0, 0, 0, 0, 0, 0
    local rmin, rmax = math.huge, 0
    local notes, seen = {}, {}
    for _, r in ipairs(g.list) do
      if not r.ok then bad = bad + 1
      elseif r.outcome == "completed" then done = done + 1
      else cleaned = cleaned + 1 end
      left = left + (r.left or 0)
      injected = injected + (r.injected or 0)
      bytes = bytes + (r.bytes_checked or 0)
      if r.requests then rmin = math.min(rmin, math.floor(r.requests)); rmax = math.max(rmax, math.floor(r.requests)) end
      local note
      if r.outcome ~= "completed" and r.error then
        note = r.failed_step and string.format("%s at %s", r.error, r.failed_step) or string.format("%s in cleanup", r.error)
      end
      if (r.passes or 0) > 0 then
        note = (note and note .. "; " or "") .. string.format("%d cleanup pass(es) under faults", math.floor(r.passes))
      end
      if r.fault_free_pass then note = (note and note .. "; " or "") .. "cleanup finished with faults off" end
      if r.down and r.names_region ~= nil then
        note = (note and note .. "; " or "") .. (r.names_region and "error names the region" or "error does NOT name the region")
      end
      for _, p in ipairs(r.problems) do note = (note and note .. "; " or "") .. "FAIL: " .. p:sub(1, 160) end
      if note and not seen[note] then seen[note] = true; notes[#notes + 1] = note end
    end
    lines[#lines + 1] = string.format("| %s | %s | %d | %d | %d | %d | %s | %d | %d | %d | %s |", g.target, g.col, #g.list,
      done, cleaned, bad, rmin == math.huge and "-" or (rmin == rmax and tostring(rmin) or (rmin .. "-" .. rmax)),
      math.floor(injected), math.floor(left), math.floor(bytes), (table.concat(notes, "; "):gsub("|", "/")))
  end
  return table.concat(lines, "\n")
end

local function sh(cmd)
  local p = io.popen(cmd)
  local s = p:read("*a")
  p:close()
  return (s:gsub("%s+$", ""))
end

-- What building and running the matrix found and fixed (each with a
-- regression spec).
M.FOUND = table.concat({
  "Found by the matrix, and fixed:",
  "",
  "- A list's later pages (raw GETs of its nextLinks, src/operation.c) did not renew a token that",
  "  ARM refused as expired, as every other request does once: a list that crossed a token's expiry",
  "  failed.  And that error named no operation (lua/azrp/client.lua), where the first page's did.",
  "  Found by a drill at 20 % (page 2 of a list in its preflight refused).  Regression: the first describe",
  "  of spec/client/fault_matrix_spec.lua.",
  "- A run stopped by a region that did not answer failed with a timeout naming only a URL; the",
  "  report's error also dropped the operation.  Now azrp.workflow.outage names the region the",
  "  request was about (from the config's locations and resource groups) and the report keeps",
  "  the operation.  Regression: the region-down cell of the short matrix and outage's checks.",
  "- The emulator's `expired` fault answered Entra ID's token endpoint with ARM's 401 (a token",
  "  request carries no bearer token); it now answers ARM requests only",
  "  (spec/emulator/faults_region_spec.lua).",
  "- The matrix harness first read a cleanup pass's exit 0 as the run's: the outcome is the run's",
  "  own report's.",
  "",
  "Seen, not changed: a gallery image version PUT resent after a lost answer (reset, truncate) meets",
  "409 OperationNotAllowed (the version is creating) and the golden image run fails, cleanly (golden",
  "50 %, seed 3); adopting the version the lost PUT made would let it finish.  Region-down cells are",
  "not run for golden images: a version's replication to a region is not a request to that region,",
  "and the emulator's outage stops requests only.  Operation-family cells (ops_*) are sequences of",
  "azrp.core calls, not workflows: their failures name the operation; the region is named by",
  "workflows only (azrp.workflow.outage).",
}, "\n")

--- section(results, opts) -> the RELIABILITY.md section's text.
function M.section(results, opts)
  local ok, total, seconds, cell_seconds = 0, #results, 0, 0
  for _, r in ipairs(results) do
    if r.ok then ok = ok + 1 end
    seconds = seconds + (r.seconds or 0)
    for _, p in ipairs(r.phases or {}) do cell_seconds = cell_seconds + (tonumber(p:match("([%d%.]+)$")) or 0) end
  end
  local out = {
    "<!-- BEGIN fault-matrix -->",
    "## Fault matrix (tools/reliability/fault_matrix.lua)",
    "",
    string.format("%s, %s CPUs (shared with other work), Linux %s; %d cells, %d passed, %d FAILED; %d s in the workflows' runs, %d s of cells"
      .. " in all (emulator start, setup and SHA-256 of 1 GiB disks, inventories).", opts.date or sh("date -u '+%Y-%m-%d %H:%M UTC'"),
      sh("nproc"), sh("uname -r"), total, ok, total - ok, seconds, math.floor(cell_seconds)),
    "",
    "Reproduce: `" .. (opts.command or "lua5.4 tools/reliability/fault_matrix.lua") .. "` (`make check-reliability` runs it).",
    "",
    "Each cell is a fresh emulator (`--time-scale " .. M.SCALE .. " --page-size " .. M.PAGE_SIZE .. "`, so every list",
    "has nextLinks) and one run with the faults on: a rate r of the requests gets one",
    "of " .. table.concat(M.KINDS, ", ") .. " in equal shares",
    "(`retry_after=1`, slow bodies 0.3 s), seeded; region-down cells make the run's second region stop",
    "answering (`region_down=REGION`: no answer until the client's own timeout, 2 s, 3 tries).",
    "The client: 5 s request timeout, 8 attempts, backoff 0.01-0.1 s (real seconds; emulated time is",
    "scaled).  A cell passes when the run completed, or failed with an azrp error naming an operation",
    "and cleaned up (by itself, or by up to 3 `workflow.cleanup` passes under the same faults); when",
    "nothing it did not keep is left (the emulator's inventory after minus before: every resource group's",
    "resources, restore points, gallery versions, active SAS grants) and nothing it did not make is",
    "deleted; and when the bytes it moved hash (SHA-256, emulator admin API) as their source.",
    "\"requests\" are what the emulator served with the faults on, per cell; \"faults injected\" and",
    "\"left behind\" are summed over the seeds; \"bytes checked\" counts disks or files hashed.",
    "",
    M.table_md(results),
    "",
    M.FOUND,
    "",
    "<!-- END fault-matrix -->",
  }
  return table.concat(out, "\n")
end

--- write(path, section): replaces the text between the markers (or appends).
function M.write(path, section)
  local f = io.open(path, "rb")
  local text = f and f:read("*a") or "# Reliability\n"
  if f then f:close() end
  local a = text:find("<!-- BEGIN fault-matrix -->", 1, true)
  local b = text:find("<!-- END fault-matrix -->", 1, true)
  if a and b then
    text = text:sub(1, a - 1) .. section .. text:sub(b + #"<!-- END fault-matrix -->")
  else
    text = text:gsub("\n*$", "\n\n") .. section .. "\n"
  end
  local w = assert(io.open(path, "wb"))
  w:write(text)
  w:close()
end

local function main(argv)
  local opts = { seeds = 3 }
  local write_path, json_path, jobs = nil, nil, 1
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--seeds" then opts.seeds = tonumber(argv[i + 1]); i = i + 1
    elseif a == "--rates" then
      opts.rates = {}
      for x in argv[i + 1]:gmatch("[^,]+") do opts.rates[#opts.rates + 1] = assert(tonumber(x), "--rates: " .. x) end
      i = i + 1
    elseif a == "--only" then
      opts.targets = {}
      for x in argv[i + 1]:gmatch("[^,]+") do
        assert(targets[x], "--only: no target " .. x .. " (known: " .. table.concat(targets.ORDER, ", ") .. ")")
        opts.targets[#opts.targets + 1] = x
      end
      i = i + 1
    elseif a == "--no-region-down" then opts.region_down = false
    elseif a == "--write" then write_path = argv[i + 1]; i = i + 1
    elseif a == "--json" then json_path = argv[i + 1]; i = i + 1
    elseif a == "--jobs" then jobs = tonumber(argv[i + 1]); i = i + 1
    elseif a == "--from-json" then
      -- The section again from a run's saved results (--json), with that
      -- run's command.
      local f = assert(io.open(argv[i + 1], "rb"))
      local saved = assert(json.decode(f:read("*a")))
      f:close()
      M.write(argv[i + 2] or "RELIABILITY.md", M.section(saved.results or saved, { command = saved.command, date = saved.date }))
      return 0
    elseif a == "--cell" then
      -- One cell, its result as JSON on stdout (what --jobs runs).
      local cell = assert(json.decode(argv[i + 1]))
      io.stdout:write("RESULT ", json.encode(M.run_cell(cell)), "\n")
      return 0
    else
      io.stderr:write("fault_matrix: unknown argument ", a, "\n")
      return 2
    end
    i = i + 1
  end
  local cells = M.cells(opts)
  io.stderr:write(string.format("fault matrix: %d cells, %d at a time\n", #cells, jobs))
  local results = M.run_all(cells, jobs, function(r)
    io.stderr:write(string.format("  %-14s %-22s seed %d: %-12s requests %4s faults %3s left %s bytes %s%s\n", r.target,
      r.down and ("down " .. r.down) or pct(r.rate), r.seed, tostring(r.outcome), tostring(r.requests), tostring(r.injected),
      tostring(r.left), tostring(r.bytes_checked or "-"), r.ok and "" or ("  FAIL: " .. table.concat(r.problems, "; "))))
  end)
  local cmd = "lua5.4 tools/reliability/fault_matrix.lua"
  for _, a in ipairs(argv) do cmd = cmd .. " " .. a end
  local date = sh("date -u '+%Y-%m-%d %H:%M UTC'")
  if json_path then
    local f = assert(io.open(json_path, "wb"))
    f:write(json.encode({ results = results, command = cmd, date = date }))
    f:close()
  end
  if write_path then M.write(write_path, M.section(results, { command = cmd, date = date })) end
  local bad = 0
  for _, r in ipairs(results) do if not r.ok then bad = bad + 1 end end
  io.stderr:write(string.format("fault matrix: %d cells, %d failed\n", #results, bad))
  return bad == 0 and 0 or 1
end

--- run_all(cells, jobs, on_result) -> results in cell order; jobs > 1
-- runs cells in child processes, that many at a time.
function M.run_all(cells, jobs, on_result)
  local results = {}
  if (jobs or 1) <= 1 then
    for i, cell in ipairs(cells) do
      results[i] = M.run_cell(cell)
      if on_result then on_result(results[i]) end
    end
    return results
  end
  local q = require("support.shell").q
  local lua = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d%.%d"))
  local dir = tmp.dir()
  local next_cell, running = 1, {}
  local function start(i)
    local out = dir .. "/" .. i .. ".out"
    local pid = sh(string.format("env -u LD_PRELOAD %s tools/reliability/fault_matrix.lua --cell %s >%s 2>&1 & echo $!",
      lua, q(json.encode(cells[i])), out))
    running[#running + 1] = { i = i, pid = pid, out = out }
  end
  while next_cell <= #cells or #running > 0 do
    while #running < jobs and next_cell <= #cells do start(next_cell); next_cell = next_cell + 1 end
    os.execute("sleep 0.5")
    for k = #running, 1, -1 do
      local job = running[k]
      if sh("kill -0 " .. job.pid .. " 2>/dev/null && echo alive") ~= "alive" then
        table.remove(running, k)
        local f = io.open(job.out, "rb")
        local text = f and f:read("*a") or ""
        if f then f:close() end
        local r = json.decode(text:match("RESULT ([^\n]+)") or "")
        if not r then
          r = { target = cells[job.i].target, rate = cells[job.i].rate, seed = cells[job.i].seed, down = cells[job.i].down,
            ok = false, problems = { "the cell's process ended without a result: " .. text:sub(-400) } }
        end
        r.problems = r.problems or {}
        results[job.i] = r
        if on_result then on_result(r) end
      end
    end
  end
  tmp.remove(dir)
  return results
end

if arg and arg[0] and arg[0]:match("fault_matrix%.lua$") and not package.loaded["reliability.fault_matrix"] then
  os.exit(main(arg))
end

return M
