--- azrp.workflows.dr_drill: a disaster-recovery drill of one VM.
--
--     local drill = require "azrp.workflows.dr_drill"
--     local report, err = drill.run(client, { vm_id = ID, dr_location = "northeurope",
--       dr_resource_group = "rg-dr" }, { progress = function(event) ... end })
--
-- A restore point of the VM, copied to the DR region and followed to 100 %
-- replication, disks restored from the copy, a test VM built on them in an
-- isolated network (an NSG denying all inbound and internet outbound), a
-- health check, and cleanup of everything the drill made, whatever
-- happened before it.  It runs on azrp.workflow: journalled, resumable
-- (`azrp resume RUN`), cleaned up by `azrp cleanup RUN` after a kill, and
-- stopped cleanly by SIGINT/SIGTERM.  Built only on the public facade.
--
-- Config: vm_id, dr_location, dr_resource_group (required);
-- keep_source_restore_point (default true: it is a real restore point of
-- the VM, an RPO the next drill or a real restore can use; one that failed
-- is deleted all the same), keep_copy (default false), health_timeout
-- (Azure seconds, default 600), health = { "provisioned", "running" } (the
-- names of M.checks to run; add your own to M.checks, or pass functions
-- as opts.health_checks).
--
-- Figures: rpo_seconds (the restore point's age when the restore began)
-- and rto_seconds (restore begun to test VM healthy), in Azure seconds
-- (wall seconds / the emulator's time scale), and both *_wall_seconds.
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local preflight = require "azrp.workflow.preflight"
local disks = require "azrp.workflow.disks"
local rpmod = require "azrp.workflow.restore_point"

local M = { error_kind = "drill", name = "dr_drill", id_prefix = "drill" }

M.VNET_PREFIX = "10.250.0.0/24"

local check_error = workflow.config_error

local function drill_error(code, fmt, ...)
  return azrp.error{ kind = "drill", code = code, message = string.format(fmt, ...), retryable = false }
end

-- "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/name" -> sub, rg, name.
local parse_vm_id = workflow.parse_vm_id

local round = require("azrp.workflow.run").round

-- ---------------------------------------------------------------------
-- Config

local KNOWN = { vm_id = "string", dr_location = "string", dr_resource_group = "string",
  keep_source_restore_point = "boolean", keep_copy = "boolean", health_timeout = "number",
  health = "table", copy_timeout = "number", busy_timeout = "number", unsupported_disks = "string" }

--- check(config) -> config | nil, err: every field, before any request.
function M.check(config)
  local known, kerr = workflow.check_settings(config, KNOWN)
  if not known then return nil, kerr end
  for _, k in ipairs({ "vm_id", "dr_location", "dr_resource_group" }) do
    if config[k] == nil or config[k] == "" then return nil, check_error(k, "is required") end
  end
  if not parse_vm_id(config.vm_id) then
    return nil, check_error("vm_id", "%q is not a virtual machine id (/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME)", config.vm_id)
  end
  if not azrp.location(config.dr_location) then return nil, check_error("dr_location", "is not a region name") end
  if not config.dr_resource_group:match("^[%w%-_%.%(%)]+$") then
    return nil, check_error("dr_resource_group", "%q is not a resource group name", config.dr_resource_group)
  end
  if config.unsupported_disks and config.unsupported_disks ~= "refuse" and config.unsupported_disks ~= "exclude" then
    return nil, check_error("unsupported_disks", "must be \"refuse\" or \"exclude\", not %q", config.unsupported_disks)
  end
  for _, name in ipairs(config.health or {}) do
    if not M.checks[name] then return nil, check_error("health", "no health check named %q", tostring(name)) end
  end
  local c = {}
  for k, v in pairs(config) do c[k] = v end
  c.dr_location = azrp.location(c.dr_location)
  if c.keep_source_restore_point == nil then c.keep_source_restore_point = true end
  c.health = c.health or { "provisioned", "running" }
  return c
end

M.base_name = workflow.vm_base_name

function M.target(config)
  return { vm_id = config.vm_id, dr_location = config.dr_location, dr_resource_group = config.dr_resource_group }
end

-- Where the drill's resources go: "/subscriptions/S/resourceGroups/rg-dr".
local function dr_scope(ctx)
  local sub = parse_vm_id(ctx.config.vm_id)
  return "/subscriptions/" .. sub .. "/resourceGroups/" .. ctx.config.dr_resource_group
end

-- ---------------------------------------------------------------------
-- Health checks: function(ctx, vm) -> true | nil, msg (vm with its instance view)

local function power_state(vm)
  local iv = vm.properties and vm.properties.instanceView
  for _, s in ipairs(iv and iv.statuses or {}) do
    if type(s.code) == "string" and s.code:match("^PowerState/") then return s.code end
  end
end

M.checks = {
  provisioned = function(_, vm)
    local ps = vm.properties and vm.properties.provisioningState
    if ps == "Succeeded" then return true end
    return nil, "provisioningState is " .. tostring(ps)
  end,
  running = function(_, vm)
    local p = power_state(vm)
    if p == "PowerState/running" then return true end
    return nil, "power state is " .. tostring(p)
  end,
}

-- ---------------------------------------------------------------------
-- The steps.  Each is idempotent on resume: what it makes goes through
-- ctx:create (adopted when the journal says it was made), what later
-- steps need is kept with ctx:set.

local steps = {}

local function config_error(field, fmt, ...)
  return azrp.error{ kind = "invalid", code = "PreflightFailed", target = field,
    message = field .. ": " .. string.format(fmt, ...), retryable = false }
end

-- Why a disk of the VM cannot be in a restore point, or nil.
local function unsupported(d, disk_body, is_os)
  local sku = (d.managedDisk and d.managedDisk.storageAccountType)
    or (disk_body and disk_body.sku and disk_body.sku.name)
  if is_os and d.diffDiskSettings then return "an ephemeral OS disk" end
  if sku == "UltraSSD_LRS" then return "an Ultra disk" end
  if sku == "PremiumV2_LRS" then return nil end
  local shares = disk_body and disk_body.properties and tonumber(disk_body.properties.maxShares)
  if shares and shares > 1 then return "a shared disk (maxShares " .. shares .. ")" end
end

-- Reads only: the VM and its disks, the DR resource group, the two
-- collections when they exist.  Anything wrong is a config error (exit 2)
-- before anything is created.
function steps.preflight(ctx)
  local c, cfg = ctx.client, ctx.config
  local vm, err = c:call("VirtualMachines_Get", { id = cfg.vm_id })
  if not vm then
    if err.status == 404 then return nil, config_error("vm_id", "no VM %s (%s)", cfg.vm_id, tostring(err.message)) end
    return nil, err
  end
  local sp = vm.properties.storageProfile or {}
  local disks = {}
  if sp.osDisk then disks[#disks + 1] = { d = sp.osDisk, os = true } end
  for _, d in ipairs(sp.dataDisks or {}) do disks[#disks + 1] = { d = d } end
  local ops = {}
  for i, x in ipairs(disks) do
    local id = x.d.managedDisk and x.d.managedDisk.id
    if id then ops[i] = c:begin("Disks_Get", { id = id }) end
  end
  local list = {}
  for i = 1, #disks do list[#list + 1] = ops[i] end
  azrp.wait_all(list)
  local exclude = {}
  for i, x in ipairs(disks) do
    local body = ops[i] and ops[i]:result()
    local why = unsupported(x.d, body, x.os)
    if why then
      local name = x.d.name or (x.d.managedDisk and x.d.managedDisk.id)
      if x.os or cfg.unsupported_disks ~= "exclude" then
        return nil, config_error("vm_id", "disk %s is %s, which restore points do not support%s", tostring(name), why,
          x.os and "" or " (set unsupported_disks = \"exclude\" to drill without it)")
      end
      exclude[#exclude + 1] = { id = x.d.managedDisk.id }
      ctx:emit{ type = "note", message = string.format("disk %s is %s: excluded from the drill", tostring(name), why) }
    end
  end
  local rg
  rg, err = c:call("ResourceGroups_Get", { resource_group_name = cfg.dr_resource_group })
  if not rg then
    if err.status == 404 then
      return nil, config_error("dr_resource_group", "resource group %s does not exist (create it: az group create -n %s -l %s)",
        cfg.dr_resource_group, cfg.dr_resource_group, cfg.dr_location)
    end
    return nil, err
  end
  -- the DR region exists, and holds the test VM's vCPUs
  local ok
  ok, err = preflight.region(c, cfg.dr_location, "dr_location")
  if not ok then return nil, err end
  local size = vm.properties.hardwareProfile and vm.properties.hardwareProfile.vmSize
  if size then
    ok, err = preflight.cores(c, cfg.dr_location, size, 1, { field = "dr_location",
      warn = function(msg) ctx:emit{ type = "note", message = msg } end })
    if not ok then return nil, err end
  end
  ctx:set("exclude_disks", exclude)
  ctx:set("source_vm", { id = vm.id, name = vm.name, location = vm.location })
  return true
end

-- rpc-<vm> next to the VM, reused when it is this VM's.
function steps.source_collection(ctx)
  local vm = ctx.data.source_vm  -- read by preflight
  local sub, rg, name = parse_vm_id(vm.id)
  local coll_name = "rpc-" .. name
  local id = "/subscriptions/" .. sub .. "/resourceGroups/" .. rg .. "/providers/Microsoft.Compute/restorePointCollections/" .. coll_name
  local coll, err = ctx:ensure({ key = "source_collection", kind = "collection", id = id, name = coll_name,
    op = "RestorePointCollections_CreateOrUpdate", params = { resource_group_name = rg,
      restore_point_collection_name = coll_name, body = { location = vm.location, properties = { source = { id = vm.id } } } } },
    function(body)
      local src = body.properties and body.properties.source and body.properties.source.id
      if type(src) == "string" and src:lower() == vm.id:lower() then return true end
      return nil, string.format("restore point collection %s exists but its source is %s, not %s", id, tostring(src), vm.id)
    end)
  if not coll then return nil, err end
  ctx:set("vm", { id = vm.id, name = vm.name, location = vm.location, rg = rg })
  ctx:set("source_collection", { id = coll.id, name = coll.name })
  return true
end

-- A restore point of the VM (default consistency), named after the run.
function steps.restore_point(ctx)
  local vm, coll = ctx.data.vm, ctx.data.source_collection
  local name = ctx:name()
  local spec = { key = "source_restore_point", kind = "restore_point", name = name,
    id = coll.id .. "/restorePoints/" .. name, keep = ctx.config.keep_source_restore_point,
    op = "RestorePoints_Create", params = { resource_group_name = vm.rg, restore_point_collection_name = coll.name,
      restore_point_name = name, body = { properties = {
        excludeDisks = #(ctx.data.exclude_disks or {}) > 0 and ctx.data.exclude_disks or nil } } } }
  -- Azure makes one restore point of a VM at a time: while another is
  -- being created (another drill, a backup), wait for it.
  local rp, err = rpmod.create(ctx, spec, function() ctx:set("rp_started_at", azrp.wall()) end)
  if not rp then return nil, err end
  ctx:set("restore_point", { id = rp.id, name = rp.name })
  return true
end

--- Is err Azure's refusal of a second concurrent restore point creation?
-- (azrp.workflow.restore_point.busy)
-- @function busy
M.busy = rpmod.busy

-- rpc-<vm>-dr in the DR region, whose source is the source collection.
function steps.dr_collection(ctx)
  local cfg, vm, src = ctx.config, ctx.data.vm, ctx.data.source_collection
  local name = "rpc-" .. vm.name .. "-dr"
  local id = dr_scope(ctx) .. "/providers/Microsoft.Compute/restorePointCollections/" .. name
  local coll, err = ctx:ensure({ key = "dr_collection", kind = "collection", id = id, name = name,
    op = "RestorePointCollections_CreateOrUpdate", params = { resource_group_name = cfg.dr_resource_group,
      restore_point_collection_name = name, body = { location = cfg.dr_location, properties = { source = { id = src.id } } } } },
    function(body)
      local s = body.properties and body.properties.source and body.properties.source.id
      if type(s) ~= "string" or s:lower() ~= src.id:lower() then
        return nil, string.format("DR collection %s exists but its source is %s, not %s", id, tostring(s), src.id)
      end
      if azrp.location(body.location) ~= cfg.dr_location then
        return nil, string.format("DR collection %s is in %s, not %s", id, tostring(body.location), cfg.dr_location)
      end
      return true
    end)
  if not coll then return nil, err end
  ctx:set("dr_collection", { id = coll.id, name = coll.name })
  return true
end

-- The copy, followed until every disk has replicated.
function steps.copy(ctx)
  local cfg, coll = ctx.config, ctx.data.dr_collection
  local name = ctx:name()
  local copy, err = ctx:create{ key = "copy", kind = "restore_point", name = name,
    id = coll.id .. "/restorePoints/" .. name, keep = cfg.keep_copy or false,
    op = "RestorePoints_Create", params = { resource_group_name = cfg.dr_resource_group,
      restore_point_collection_name = coll.name, restore_point_name = name,
      body = { properties = { sourceRestorePoint = { id = ctx.data.restore_point.id } } } } }
  if not copy then return nil, err end
  -- What the later steps need of the copy: its disks and the VM's shape.
  local meta = copy.properties.sourceMetadata
  local disks = rpmod.disks(meta.storageProfile)
  if #disks == 0 then return nil, drill_error("NoDisks", "restore point %s holds no disk restore points", copy.id) end
  ctx:set("copy", { id = copy.id, disks = disks, vm_size = meta.hardwareProfile and meta.hardwareProfile.vmSize,
    security_profile = meta.securityProfile, hyperv = meta.hyperVGeneration, os_type = meta.osProfile and meta.osProfile.osType })
  return true
end

-- One disk per copied disk restore point, all at once.
function steps.restore_disks(ctx)
  local cfg, copy = ctx.config, ctx.data.copy
  local now = azrp.wall()
  if not ctx.data.restore_started_at then
    ctx:set("restore_started_at", now)
    local rpo = math.max(0, now - ctx.data.rp_started_at)
    ctx:set("figure.rpo_wall_seconds", round(rpo))
    ctx:set("figure.rpo_seconds", round(rpo / ctx.time_scale))
  end
  return disks.restore(ctx, { disks = copy.disks, scope = dr_scope(ctx), rg = cfg.dr_resource_group,
    error = drill_error,
    body = function(d)
      local props = { creationData = { createOption = "Restore", sourceResourceId = d.drp }, osType = d.os_type }
      if not d.lun then props.hyperVGeneration = copy.hyperv end
      return { location = cfg.dr_location, properties = props, sku = d.sku and { name = d.sku } or nil }
    end,
    entry = function(d, id) return { lun = d.lun, id = id, caching = d.caching, os_type = d.os_type } end })
end

local function deny_rule(name, direction, dest)
  return { name = name, properties = { priority = 100, direction = direction, access = "Deny", protocol = "*",
    sourceAddressPrefix = "*", sourcePortRange = "*", destinationAddressPrefix = dest, destinationPortRange = "*" } }
end

-- An NSG denying all inbound and internet outbound, a vnet whose only
-- subnet is bound to it, and the test VM's NIC there.
function steps.network(ctx)
  local cfg = ctx.config
  local rg, loc, scope = cfg.dr_resource_group, cfg.dr_location, dr_scope(ctx) .. "/providers/Microsoft.Network/"
  local nsg_name, vnet_name, nic_name = ctx:name("nsg"), ctx:name("vnet"), ctx:name("nic")
  local nsg, err = ctx:create{ key = "nsg", kind = "nsg", name = nsg_name, id = scope .. "networkSecurityGroups/" .. nsg_name,
    op = "NetworkSecurityGroups_CreateOrUpdate", params = { resource_group_name = rg, network_security_group_name = nsg_name,
      body = { location = loc, properties = { securityRules = { deny_rule("deny-all-inbound", "Inbound", "*"),
        deny_rule("deny-internet-outbound", "Outbound", "Internet") } } } } }
  if not nsg then return nil, err end
  local vnet
  vnet, err = ctx:create{ key = "vnet", kind = "vnet", name = vnet_name, id = scope .. "virtualNetworks/" .. vnet_name,
    op = "VirtualNetworks_CreateOrUpdate", params = { resource_group_name = rg, virtual_network_name = vnet_name,
      body = { location = loc, properties = { addressSpace = { addressPrefixes = { M.VNET_PREFIX } },
        subnets = { { name = "default", properties = { addressPrefix = M.VNET_PREFIX, networkSecurityGroup = { id = nsg.id } } } } } } } }
  if not vnet then return nil, err end
  local nic
  nic, err = ctx:create{ key = "nic", kind = "nic", name = nic_name, id = scope .. "networkInterfaces/" .. nic_name,
    op = "NetworkInterfaces_CreateOrUpdate", params = { resource_group_name = rg, network_interface_name = nic_name,
      body = { location = loc, properties = { ipConfigurations = { { name = "ipconfig1", properties = {
        subnet = { id = vnet.id .. "/subnets/default" }, privateIPAllocationMethod = "Dynamic" } } } } } } }
  if not nic then return nil, err end
  ctx:set("nic_id", nic.id)
  return true
end

-- The test VM on the restored disks: OS disk attached, data disks at
-- their original LUNs, size and security profile as the source had them.
function steps.create_vm(ctx)
  local cfg, copy = ctx.config, ctx.data.copy
  local os_disk, data = nil, {}
  for _, d in ipairs(ctx.data.disks) do
    if d.lun then
      data[#data + 1] = { lun = d.lun, createOption = "Attach", caching = d.caching, managedDisk = { id = d.id } }
    else
      os_disk = { osType = d.os_type, createOption = "Attach", caching = d.caching, managedDisk = { id = d.id } }
    end
  end
  if not os_disk then return nil, drill_error("NoOsDisk", "restore point %s has no OS disk restore point", copy.id) end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  local storage = { osDisk = os_disk }
  if #data > 0 then storage.dataDisks = data end  -- an empty table would encode as {}
  local name = ctx:name("vm")
  local vm, err = ctx:create{ key = "vm", kind = "vm", name = name,
    id = dr_scope(ctx) .. "/providers/Microsoft.Compute/virtualMachines/" .. name, op = "VirtualMachines_CreateOrUpdate",
    params = { resource_group_name = cfg.dr_resource_group, vm_name = name, body = { location = cfg.dr_location,
      properties = { hardwareProfile = { vmSize = copy.vm_size }, storageProfile = storage,
        securityProfile = copy.security_profile,
        networkProfile = { networkInterfaces = { { id = ctx.data.nic_id, properties = { primary = true } } } } } } } }
  if not vm then return nil, err end
  ctx:set("test_vm", { id = vm.id, name = name })
  return true
end

-- Every configured check passes, or the VM gets until health_timeout.
function steps.health(ctx)
  local cfg = ctx.config
  local checks = {}
  for _, name in ipairs(cfg.health) do checks[#checks + 1] = { name = name, fn = M.checks[name] } end
  for i, fn in ipairs(ctx.opts.health_checks or {}) do checks[#checks + 1] = { name = "custom" .. i, fn = fn } end
  local deadline = azrp.now() + ctx:scaled(cfg.health_timeout or 600)
  local interval = math.max(0.02, ctx:scaled(5))
  while true do
    local vm, err = ctx.client:call("VirtualMachines_Get", { id = ctx.data.test_vm.id, expand = "instanceView" })
    if not vm then return nil, err end
    local failed
    for _, chk in ipairs(checks) do
      local ok, msg = chk.fn(ctx, vm)
      if not ok then failed = chk.name .. ": " .. tostring(msg); break end
    end
    if not failed then
      local rto = azrp.wall() - ctx.data.restore_started_at
      ctx:set("figure.rto_wall_seconds", round(rto))
      ctx:set("figure.rto_seconds", round(rto / ctx.time_scale))
      ctx:set("health", { provisioningState = vm.properties.provisioningState, powerState = power_state(vm) })
      return true
    end
    if vm.properties.provisioningState == "Failed" or azrp.now() >= deadline then
      -- The drill ran but the VM did not come up: a failed check (exit 3).
      return nil, azrp.error{ kind = "check", code = "Unhealthy", retryable = false,
        message = string.format("test VM %s: %s", ctx.data.test_vm.name, failed) }
    end
    local ok, serr = ctx:sleep(interval)
    if not ok then return nil, serr end
  end
end

M.steps = workflow.steps({ "preflight", "source_collection", "restore_point", "dr_collection", "copy", "restore_disks",
  "network", "create_vm", "health" }, steps)

--- The step names, cleanup last.
M.STEPS = workflow.step_names(M.steps)

-- A source restore point that failed is never kept (a failed one is no
-- RPO for anyone).  ctx:create already marks failures; nothing else to adjust.
M.on_interrupt = "cleanup"

--- plan(client, config) -> { { kind, name, id, step, keep }, ... } | nil, err:
-- what a run would create, from a GET of the VM (nothing is created).
function M.plan(client, config)
  local cfg, err = M.check(config)
  if not cfg then return nil, err end
  local vm
  vm, err = client:call("VirtualMachines_Get", { id = cfg.vm_id })
  if not vm then return nil, err end
  local out = {}
  local function add(kind, name, step, keep) out[#out + 1] = { kind = kind, name = name, step = step, keep = keep or false } end
  add("collection", "rpc-" .. vm.name .. " (when missing)", "source_collection", true)
  add("restore_point", "<run>", "restore_point", cfg.keep_source_restore_point)
  add("collection", "rpc-" .. vm.name .. "-dr in " .. cfg.dr_location .. " (when missing)", "dr_collection", true)
  add("restore_point", "<run> (copy in " .. cfg.dr_resource_group .. ")", "copy", cfg.keep_copy)
  local sp = vm.properties.storageProfile
  add("disk", "<run>-os", "restore_disks")
  for _, d in ipairs(sp.dataDisks or {}) do add("disk", "<run>-lun" .. d.lun, "restore_disks") end
  add("nsg", "<run>-nsg", "network"); add("vnet", "<run>-vnet", "network"); add("nic", "<run>-nic", "network")
  add("vm", "<run>-vm (" .. tostring(vm.properties.hardwareProfile and vm.properties.hardwareProfile.vmSize) .. ")", "create_vm")
  return out
end

--- run(client, config [, opts]) -> report | nil, err, report: a whole
-- drill in this process (opts as azrp.workflow.start).
function M.run(client, config, opts)
  return workflow.run(M, client, config, opts)
end

return M
