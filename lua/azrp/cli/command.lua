--- The azrp command's building blocks: groups of subcommands and actions.
--
--   command.group{ name = "rp", summary = "...", commands = { create = ENTRY, ... } }
--   command.action{ name = "rp create", summary = "...", options = SPEC, run = function(api, opts, env) }
--
-- Both return a command: { summary =, help =, run = function(argv, env) -> exit code }.
-- A group's ENTRY is a command table, a module name (required when run),
-- or { module = "name", summary = "..." }.  A group prints its help with
-- --help (exit 0) and refuses an unknown subcommand with a did-you-mean
-- (exit 2).  An action parses its options (azrp.cli.args, with the
-- globals), makes the client (azrp.cli.context) and prints run's result
-- (azrp.cli.output); run returns value | nil, err [, exit code], and
-- command.NOTHING to print nothing.  An azrp error of kind "invalid" was
-- found before anything was sent: exit 2; any other failure: exit 1.
local azrp = require "azrp"
local args = require "azrp.cli.args"
local EXIT = require "azrp.cli.exit"

local M = {}

M.NOTHING = setmetatable({}, { __tostring = function() return "nothing" end })

--- The environment of a run, with its defaults filled in.
function M.env(env)
  env = env or {}
  return { getenv = env.getenv or os.getenv, stdout = env.stdout or io.stdout, stderr = env.stderr or io.stderr }
end

local function sorted(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- The summary of a group entry, without loading a module that may be
-- missing or need another Lua.
local function entry_summary(entry)
  if type(entry) == "table" then return entry.summary or "" end
  return ""
end

local function module_of(entry)
  if type(entry) == "string" then return entry end
  if type(entry) == "table" and entry.module then return entry.module end
  return nil
end

--- group{ name, summary, description?, commands } -> command
function M.group(def)
  if type(def) ~= "table" or type(def.name) ~= "string" or type(def.commands) ~= "table" then
    error("command.group: expected { name =, commands = }", 2)
  end
  local full = "azrp" .. (def.name ~= "" and (" " .. def.name) or "")
  local names = sorted(def.commands)
  local lines = { "usage: " .. full .. " <command> [options]", "" }
  if def.summary then lines[#lines + 1] = def.summary end
  if def.description then lines[#lines + 1] = ""; lines[#lines + 1] = def.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Commands:"
  local width = 0
  for _, n in ipairs(names) do width = math.max(width, #n) end
  for _, n in ipairs(names) do
    lines[#lines + 1] = "  " .. n .. string.rep(" ", width - #n + 3) .. entry_summary(def.commands[n])
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Run '" .. full .. " <command> --help' for a command's options."
  if def.footer then lines[#lines + 1] = ""; lines[#lines + 1] = def.footer end
  local help = table.concat(lines, "\n") .. "\n"

  local cmd = { summary = def.summary, help = help, name = def.name }
  function cmd.run(argv, env)
    env = M.env(env)
    local sub = argv[1]
    if sub == "-h" or sub == "--help" or sub == "help" then
      env.stdout:write(help)
      return EXIT.ok
    end
    if sub == nil then
      env.stderr:write(help)
      return EXIT.usage
    end
    local entry = def.commands[sub]
    if entry == nil then
      local near = azrp.suggest(sub, names)
      env.stderr:write(string.format("%s: '%s' is not a command%s; run '%s --help' for the list\n", full, sub,
        near and (" (did you mean '" .. near .. "'?)") or "", full))
      return EXIT.usage
    end
    local target = entry
    local mod = module_of(entry)
    if mod then
      if def.before and def.before(sub, entry, env) == false then return EXIT.usage end
      local ok, loaded = pcall(require, mod)
      if not ok then
        local msg = tostring(loaded)
        -- Only the module itself missing means "not in this build"; a
        -- module that is there but fails to load is a bug to show.
        if msg:find("module '" .. mod .. "' not found", 1, true) then
          env.stderr:write(full, " ", sub, ": not available in this build\n")
          return EXIT.usage
        end
        env.stderr:write(full, " ", sub, ": cannot load ", mod, ": ", msg, "\n")
        return EXIT.failed
      end
      target = loaded
    end
    local rest = { (table.unpack or unpack)(argv, 2) }
    local code = target.run(rest, env)
    if type(code) ~= "number" then code = code == false and EXIT.failed or EXIT.ok end
    return code
  end
  return cmd
end

-- Which option a field of an error (err.target) comes from: the spec
-- entry whose param is the target or a prefix of it.
local function option_for(spec, target)
  if type(target) ~= "string" then return nil end
  local best
  local all = {}
  for _, e in ipairs(spec) do all[#all + 1] = e end
  for _, e in ipairs(args.GLOBALS) do all[#all + 1] = e end
  for _, e in ipairs(all) do
    local p = e.param
    if p and (target == p or target:sub(1, #p + 1) == p .. "." or target:sub(1, #p + 1) == p .. "[") then
      if not best or #p > #best.param then best = e end
    end
  end
  return best and ("--" .. best[1])
end

--- message(err [, spec]) -> one line for stderr: the error's message, the
-- option it concerns, and its code, status and request id.
function M.message(err, spec)
  if not azrp.is_error(err) then return tostring(err) end
  local msg = tostring(err.message or "failed")
  local opt = option_for(spec or {}, err.target)
  if opt then msg = opt .. ": " .. msg end
  local extra = {}
  if err.code then extra[#extra + 1] = err.code end
  if err.status then extra[#extra + 1] = "HTTP " .. err.status end
  if err.request_id then extra[#extra + 1] = "request-id " .. err.request_id end
  if #extra > 0 then msg = msg .. " (" .. table.concat(extra, ", ") .. ")" end
  return msg
end

--- action{ name, summary, description?, examples?, options, columns?, check?, run } -> command
function M.action(def)
  if type(def) ~= "table" or type(def.name) ~= "string" or type(def.run) ~= "function" then
    error("command.action: expected { name =, run = }", 2)
  end
  local full = "azrp " .. def.name
  local spec = def.options or {}
  local lines = { "usage: " .. full .. " [options]", "" }
  if def.summary then lines[#lines + 1] = def.summary end
  if def.description then lines[#lines + 1] = ""; lines[#lines + 1] = def.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = args.describe(spec, true)
  if def.examples then
    lines[#lines + 1] = "Examples:"
    for _, ex in ipairs(def.examples) do lines[#lines + 1] = "  " .. ex end
    lines[#lines + 1] = ""
  end
  lines[#lines + 1] = "Exit status: 0 success, 1 failed (Azure or the network said no), 2 usage error" ..
    " (nothing sent), 4 interrupted."
  local help = table.concat(lines, "\n") .. "\n"

  local cmd = { summary = def.summary, help = help, name = def.name, options = spec }
  function cmd.run(argv, env)
    env = M.env(env)
    local function usage(msg)
      env.stderr:write(full, ": ", msg, "\n", "(run '", full, " --help' for the options)\n")
      return EXIT.usage
    end
    local opts, pos = args.parse(argv, spec)
    if not opts then return usage(pos) end
    if opts.help then env.stdout:write(help); return EXIT.ok end
    if #pos > 0 and not def.positionals then
      return usage("unexpected argument '" .. pos[1] .. "'")
    end
    if def.check then
      local ok, msg = def.check(opts, pos)
      if not ok then return usage(msg) end
    end
    local client, info = require("azrp.cli.context").client(opts, env)
    if not client then
      env.stderr:write(full, ": ", info, "\n")
      return EXIT.usage
    end
    local api = require("azrp.cli.api").new(client, info, { verbose = opts.verbose, log = env.stderr })
    api:log("%s against %s%s, subscription %s (from %s), %s", def.name, info.endpoint,
      info.emulator and (" (emulator, time scale " .. tostring(info.time_scale) .. ")") or "",
      info.subscription, info.subscription_from, info.credential)
    -- The client is closed however run ends; a raise goes on to cli.main
    -- (SIGINT's "interrupted!", or a bug: with the traceback from here).
    local ok, value, err, code = xpcall(function() return def.run(api, opts, env, pos) end, function(e)
      if tostring(e):find("interrupted!", 1, true) then return e end
      return { traceback = debug.traceback(tostring(e), 2) }
    end)
    client:close()
    if not ok then error(value, 0) end
    if value == nil then
      env.stderr:write(full, ": ", M.message(err, spec), "\n")
      if code then return code end
      if azrp.is_error(err) and err.kind == "invalid" then return EXIT.usage end
      return EXIT.failed
    end
    if value ~= M.NOTHING then
      local columns = def.columns
      if type(columns) == "function" then columns = columns(opts) end
      require("azrp.cli.output").write(env.stdout, value, opts.output or "json", columns)
    end
    return code or EXIT.ok
  end
  return cmd
end

return M
