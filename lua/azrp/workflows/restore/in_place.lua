--- azrp.workflows.restore.in_place: the steps that swap the restored disks
-- into the VM itself, and the rollback that swaps the originals back.
--
-- Deallocate; ONE update that sets the OS disk (managedDisk.id and name,
-- createOption kept) and replaces the data disks at the same LUNs; a GET
-- that checks the swap happened (Azure can answer 200 and change
-- nothing); start.  Originals are kept and listed in the report, deleted
-- only when asked and once the VM is healthy.
local azrp = require "azrp"
local common = require "azrp.workflows.restore.common"
local power = require "azrp.workflows.restore.power"
local storage = require "azrp.workflows.restore.storage"

local M = {}

local restore_error = common.restore_error

--- swap_body(vm, disks) -> the VM's body for a PUT that puts disks in.
function M.swap_body(vm, disks)
  local p = vm.properties
  local sp = p.storageProfile
  local os_new, data_new = storage.profile(disks)
  local os_disk = {}
  for k, v in pairs(sp.osDisk) do os_disk[k] = v end
  -- Keep createOption (Azure refuses a change) and the rest; set the disk.
  os_disk.managedDisk = { id = os_new.managedDisk.id }
  os_disk.name = os_new.name
  os_disk.caching = os_new.caching or os_disk.caching
  os_disk.diskSizeGB = nil
  local by_lun = {}
  for _, d in ipairs(data_new) do by_lun[d.lun] = d end
  local data = {}
  for _, d in ipairs(sp.dataDisks or {}) do
    local lun = math.floor(d.lun)
    if not by_lun[lun] then
      -- A disk the restore point does not hold (attached since, or
      -- excluded): it stays.
      data[#data + 1] = { lun = lun, createOption = "Attach", caching = d.caching, managedDisk = { id = d.managedDisk.id },
        name = d.name, writeAcceleratorEnabled = d.writeAcceleratorEnabled }
    end
  end
  for _, d in ipairs(data_new) do data[#data + 1] = d end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  local st = { osDisk = os_disk, dataDisks = data, imageReference = sp.imageReference,
    diskControllerType = sp.diskControllerType }
  if #data == 0 then st.dataDisks = nil end
  local props = { hardwareProfile = p.hardwareProfile, storageProfile = st, networkProfile = p.networkProfile,
    securityProfile = p.securityProfile, diagnosticsProfile = p.diagnosticsProfile, licenseType = p.licenseType }
  return { location = vm.location, tags = vm.tags, zones = vm.zones, identity = vm.identity, properties = props }
end

-- One update: the OS disk and the data disks at their LUNs.
local function put_disks(ctx, disks, what)
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
  if not vm then return nil, err end
  if storage.has(vm, disks) then return vm end
  local _, rg, name = common.parse_vm_id(ctx.config.vm_id)
  ctx:set("swap." .. what, azrp.wall())
  local ok
  ok, err = ctx.client:call("VirtualMachines_CreateOrUpdate", { resource_group_name = rg, vm_name = name,
    body = M.swap_body(vm, disks) }, { timeout = power.timeout(ctx) })
  if not ok then return nil, err end
  return true
end

--- deallocate(ctx): the step "deallocate"; from here a failure rolls back.
function M.deallocate(ctx)
  ctx:set("touched", true)
  return power.power(ctx, "VirtualMachines_Deallocate", "deallocated")
end

--- swap(ctx): the step "swap".
function M.swap(ctx)
  local ok, err = put_disks(ctx, ctx.data.disks, "restored")
  if not ok then return nil, err end
  -- A swap can answer 200 and change nothing: look.
  local vm
  vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
  if not vm then return nil, err end
  local fine, missing = storage.has(vm, ctx.data.disks)
  if not fine then
    return nil, restore_error("SwapIgnored", "the VM update answered but %s is not attached at %s", missing.name,
      missing.lun and ("LUN " .. missing.lun) or "the OS disk")
  end
  if vm.properties.provisioningState ~= "Succeeded" then
    return nil, restore_error("SwapFailed", "the VM's provisioningState is %s after the swap", tostring(vm.properties.provisioningState))
  end
  return true
end

--- start(ctx): the step "start": when asked, else when the VM was running.
function M.start(ctx)
  local want = ctx.config.start
  if want == nil then want = ctx.data.original.power == "running" end
  if not want then return true end
  return power.power(ctx, "VirtualMachines_Start", "running")
end

--- replaced(ctx) -> the original disks the restore replaced, OS first.
function M.replaced(ctx)
  local orig = ctx.data.original
  local list = { orig.os }
  local restored = {}
  for _, d in ipairs(ctx.data.disks or ctx.data.disk_plan or {}) do restored[d.lun or "os"] = true end
  for _, d in ipairs(orig.data) do if restored[d.lun] then list[#list + 1] = d end end
  return list
end

--- originals(ctx): the step "originals": the replaced disks kept and
-- listed, or (delete_originals) deleted once the VM runs on the restored
-- ones.  A failure here fails nothing (the restore is done); it is reported.
function M.originals(ctx)
  local list = M.replaced(ctx)
  if not ctx.config.delete_originals then
    ctx:set("report.original_disks_kept", list)
    return true
  end
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
  if not vm then return nil, err end
  local a = storage.attached(vm)
  local ops, which, kept, failed = {}, {}, {}, {}
  for _, d in ipairs(list) do
    local in_use = false
    for _, id in pairs(a) do if id == d.id:lower() then in_use = true end end
    if in_use then kept[#kept + 1] = d
    else
      ctx:set("deleting_original." .. d.name, d.id)
      local op, berr = ctx.client:begin("Disks_Delete", { id = d.id })
      if op then ops[#ops + 1], which[#ops + 1] = op, d
      else failed[#failed + 1] = { d = d, err = berr } end
    end
  end
  local deleted = {}
  local ok, aerr = ctx:await(ops, function(j, v, derr)
    if v ~= nil or (derr and derr.status == 404) then deleted[#deleted + 1] = which[j]
    else failed[#failed + 1] = { d = which[j], err = derr } end
  end)
  if not ok then return nil, aerr end
  for _, f in ipairs(failed) do
    kept[#kept + 1] = f.d
    ctx:emit{ type = "note", message = "original disk " .. f.d.name .. " was not deleted: " .. tostring(f.err) }
  end
  if #kept > 0 then ctx:set("report.original_disks_kept", kept) end
  ctx:set("report.original_disks_deleted", deleted)
  return true
end

--- rollback(ctx) -> true | nil, err: the original disks back and the VM
-- started again if it was running.  Idempotent: a resume or a cleanup
-- after a kill runs it again.
function M.rollback(ctx)
  local orig = ctx.data.original
  local vm, err = power.get_vm(ctx)
  if not vm then return nil, err end
  local back = { { id = orig.os.id, name = orig.os.name, caching = nil, os_type = nil } }
  local restored = {}
  for _, d in ipairs(ctx.data.disks or {}) do restored[d.lun or "os"] = true end
  for _, d in ipairs(orig.data) do
    if restored[d.lun] then back[#back + 1] = { lun = d.lun, id = d.id, name = d.name, caching = d.caching, wa = d.wa } end
  end
  if not storage.has(vm, back) then
    if common.power_state(vm) ~= "deallocated" then
      local ok, perr = power.power(ctx, "VirtualMachines_Deallocate", "deallocated")
      if not ok then return nil, perr end
    end
    local body_vm
    body_vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
    if not body_vm then return nil, err end
    -- The OS disk keeps its caching; storage.profile needs one.
    back[1].caching = body_vm.properties.storageProfile.osDisk.caching
    local ok, perr = put_disks(ctx, back, "original")
    if not ok then return nil, perr end
    vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
    if not vm then return nil, err end
    local fine, missing = storage.has(vm, back)
    if not fine then
      return nil, restore_error("RollbackFailed", "the original disk %s is not attached again", missing.name)
    end
  end
  if orig.power == "running" then
    local ok, perr = power.power(ctx, "VirtualMachines_Start", "running")
    if not ok then return nil, perr end
  end
  ctx:set("rolled_back", true)
  return true
end

return M
