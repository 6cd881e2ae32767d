--- What the workflow commands (drill, resume, cleanup) share: the state
-- folder, the options every one of them takes, and the report they print.
local journal = require "azrp.workflow.journal"

local M = {}

local function invalid(field, msg)
  local azrp = require "azrp"
  return azrp.error{ kind = "invalid", code = "InvalidConfig", target = field, message = msg }
end

-- A Lua config file: a chunk returning a table, run with no globals (a
-- config is data; it cannot call os.execute).
local function lua_config(path)
  local f, err
  if setfenv then
    f, err = loadfile(path)
    if f then setfenv(f, {}) end
  else
    f, err = loadfile(path, "t", {})
  end
  if not f then return nil, invalid("CONFIG", tostring(err)) end
  local ok, v = pcall(f)
  if not ok then return nil, invalid("CONFIG", path .. ": " .. tostring(v)) end
  if type(v) ~= "table" then return nil, invalid("CONFIG", path .. " must return a table, not " .. type(v)) end
  return v
end

--- load_config(path) -> a copy of the settings in path (a Lua file
-- returning a table, or a JSON object), {} without a path | nil, err.
function M.load_config(path)
  local cfg = {}
  if path and path:match("%.lua$") then
    local v, err = lua_config(path)
    if not v then return nil, err end
    for k, x in pairs(v) do cfg[k] = x end
  elseif path then
    local f, err = io.open(path, "rb")
    if not f then return nil, invalid("CONFIG", "cannot read " .. path .. ": " .. tostring(err)) end
    local text = f:read("*a")
    f:close()
    local v, jerr = require("cjson.safe").decode(text)
    if type(v) ~= "table" then return nil, invalid("CONFIG", path .. " is not a JSON object: " .. tostring(jerr)) end
    for k, x in pairs(v) do cfg[k] = x end
  end
  return cfg
end

M.OPTIONS = {
  { "state-dir", metavar = "DIR", help = "where runs are journalled (default $XDG_STATE_HOME/azrp or ~/.local/state/azrp)" },
  { "json", flag = true, help = "print every progress event as a JSON line on stdout" },
  { "report", metavar = "DIR", help = "also write report.json, report.md and timeline.svg there" },
}

--- options(extra) -> extra's entries followed by M.OPTIONS
function M.options(extra)
  local out = {}
  for _, e in ipairs(extra or {}) do out[#out + 1] = e end
  for _, e in ipairs(M.OPTIONS) do out[#out + 1] = e end
  return out
end

--- state_dir(opts, env) -> dir | nil, err
function M.state_dir(opts, env)
  return journal.state_dir(opts.state_dir, env.getenv)
end

--- The run's options for azrp.workflow from the command's.
function M.run_opts(opts, env, info, progress)
  local dir, err = M.state_dir(opts, env)
  if not dir then return nil, err end
  return { state_dir = dir, time_scale = info and info.time_scale or 1, report_dir = opts.report,
    progress = progress }
end

--- What the command prints at the end: the report, without its steps'
-- substeps in table form.
M.COLUMNS = { { "Kind", "kind" }, { "Name", "name" }, { "State", "state" }, { "Step", "step" } }
-- The columns of a --plan's rows.
M.PLAN_COLUMNS = { { "Step", "step" }, { "Kind", "kind" }, { "Name", "name" }, { "Change", "change" } }

--- columns(opts) -> a workflow command's columns: its plan's with --plan.
function M.columns(opts) return opts.plan and M.PLAN_COLUMNS or M.COLUMNS end

--- runner(def, config [, rows]) -> the run function of a workflow command:
-- config(opts, positionals) -> cfg | nil, err makes its config, then
-- --plan prints def.plan's rows and anything else starts a run (rows: as
-- for start).
function M.runner(def, config, rows)
  return function(api, opts, env, pos)
    local cfg, err = config(opts, pos)
    if not cfg then return nil, err end
    if opts.plan then return def.plan(api.client, cfg) end
    return M.start(def, api, cfg, opts, env, rows)
  end
end

--- result(report, opts [, rows]) -> what a command prints of a report:
-- with -o table or tsv, the list rows(report) (default the report's
-- resources); else the report.
function M.result(report, opts, rows)
  if opts.output == "table" or opts.output == "tsv" then
    return require("azrp.cli.output").list(rows and rows(report) or report.resources)
  end
  return report
end

--- settings(opts, pos, map) -> the config: CONFIG (pos[1]) if given, then
-- each option of map ({ option = "setting" }) that was given over it.
function M.settings(opts, pos, map)
  local cfg, err = M.load_config(pos[1])
  if not cfg then return nil, err end
  for opt, key in pairs(map) do
    if opts[opt] ~= nil then cfg[key] = opts[opt] end
  end
  return cfg
end

--- start(def, api, cfg, opts, env [, rows]) -> what a workflow command
-- returns: the run of def, its progress on stderr, its report (or, with
-- --json, nothing more than the event lines; with -o table or tsv, the
-- list rows(report), default its resources) and its exit code.
function M.start(def, api, cfg, opts, env, rows)
  local command = require "azrp.cli.command"
  local ropts, err = M.run_opts(opts, env, api.info, require("azrp.cli.progress").printer(env, opts))
  if not ropts then return nil, err end
  local report
  report, err = require("azrp.workflow").start(def, api.client, cfg, ropts)
  if not report then return nil, err end
  if opts.json then return command.NOTHING, nil, report.exit_code end
  return M.result(report, opts, rows), nil, report.exit_code
end

--- on_run(name, summary, extra_options, fn) -> the command of a verb on
-- one journalled run (resume, cleanup): fn(client, run_id, run_opts, opts)
-- -> report | nil, err.  A journal that is not there or not a run's is a
-- usage error (exit 2); one in use by another process is a failure.
function M.on_run(name, summary, extra, fn)
  local azrp = require "azrp"
  local command = require "azrp.cli.command"
  local progress = require "azrp.cli.progress"
  return command.action{
    name = name,
    summary = summary,
    positionals = true,
    options = M.options(extra),
    columns = M.COLUMNS,
    check = function(_, pos)
      if #pos ~= 1 then return nil, "expected one RUN id (see 'azrp runs')" end
      return true
    end,
    run = function(api, opts, env, pos)
      local ropts, err = M.run_opts(opts, env, api.info, progress.printer(env, opts))
      if not ropts then return nil, err end
      local report
      report, err = fn(api.client, pos[1], ropts, opts)
      if not report then
        if azrp.is_error(err) and err.kind == "journal" and err.code ~= "RunInProgress" then err.kind = "invalid" end
        return nil, err
      end
      if opts.json then return command.NOTHING, nil, report.exit_code end
      return M.result(report, opts), nil, report.exit_code
    end,
  }
end

return M
