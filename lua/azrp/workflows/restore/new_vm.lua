--- azrp.workflows.restore.new_vm: the steps that build a new VM on the
-- restored disks: a NIC in the subnet the config names, then a VM of the
-- source's size, security profile, boot diagnostics and tags, the OS disk
-- attached and the data disks at their LUNs with their caching and
-- write-accelerator flags.
local storage = require "azrp.workflows.restore.storage"

local M = {}

--- network(ctx): the step "network"; keeps nic_id.
function M.network(ctx)
  local t = ctx.data.target
  local name = ctx:name("nic")
  local nic, err = ctx:create{ key = "nic", kind = "nic", name = name, keep = true,
    id = t.scope .. "/providers/Microsoft.Network/networkInterfaces/" .. name,
    op = "NetworkInterfaces_CreateOrUpdate", params = { resource_group_name = t.rg, network_interface_name = name,
      body = { location = t.location, tags = ctx.data.shape.tags, properties = { ipConfigurations = { { name = "ipconfig1",
        properties = { subnet = { id = ctx.config.subnet_id }, privateIPAllocationMethod = "Dynamic" } } } } } } }
  if not nic then return nil, err end
  ctx:set("nic_id", nic.id)
  return true
end

--- vm_name(ctx) -> the new VM's name.
function M.vm_name(ctx) return ctx.data.target.vm_name or ctx:name("vm") end

--- body(ctx) -> the new VM's VirtualMachines_CreateOrUpdate body.
function M.body(ctx)
  local t, shape = ctx.data.target, ctx.data.shape
  local os_disk, data = storage.profile(ctx.data.disks)
  local sp = { osDisk = os_disk }
  if #data > 0 then sp.dataDisks = data end  -- an empty table would encode as {}
  local props = { hardwareProfile = { vmSize = shape.size }, storageProfile = sp,
    securityProfile = shape.security_profile, diagnosticsProfile = shape.diagnostics,
    networkProfile = { networkInterfaces = { { id = ctx.data.nic_id, properties = { primary = true } } } } }
  return { location = t.location, zones = t.zones, tags = shape.tags, properties = props }
end

--- create_vm(ctx): the step "create_vm"; keeps vm.
function M.create_vm(ctx)
  local t = ctx.data.target
  local name = M.vm_name(ctx)
  local vm, err = ctx:create{ key = "vm", kind = "vm", name = name, keep = true,
    id = t.scope .. "/providers/Microsoft.Compute/virtualMachines/" .. name, op = "VirtualMachines_CreateOrUpdate",
    params = { resource_group_name = t.rg, vm_name = name, body = M.body(ctx) } }
  if not vm then return nil, err end
  ctx:set("vm", { id = vm.id, name = name })
  return true
end

return M
