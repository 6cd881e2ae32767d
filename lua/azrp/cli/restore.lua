--- azrp restore: a VM brought back from a restore point, as a new VM or
-- in place, journalled, resumable, rolled back on failure.
--
--   azrp restore --vm ID --subnet SUBNET_ID [--name NEW_VM] [--restore-point NAME|--restore-point-id ID]
--   azrp restore --vm ID --in-place [--delete-originals]
--   azrp restore CONFIG.lua|CONFIG.json [--plan]
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local restore = require "azrp.workflows.restore_vm"

-- The option -> config setting for each option that sets one.
local SETTINGS = { vm = "vm_id", restore_point = "restore_point", restore_point_id = "restore_point_id",
  location = "location", resource_group = "resource_group", name = "vm_name", subnet = "subnet_id",
  zone = "zone", size = "vm_size", disk_encryption_set = "disk_encryption_set_id", disk_sku = "disk_sku",
  timeout = "timeout" }

local function config(opts, pos)
  local cfg, err = common.settings(opts, pos, SETTINGS)
  if not cfg then return nil, err end
  if opts.in_place then cfg.mode = "in_place" end
  if opts.delete_originals then cfg.delete_originals = true end
  if opts.no_start then cfg.start = false end
  return restore.check(cfg)
end

return command.action{
  name = "restore",
  summary = "restore a VM from a restore point: as a new VM, or in place (disks swapped, rolled back on failure)",
  description = "Without --restore-point, the newest restore point of the VM whose provisioning succeeded and\n"
    .. "whose disks are all complete is used.  Preflight refuses a mismatch (OS type, Hyper-V generation,\n"
    .. "security type, Azure Disk Encryption, disk SKUs, premium storage) before anything is created.\n"
    .. "In place, the original disks are kept (listed in the report) unless --delete-originals.",
  positionals = true,
  options = common.options{
    { "vm", metavar = "ID", help = "the VM's resource id (whose restore points are used; the VM restored in place)" },
    { "in-place", flag = true, help = "swap the restored disks into the VM itself (default: a new VM)" },
    { "restore-point", metavar = "NAME", help = "the restore point's name, in one of the VM's collections" },
    { "restore-point-id", metavar = "ID", help = "the restore point's resource id" },
    { "location", metavar = "REGION", help = "the region of the restore point (a new VM goes there too)" },
    { "subnet", metavar = "SUBNET_ID", help = "new VM: the subnet its NIC goes in" },
    { "name", metavar = "VM_NAME", help = "new VM: its name (default <vm>-<run>-vm)" },
    { "resource-group", metavar = "RG", help = "new VM: where it and its disks go (default the VM's)" },
    { "zone", metavar = "ZONE", help = "new VM: its availability zone" },
    { "size", metavar = "VM_SIZE", help = "new VM: its size (default the restore point's)" },
    { "disk-encryption-set", metavar = "ID", help = "every restored disk's disk encryption set (default the VM's)" },
    { "disk-sku", metavar = "SKU", help = "the SKU of a disk the restore point does not give one for" },
    { "delete-originals", flag = true, help = "in place: delete the original disks once the VM is healthy" },
    { "no-start", flag = true, help = "in place: leave the VM deallocated" },
    { "timeout", number = true, metavar = "SECONDS", help = "how long a power action may take (default 1800)" },
    { "plan", flag = true, help = "print the disks it would create and the VM change, create nothing" },
  },
  examples = { "azrp restore --vm /subscriptions/S/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-app-01 \\",
    "  --subnet /subscriptions/S/resourceGroups/rg-prod/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
    "azrp restore --vm ID --in-place --plan" },
  columns = common.columns,
  run = common.runner(restore, config),
}
