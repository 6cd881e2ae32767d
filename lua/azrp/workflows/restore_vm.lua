--- azrp.workflows.restore_vm: a VM brought back from one of its restore
-- points, as a new VM or in place.
--
--     local restore = require "azrp.workflows.restore_vm"
--     local report, err = restore.run(client, { vm_id = ID, mode = "new",
--       subnet_id = SUBNET, vm_name = "vm-app-01-restored" })
--     restore.run(client, { vm_id = ID, mode = "in_place" })
--
-- The restore point is the one named (restore_point_id, or restore_point
-- by name), else the newest of the VM whose provisioning Succeeded and
-- whose every disk restore point is complete (a copy: 100 % replicated),
-- in the wanted region.  Preflight compares the disk restore points with
-- the VM (OS type, Hyper-V generation, security type, zones, Azure Disk
-- Encryption, disk SKUs, premium storage on the VM size) and refuses a
-- mismatch naming both values, before anything is created.
--
-- New VM: every disk restored at once (the source's SKU, size, caching,
-- zone, disk encryption set and tags), a NIC in the subnet the config
-- names, and a VM of the source's size and security profile with the data
-- disks at their LUNs.  What it makes is kept when the run succeeds and
-- deleted when it does not.
--
-- In place: the disks restored while the VM runs, then deallocate, ONE
-- update that sets the OS disk (managedDisk.id and name, createOption kept)
-- and replaces the data disks at the same LUNs, a GET that checks the swap
-- happened (Azure can answer 200 and change nothing), and start.  Any
-- failure (or signal) after the VM was touched rolls back: the original
-- disks go back in, the VM is started again if it was running, and the
-- restored disks are deleted.  Originals are kept and listed in the
-- report; delete_originals = true deletes them once the VM is healthy.
--
-- Config: vm_id (required), mode ("new" | "in_place", default "new"),
-- restore_point_id | restore_point (a name), location (the restore
-- point's region; new mode: where the VM goes; default the VM's),
-- resource_group (new mode; default the VM's), vm_name (new mode),
-- subnet_id (new mode, required), zone (new mode), vm_size (new mode),
-- disk_encryption_set_id (every disk; default the VM's, disk by disk),
-- disk_sku (for a disk whose SKU the restore point does not say; never a
-- silent fallback), delete_originals, start (in place: default whether it
-- was running), timeout (Azure seconds a power action may take, 1800).
local azrp = require "azrp"
local workflow = require "azrp.workflow"

local M = { error_kind = "restore", name = "restore_vm", id_prefix = "restore" }

local PREMIUM = { Premium_LRS = true, Premium_ZRS = true, PremiumV2_LRS = true, UltraSSD_LRS = true }

local config_error = workflow.config_error

local function preflight_error(field, fmt, ...)
  return azrp.error{ kind = "invalid", code = "PreflightFailed", target = field,
    message = field .. ": " .. string.format(fmt, ...), retryable = false }
end

local function restore_error(code, fmt, ...)
  return azrp.error{ kind = "restore", code = code, message = string.format(fmt, ...), retryable = false }
end

local function parse_vm_id(id)
  return id:match("^/subscriptions/([^/]+)/resource[Gg]roups/([^/]+)/providers/Microsoft%.Compute/virtualMachines/([^/]+)$")
end

local RP_ID = "^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft%.Compute/restorePointCollections/[^/]+/restorePoints/[^/]+$"
local SUBNET_ID = "^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft%.Network/virtualNetworks/[^/]+/subnets/[^/]+$"

local function round(x) return math.floor(x * 1000 + 0.5) / 1000 end

local function same(a, b) return type(a) == "string" and type(b) == "string" and a:lower() == b:lower() end

-- ---------------------------------------------------------------------
-- Config

local KNOWN = { vm_id = "string", mode = "string", restore_point_id = "string", restore_point = "string",
  location = "string", resource_group = "string", vm_name = "string", subnet_id = "string", zone = "string",
  vm_size = "string", disk_encryption_set_id = "string", disk_sku = "string", delete_originals = "boolean",
  start = "boolean", timeout = "number" }

local NEW_ONLY = { "resource_group", "vm_name", "subnet_id", "zone", "vm_size" }

--- check(config) -> config | nil, err: every field, before any request.
function M.check(config)
  local known, kerr = workflow.check_settings(config, KNOWN)
  if not known then return nil, kerr end
  if not config.vm_id or config.vm_id == "" then return nil, config_error("vm_id", "is required") end
  if not parse_vm_id(config.vm_id) then
    return nil, config_error("vm_id", "%q is not a virtual machine id (/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME)", config.vm_id)
  end
  local c = {}
  for k, v in pairs(config) do c[k] = v end
  c.mode = c.mode or "new"
  if c.mode ~= "new" and c.mode ~= "in_place" then
    return nil, config_error("mode", "must be \"new\" or \"in_place\", not %q", c.mode)
  end
  if c.restore_point_id and c.restore_point then
    return nil, config_error("restore_point", "give restore_point (a name) or restore_point_id, not both")
  end
  if c.restore_point_id and not c.restore_point_id:match(RP_ID) then
    return nil, config_error("restore_point_id", "%q is not a restore point id (.../restorePointCollections/C/restorePoints/NAME)", c.restore_point_id)
  end
  if c.location then
    c.location = azrp.location(c.location)
    if not c.location then return nil, config_error("location", "is not a region name") end
  end
  if c.mode == "new" then
    if not c.subnet_id then return nil, config_error("subnet_id", "is required for a new VM (the subnet its NIC goes in)") end
    if not c.subnet_id:match(SUBNET_ID) then
      return nil, config_error("subnet_id", "%q is not a subnet id (.../virtualNetworks/V/subnets/S)", c.subnet_id)
    end
    if c.delete_originals then return nil, config_error("delete_originals", "applies to an in-place restore only") end
    if c.start ~= nil then return nil, config_error("start", "applies to an in-place restore only (a new VM starts)") end
  else
    for _, k in ipairs(NEW_ONLY) do
      if c[k] ~= nil then return nil, config_error(k, "applies to a new VM only, not to an in-place restore") end
    end
  end
  if c.resource_group and not c.resource_group:match("^[%w%-_%.%(%)]+$") then
    return nil, config_error("resource_group", "%q is not a resource group name", c.resource_group)
  end
  if c.vm_name and not c.vm_name:match("^[%w][%w%-_%.]*$") then
    return nil, config_error("vm_name", "%q is not a VM name", c.vm_name)
  end
  if c.zone and not c.zone:match("^[123]$") then return nil, config_error("zone", "must be \"1\", \"2\" or \"3\"") end
  if c.disk_sku and not (PREMIUM[c.disk_sku] or c.disk_sku:match("^Standard")) then
    return nil, config_error("disk_sku", "%q is not a disk SKU", c.disk_sku)
  end
  if c.timeout and not (c.timeout > 0) then return nil, config_error("timeout", "must be a positive number of seconds") end
  return c
end

function M.base_name(config)
  local _, _, name = parse_vm_id(config.vm_id)
  return name
end

function M.target(config)
  return { vm_id = config.vm_id, mode = config.mode, restore_point_id = config.restore_point_id,
    restore_point = config.restore_point, location = config.location }
end

-- ---------------------------------------------------------------------
-- Choosing the restore point

local replication = workflow.replication

--- usable(rp) -> true | nil, why: a restore point a restore can start from.
function M.usable(rp)
  local ps = rp.properties and rp.properties.provisioningState
  if ps ~= "Succeeded" then return nil, "its provisioningState is " .. tostring(ps) end
  local pct = replication(rp)
  if pct and pct < 100 then return nil, string.format("its disks are %s %% replicated", tostring(pct)) end
  return true
end

-- The VM's collections in a region: those whose source is the VM, and
-- the copies' collections whose source is one of those.
local function collections(client, vm_id, location)
  local all, err = client:list("RestorePointCollections_ListAll", {})
  if not all then return nil, err end
  local mine, out = {}, {}
  for _, c in ipairs(all) do
    local src = c.properties and c.properties.source and c.properties.source.id
    if same(src, vm_id) then mine[c.id:lower()] = true end
  end
  for _, c in ipairs(all) do
    local src = c.properties and c.properties.source and c.properties.source.id
    if (same(src, vm_id) or (type(src) == "string" and mine[src:lower()])) and azrp.location(c.location) == location then
      out[#out + 1] = c
    end
  end
  return out
end

-- The restore point to restore from, with its instance view.
local function choose(ctx, vm_id, location)
  local c, cfg = ctx.client, ctx.config
  if cfg.restore_point_id then
    local rp, err = c:call("RestorePoints_Get", { id = cfg.restore_point_id, expand = "instanceView" })
    if not rp then
      if err.status == 404 then return nil, preflight_error("restore_point_id", "no restore point %s", cfg.restore_point_id) end
      return nil, err
    end
    local ok, why = M.usable(rp)
    if not ok then return nil, preflight_error("restore_point_id", "restore point %s cannot be restored: %s", rp.id, why) end
    return rp
  end
  local colls, err = collections(c, vm_id, location)
  if not colls then return nil, err end
  local candidates = {}
  for _, coll in ipairs(colls) do
    local body
    body, err = c:call("RestorePointCollections_Get", { id = coll.id, expand = "restorePoints" })
    if not body then return nil, err end
    for _, rp in ipairs(body.properties.restorePoints or {}) do
      if not cfg.restore_point or rp.name == cfg.restore_point then candidates[#candidates + 1] = rp end
    end
  end
  -- Newest first; ISO 8601 times in UTC sort as strings.
  table.sort(candidates, function(a, b)
    return tostring(a.properties.timeCreated) > tostring(b.properties.timeCreated)
  end)
  local skipped = {}
  for _, rp in ipairs(candidates) do
    local full
    full, err = c:call("RestorePoints_Get", { id = rp.id, expand = "instanceView" })
    if not full then return nil, err end
    local ok, why = M.usable(full)
    if ok then return full end
    if cfg.restore_point then
      return nil, preflight_error("restore_point", "restore point %s cannot be restored: %s", full.id, why)
    end
    skipped[#skipped + 1] = full.name .. " (" .. why .. ")"
    ctx:emit{ type = "note", message = "skipping restore point " .. full.name .. ": " .. why }
  end
  if cfg.restore_point then
    return nil, preflight_error("restore_point", "no restore point named %q of %s in %s", cfg.restore_point, vm_id, location)
  end
  return nil, preflight_error("vm_id", "no usable restore point of %s in %s%s", vm_id, location,
    #skipped > 0 and (" (skipped: " .. table.concat(skipped, ", ") .. ")") or "")
end

-- ---------------------------------------------------------------------
-- Preflight

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

local function power_state(vm)
  local iv = vm.properties and vm.properties.instanceView
  for _, s in ipairs(iv and iv.statuses or {}) do
    if type(s.code) == "string" and s.code:match("^PowerState/") then return s.code:sub(12) end
  end
end

-- Is Azure Disk Encryption on for the VM (its OS disk's encryption
-- settings, or the extension)?
local function ade(vm)
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

local function des_of(d)
  local md = d and d.managedDisk
  return md and md.diskEncryptionSet and md.diskEncryptionSet.id
end

-- The disks to restore, from the restore point's metadata and its disk
-- restore points: { { lun, drp, sku, size_gb, caching, wa, source_id,
-- source_name, os_type, hyperv, security_type, des, tags } }, os first.
local function disk_plan(ctx, rp, vm)
  local c, cfg = ctx.client, ctx.config
  local meta = rp.properties.sourceMetadata or {}
  local sp = meta.storageProfile or {}
  local list = {}
  if sp.osDisk and sp.osDisk.diskRestorePoint then list[#list + 1] = { d = sp.osDisk, os = true } end
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.diskRestorePoint then list[#list + 1] = { d = d } end
  end
  if #list == 0 or not list[1].os then
    return nil, preflight_error("restore_point", "restore point %s holds no OS disk restore point", rp.id)
  end
  -- The disk restore points (osType, hyperVGeneration, security) and the
  -- source disks when they still exist (their tags), all at once.
  local ops = {}
  for i, x in ipairs(list) do
    ops[2 * i - 1] = c:begin("DiskRestorePoint_Get", { id = x.d.diskRestorePoint.id })
    local src = x.d.managedDisk and x.d.managedDisk.id
    if src then ops[2 * i] = c:begin("Disks_Get", { id = src }) end
  end
  local all = {}
  for i = 1, 2 * #list do if ops[i] then all[#all + 1] = ops[i] end end
  azrp.wait_all(all)
  local vm_disks = {}
  if vm then
    local vsp = vm.properties.storageProfile or {}
    vm_disks.os = vsp.osDisk
    for _, d in ipairs(vsp.dataDisks or {}) do vm_disks[math.floor(d.lun)] = d end
  end
  local out = {}
  for i, x in ipairs(list) do
    local drp, err = ops[2 * i - 1]:result()
    if not drp then return nil, err end
    local src = ops[2 * i] and ops[2 * i]:result()
    local d = x.d
    local lun = not x.os and math.floor(d.lun) or nil
    local label = x.os and "the OS disk" or string.format("the data disk at LUN %d", lun)
    local sku = (d.managedDisk and d.managedDisk.storageAccountType) or (src and src.sku and src.sku.name) or cfg.disk_sku
    if not sku then
      return nil, preflight_error("disk_sku", "the restore point does not say the SKU of %s (%s), and the source disk is gone: set disk_sku",
        label, tostring(d.name))
    end
    local dp = drp.properties or {}
    local current = vm_disks[x.os and "os" or lun]
    out[#out + 1] = { lun = lun, drp = drp.id, sku = sku, size_gb = d.diskSizeGB, caching = d.caching,
      wa = d.writeAcceleratorEnabled, source_id = d.managedDisk and d.managedDisk.id, source_name = d.name,
      os_type = x.os and (dp.osType or d.osType) or nil, hyperv = x.os and dp.hyperVGeneration or nil,
      security_type = x.os and ((dp.securityProfile and dp.securityProfile.securityType)
        or (meta.securityProfile and meta.securityProfile.securityType)) or nil,
      des = cfg.disk_encryption_set_id or des_of(current) or des_of(d),
      tags = src and src.tags or nil, label = label }
  end
  return out
end

-- Each mismatch between what the restore point holds and where it goes.
local function compare(ctx, rp, disks, vm, shape)
  local meta = rp.properties.sourceMetadata or {}
  local os = disks[1]
  local rp_sec = (meta.securityProfile and meta.securityProfile.securityType) or os.security_type
  if ctx.config.mode == "in_place" then
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
    if ade(vm) then
      return nil, preflight_error("vm_id", "the VM uses Azure Disk Encryption, whose OS disk Azure will not swap (OSDiskSwapNotSupportedForVMsUsingDiskEncryption); restore it as a new VM")
    end
    -- The restored disks go where the VM is: in its zone.
    local rpz = meta.zones or (meta.location and nil)
    if type(rpz) == "table" and rpz[1] and vm.zones and vm.zones[1] and rpz[1] ~= vm.zones[1] then
      ctx:emit{ type = "note", message = string.format("the restore point was taken in zone %s; the disks are restored into the VM's zone %s",
        tostring(rpz[1]), tostring(vm.zones[1])) }
    end
  end
  local size = shape.size
  if not M.premium_capable(size) then
    for _, d in ipairs(disks) do
      if PREMIUM[d.sku] then
        return nil, preflight_error(ctx.config.mode == "new" and "vm_size" or "vm_id",
          "VM size %s takes no premium storage, but %s is %s", tostring(size), d.label, d.sku)
      end
    end
  end
  return true
end

-- Reads only.  Anything wrong is a config error (exit 2) before anything
-- is created.
local steps = {}

function steps.preflight(ctx)
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
  local rp
  rp, err = choose(ctx, cfg.vm_id, location or "")
  if not rp then return nil, err end
  local rp_loc = azrp.location(rp.properties.sourceMetadata and rp.properties.sourceMetadata.location or "")
  local coll, cerr = c:call("RestorePointCollections_Get", { id = rp.id:match("^(.*)/restorePoints/[^/]+$") })
  if not coll then return nil, cerr end
  location = location or azrp.location(coll.location)
  if azrp.location(coll.location) ~= location then
    return nil, preflight_error("restore_point_id", "restore point %s is in %s, not in %s", rp.id, tostring(coll.location), location)
  end
  local disks
  disks, err = disk_plan(ctx, rp, vm)
  if not disks then return nil, err end
  local meta = rp.properties.sourceMetadata or {}
  local shape = { size = cfg.vm_size or (meta.hardwareProfile and meta.hardwareProfile.vmSize)
    or (vm and vm.properties.hardwareProfile.vmSize) }
  if cfg.mode == "in_place" then
    shape.size = vm.properties.hardwareProfile.vmSize
    local os_id = vm.properties.storageProfile.osDisk.managedDisk.id
    local cur = c:call("Disks_Get", { id = os_id })
    shape.current_hyperv = cur and cur.properties and cur.properties.hyperVGeneration
  end
  local ok
  ok, err = compare(ctx, rp, disks, vm, shape)
  if not ok then return nil, err end

  local target
  if cfg.mode == "new" then
    local rg = cfg.resource_group or vm_rg
    local rgb
    rgb, err = c:call("ResourceGroups_Get", { resource_group_name = rg })
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
    local zones = cfg.zone and { cfg.zone } or (vm and azrp.location(vm.location) == location and vm.zones) or nil
    target = { rg = rg, location = location, zones = zones, vm_name = cfg.vm_name,
      scope = "/subscriptions/" .. sub .. "/resourceGroups/" .. rg }
    if cfg.vm_name then
      local existing = c:call("VirtualMachines_Get", { resource_group_name = rg, vm_name = cfg.vm_name })
      if existing then return nil, preflight_error("vm_name", "a VM %s already exists in %s", cfg.vm_name, rg) end
    end
  else
    target = { rg = vm_rg, location = location, zones = vm.zones, vm_name = vm_name,
      scope = "/subscriptions/" .. sub .. "/resourceGroups/" .. vm_rg }
    local vsp = vm.properties.storageProfile
    local orig = { os = { id = vsp.osDisk.managedDisk.id, name = vsp.osDisk.name }, data = {},
      power = power_state(vm) or "running" }
    for _, d in ipairs(vsp.dataDisks or {}) do
      orig.data[#orig.data + 1] = { lun = math.floor(d.lun), id = d.managedDisk and d.managedDisk.id, name = d.name,
        caching = d.caching, wa = d.writeAcceleratorEnabled }
    end
    ctx:set("original", orig)
  end
  for _, d in ipairs(disks) do d.label = nil end
  ctx:set("restore_point", { id = rp.id, name = rp.name, time_created = rp.properties.timeCreated,
    location = rp_loc ~= "" and rp_loc or location })
  ctx:set("disk_plan", disks)
  ctx:set("target", target)
  ctx:set("shape", { size = shape.size, security_profile = meta.securityProfile,
    diagnostics = meta.diagnosticsProfile or (vm and vm.properties.diagnosticsProfile),
    tags = vm and vm.tags or nil, os_type = disks[1].os_type })
  return true
end

-- ---------------------------------------------------------------------
-- Restoring the disks (both modes)

local function suffix(d) return d.lun and string.format("lun%d", d.lun) or "os" end

function steps.restore_disks(ctx)
  local t, disks = ctx.data.target, ctx.data.disk_plan
  ctx:set("restore_started_at", ctx.data.restore_started_at or azrp.wall())
  local specs, made = {}, {}
  for _, d in ipairs(disks) do
    local name = ctx:name(suffix(d))
    local props = { creationData = { createOption = "Restore", sourceResourceId = d.drp }, osType = d.os_type,
      hyperVGeneration = d.hyperv, diskSizeGB = d.size_gb and math.floor(d.size_gb) or nil }
    if d.security_type and d.security_type ~= "Standard" then
      props.securityProfile = { securityType = d.security_type }
    end
    if d.des then
      -- Restore points fall back to platform keys: pass the DES explicitly.
      props.encryption = { type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = d.des }
    end
    local body = { location = t.location, sku = { name = d.sku }, zones = t.zones, tags = d.tags, properties = props }
    local id = t.scope .. "/providers/Microsoft.Compute/disks/" .. name
    specs[#specs + 1] = { key = "disk:" .. suffix(d), kind = "disk", id = id, name = name, op = "Disks_CreateOrUpdate",
      keep = true, params = { resource_group_name = t.rg, disk_name = name, body = body } }
    made[#made + 1] = { lun = d.lun, id = id, name = name, caching = d.caching, wa = d.wa, os_type = d.os_type }
  end
  local out, err = ctx:create_all(specs)
  if not out then return nil, err end
  for i, r in ipairs(out) do
    if not r[1] then return nil, r[2] or restore_error("RestoreFailed", "restoring disk %s failed", specs[i].name) end
  end
  ctx:set("disks", made)
  return true
end

-- ---------------------------------------------------------------------
-- New VM

function steps.network(ctx)
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

local function storage_profile(disks, os_option)
  local os_disk, data = nil, {}
  for _, d in ipairs(disks) do
    local ref = { createOption = "Attach", caching = d.caching, managedDisk = { id = d.id }, name = d.name,
      writeAcceleratorEnabled = d.wa or nil }
    if d.lun then
      ref.lun = d.lun
      data[#data + 1] = ref
    else
      ref.osType, ref.createOption = d.os_type, os_option or "Attach"
      os_disk = ref
    end
  end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  return os_disk, data
end

function steps.create_vm(ctx)
  local t, shape = ctx.data.target, ctx.data.shape
  local os_disk, data = storage_profile(ctx.data.disks)
  local storage = { osDisk = os_disk }
  if #data > 0 then storage.dataDisks = data end  -- an empty table would encode as {}
  local name = t.vm_name or ctx:name("vm")
  local props = { hardwareProfile = { vmSize = shape.size }, storageProfile = storage,
    securityProfile = shape.security_profile, diagnosticsProfile = shape.diagnostics,
    networkProfile = { networkInterfaces = { { id = ctx.data.nic_id, properties = { primary = true } } } } }
  local vm, err = ctx:create{ key = "vm", kind = "vm", name = name, keep = true,
    id = t.scope .. "/providers/Microsoft.Compute/virtualMachines/" .. name, op = "VirtualMachines_CreateOrUpdate",
    params = { resource_group_name = t.rg, vm_name = name, body = { location = t.location, zones = t.zones,
      tags = shape.tags, properties = props } } }
  if not vm then return nil, err end
  ctx:set("vm", { id = vm.id, name = name })
  return true
end

-- ---------------------------------------------------------------------
-- In place

local function timeout(ctx) return ctx:scaled(ctx.config.timeout or 1800) end

local function get_vm(ctx)
  return ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id, expand = "instanceView" })
end

-- Runs a power action and waits for the power state it leads to.
local function power(ctx, op, want)
  local vm, err = get_vm(ctx)
  if not vm then return nil, err end
  if power_state(vm) == want then return true end
  local ok
  ok, err = ctx.client:call(op, { id = ctx.config.vm_id }, { timeout = timeout(ctx) })
  if ok == nil and err then return nil, err end
  vm, err = get_vm(ctx)
  if not vm then return nil, err end
  if power_state(vm) ~= want then
    return nil, restore_error("PowerState", "after %s the VM is %s, not %s", op, tostring(power_state(vm)), want)
  end
  return true
end

function steps.deallocate(ctx)
  ctx:set("touched", true)
  return power(ctx, "VirtualMachines_Deallocate", "deallocated")
end

-- Which disks the VM has: { os = id, [lun] = id } (lower case).
local function attached(vm)
  local sp = vm.properties.storageProfile
  local out = { os = sp.osDisk.managedDisk.id:lower() }
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.managedDisk and d.managedDisk.id then out[math.floor(d.lun)] = d.managedDisk.id:lower() end
  end
  return out
end

-- The VM's body for a PUT that puts `disks` in (same shape as ctx.data.disks).
local function swap_body(vm, disks)
  local p = vm.properties
  local sp = p.storageProfile
  local os_new, data_new = storage_profile(disks)
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
  local storage = { osDisk = os_disk, dataDisks = data, imageReference = sp.imageReference,
    diskControllerType = sp.diskControllerType }
  if #data == 0 then storage.dataDisks = nil end
  local props = { hardwareProfile = p.hardwareProfile, storageProfile = storage, networkProfile = p.networkProfile,
    securityProfile = p.securityProfile, diagnosticsProfile = p.diagnosticsProfile, licenseType = p.licenseType }
  return { location = vm.location, tags = vm.tags, zones = vm.zones, identity = vm.identity, properties = props }
end

local function has_disks(vm, disks)
  local a = attached(vm)
  for _, d in ipairs(disks) do
    if a[d.lun or "os"] ~= d.id:lower() then return false, d end
  end
  return true
end

-- One update: the OS disk and the data disks at their LUNs.
local function put_disks(ctx, disks, what)
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
  if not vm then return nil, err end
  if has_disks(vm, disks) then return vm end
  local _, rg, name = parse_vm_id(ctx.config.vm_id)
  ctx:set("swap." .. what, azrp.wall())
  local ok
  ok, err = ctx.client:call("VirtualMachines_CreateOrUpdate", { resource_group_name = rg, vm_name = name,
    body = swap_body(vm, disks) }, { timeout = timeout(ctx) })
  if not ok then return nil, err end
  return true
end

function steps.swap(ctx)
  local ok, err = put_disks(ctx, ctx.data.disks, "restored")
  if not ok then return nil, err end
  -- A swap can answer 200 and change nothing: look.
  local vm
  vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
  if not vm then return nil, err end
  local fine, missing = has_disks(vm, ctx.data.disks)
  if not fine then
    return nil, restore_error("SwapIgnored", "the VM update answered but %s is not attached at %s", missing.name,
      missing.lun and ("LUN " .. missing.lun) or "the OS disk")
  end
  if vm.properties.provisioningState ~= "Succeeded" then
    return nil, restore_error("SwapFailed", "the VM's provisioningState is %s after the swap", tostring(vm.properties.provisioningState))
  end
  return true
end

function steps.start(ctx)
  local want = ctx.config.start
  if want == nil then want = ctx.data.original.power == "running" end
  if not want then return true end
  return power(ctx, "VirtualMachines_Start", "running")
end

-- Originals, once the VM runs on the restored disks, and only if asked.
-- A failure here fails nothing (the restore is done); it is reported.
function steps.originals(ctx)
  local orig = ctx.data.original
  local list = { orig.os }
  local restored = {}
  for _, d in ipairs(ctx.data.disks) do restored[d.lun or "os"] = true end
  for _, d in ipairs(orig.data) do if restored[d.lun] then list[#list + 1] = d end end
  if not ctx.config.delete_originals then
    ctx:set("report.original_disks_kept", list)
    return true
  end
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
  if not vm then return nil, err end
  local a = attached(vm)
  local ops, kept = {}, {}
  for _, d in ipairs(list) do
    local in_use = false
    for _, id in pairs(a) do if id == d.id:lower() then in_use = true end end
    if in_use then kept[#kept + 1] = d
    else
      ctx:set("deleting_original." .. d.name, d.id)
      ops[#ops + 1] = { d = d, op = ctx.client:begin("Disks_Delete", { id = d.id }) }
    end
  end
  local wait = {}
  for _, o in ipairs(ops) do if o.op then wait[#wait + 1] = o.op end end
  azrp.wait_all(wait)
  local deleted = {}
  for _, o in ipairs(ops) do
    local ok, derr = o.op and o.op:result()
    if o.op and (ok ~= nil or (derr and derr.status == 404)) then deleted[#deleted + 1] = o.d
    else
      kept[#kept + 1] = o.d
      ctx:emit{ type = "note", message = "original disk " .. o.d.name .. " was not deleted: " .. tostring(derr) }
    end
  end
  if #kept > 0 then ctx:set("report.original_disks_kept", kept) end
  ctx:set("report.original_disks_deleted", deleted)
  return true
end

-- ---------------------------------------------------------------------
-- Both: the VM as it ends

function steps.verify(ctx)
  local id = ctx.config.mode == "new" and ctx.data.vm.id or ctx.config.vm_id
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = id, expand = "instanceView" })
  if not vm then return nil, err end
  local fine, missing = has_disks(vm, ctx.data.disks)
  if not fine then
    return nil, restore_error("DiskMissing", "%s is not attached at %s", missing.name, missing.lun and ("LUN " .. missing.lun) or "the OS disk")
  end
  if vm.properties.provisioningState ~= "Succeeded" then
    return nil, azrp.error{ kind = "check", code = "Unhealthy", retryable = false,
      message = "the VM's provisioningState is " .. tostring(vm.properties.provisioningState) }
  end
  local rto = azrp.wall() - ctx.data.restore_started_at
  ctx:set("figure.rto_wall_seconds", round(rto))
  ctx:set("figure.rto_seconds", round(rto / ctx.time_scale))
  ctx:set("report.vm", vm.id)
  ctx:set("report.restore_point", ctx.data.restore_point.id)
  return true
end

-- ---------------------------------------------------------------------
-- Failure: what the run keeps, and the in-place rollback

--- finish(ctx, outcome): a run that did not succeed keeps nothing it made.
local function verified(ctx)
  local v = ctx.steps.verify
  return v and v.state == "done"
end

function M.finish(ctx, outcome)
  -- Verified is restored: a failure or kill after it (deleting the
  -- originals) undoes nothing.
  if outcome == "succeeded" or verified(ctx) then return end
  for _, r in ipairs(ctx.order) do
    if r.keep then ctx:record{ type = "keep", key = r.key, keep = false } end
  end
end

--- rollback(ctx) -> true | nil, err: an in-place restore that touched the
-- VM and did not finish puts the original disks back and starts the VM
-- again if it was running.  Idempotent: a resume or a cleanup after a
-- kill runs it again.
function M.rollback(ctx)
  if ctx.config.mode ~= "in_place" or not ctx.data.touched or verified(ctx) then return true end
  local orig = ctx.data.original
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id, expand = "instanceView" })
  if not vm then return nil, err end
  local back = { { id = orig.os.id, name = orig.os.name, caching = nil, os_type = nil } }
  local restored = {}
  for _, d in ipairs(ctx.data.disks or {}) do restored[d.lun or "os"] = true end
  for _, d in ipairs(orig.data) do
    if restored[d.lun] then back[#back + 1] = { lun = d.lun, id = d.id, name = d.name, caching = d.caching, wa = d.wa } end
  end
  if not has_disks(vm, back) then
    if power_state(vm) ~= "deallocated" then
      local ok, perr = power(ctx, "VirtualMachines_Deallocate", "deallocated")
      if not ok then return nil, perr end
    end
    local body_vm
    body_vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
    if not body_vm then return nil, err end
    -- The OS disk keeps its caching; put_disks' storage_profile needs one.
    back[1].caching = body_vm.properties.storageProfile.osDisk.caching
    local ok, perr = put_disks(ctx, back, "original")
    if not ok then return nil, perr end
    vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id })
    if not vm then return nil, err end
    local fine, missing = has_disks(vm, back)
    if not fine then
      return nil, restore_error("RollbackFailed", "the original disk %s is not attached again", missing.name)
    end
  end
  if orig.power == "running" then
    local ok, perr = power(ctx, "VirtualMachines_Start", "running")
    if not ok then return nil, perr end
  end
  ctx:set("rolled_back", true)
  return true
end

M.on_interrupt = "cleanup"

local ORDER = {
  new = { "preflight", "restore_disks", "network", "create_vm", "verify" },
  in_place = { "preflight", "restore_disks", "deallocate", "swap", "start", "verify", "originals" },
}

--- steps_for(config) -> the steps of a run of that config.
function M.steps_for(config)
  local out = {}
  for _, name in ipairs(ORDER[config.mode or "new"]) do out[#out + 1] = { name = name, run = steps[name] } end
  return out
end

-- The runner reads def.steps; a restore's depend on its mode.
M.steps = M.steps_for({ mode = "new" })

--- plan(client, config) -> { { step, kind, name, change } } | nil, err:
-- the disks it would create and the VM change, from reads only.
function M.plan(client, config)
  local cfg, err = M.check(config)
  if not cfg then return nil, err end
  local plan_ctx = { client = client, config = cfg, data = {}, time_scale = 1,
    set = function(self, k, v) self.data[k] = v end, emit = function() end }
  local ok
  ok, err = steps.preflight(plan_ctx)
  if not ok then return nil, err end
  local d = plan_ctx.data
  local out = {}
  local function add(step, kind, name, change) out[#out + 1] = { step = step, kind = kind, name = name, change = change } end
  add("preflight", "restore_point", d.restore_point.name, "restore from " .. d.restore_point.id)
  for _, x in ipairs(d.disk_plan) do
    add("restore_disks", "disk", "<run>-" .. suffix(x), string.format("+ %s %s GiB from %s", x.sku, tostring(x.size_gb),
      x.drp:match("[^/]+$")))
  end
  if cfg.mode == "new" then
    add("network", "nic", "<run>-nic", "+ in " .. cfg.subnet_id)
    add("create_vm", "vm", cfg.vm_name or "<run>-vm", "+ " .. tostring(d.shape.size) .. " in " .. d.target.location)
  else
    local orig = d.original
    add("deallocate", "vm", d.target.vm_name, "power: " .. orig.power .. " -> deallocated")
    add("swap", "vm", d.target.vm_name, "- osDisk " .. orig.os.name)
    add("swap", "vm", d.target.vm_name, "+ osDisk <run>-os")
    local restored = {}
    for _, x in ipairs(d.disk_plan) do if x.lun then restored[x.lun] = true end end
    for _, o in ipairs(orig.data) do
      if restored[o.lun] then
        add("swap", "vm", d.target.vm_name, string.format("- lun %d %s", o.lun, o.name))
        add("swap", "vm", d.target.vm_name, string.format("+ lun %d <run>-lun%d", o.lun, o.lun))
      end
    end
    local start = cfg.start
    if start == nil then start = orig.power == "running" end
    if start then add("start", "vm", d.target.vm_name, "power: deallocated -> running") end
    add("originals", "disk", orig.os.name .. " and the replaced data disks",
      cfg.delete_originals and "- deleted once the VM is healthy" or "kept")
  end
  return out
end

--- run(client, config [, opts]) -> report | nil, err, report.
function M.run(client, config, opts)
  return workflow.run(M, client, config, opts)
end

return M
