--- azrp.workflows.restore.preflight: the restore's first step, reads only.
-- It finds the VM and the restore point, plans the disks, and refuses
-- each mismatch between what the restore point holds and where it goes,
-- naming both values, before anything is created (an error of kind
-- "invalid": exit 2):
--
--   OS type, Hyper-V generation, security type (in place: the VM's cannot
--   change), Azure Disk Encryption (in place: Azure swaps no OS disk of an
--   ADE VM), disk encryption sets (each disk's must exist, in the target
--   region), disk SKUs (an Ultra or Premium v2 OS disk; premium disks on a
--   VM size without premium storage), the target region of the subnet.
local azrp = require "azrp"
local common = require "azrp.workflows.restore.common"
local choose = require "azrp.workflows.restore.choose"
local disk_plan = require "azrp.workflows.restore.disk_plan"
local regions = require "azrp.workflow.preflight"

local M = {}

local preflight_error, parse_vm_id, power_state = common.preflight_error, common.parse_vm_id, common.power_state
local PREMIUM, DATA_ONLY = common.PREMIUM, common.DATA_ONLY

-- Does a VM size take premium disks?  Azure's size names carry an "s"
-- among the feature letters after the vCPU count (Standard_D2s_v5,
-- Standard_E4as_v4, Standard_B2ms) or in the family (Standard_DS2_v2,
-- Standard_GS5).
function M.premium_capable(size)
  if type(size) ~= "string" then return false end
  local body = size:gsub("^Standard_", ""):gsub("^Basic_", "")
  local family, _, features = body:match("^(%a+)(%d+)([%a%-]*)")
  if not family then return false end
  if family:upper():match("S$") and #family >= 2 then return true end
  return (features:gsub("%-.*", "")):find("s", 1, true) ~= nil
end

--- ade(vm): is Azure Disk Encryption on for the VM (its OS disk's
-- encryption settings, or the extension)?
function M.ade(vm)
  local os_disk = vm.properties.storageProfile and vm.properties.storageProfile.osDisk or {}
  if os_disk.encryptionSettings and os_disk.encryptionSettings.enabled then return true end
  for _, r in ipairs(vm.resources or {}) do
    local p = r.properties or {}
    if type(p.type) == "string" and p.type:match("^AzureDiskEncryption") then return true end
  end
  local iv = vm.properties.instanceView
  for _, x in ipairs(iv and iv.extensions or {}) do
    if type(x.type) == "string" and x.type:match("AzureDiskEncryption") then return true end
  end
  return false
end

-- The field a mismatch of the target is told by: the setting that chose
-- it (new VM) or the VM itself (in place).
local function target_field(ctx, new_field)
  return ctx.config.mode == "new" and new_field or "vm_id"
end

-- In place: what the VM is and the restore point must match.
local function compare_in_place(ctx, rp, disks, vm, shape)
  local meta = rp.properties.sourceMetadata or {}
  local os = disks[1]
  local rp_sec = (meta.securityProfile and meta.securityProfile.securityType) or os.security_type
  local vp = vm.properties
  local vos = vp.storageProfile.osDisk
  if os.os_type and vos.osType and os.os_type ~= vos.osType then
    return nil, preflight_error("restore_point", "OS type: the restore point's OS disk is %s, the VM's is %s", os.os_type, vos.osType)
  end
  local vm_hv = (vp.instanceView and vp.instanceView.hyperVGeneration) or shape.current_hyperv
  if os.hyperv and vm_hv and os.hyperv ~= vm_hv then
    return nil, preflight_error("restore_point", "hyperVGeneration: the restore point's OS disk is %s, the VM is %s (Azure refuses the swap: PropertyChangeNotAllowed)",
      os.hyperv, vm_hv)
  end
  local vm_sec = vp.securityProfile and vp.securityProfile.securityType or "Standard"
  if (rp_sec or "Standard") ~= vm_sec then
    return nil, preflight_error("restore_point", "security type: the restore point's is %s, the VM's is %s (a VM's security type cannot change)",
      rp_sec or "Standard", vm_sec)
  end
  if M.ade(vm) then
    return nil, preflight_error("vm_id", "the VM uses Azure Disk Encryption, whose OS disk Azure will not swap (OSDiskSwapNotSupportedForVMsUsingDiskEncryption); restore it as a new VM")
  end
  return true
end

-- Disk SKUs: what the restore point says, never a silent fallback; an
-- error for one the disk's role or the VM's size cannot take.
local function check_skus(ctx, disks, size)
  for _, d in ipairs(disks) do
    if not d.lun and DATA_ONLY[d.sku] then
      -- the setting it came from (a restore point never records one: Azure
      -- has no such OS disk, and restore points exclude Ultra disks)
      return nil, preflight_error(d.sku_from, "%s would be %s, which Azure takes for data disks only", d.label, d.sku)
    end
  end
  if not M.premium_capable(size) then
    for _, d in ipairs(disks) do
      if PREMIUM[d.sku] then
        return nil, preflight_error(target_field(ctx, "vm_size"),
          "VM size %s takes no premium storage, but %s is %s", tostring(size), d.label, d.sku)
      end
    end
  end
  return true
end

-- Every disk encryption set a restored disk gets exists, in the target
-- region: Azure would refuse the disk's PUT (after the others were made).
local function check_sets(ctx, disks, location)
  local seen = {}
  for _, d in ipairs(disks) do
    if d.des and not seen[d.des:lower()] then
      seen[d.des:lower()] = true
      local field = ctx.config.disk_encryption_set_id and "disk_encryption_set_id" or target_field(ctx, "vm_id")
      local set, err = ctx.client:call("DiskEncryptionSets_Get", { id = d.des })
      if not set then
        if err.status == 404 then
          return nil, preflight_error(field, "the disk encryption set %s of %s does not exist (any more)", d.des, d.label)
        end
        return nil, err
      end
      if azrp.location(set.location) ~= location then
        return nil, preflight_error(field, "the disk encryption set %s is in %s, the disks go to %s", d.des,
          tostring(set.location), location)
      end
    end
  end
  return true
end

-- The new VM's resource group, subnet and name -> target | nil, err.
local function new_target(ctx, vm, location)
  local c, cfg = ctx.client, ctx.config
  local sub, vm_rg = parse_vm_id(cfg.vm_id)
  local rg = cfg.resource_group or vm_rg
  local rgb, err = c:call("ResourceGroups_Get", { resource_group_name = rg })
  if not rgb then
    if err.status == 404 then return nil, preflight_error("resource_group", "resource group %s does not exist", rg) end
    return nil, err
  end
  local subnet
  subnet, err = c:call("Subnets_Get", { id = cfg.subnet_id })
  if not subnet then
    if err.status == 404 then return nil, preflight_error("subnet_id", "no subnet %s", cfg.subnet_id) end
    return nil, err
  end
  local vnet
  vnet, err = c:call("VirtualNetworks_Get", { id = cfg.subnet_id:match("^(.*)/subnets/[^/]+$") })
  if not vnet then return nil, err end
  if azrp.location(vnet.location) ~= location then
    return nil, preflight_error("subnet_id", "the subnet's network is in %s, the VM goes to %s", tostring(vnet.location), location)
  end
  -- The new VM keeps the source's zone (in the source's region), unless told.
  local zones = cfg.zone and { cfg.zone } or (vm and azrp.location(vm.location) == location and vm.zones) or nil
  if cfg.vm_name then
    local existing = c:call("VirtualMachines_Get", { resource_group_name = rg, vm_name = cfg.vm_name })
    if existing then return nil, preflight_error("vm_name", "a VM %s already exists in %s", cfg.vm_name, rg) end
  end
  return { rg = rg, location = location, zones = zones, vm_name = cfg.vm_name,
    scope = "/subscriptions/" .. sub .. "/resourceGroups/" .. rg }
end

-- In place: the VM as it is, to restore and to roll back to.
local function original_of(vm)
  local vsp = vm.properties.storageProfile
  local orig = { os = { id = vsp.osDisk.managedDisk.id, name = vsp.osDisk.name }, data = {},
    power = power_state(vm) or "running" }
  for _, d in ipairs(vsp.dataDisks or {}) do
    orig.data[#orig.data + 1] = { lun = math.floor(d.lun), id = d.managedDisk and d.managedDisk.id, name = d.name,
      caching = d.caching, wa = d.writeAcceleratorEnabled }
  end
  return orig
end

--- step(ctx) -> true | nil, err: the step "preflight".  Keeps
-- restore_point, disk_plan, target, shape and (in place) original.
function M.step(ctx)
  local c, cfg = ctx.client, ctx.config
  local sub, vm_rg, vm_name = parse_vm_id(cfg.vm_id)
  local vm, err = c:call("VirtualMachines_Get", { id = cfg.vm_id, expand = "instanceView" })
  if not vm then
    if err.status ~= 404 then return nil, err end
    if cfg.mode == "in_place" then return nil, preflight_error("vm_id", "no VM %s to restore in place", cfg.vm_id) end
    if not cfg.restore_point_id then
      return nil, preflight_error("vm_id", "the VM %s is gone: name its restore point with restore_point_id", cfg.vm_id)
    end
    vm = nil
  end
  local location = cfg.location or (vm and azrp.location(vm.location))
  if cfg.mode == "in_place" and vm and location ~= azrp.location(vm.location) then
    return nil, preflight_error("location", "an in-place restore uses a restore point in the VM's region %s, not %s",
      tostring(vm.location), location)
  end
  if cfg.location then
    local ok, rerr = regions.region(ctx.client, cfg.location, "location")
    if not ok then return nil, rerr end
  end
  local rp
  rp, err = choose.choose(ctx, cfg.vm_id, location or "")
  if not rp then return nil, err end
  local rp_loc = azrp.location(rp.properties.sourceMetadata and rp.properties.sourceMetadata.location or "")
  local coll, cerr = c:call("RestorePointCollections_Get", { id = rp.id:match("^(.*)/restorePoints/[^/]+$") })
  if not coll then return nil, cerr end
  location = location or azrp.location(coll.location)
  if azrp.location(coll.location) ~= location then
    return nil, preflight_error("restore_point_id", "restore point %s is in %s, not in %s", rp.id, tostring(coll.location), location)
  end
  local disks
  disks, err = disk_plan.plan(ctx, rp, vm)
  if not disks then return nil, err end
  local meta = rp.properties.sourceMetadata or {}
  local shape = { size = cfg.vm_size or (meta.hardwareProfile and meta.hardwareProfile.vmSize)
    or (vm and vm.properties.hardwareProfile.vmSize) }
  local ok
  if cfg.mode == "in_place" then
    shape.size = vm.properties.hardwareProfile.vmSize
    local cur = c:call("Disks_Get", { id = vm.properties.storageProfile.osDisk.managedDisk.id })
    shape.current_hyperv = cur and cur.properties and cur.properties.hyperVGeneration
    ok, err = compare_in_place(ctx, rp, disks, vm, shape)
    if not ok then return nil, err end
    -- The restored disks go where the VM is: in its zone.
    local rpz = meta.zones
    if type(rpz) == "table" and rpz[1] and vm.zones and vm.zones[1] and rpz[1] ~= vm.zones[1] then
      ctx:emit{ type = "note", message = string.format("the restore point was taken in zone %s; the disks are restored into the VM's zone %s",
        tostring(rpz[1]), tostring(vm.zones[1])) }
    end
  end
  ok, err = check_skus(ctx, disks, shape.size)
  if not ok then return nil, err end
  ok, err = check_sets(ctx, disks, location)
  if not ok then return nil, err end

  local target
  if cfg.mode == "new" then
    target, err = new_target(ctx, vm, location)
    if not target then return nil, err end
    -- The new VM's vCPUs in its region (in place, the VM holds its own).
    ok, err = regions.cores(ctx.client, location, shape.size, 1, { field = cfg.vm_size and "vm_size" or (cfg.location and "location") or "vm_id",
      warn = function(msg) ctx:emit{ type = "note", message = msg } end })
    if not ok then return nil, err end
  else
    target = { rg = vm_rg, location = location, zones = vm.zones, vm_name = vm_name,
      scope = "/subscriptions/" .. sub .. "/resourceGroups/" .. vm_rg }
    ctx:set("original", original_of(vm))
  end
  for _, d in ipairs(disks) do d.label, d.sku_from = nil, nil end
  ctx:set("restore_point", { id = rp.id, name = rp.name, time_created = rp.properties.timeCreated,
    location = rp_loc ~= "" and rp_loc or location })
  ctx:set("disk_plan", disks)
  ctx:set("target", target)
  ctx:set("shape", { size = shape.size, security_profile = meta.securityProfile,
    diagnostics = meta.diagnosticsProfile or (vm and vm.properties.diagnosticsProfile),
    tags = vm and vm.tags or nil, os_type = disks[1].os_type })
  return true
end

return M
