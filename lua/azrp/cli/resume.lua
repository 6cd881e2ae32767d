--- azrp resume RUN: continues a run from its journal (after a crash or a
-- kill); a run that left resources behind has its cleanup retried.
local common = require "azrp.cli.run_common"
local workflow = require "azrp.workflow"

return common.on_run("resume", "continue a run from its journal", {}, function(client, run_id, ropts)
  return workflow.resume(client, run_id, ropts)
end)
