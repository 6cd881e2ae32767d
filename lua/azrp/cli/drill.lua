--- azrp drill: a DR drill of a VM, journalled, resumable, with a report.
--
--   azrp drill --vm ID --dr-location LOC --dr-resource-group RG [--plan]
--   azrp drill CONFIG.json            (the same settings as a JSON object)
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local drill = require "azrp.workflows.dr_drill"

-- The option -> config setting for each option that sets one.
local SETTINGS = { vm = "vm_id", dr_location = "dr_location", dr_resource_group = "dr_resource_group",
  health_timeout = "health_timeout" }

-- The config: CONFIG (a Lua file returning a table, or a JSON object),
-- then the options over it.
local function config(opts, pos)
  local cfg, err = common.settings(opts, pos, SETTINGS)
  if not cfg then return nil, err end
  if opts.keep_copy then cfg.keep_copy = true end
  if opts.exclude_unsupported then cfg.unsupported_disks = "exclude" end
  if opts.no_keep_restore_point then cfg.keep_source_restore_point = false end
  return drill.check(cfg)
end

return command.action{
  name = "drill",
  summary = "run a DR drill of a VM: restore point, copy to the DR region, restore, boot, check, clean up",
  description = "The run is journalled in the state folder: after a crash, 'azrp resume RUN' continues it and\n"
    .. "'azrp cleanup RUN' deletes what it made.  SIGINT/SIGTERM stop it cleanly (exit 4).",
  positionals = true,
  options = common.options{
    { "vm", metavar = "ID", help = "the VM's resource id" },
    { "exclude-unsupported", flag = true, help = "drill without the VM's Ultra and shared data disks (refused by default)" },
    { "dr-location", metavar = "REGION", help = "the DR region (e.g. northeurope)" },
    { "dr-resource-group", metavar = "RG", help = "the resource group the drill works in" },
    { "keep-copy", flag = true, help = "keep the restore point copied to the DR region" },
    { "no-keep-restore-point", flag = true, help = "delete the source restore point at the end too" },
    { "health-timeout", number = true, metavar = "SECONDS", help = "how long the test VM gets to be healthy (default 600)" },
    { "plan", flag = true, help = "print what the drill would create, create nothing" },
  },
  examples = { "azrp drill --vm /subscriptions/S/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-app-01 \\",
    "  --dr-location northeurope --dr-resource-group rg-dr" },
  columns = function(opts) return opts.plan and { { "Step", "step" }, { "Kind", "kind" }, { "Name", "name" }, { "Keep", "keep" } } or common.COLUMNS end,
  run = common.runner(drill, config),
}
