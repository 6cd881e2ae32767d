--- azrp cleanup RUN: deletes what a run created (never what it did not:
-- each resource is checked against the journal and its azrp-run tag).
local common = require "azrp.cli.run_common"
local workflow = require "azrp.workflow"

return common.on_run("cleanup", "delete what a run created", {
  { "all", flag = true, help = "also what its policy keeps (a drill's source restore point), never a collection" },
}, function(client, run_id, ropts, opts)
  ropts.all = opts.all
  return workflow.cleanup(client, run_id, ropts)
end)
