--- azrp.workflows.dr_drill: a disaster-recovery drill of one VM.
--
--     local drill = require "azrp.workflows.dr_drill"
--     local report, err = drill.run(client, { vm_id = ID, dr_location = "northeurope",
--       dr_resource_group = "rg-dr", progress = function(step, info) ... end })
--
-- Restore point of the VM, copied to the DR region and followed to 100 %
-- replication, disks restored from the copy, a test VM built on them in an
-- isolated network, a health check, and cleanup that runs whatever happened
-- before it.  Built only on the public client API (require "azrp").
--
-- progress(step, info) is called with info.state = "start", "progress" (the
-- copy's replication: info.percent, info.disks) or "done" (info.ok,
-- info.seconds, info.error, info.report: the report so far).  It runs before
-- cleanup for every step, so a caller can inspect the test VM's disks then.
-- Optional limits in seconds: copy_timeout, restore_timeout (none by
-- default), health_timeout (120), cleanup_timeout (600 per phase).
-- keep = true keeps the copied restore point.  The source restore point
-- drill-<id> always stays: it is a real restore point of the VM.
local azrp = require "azrp"

local core = azrp.core
local M = {}

M.STEPS = { "source_collection", "restore_point", "dr_collection", "copy", "restore_disks", "network",
  "create_vm", "health", "cleanup" }

M.VNET_PREFIX = "10.250.0.0/24"

-- ---------------------------------------------------------------------
-- Small helpers

local function drill_error(code, fmt, ...)
  return core.error{ kind = "drill", code = code, message = string.format(fmt, ...) }
end

-- "/subscriptions/s/resourceGroups/rg/providers/P/T/name" -> rg, name.
local function parse_vm_id(id)
  local rg, name = id:match("^/subscriptions/[^/]+/resource[Gg]roups/([^/]+)/providers/Microsoft%.Compute/virtualMachines/([^/]+)$")
  return rg, name
end

local function is_not_found(err)
  return err and (err.status == 404 or err.code == "ResourceNotFound" or err.code == "NotFound")
end

-- Seconds since the epoch of an ISO 8601 UTC time ("2026-11-25T19:30:24.123Z").
-- Computed by hand: os.time() reads its table as local time.
local function iso_to_epoch(s)
  local y, mo, d, h, mi, sec = tostring(s):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):([%d%.]+)")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- Days from 1970-01-01 (Howard Hinnant's days_from_civil); floor
  -- division spelled out, as LuaJIT has no //.
  local floor = math.floor
  if mo <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  local off = 0
  local sign, oh, om = s:match("T.*([%+%-])(%d%d):?(%d%d)$")
  if sign then off = (sign == "-" and -1 or 1) * (tonumber(oh) * 3600 + tonumber(om) * 60) end
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec) - off
end
M._iso_to_epoch = iso_to_epoch

local function round(x) return math.floor(x * 1000 + 0.5) / 1000 end

-- ---------------------------------------------------------------------
-- Resources the drill creates, in the order of creation.  Each is recorded
-- before its PUT is sent: a PUT that fails may still leave the resource.

local KINDS = {
  vm = { get = "VirtualMachines_Get", delete = "VirtualMachines_Delete" },
  disk = { get = "Disks_Get", delete = "Disks_Delete" },
  nic = { get = "NetworkInterfaces_Get", delete = "NetworkInterfaces_Delete" },
  vnet = { get = "VirtualNetworks_Get", delete = "VirtualNetworks_Delete" },
  nsg = { get = "NetworkSecurityGroups_Get", delete = "NetworkSecurityGroups_Delete" },
  restore_point = { get = "RestorePoints_Get", delete = "RestorePoints_Delete" },
}

-- Cleanup order: what holds a reference goes before what it references.
-- Each phase is deleted concurrently.
local PHASES = { { "vm" }, { "disk", "nic" }, { "vnet", "restore_point" }, { "nsg" } }

local function track(ctx, kind, id, extra)
  local r = { kind = kind, id = id }
  for k, v in pairs(extra or {}) do r[k] = v end
  local list = ctx.report.resources_created
  list[#list + 1] = r
  return r
end

-- ---------------------------------------------------------------------
-- The steps.  Each takes ctx and returns true or nil, err.

local steps = {}

-- (1) rpc-<vm> next to the VM; reused when present, provided it is this VM's.
function steps.source_collection(ctx)
  local c, o = ctx.client, ctx.opts
  local vm, err = c:call("VirtualMachines_Get", { id = o.vm_id })
  if not vm then return nil, err end
  ctx.vm = vm
  local name = "rpc-" .. ctx.vm_name
  local params = { resource_group_name = ctx.vm_rg, restore_point_collection_name = name }
  local coll, gerr = c:call("RestorePointCollections_Get", params)
  if not coll and not is_not_found(gerr) then return nil, gerr end
  if coll then
    local src = coll.properties and coll.properties.source and coll.properties.source.id
    if type(src) ~= "string" or src:lower() ~= vm.id:lower() then
      return nil, drill_error("CollectionInUse", "restore point collection %s exists but its source is %s, not %s",
        name, tostring(src), vm.id)
    end
  else
    params.body = { location = vm.location, properties = { source = { id = vm.id } } }
    coll, err = c:call("RestorePointCollections_CreateOrUpdate", params)
    if not coll then return nil, err end
    ctx.report.source_collection_created = true
  end
  ctx.source_coll = coll
  ctx.report.source_collection_id = coll.id
  return true
end

-- (2) drill-<id> in the source collection (default consistency).
function steps.restore_point(ctx)
  local rp, err = ctx.client:call("RestorePoints_Create", { resource_group_name = ctx.vm_rg,
    restore_point_collection_name = ctx.source_coll.name, restore_point_name = ctx.prefix,
    body = { properties = {} } })
  if not rp then return nil, err end
  ctx.rp = rp
  ctx.report.restore_point_id = rp.id
  return true
end

-- (3) rpc-<vm>-dr in the DR region, whose source is the source collection.
function steps.dr_collection(ctx)
  local c, o = ctx.client, ctx.opts
  local name = "rpc-" .. ctx.vm_name .. "-dr"
  local params = { resource_group_name = o.dr_resource_group, restore_point_collection_name = name }
  local coll, err = c:call("RestorePointCollections_Get", params)
  if not coll and not is_not_found(err) then return nil, err end
  if coll then
    local src = coll.properties and coll.properties.source and coll.properties.source.id
    if type(src) ~= "string" or src:lower() ~= ctx.source_coll.id:lower() then
      return nil, drill_error("CollectionInUse", "DR collection %s exists but its source is %s, not %s",
        name, tostring(src), ctx.source_coll.id)
    end
    if azrp.location(coll.location) ~= azrp.location(o.dr_location) then
      return nil, drill_error("CollectionInUse", "DR collection %s is in %s, not %s", name, coll.location, o.dr_location)
    end
  else
    params.body = { location = o.dr_location, properties = { source = { id = ctx.source_coll.id } } }
    coll, err = c:call("RestorePointCollections_CreateOrUpdate", params)
    if not coll then return nil, err end
    ctx.report.dr_collection_created = true
  end
  ctx.dr_coll = coll
  ctx.report.dr_collection_id = coll.id
  return true
end

-- (4) The copy, followed until every disk has replicated.
function steps.copy(ctx)
  local c, o = ctx.client, ctx.opts
  track(ctx, "restore_point", ctx.dr_coll.id .. "/restorePoints/" .. ctx.prefix)
  local op, err = c:restore_points_create{ resource_group_name = o.dr_resource_group,
    restore_point_collection_name = ctx.dr_coll.name, restore_point_name = ctx.prefix,
    body = { properties = { sourceRestorePoint = { id = ctx.rp.id } } } }
  if not op then return nil, err end
  local copy
  copy, err = op:wait{ timeout = o.copy_timeout, progress = function(pct, disks)
    ctx.notify("copy", { state = "progress", percent = pct, disks = disks })
  end }
  if not copy then return nil, err end
  ctx.copy = copy
  ctx.report.copy_id = copy.id
  return true
end

-- The copy's disks: { { lun = n | nil (OS), drp = id, meta = sourceMetadata disk } }.
local function copied_disks(copy)
  local sp = copy.properties.sourceMetadata.storageProfile
  local out = {}
  if sp.osDisk and sp.osDisk.diskRestorePoint then out[#out + 1] = { meta = sp.osDisk } end
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.diskRestorePoint then out[#out + 1] = { lun = d.lun, meta = d } end
  end
  for _, d in ipairs(out) do d.drp = d.meta.diskRestorePoint.id end
  return out
end

-- (5) One disk per copied disk restore point, all at once.
function steps.restore_disks(ctx)
  local c, o = ctx.client, ctx.opts
  ctx.restore_started = core.now()
  local created_at = iso_to_epoch(ctx.copy.properties.timeCreated or ctx.rp.properties.timeCreated)
  -- os.time() has whole seconds: never report a negative RPO.
  if created_at then ctx.report.rpo_seconds = round(math.max(0, os.time() - created_at)) end
  local ops, disks = {}, copied_disks(ctx.copy)
  if #disks == 0 then return nil, drill_error("NoDisks", "restore point %s holds no disk restore points", ctx.copy.id) end
  for i, d in ipairs(disks) do
    d.name = ctx.prefix .. "-" .. (d.lun and tostring(d.lun) or "os")
    local props = { creationData = { createOption = "Restore", sourceResourceId = d.drp }, osType = d.meta.osType }
    if not d.lun then props.hyperVGeneration = ctx.copy.properties.sourceMetadata.hyperVGeneration end
    local body = { location = o.dr_location, properties = props }
    local sku = d.meta.managedDisk and d.meta.managedDisk.storageAccountType
    if sku then body.sku = { name = sku } end
    d.id = ctx.dr_prefix .. "/providers/Microsoft.Compute/disks/" .. d.name
    track(ctx, "disk", d.id, { lun = d.lun, name = d.name, source = d.meta.managedDisk and d.meta.managedDisk.id })
    local op, err = c:disks_create_or_update{ resource_group_name = o.dr_resource_group, disk_name = d.name, body = body }
    if not op then return nil, err end
    ops[i] = op
  end
  for i, r in ipairs(azrp.wait_all(ops, o.restore_timeout)) do
    if not r[1] then return nil, r[2] or drill_error("Timeout", "restoring disk %s timed out", disks[i].name) end
  end
  ctx.disks = disks
  return true
end

-- (6) NSG denying all inbound and outbound internet, a vnet whose only
-- subnet is bound to it, and the test VM's NIC there.
function steps.network(ctx)
  local c, o = ctx.client, ctx.opts
  local rg, loc = o.dr_resource_group, o.dr_location
  local nsg_name, vnet_name, nic_name = ctx.prefix .. "-nsg", ctx.prefix .. "-vnet", ctx.prefix .. "-nic"
  track(ctx, "nsg", ctx.dr_prefix .. "/providers/Microsoft.Network/networkSecurityGroups/" .. nsg_name)
  local nsg, err = c:call("NetworkSecurityGroups_CreateOrUpdate", { resource_group_name = rg,
    network_security_group_name = nsg_name, body = { location = loc, properties = { securityRules = {
      { name = "deny-all-inbound", properties = { priority = 100, direction = "Inbound", access = "Deny",
        protocol = "*", sourceAddressPrefix = "*", sourcePortRange = "*",
        destinationAddressPrefix = "*", destinationPortRange = "*" } },
      { name = "deny-internet-outbound", properties = { priority = 100, direction = "Outbound", access = "Deny",
        protocol = "*", sourceAddressPrefix = "*", sourcePortRange = "*",
        destinationAddressPrefix = "Internet", destinationPortRange = "*" } } } } } })
  if not nsg then return nil, err end
  track(ctx, "vnet", ctx.dr_prefix .. "/providers/Microsoft.Network/virtualNetworks/" .. vnet_name)
  local vnet
  vnet, err = c:call("VirtualNetworks_CreateOrUpdate", { resource_group_name = rg, virtual_network_name = vnet_name,
    body = { location = loc, properties = { addressSpace = { addressPrefixes = { M.VNET_PREFIX } },
      subnets = { { name = "default", properties = { addressPrefix = M.VNET_PREFIX,
        networkSecurityGroup = { id = nsg.id } } } } } } })
  if not vnet then return nil, err end
  local subnet_id = vnet.id .. "/subnets/default"
  track(ctx, "nic", ctx.dr_prefix .. "/providers/Microsoft.Network/networkInterfaces/" .. nic_name)
  local nic
  nic, err = c:call("NetworkInterfaces_CreateOrUpdate", { resource_group_name = rg, network_interface_name = nic_name,
    body = { location = loc, properties = { ipConfigurations = { { name = "ipconfig1", properties = {
      subnet = { id = subnet_id }, privateIPAllocationMethod = "Dynamic" } } } } } })
  if not nic then return nil, err end
  ctx.nic = nic
  return true
end

-- (7) The test VM on the restored disks: OS disk attached, data disks at
-- their original LUNs, size and security profile as the source had them.
function steps.create_vm(ctx)
  local c, o = ctx.client, ctx.opts
  local meta = ctx.copy.properties.sourceMetadata
  local os_disk, data = nil, {}
  for _, d in ipairs(ctx.disks) do
    if d.lun then
      data[#data + 1] = { lun = d.lun, createOption = "Attach", caching = d.meta.caching, managedDisk = { id = d.id } }
    else
      os_disk = { osType = d.meta.osType, createOption = "Attach", caching = d.meta.caching, managedDisk = { id = d.id } }
    end
  end
  if not os_disk then return nil, drill_error("NoOsDisk", "restore point %s has no OS disk restore point", ctx.copy.id) end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  local storage = { osDisk = os_disk }
  if #data > 0 then storage.dataDisks = data end  -- an empty table would encode as {}
  local props = { hardwareProfile = { vmSize = meta.hardwareProfile and meta.hardwareProfile.vmSize },
    storageProfile = storage, securityProfile = meta.securityProfile,
    networkProfile = { networkInterfaces = { { id = ctx.nic.id, properties = { primary = true } } } } }
  local name = ctx.prefix .. "-vm"
  ctx.test_vm_name = name
  track(ctx, "vm", ctx.dr_prefix .. "/providers/Microsoft.Compute/virtualMachines/" .. name)
  local vm, err = c:call("VirtualMachines_CreateOrUpdate", { resource_group_name = o.dr_resource_group,
    vm_name = name, body = { location = o.dr_location, properties = props } })
  if not vm then return nil, err end
  ctx.report.test_vm_id = vm.id
  return true
end

-- The VM's power state code ("PowerState/running") from its instance view.
local function power_state(vm)
  local iv = vm.properties and vm.properties.instanceView
  for _, s in ipairs(iv and iv.statuses or {}) do
    if type(s.code) == "string" and s.code:match("^PowerState/") then return s.code end
  end
end

-- (8) Provisioned and running; a VM still starting gets until health_timeout.
function steps.health(ctx)
  local c, o = ctx.client, ctx.opts
  local deadline = core.now() + (o.health_timeout or 120)
  while true do
    local vm, err = c:call("VirtualMachines_Get", { resource_group_name = o.dr_resource_group,
      vm_name = ctx.test_vm_name, expand = "instanceView" })
    if not vm then return nil, err end
    local state, power = vm.properties.provisioningState, power_state(vm)
    if state == "Succeeded" and power == "PowerState/running" then
      ctx.report.rto_seconds = round(core.now() - ctx.restore_started)
      ctx.report.health = { provisioningState = state, powerState = power }
      return true
    end
    if state == "Failed" or core.now() >= deadline then
      return nil, drill_error("Unhealthy", "test VM %s is %s / %s", ctx.test_vm_name, tostring(state), tostring(power))
    end
    c:wait(1)
  end
end

-- ---------------------------------------------------------------------
-- Cleanup

-- Deletes the resources of one phase concurrently; returns the errors.
local function delete_phase(ctx, kinds)
  local c = ctx.client
  local ops, which = {}, {}
  local wanted = {}
  for _, k in ipairs(kinds) do wanted[k] = true end
  for _, r in ipairs(ctx.report.resources_created) do
    if wanted[r.kind] and not (r.kind == "restore_point" and ctx.opts.keep) then
      local op, err = c:begin(KINDS[r.kind].delete, { id = r.id })
      if op then
        ops[#ops + 1], which[#which + 1] = op, r
      else
        r.delete_error = tostring(err)
      end
    end
  end
  for i, res in ipairs(azrp.wait_all(ops, ctx.opts.cleanup_timeout or 600)) do
    local err = res[2]
    if res[1] == nil and err and not is_not_found(err) then which[i].delete_error = tostring(err) end
    if res[1] == nil and not err then which[i].delete_error = "timed out" end
  end
end

-- What is still there after deletion: each resource is looked up again.
local function leftovers(ctx)
  local out = {}
  for _, r in ipairs(ctx.report.resources_created) do
    if not (r.kind == "restore_point" and ctx.opts.keep) then
      local got, err = ctx.client:call(KINDS[r.kind].get, { id = r.id })
      if got or not is_not_found(err) then
        out[#out + 1] = { kind = r.kind, id = r.id, error = r.delete_error or (err and tostring(err)) }
      else
        r.deleted = true
      end
    end
  end
  return out
end

function steps.cleanup(ctx)
  for _, phase in ipairs(PHASES) do delete_phase(ctx, phase) end
  local left = leftovers(ctx)
  ctx.report.cleanup = { ok = #left == 0, leftovers = left, kept = ctx.opts.keep and ctx.report.copy_id or nil }
  if #left > 0 then
    return nil, drill_error("CleanupIncomplete", "%d resource(s) left behind, first %s", #left, left[1].id)
  end
  return true
end

-- ---------------------------------------------------------------------
-- Running

-- Runs one step, timed, into the report; a raised error is kept to be
-- raised again after cleanup (programmer mistakes must not hide).
local function run_step(ctx, name)
  ctx.notify(name, { state = "start" })
  local t0 = core.now()
  local okcall, ok, err = pcall(steps[name], ctx)
  if not okcall then ctx.raised = ctx.raised or ok; ok, err = nil, drill_error("Raised", "%s", tostring(ok)) end
  local entry = { name = name, seconds = round(core.now() - t0), ok = ok == true, error = err and tostring(err) or nil }
  local list = ctx.report.steps
  list[#list + 1] = entry
  if not ok and not ctx.err then ctx.err, ctx.report.failed_step = err, name end
  ctx.notify(name, { state = "done", ok = entry.ok, seconds = entry.seconds, error = err, report = ctx.report })
  return ok == true
end

local function check_opts(opts)
  if type(opts) ~= "table" then error("dr_drill.run: expected an options table", 3) end
  for _, k in ipairs({ "vm_id", "dr_location", "dr_resource_group" }) do
    if type(opts[k]) ~= "string" or opts[k] == "" then error("dr_drill.run: opts." .. k .. " is required", 3) end
  end
  if opts.progress ~= nil and type(opts.progress) ~= "function" then error("dr_drill.run: opts.progress must be a function", 3) end
  if not parse_vm_id(opts.vm_id) then error("dr_drill.run: opts.vm_id is not a virtual machine id: " .. opts.vm_id, 3) end
end

--- run(client, opts) -> report | nil, err, report.
function M.run(client, opts)
  check_opts(opts)
  local vm_rg, vm_name = parse_vm_id(opts.vm_id)
  local drill_id = opts.drill_id or os.date("!%Y%m%d%H%M%S")
  local sub = opts.vm_id:match("^(/subscriptions/[^/]+)")
  local report = { drill_id = drill_id, vm_id = opts.vm_id, steps = {}, resources_created = {}, ok = false }
  local ctx = { client = client, opts = opts, report = report, vm_rg = vm_rg, vm_name = vm_name,
    prefix = "drill-" .. drill_id, dr_prefix = sub .. "/resourceGroups/" .. opts.dr_resource_group }
  ctx.notify = function(step, info)
    -- A failing progress hook must not stop the drill or skip cleanup.
    if opts.progress then
      local ok, e = pcall(opts.progress, step, info)
      if not ok then ctx.raised = ctx.raised or e end
    end
  end
  local t0 = core.now()
  for i = 1, #M.STEPS - 1 do
    if not run_step(ctx, M.STEPS[i]) then break end
  end
  run_step(ctx, "cleanup")  -- always, whatever happened before
  report.seconds = round(core.now() - t0)
  if ctx.raised then error(ctx.raised, 0) end
  report.ok = ctx.err == nil
  if not report.ok then return nil, ctx.err, report end
  return report
end

return M
