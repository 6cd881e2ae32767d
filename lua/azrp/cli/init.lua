--- The azrp command: cli.main(argv [, env]) -> exit code.
--
-- Subcommands are modules returning { summary =, help =, run = function(argv, env) -> code };
-- they are loaded only when run, so that one missing (or needing another
-- Lua) does not stop the others.  env = { getenv, stdout, stderr }
-- (defaults: os.getenv, io.stdout, io.stderr).
local command = require "azrp.cli.command"
local EXIT = require "azrp.cli.exit"

local M = {}

M.EXIT = EXIT

M.FOOTER = [[
Credentials: azrp.credentials.default() (AZURE_* variables, workload identity, managed identity,
the Azure CLI's login); --emulator READY_FILE (or AZRP_EMULATOR) uses a running azrp emulator.
Subscription: --subscription, AZURE_SUBSCRIPTION_ID, the emulator's, or the Azure CLI's default.

Exit status: 0 success, 1 failed, 2 usage or config error (nothing changed), 3 a check failed,
4 interrupted (resumable), 5 cleanup incomplete.]]

local function needs_53(name, env)
  -- The emulator is built on integers and on lua-http, cqueues and
  -- luaossl: Lua 5.3 or 5.4 only (math.type came with 5.3).
  if math.type then return true end
  env.stderr:write("azrp ", name, ": needs Lua 5.3 or 5.4, this is ", jit and jit.version or _VERSION,
    " (run lua5.4 bin/azrp ", name, " from a checkout, or install the rock with luarocks --lua-version 5.4)\n")
  return false
end

M.commands = {
  emulator = { module = "azrp.emulator.main", needs_53 = true,
    summary = "run the local emulator of the Azure endpoints (Lua 5.3+)" },
  smoke = { module = "azrp.emulator.smoke", needs_53 = true,
    summary = "the emulator's own smoke scenario over raw HTTPS (Lua 5.3+)" },
  collection = { module = "azrp.cli.collection", summary = "restore point collections: create, show, list, list-all, update, delete" },
  rp = { module = "azrp.cli.rp", summary = "restore points: create (or copy), show, list, delete, wait" },
  ["disk-rp"] = { module = "azrp.cli.disk_rp", summary = "disk restore points: list, show, grant (SAS), revoke" },
  drill = { module = "azrp.cli.drill", summary = "run a DR drill of a VM (resumable, with a report)" },
  export = { module = "azrp.cli.export", summary = "read a disk restore point out to a local image (resumable)" },
  rotate = { module = "azrp.cli.rotate", summary = "rotate restore points across regions with GFS retention (resumable)" },
  restore = { module = "azrp.cli.restore", summary = "restore a VM from a restore point, as a new VM or in place" },
  ["golden-image"] = { module = "azrp.cli.golden_image", summary = "make a golden image (managed image or gallery version) of a VM" },
  resume = { module = "azrp.cli.resume", summary = "continue an interrupted run from its journal" },
  cleanup = { module = "azrp.cli.cleanup", summary = "delete what a run created" },
  runs = { module = "azrp.cli.runs", summary = "list runs and their state" },
}

M.top = command.group{
  name = "",
  summary = "azrp: Azure VM restore points from the command line.",
  commands = M.commands,
  footer = M.FOOTER,
  before = function(name, entry, env)
    if entry.needs_53 then return needs_53(name, env) end
    return true
  end,
}

-- The emulator's modules take (argv) and return a code; ours take
-- (argv, env) too.
local function dispatch(argv, env)
  return M.top.run(argv, env)
end

--- main(argv [, env]) -> exit code.  SIGINT (Lua's "interrupted!") gives
-- EXIT.interrupted; any other error raised is a bug, shown with its
-- traceback, and gives EXIT.failed.
function M.main(argv, env)
  env = command.env(env)
  argv = argv or {}
  local list = {}
  for i = 1, #argv do list[i] = argv[i] end
  local ok, code = xpcall(function() return dispatch(list, env) end, function(e)
    if type(e) == "table" and e.traceback then return e.traceback end
    if tostring(e):find("interrupted!", 1, true) then return { interrupted = true } end
    return debug.traceback(tostring(e), 2)
  end)
  if ok then return type(code) == "number" and code or EXIT.ok end
  if type(code) == "table" and code.interrupted then
    env.stderr:write("azrp: interrupted\n")
    return EXIT.interrupted
  end
  env.stderr:write("azrp: internal error: ", tostring(code), "\n")
  return EXIT.failed
end

return M
