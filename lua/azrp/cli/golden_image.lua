--- azrp golden-image: a golden image made from a prepared VM, journalled,
-- resumable, cleaned up on failure.
--
--   azrp golden-image CONFIG.lua|CONFIG.json [--plan]
--   azrp golden-image --vm ID --gallery-image DEF_ID [--version 1.2.0] [--target-regions R ...]
--   azrp golden-image --vm ID --image IMAGE_ID
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local golden = require "azrp.workflows.golden_image"

-- The option -> config setting for each option that sets one.
local SETTINGS = { vm = "vm_id", gallery_image = "gallery_image_id", image = "image_id", version = "version",
  replica_count = "replica_count", storage_account_type = "storage_account_type", os_state = "os_state",
  resource_group = "resource_group", consistency_mode = "consistency_mode" }

local function config(opts, pos)
  local cfg, err = common.settings(opts, pos, SETTINGS)
  if not cfg then return nil, err end
  if opts.target_regions then cfg.target_regions = opts.target_regions end
  if opts.crash_consistent then cfg.consistency_mode = "CrashConsistent" end
  if opts.data_disks then cfg.data_disks = true end
  if opts.keep_disks then cfg.keep_disks = true end
  if opts.keep_restore_point then cfg.keep_restore_point = true end
  return golden.check(cfg)
end

return command.action{
  name = "golden-image",
  summary = "make a golden image of a VM: restore point, disks, then a managed image or a gallery image version",
  description = "A restore point of the VM (application-consistent unless --crash-consistent), its OS disk (and data\n"
    .. "disks with --data-disks) restored to disks, then a managed image (--image) or a Compute Gallery image\n"
    .. "version (--gallery-image) published to the target regions and followed to the end of replication.\n"
    .. "Preflight refuses an image definition that does not fit the VM (OS type and state, Hyper-V generation,\n"
    .. "security type, architecture) before anything is created.  The restored disks and the restore point\n"
    .. "are deleted at the end unless kept.",
  positionals = true,
  options = common.options{
    { "vm", metavar = "ID", help = "the prepared VM's resource id" },
    { "gallery-image", metavar = "DEF_ID", help = "the gallery image definition the version goes in" },
    { "image", metavar = "IMAGE_ID", help = "a managed image to create instead (not for Trusted Launch VMs)" },
    { "version", metavar = "M.m.p", help = "the version to publish (default the one after the highest)" },
    { "target-regions", list = true, metavar = "REGION", help = "where the version replicates (the gallery's region is always one)" },
    { "replica-count", number = true, metavar = "N", help = "replicas per region (default 1)" },
    { "storage-account-type", metavar = "TYPE", help = "Standard_LRS (default), Standard_ZRS or Premium_LRS" },
    { "os-state", metavar = "STATE", help = "Specialized (default) or Generalized, as the VM is" },
    { "consistency-mode", metavar = "MODE", help = "ApplicationConsistent (default) or CrashConsistent" },
    { "crash-consistent", flag = true, help = "a crash-consistent restore point" },
    { "data-disks", flag = true, help = "put the VM's data disks in the image too" },
    { "resource-group", metavar = "RG", help = "where the intermediate disks go (default the VM's)" },
    { "keep-disks", flag = true, help = "keep the intermediate disks" },
    { "keep-restore-point", flag = true, help = "keep the restore point" },
    { "plan", flag = true, help = "print what it would create, create nothing" },
  },
  examples = { "azrp golden-image --vm /subscriptions/S/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-app-01 \\",
    "  --gallery-image /subscriptions/S/resourceGroups/rg-prod/providers/Microsoft.Compute/galleries/gal/images/app \\",
    "  --target-regions westeurope northeurope",
    "azrp golden-image golden.lua --plan" },
  columns = common.columns,
  run = common.runner(golden, config),
}
