--- azrp rotate: restore points of a VM or a fleet, copied to target
-- regions and pruned by a retention policy, journalled and resumable.
--
--   azrp rotate CONFIG.lua|CONFIG.json [--plan]
--   azrp rotate CONFIG --vm ID --target REGION:RG --keep-last N --daily N ...
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local rotate = require "azrp.workflows.rotate"

local RULES = { keep_last = "keep_last", daily = "daily", weekly = "weekly", monthly = "monthly", yearly = "yearly" }

local function config(opts, pos)
  local cfg, err = common.settings(opts, pos, { resource_group = "resource_group", tag = "tag" })
  if not cfg then return nil, err end
  if opts.vm then cfg.vm_ids = { opts.vm } end
  if opts.target then
    local loc, rg = opts.target:match("^([^:]+):(.+)$")
    cfg.targets = { { location = loc or opts.target, resource_group = rg } }
  end
  for opt, rule in pairs(RULES) do
    if opts[opt] ~= nil then
      cfg.retention = type(cfg.retention) == "table" and cfg.retention or {}
      cfg.retention[rule] = opts[opt]
    end
  end
  return rotate.check(cfg)
end

local ROW_COLUMNS = { { "VM", "vm" }, { "Region", "region" }, { "State", "state" }, { "Restore point", "restore_point" },
  { "Deleted", "deleted" }, { "Error", "error" } }

return command.action{
  name = "rotate",
  summary = "restore points of a VM or a fleet, copied to target regions, pruned by a GFS retention policy",
  description = "Each run makes a restore point per VM, copies it to each target region, waits for 100 %\n"
    .. "replication, then prunes every region by the policy (keep-last, daily, weekly, monthly, yearly; UTC).\n"
    .. "It never deletes the newest good restore point of a region, nor prunes a region whose copy failed,\n"
    .. "and deletes only in collections it manages (tagged azrp-managed=rotate, or named in CONFIG).\n"
    .. "The run is journalled: 'azrp resume RUN' continues it after a crash.",
  positionals = true,
  options = common.options{
    { "vm", metavar = "ID", help = "one VM's resource id (else CONFIG's vm_ids, resource_group or tag)" },
    { "resource-group", metavar = "RG", help = "every VM of this resource group" },
    { "tag", metavar = "NAME=VALUE", help = "the VMs with this tag (e.g. azrp-rotate=daily)" },
    { "target", metavar = "REGION:RG", help = "one target region and the resource group its collections go in" },
    { "keep-last", number = true, metavar = "N", help = "keep the newest N good restore points" },
    { "daily", number = true, metavar = "N", help = "keep the newest of each of the last N days" },
    { "weekly", number = true, metavar = "N", help = "keep the newest of each of the last N ISO weeks" },
    { "monthly", number = true, metavar = "N", help = "keep the newest of each of the last N months" },
    { "yearly", number = true, metavar = "N", help = "keep the newest of each of the last N years" },
    { "plan", flag = true, help = "print per VM and region what would be created, deleted and kept (and why)" },
  },
  examples = { "azrp rotate rotate.lua --plan", "azrp rotate rotate.lua --report /var/lib/azrp/reports",
    "azrp rotate --tag azrp-rotate=daily --target northeurope:rg-dr --keep-last 3 --daily 7 --weekly 4 --monthly 12" },
  columns = function(opts)
    return opts.plan and { { "VM", "vm" }, { "Region", "region" }, { "Action", "action" }, { "Kind", "kind" },
      { "Name", "name" }, { "Why", "why" } } or ROW_COLUMNS
  end,
  -- In a table, a row per VM and region (the report's details), not per resource.
  run = common.runner(rotate, config, function(report) return report.details and report.details.rows or {} end),
}
