--- azrp runs: the runs in the state folder, newest first, with their
-- state.  Reads the journals only: no credential, no request.
local args = require "azrp.cli.args"
local EXIT = require "azrp.cli.exit"
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local output = require "azrp.cli.output"
local workflow = require "azrp.workflow"

local SPEC = { common.OPTIONS[1] }
local HELP = "usage: azrp runs [--state-dir DIR] [-o json|table|tsv]\n\n"
  .. "The runs in the state folder, newest first: id, workflow, state, when, exit code, target.\n\n"
  .. args.describe(SPEC, true)

return {
  summary = "list runs and their state",
  help = HELP,
  run = function(argv, env)
    env = command.env(env)
    local opts, pos = args.parse(argv, SPEC)
    if not opts then env.stderr:write("azrp runs: ", pos, "\n"); return EXIT.usage end
    if opts.help then env.stdout:write(HELP); return EXIT.ok end
    local dir, err = common.state_dir(opts, env)
    if not dir then env.stderr:write("azrp runs: ", tostring(err.message or err), "\n"); return EXIT.usage end
    local list = workflow.runs(dir)
    local rows = {}
    for _, m in ipairs(list) do
      rows[#rows + 1] = { run_id = m.run_id, workflow = m.workflow, state = m.state .. (m.left and " (left resources)" or ""),
        created = m.created_at and os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(m.created_at)) or nil,
        exit_code = m.exit_code, target = m.target and (m.target.vm_id or m.target.name) or nil }
    end
    output.write(env.stdout, output.list(rows), opts.output or "json", { { "Run", "run_id" }, { "Workflow", "workflow" }, { "State", "state" }, { "Created", "created" }, { "Exit", "exit_code" }, { "Target", "target" } })
    return EXIT.ok
  end,
}
