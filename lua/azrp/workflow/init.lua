--- azrp.workflow: runs a workflow's steps with a journal, so that a run can
-- be resumed or cleaned up after a crash, and stops cleanly on a signal.
--
--     local workflow = require "azrp.workflow"
--     local drill = require "azrp.workflows.dr_drill"
--     local report = workflow.start(drill, client, config, { progress = print_event })
--     workflow.resume(client, run_id)    -- after a crash: continues from the journal
--     workflow.cleanup(client, run_id)   -- deletes what the run created
--     workflow.runs()                    -- every run in the state folder
--
-- A workflow is a table: { name = "dr_drill", id_prefix = "drill",
--   check = function(config) -> config | nil, err (before any request),
--   base_name = function(config) -> the stem of resource names (a VM name),
--   target = function(config) -> what the report names as the target,
--   steps = { { name = "...", run = function(ctx) -> true | nil, err }, ... },
--   steps_for = function(config) -> steps (optional: steps that depend on
--     the config, in place of steps),
--   finish = function(ctx, outcome) (optional: adjust what cleanup keeps),
--   rollback = function(ctx) -> true | nil, err (optional: undo what the
--     run changed in place, run as the step "rollback" before cleanup
--     when the run did not succeed, and by cleanup() of such a run),
--   discard = function(ctx) (optional: what cleanup() of a run that did not
--     succeed removes besides its resources, e.g. a partial file),
--   on_interrupt = "cleanup" | "keep" }.
-- Steps see ctx (azrp.workflow.run).  Exit codes: 0 succeeded, 1 a step
-- failed, 2 the config was refused (by check, or by a step's preflight:
-- an error of kind "invalid"), 3 a check failed, 4 interrupted, 5 something left
-- behind (run `azrp cleanup RUN`).
local azrp = require "azrp"
local journal = require "azrp.workflow.journal"
local runmod = require "azrp.workflow.run"
local outage = require "azrp.workflow.outage"

local M = {}

M.EXIT = { ok = 0, failed = 1, usage = 2, check = 3, interrupted = 4, cleanup = 5 }
local FINAL = { succeeded = true, failed = true, interrupted = true, cleaned = true }
M.FINAL = FINAL

local round = runmod.round

local function check_def(def, level)
  if type(def) ~= "table" or type(def.name) ~= "string" or type(def.steps) ~= "table" then
    error("azrp.workflow: expected a workflow definition { name, steps, ... }", level + 1)
  end
end

-- The steps of a run: the definition's, or those its config asks for.
local function steps_of(def, config)
  if def.steps_for then return def.steps_for(config) end
  return def.steps
end
--- steps_of(def, config) -> the steps of a run: def.steps_for(config) when the definition has it, else def.steps.
M.steps_of = steps_of

-- The report of a run (the shape azrp.report renders).
local function report_of(run, extra)
  local steps = {}
  local list = {}
  for _, def in ipairs(steps_of(run.def, run.config)) do list[#list + 1] = def end
  if run.def.rollback then list[#list + 1] = { name = "rollback" } end
  for _, def in ipairs(list) do
    local s = run.steps[def.name]
    if s then
      local state = s.state == "start" and "interrupted" or s.state
      steps[#steps + 1] = { name = s.name, started = s.started, ended = s.ended, seconds = s.seconds,
        ok = state == "done", state = state, error = s.error, substeps = s.substeps }
    end
  end
  local c = run.steps.cleanup
  if c then
    steps[#steps + 1] = { name = "cleanup", started = c.started, ended = c.ended, seconds = c.seconds,
      ok = c.state == "done", state = c.state == "start" and "interrupted" or c.state, error = c.error,
      substeps = c.substeps }
  end
  local figures, details = {}, {}
  for k, v in pairs(run.data) do
    local name = type(k) == "string" and k:match("^figure%.(.+)$")
    if name then figures[name] = v end
    name = type(k) == "string" and k:match("^report%.(.+)$")
    if name then details[name] = v end
  end
  local meta = run.journal.meta
  local ended = azrp.wall()
  local r = { workflow = run.def.name, run_id = run.run_id, state = run.state, started_at = meta.created_at,
    ended_at = ended, seconds = round(ended - (meta.created_at or ended)), time_scale = run.time_scale,
    figures = figures, details = next(details) and details or nil, steps = steps, resources = run:resource_list(), target = meta.target,
    journal = run.journal.dir }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local function error_table(err)
  if err == nil then return nil end
  if type(err) == "table" then
    return { kind = err.kind, code = err.code, message = err.message or tostring(err), status = err.status,
      target = err.target, operation = err.operation, region = err.region }
  end
  return { kind = "error", message = tostring(err) }
end

-- Writes the report into the run's folder (and opts.report_dir).
local function write_report(run, r, opts)
  local ok, report = pcall(require, "azrp.report")
  if not ok then return end
  for _, dir in ipairs({ run.journal.dir, opts.report_dir }) do
    if dir then
      local paths, err = report.write(dir, r)
      if not paths then r.report_error = tostring(err) end
      if dir == opts.report_dir then r.report_files = paths end
    end
  end
end

-- Runs one step, timed; a raised error is kept to raise again after cleanup.
local function run_step(run, step)
  run.current = step.name
  run:record{ type = "step", name = step.name, state = "start" }
  run:emit{ type = "step", name = step.name, state = "start" }
  local t0 = azrp.now()
  local okcall, ok, err = pcall(step.run, run)
  if not okcall then
    if type(ok) == "table" and ok.journal_error then error(ok, 0) end
    run.raised = run.raised or ok
    ok, err = nil, runmod.error("Raised", "%s", tostring(ok))
  end
  if ok and run.hook_error then ok, err = nil, runmod.error("ProgressHook", "%s", tostring(run.hook_error)) end
  local state = ok and "done" or (type(err) == "table" and err.kind == "interrupted" and "interrupted" or "failed")
  local seconds = round(azrp.now() - t0)
  run:record{ type = "step", name = step.name, state = state, seconds = seconds, error = err and tostring(err) or nil }
  run:emit{ type = "step", name = step.name, state = state, seconds = seconds, error = err and tostring(err) or nil }
  run.current = nil
  return ok, err
end

-- The cleanup step; a signal during it stops it (run `azrp cleanup`).
local function run_cleanup(run)
  return run_step(run, { name = "cleanup", run = function(ctx) return ctx:cleanup() end })
end

-- The rollback step: a fresh record each time it runs (a cleanup after a
-- failed rollback runs it again).
local function run_rollback(run)
  return run_step(run, { name = "rollback", run = function(ctx) return ctx.def.rollback(ctx) end })
end

-- Drives a run from wherever its journal left it to the end.
local function drive(run, opts)
  if opts.trap ~= false then azrp.host.trap("INT", "TERM") end
  run.journal.meta.pid = azrp.host.pid()
  run.journal.meta.state = "running"
  run.journal:save_meta()
  local err, failed_step
  for _, step in ipairs(steps_of(run.def, run.config)) do
    local s = run.steps[step.name]
    if not (s and s.state == "done") then
      local ok, e = run_step(run, step)
      if not ok then err, failed_step = e, step.name; break end
    end
  end
  -- No answer at all (a region out): say which region.
  err = outage.explain(run.config, err)
  local interrupted = type(err) == "table" and err.kind == "interrupted"
  local outcome = err and (interrupted and "interrupted" or "failed") or "succeeded"
  if run.def.finish then run.def.finish(run, outcome) end
  local cleanup_err
  if not (interrupted and run.def.on_interrupt == "keep") then
    -- Forget the signal so that rollback's and cleanup's own waits go on;
    -- a second one stops them.
    azrp.host.signal(true)
    if outcome ~= "succeeded" and run.def.rollback then
      local ok, e = run_rollback(run)
      if not ok then cleanup_err = e end
    end
    if not cleanup_err then
      local ok, e = run_cleanup(run)
      if not ok then cleanup_err = e end
    end
  end
  local left = false
  for _, r in ipairs(run:resource_list()) do
    if r.state == "left" or r.state == "unverified" then left = true end
  end
  local code
  if left or cleanup_err then code = M.EXIT.cleanup
  elseif interrupted then code = M.EXIT.interrupted
  elseif err then
    local kind = type(err) == "table" and err.kind
    code = kind == "check" and M.EXIT.check or kind == "invalid" and M.EXIT.usage or M.EXIT.failed
  else code = M.EXIT.ok end
  run.state = outcome
  run:record{ type = "state", state = outcome, error = err and tostring(err) or nil }
  run.journal.meta.state = outcome
  run.journal.meta.left = left or nil
  run.journal.meta.exit_code = code
  run.journal.meta.ended_at = azrp.wall()
  run.journal:save_meta()
  local r = report_of(run, { ok = code == 0, exit_code = code, error = error_table(err or cleanup_err),
    failed_step = failed_step })
  write_report(run, r, opts)
  run:emit{ type = "run", state = outcome, exit_code = code, report = r }
  if opts.trap ~= false then azrp.host.signal(true) end
  run.journal:close()
  if run.raised then error(run.raised, 0) end
  return r
end

--- start(def, client, config [, opts]) -> report | nil, err.  opts:
-- state_dir, time_scale (the emulator's: 1 on Azure), progress =
-- function(event), report_dir, trap (default true: SIGINT/SIGTERM stop
-- the run cleanly).  err (nothing started) when config is refused.
function M.start(def, client, config, opts)
  check_def(def, 2)
  opts = opts or {}
  local cfg, cerr = config, nil
  if def.check then cfg, cerr = def.check(config) end
  if not cfg then return nil, cerr end
  local dir, derr = journal.state_dir(opts.state_dir)
  if not dir then return nil, derr end
  local run_id = journal.new_id(def.id_prefix or def.name)
  local stem = def.base_name and def.base_name(cfg) or def.id_prefix or def.name
  local base = stem:sub(1, 30):gsub("[^%w%-]", "-") .. "-" .. run_id:match("%-(%d+T%d+%-%x+)$")
  local j, jerr = journal.create(dir, run_id, { workflow = def.name, config = cfg, base = base,
    time_scale = opts.time_scale or 1, created_at = azrp.wall(), state = "running",
    target = def.target and def.target(cfg) or nil })
  if not j then return nil, jerr end
  local run = runmod.new(def, client, j, opts)
  run:emit{ type = "run", state = "started", dir = j.dir }
  return drive(run, opts)
end

-- The workflow module a journal names.
local function definition(meta)
  local name = type(meta.workflow) == "string" and meta.workflow:match("^[%w_]+$")
  local ok, def = pcall(require, "azrp.workflows." .. tostring(name))
  if not (name and ok and type(def) == "table") then
    return nil, runmod.error("UnknownWorkflow", "the run's workflow %s is not known to this azrp", tostring(meta.workflow))
  end
  return def
end

local function open_run(client, run_id, opts)
  local dir, derr = journal.state_dir(opts.state_dir)
  if not dir then return nil, derr end
  local j, err = journal.open(dir, run_id)
  if not j then return nil, err end
  local def
  def, err = definition(j.meta)
  if not def then j:close(); return nil, err end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  return runmod.new(def, client, j, o)
end

--- resume(client, run_id [, opts]) -> report | nil, err: continues a run
-- from its journal.  A run that already ended is not run again: its
-- cleanup is retried when it left something, else its report returned.
function M.resume(client, run_id, opts)
  opts = opts or {}
  local run, err = open_run(client, run_id, opts)
  if not run then return nil, err end
  if run.journal.dropped then run:emit{ type = "note", message = "the journal's last record was cut short and dropped" } end
  if FINAL[run.state] and run.journal.meta.exit_code == nil then
    -- Killed after its last record and before meta.json said how it
    -- ended: say it now, from the journal.
    local left = false
    for _, r in ipairs(run:resource_list()) do
      if r.state == "left" or r.state == "unverified" then left = true end
    end
    local code = left and M.EXIT.cleanup or run.state == "failed" and M.EXIT.failed
      or run.state == "interrupted" and M.EXIT.interrupted or M.EXIT.ok
    local meta = run.journal.meta
    meta.state, meta.left, meta.exit_code, meta.ended_at = run.state, left or nil, code, meta.ended_at or azrp.wall()
    run.journal:save_meta()
    write_report(run, report_of(run, { ok = code == 0, exit_code = code, error = error_table(run.error) }), opts)
  end
  if FINAL[run.state] and not run.journal.meta.left then
    local r = report_of(run, { ok = run.journal.meta.exit_code == 0, exit_code = run.journal.meta.exit_code,
      note = "the run had already ended" })
    run.journal:close()
    return r
  end
  run:emit{ type = "run", state = "resumed", dir = run.journal.dir }
  return drive(run, opts)
end

--- cleanup(client, run_id [, opts]) -> report | nil, err: deletes what the
-- run created and does not keep (the run is not continued).
function M.cleanup(client, run_id, opts)
  opts = opts or {}
  local run, err = open_run(client, run_id, opts)
  if not run then return nil, err end
  if opts.trap ~= false then azrp.host.trap("INT", "TERM") end
  if opts.all then
    -- Cleanup of everything, kept resources included (but never a
    -- collection: other runs' restore points live in it).
    for _, r in ipairs(run.order) do
      if r.kind ~= "collection" and r.keep then run:record{ type = "keep", key = r.key, keep = false } end
    end
  end
  run:emit{ type = "run", state = "cleanup", dir = run.journal.dir }
  local ok, cerr = true, nil
  if run.state ~= "succeeded" then
    -- A run that did not succeed (killed, failed): what its own end would
    -- have done first.
    if run.def.finish then run.def.finish(run, run.state == "running" and "interrupted" or run.state) end
    if run.def.rollback then ok, cerr = run_rollback(run) end
    -- What a resume would have needed (an export's part file) goes too.
    if ok and run.def.discard then run.def.discard(run) end
  end
  if ok then ok, cerr = run_cleanup(run) end
  local left = false
  for _, r in ipairs(run:resource_list()) do
    if r.state == "left" or r.state == "unverified" then left = true end
  end
  local state = FINAL[run.state] and run.state or "interrupted"
  if ok and not left then state = "cleaned" end
  local code = (left or not ok) and M.EXIT.cleanup or M.EXIT.ok
  run:record{ type = "state", state = state }
  run.state = state
  run.journal.meta.state, run.journal.meta.left, run.journal.meta.exit_code = state, left or nil, code
  run.journal:save_meta()
  local r = report_of(run, { ok = code == 0, exit_code = code, error = error_table(cerr) })
  write_report(run, r, opts)
  if opts.trap ~= false then azrp.host.signal(true) end
  run.journal:close()
  return r
end

--- config_error(field, fmt, ...) -> the error a workflow's check returns
-- for a bad setting: kind "invalid" (exit 2), naming the field.
function M.config_error(field, fmt, ...)
  return azrp.error{ kind = "invalid", code = "InvalidConfig", target = field,
    message = field .. ": " .. string.format(fmt, ...), retryable = false }
end

--- steps(names, fns) -> a definition's steps: { name = n, run = fns[n] }
-- for each name of names, in that order (fns must have each).
function M.steps(names, fns)
  local out = {}
  for i, name in ipairs(names) do
    if type(fns[name]) ~= "function" then error("azrp.workflow.steps: no function for the step " .. tostring(name), 2) end
    out[i] = { name = name, run = fns[name] }
  end
  return out
end

--- step_names(steps) -> the names of steps, then "cleanup" (the steps of
-- a report of a run that cleaned up after itself).
function M.step_names(steps)
  local out = {}
  for i, s in ipairs(steps) do out[i] = s.name end
  out[#out + 1] = "cleanup"
  return out
end

--- parse_vm_id(id) -> subscription, resource group, name of a VM's ARM
-- id (nil if id is not one; the resource group's key in either case).
function M.parse_vm_id(id)
  return id:match("^/subscriptions/([^/]+)/resource[Gg]roups/([^/]+)/providers/Microsoft%.Compute/virtualMachines/([^/]+)$")
end

--- vm_base_name(config) -> the name of the VM config.vm_id: the stem of
-- the resource names of a workflow run on one VM (a definition's base_name).
function M.vm_base_name(config)
  local _, _, name = M.parse_vm_id(config.vm_id)
  return name
end

--- check_settings(config, known) -> true | nil, err: config is a table
-- whose every key is in known ({ name = "string" | "number" | ... }) with
-- that type; an unknown key is named with its nearest known one.
function M.check_settings(config, known)
  if type(config) ~= "table" then return nil, M.config_error("config", "expected a table") end
  for k, v in pairs(config) do
    local want = known[k]
    if not want then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      local hint = azrp.suggest(k, names)
      return nil, M.config_error(tostring(k), "unknown setting%s", hint and (" (did you mean " .. hint .. "?)") or "")
    end
    if type(v) ~= want then return nil, M.config_error(k, "must be a %s, not %s", want, type(v)) end
  end
  return true
end

--- run(def, client, config [, opts]) -> report | nil, err, report: a whole
-- run in this process (opts as start); err when the config is refused or
-- the run did not succeed (then with its report).
function M.run(def, client, config, opts)
  local report, err = M.start(def, client, config, opts)
  if not report then return nil, err end
  if not report.ok then
    local e = report.error or {}
    return nil, azrp.error{ kind = e.kind or def.error_kind or def.name, code = e.code, status = e.status,
      target = e.target, message = e.message }, report
  end
  return report
end

--- replication(restore_point) -> the lowest completionPercent of its disk
-- restore points, or nil when it reports none.
M.replication = runmod.replication

--- runs([state_dir]) -> { { run_id, workflow, state, created_at, ... } }, newest first.
function M.runs(state_dir)
  local dir, err = journal.state_dir(state_dir)
  if not dir then return nil, err end
  return journal.list(dir)
end

return M
