--- azrp cleanup RUN: deletes what a run created (never what it did not:
-- each resource is checked against the journal and its azrp-run tag).
local azrp = require "azrp"
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local progress = require "azrp.cli.progress"
local workflow = require "azrp.workflow"

return command.action{
  name = "cleanup",
  summary = "delete what a run created",
  positionals = true,
  options = common.options{
    { "all", flag = true, help = "also what its policy keeps (a drill's source restore point), never a collection" },
  },
  columns = common.COLUMNS,
  check = function(_, pos)
    if #pos ~= 1 then return nil, "expected one RUN id (see 'azrp runs')" end
    return true
  end,
  run = function(api, opts, env, pos)
    local ropts, err = common.run_opts(opts, env, api.info, progress.printer(env, opts))
    if not ropts then return nil, err end
    ropts.all = opts.all
    local report
    report, err = workflow.cleanup(api.client, pos[1], ropts)
    if not report then
      if azrp.is_error(err) and err.kind == "journal" and err.code ~= "RunInProgress" then err.kind = "invalid" end
      return nil, err
    end
    if opts.json then return command.NOTHING, nil, report.exit_code end
    return common.result(report, opts), nil, report.exit_code
  end,
}
