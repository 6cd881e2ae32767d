-- Microsoft.Compute restore point collections and restore points.
--
-- A collection belongs to one VM (source.id), or, as the target of
-- cross-region copies, to a collection in another region.  Creating a
-- restore point snapshots every included disk of the VM at the moment the
-- PUT arrives; each snapshot becomes a disk restore point that keeps only
-- the blocks changed since the previous restore point of the same disk in
-- the collection (incremental).  A copy (sourceRestorePoint) shares the
-- source's snapshots and replicates them over time: each disk's
-- completionPercent grows until 100.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local util = require "azrp.emulator.util"
local content = require "azrp.emulator.content"
local access = require "azrp.emulator.providers.access"
local des = require "azrp.emulator.providers.disk_encryption_sets"
local vm_rules = require "azrp.emulator.vm_rules"
local clock_mod = require "azrp.emulator.clock"

local M = {}

M.RPC_TYPE = "Microsoft.Compute/restorePointCollections"
M.RP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints"
M.DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"
local VM_TYPE = "Microsoft.Compute/virtualMachines"
local DISK_TYPE = "Microsoft.Compute/disks"

local RPC = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/restorePointCollections/{rpc}"
local RP = RPC .. "/restorePoints/{rp}"

M.MIN_API = "2021-03-01"
M.CONSISTENCY = { "CrashConsistent", "FileSystemConsistent", "ApplicationConsistent" }

-- Nominal durations (seconds, before --time-scale).
M.CREATE_BASE, M.CREATE_PER_DISK = 20, 5
M.COPY_START = 15            -- until a copy's provisioningState is Succeeded
M.COPY_BASE = 240            -- replication of one disk, plus its bytes at:
M.COPY_BYTES_PER_S = 32 * 1024 * 1024
M.PROGRESS_STEP = 5          -- completionPercent moves in steps of this

local function rpc_id(req)
  return ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute",
    "restorePointCollections", req.params.rpc)
end

----------------------------------------------------------------------------
-- Collections
----------------------------------------------------------------------------

local function rp_entries(em, coll_id)
  return em.store:list(M.RP_TYPE, { parent = coll_id })
end

local function put_collection(em, req)
  local bad = arm.check_name(req.params.rpc, "generic", "restorePointCollectionName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local location, lerr = arm.location(body, M.RPC_TYPE)
  if not location then return lerr end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local props = body.properties or {}
  local source_id = type(props.source) == "table" and props.source.id or nil
  if source_id and source_id:sub(1, 1) ~= "/" then source_id = "/" .. source_id end
  local id = rpc_id(req)
  local existing = em.store:get_typed(id, M.RPC_TYPE)

  if existing then
    if existing.body.location ~= location then
      return reply.error(409, "InvalidResourceLocation", string.format(
        "The resource '%s' already exists in location '%s' in resource group '%s'. " ..
        "A resource with the same name cannot be created in location '%s'.",
        req.params.rpc, existing.body.location, req.params.rg, location))
    end
    if source_id and not ids.same(source_id, existing.body.properties.source.id) then
      return reply.error(409, "PropertyChangeNotAllowed",
        "Changing property 'source.id' is not allowed: only tags of a restore point collection may be updated.",
        "properties.source.id")
    end
    existing.body.tags = tags
    return reply.json(200, arm.doc(existing))
  end

  if not source_id then
    return reply.error(400, "InvalidParameter",
      "Required parameter 'properties.source.id' is missing (null).", "properties.source.id")
  end
  local src = ids.parse(source_id)
  local src_type = src and src.type and src.type:lower()
  local source_location
  if src_type == VM_TYPE:lower() then
    local vm = em.store:get_typed(source_id, VM_TYPE)
    if not vm then
      return reply.error(404, "NotFound", string.format(
        "The source virtual machine '%s' was not found.", source_id), "properties.source.id")
    end
    if vm.body.location ~= location then
      return reply.error(400, "InvalidParameter", string.format(
        "The restore point collection must be in the VM's region '%s', not '%s'.",
        vm.body.location, location), "location")
    end
    source_id, source_location = vm.body.id, vm.body.location
  elseif src_type == M.RPC_TYPE:lower() then
    local sc = em.store:get_typed(source_id, M.RPC_TYPE)
    if not sc then
      return reply.error(404, "NotFound", string.format(
        "The source restore point collection '%s' was not found.", source_id), "properties.source.id")
    end
    if sc.body.location == location then
      return reply.error(400, "InvalidParameter",
        "A restore point collection that copies another must be in a different region than its source.",
        "location")
    end
    if sc.x.copy_target then
      return reply.error(400, "InvalidParameter",
        "The source collection is itself a cross-region copy target; copies of copies are not supported.",
        "properties.source.id")
    end
    source_id, source_location = sc.body.id, sc.body.location
  else
    return reply.error(400, "InvalidParameter", string.format(
      "properties.source.id '%s' must be the id of a virtual machine or of a restore point collection.",
      tostring(source_id)), "properties.source.id")
  end
  local doc = arm.tracked(id, M.RPC_TYPE, req.params.rpc, location, tags)
  doc.properties = {
    source = { id = source_id, location = source_location },
    restorePointCollectionId = util.guid(),
    provisioningState = "Succeeded",
    instantAccess = props.instantAccess,
  }
  local e = em.store:put{ id = id, type = M.RPC_TYPE, body = doc,
    x = { copy_target = src_type == M.RPC_TYPE:lower() } }
  return reply.json(201, arm.doc(e))
end

local function collection_entry(em, req)
  local e = em.store:get_typed(rpc_id(req), M.RPC_TYPE)
  if e then return e end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return nil, rerr end
  return nil, reply.not_found(M.RPC_TYPE, req.params.rpc, req.params.rg)
end

local function patch_collection(em, req)
  local e, err = collection_entry(em, req)
  if not e then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  -- Every check before any change: a refused PATCH changes nothing.
  local props = body.properties or {}
  if type(props.source) == "table" and props.source.id
    and not ids.same(props.source.id, e.body.properties.source.id) then
    return reply.error(409, "PropertyChangeNotAllowed",
      "Changing property 'source.id' is not allowed: only tags of a restore point collection may be updated.",
      "properties.source.id")
  end
  local terr = arm.patch_tags(e, body)
  if terr then return terr end
  return reply.json(200, arm.doc(e))
end

local rp_doc -- forward

local function get_collection(em, req)
  local e, err = collection_entry(em, req)
  if not e then return err end
  local doc = arm.doc(e)
  local expand = (req.query["$expand"] or ""):lower()
  if expand == "restorepoints" then
    local list = json.array()
    for _, rp in ipairs(rp_entries(em, e.id)) do list[#list + 1] = rp_doc(em, rp, false) end
    doc.properties.restorePoints = list
  elseif expand ~= "" then
    return reply.error(400, "InvalidParameter", string.format(
      "The value '%s' of $expand is not valid; it may be 'restorePoints'.", req.query["$expand"]), "$expand")
  end
  return reply.json(200, doc)
end

-- A blocker to deleting restore point rp (an active SAS on one of its
-- disk restore points), or nil.
local function delete_blocker(em, rp)
  for _, drp in ipairs(em.store:list(M.DRP_TYPE, { parent = rp.id })) do
    if access.active(em, drp) then
      return reply.error(409, "DiskRestorePointUsedByCustomer", string.format(
        "Disk restore point '%s' has an active shared access signature. " ..
        "Call EndGetAccess before deleting the restore point.", drp.body.name))
    end
  end
  if rp.body.properties.provisioningState == "Creating" then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Restore point '%s' is being created; it can be deleted once creation has finished.", rp.body.name))
  end
  return nil
end

local function remove_tree(em, id)
  for _, child in ipairs(em.store:under(id)) do em.store:delete(child.id) end
  em.store:delete(id)
end

local function delete_collection(em, req)
  local e = em.store:get_typed(rpc_id(req), M.RPC_TYPE)
  if not e then return reply.empty(204) end
  for _, rp in ipairs(rp_entries(em, e.id)) do
    local blocked = delete_blocker(em, rp)
    if blocked then return blocked end
  end
  e.body.properties.provisioningState = "Deleting"
  local _, headers = em.lro:start{
    sub = req.params.sub, location = e.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = 10, kind = "delete",
    finish = function() remove_tree(em, e.id); return "Succeeded" end }
  return reply.empty(202, headers)
end

local list_collections = arm.lister(M.RPC_TYPE)

----------------------------------------------------------------------------
-- Replication progress of copies
----------------------------------------------------------------------------

-- completionPercent of a copied disk restore point at the current time.
local function percent(em, drp)
  local r = drp.x.repl
  if not r then return 100 end
  if r.failed then return r.failed_at_percent or 0 end
  local span = r.done_at - r.start
  local p = span <= 0 and 100 or (em.clock:now() - r.start) / span * 100
  if p >= 100 then return 100 end
  p = math.floor(p / M.PROGRESS_STEP) * M.PROGRESS_STEP
  return math.max(0, p)
end
M.percent = percent

local function drp_ready(drp)
  return function(em)
    local p = percent(em, drp)
    if p >= 100 then return true end
    return false, string.format(
      "Disk restore point '%s' is still replicating (%d%% complete); wait for replicationStatus " ..
      "completionPercent 100 before using it.", drp.body.name, p)
  end
end

local function repl_status(em, drp, when)
  local p = percent(em, drp)
  local failed = drp.x.repl and drp.x.repl.failed
  local code, display = "ReplicationState/succeeded", "Succeeded"
  local level = "Info"
  if failed then code, display, level = "ReplicationState/failed", "Failed", "Error"
  elseif p < 100 then code, display = "ReplicationState/inProgress", "In progress" end
  return { status = { code = code, level = level, displayStatus = display, time = when },
    completionPercent = p }
end

----------------------------------------------------------------------------
-- Restore points
----------------------------------------------------------------------------

function rp_doc(em, rp, with_view)
  local doc = arm.doc(rp)
  if with_view then
    local when = clock_mod.iso(em.clock:now())
    local drps = json.array()
    for _, drp in ipairs(em.store:list(M.DRP_TYPE, { parent = rp.id })) do
      drps[#drps + 1] = { id = drp.body.id, replicationStatus = repl_status(em, drp, when),
        snapshotAccessState = "Available" }
    end
    local st = rp.body.properties.provisioningState
    doc.properties.instanceView = {
      diskRestorePoints = drps,
      statuses = json.array{ { code = "ProvisioningState/" .. st:lower(),
        level = st == "Failed" and "Error" or "Info",
        displayStatus = "Provisioning " .. st:lower(), time = when } },
    }
  end
  return doc
end

-- The VM's managed disks: { { role = "os"|"data", lun, ref (VM's disk
-- entry), disk (store entry or nil) } }
local function vm_disks(em, vm)
  local sp = vm.body.properties.storageProfile or {}
  local out = {}
  local os = sp.osDisk
  if os and os.managedDisk and os.managedDisk.id then
    out[#out + 1] = { role = "os", ref = os, disk = em.store:get_typed(os.managedDisk.id, DISK_TYPE),
      ephemeral = os.diffDiskSettings ~= nil }
  end
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.managedDisk and d.managedDisk.id then
      out[#out + 1] = { role = "data", lun = d.lun, ref = d,
        disk = em.store:get_typed(d.managedDisk.id, DISK_TYPE) }
    end
  end
  return out
end

-- Why this disk cannot be in a restore point, or nil.
local function unsupported(d, mode)
  if d.ephemeral then return "it is an ephemeral OS disk" end
  local disk = d.disk
  if not disk then return "it is not a managed disk the emulator knows" end
  local sku = disk.body.sku.name
  if sku == "UltraSSD_LRS" then return "Ultra disks (UltraSSD_LRS) are not supported" end
  if sku == "PremiumV2_LRS" and mode == "CrashConsistent" then
    return "Premium SSD v2 disks are not supported for crash-consistent restore points"
  end
  if (disk.body.properties.maxShares or 1) > 1 then return "shared disks (maxShares > 1) are not supported" end
  return nil
end

-- Is a restore point creation for this VM in progress anywhere?
local function creating_for_vm(em, vm_id)
  for _, rp in ipairs(em.store:list(M.RP_TYPE)) do
    if rp.body.properties.provisioningState == "Creating" and rp.x.vm_id
      and ids.same(rp.x.vm_id, vm_id) then
      return rp
    end
  end
  return nil
end

-- The newest earlier disk restore point of the same source disk in this
-- collection: what the new one is incremental to.
local function previous_snap(em, coll_id, disk_id)
  local best
  for _, drp in ipairs(em.store:list(M.DRP_TYPE, { parent = coll_id })) do
    if drp.x.disk_id and ids.same(drp.x.disk_id, disk_id) and (not best or drp.seq > best.seq) then
      best = drp
    end
  end
  return best and best.x.snap
end

local function drp_doc(id, name, props)
  return { id = id, name = name, type = M.DRP_TYPE, properties = props }
end

-- The restore point's picture of the VM: its size, security profile and
-- generation, and per disk what a restore needs to rebuild it (storage
-- type, caching, write accelerator, LUN, size, the disk's encryption set
-- and the disk restore point's own encryption).  encs[i] is the encryption
-- of disk i's restore point.
local function source_metadata(em, vm, disks, drp_ids, encs)
  local p = vm.body.properties
  local sp = { dataDisks = json.array(), diskControllerType = p.storageProfile.diskControllerType or "SCSI" }
  for i, d in ipairs(disks) do
    local drp_ref = drp_ids[i] and { id = drp_ids[i] } or nil
    if drp_ref and encs and encs[i] then
      drp_ref.encryption = { type = encs[i].type,
        diskEncryptionSet = encs[i].diskEncryptionSetId and { id = encs[i].diskEncryptionSetId } or nil }
    end
    local set = d.disk and vm_rules.disk_des(d.disk)
    local entry = {
      name = d.ref.name, caching = d.ref.caching or "None",
      diskSizeGB = d.disk and d.disk.body.properties.diskSizeGB or d.ref.diskSizeGB,
      managedDisk = { id = d.ref.managedDisk.id,
        storageAccountType = d.disk and d.disk.body.sku.name or d.ref.managedDisk.storageAccountType,
        diskEncryptionSet = set and { id = set } or nil,
        securityProfile = json.copy(d.ref.managedDisk.securityProfile) },
      diskRestorePoint = drp_ref, writeAcceleratorEnabled = d.ref.writeAcceleratorEnabled == true,
    }
    if d.role == "os" then
      entry.osType = d.ref.osType or (d.disk and d.disk.body.properties.osType)
      entry.encryptionSettings = json.copy(d.ref.encryptionSettings)
      sp.osDisk = entry
    else
      entry.lun = d.lun
      sp.dataDisks[#sp.dataDisks + 1] = entry
    end
  end
  return {
    hardwareProfile = json.copy(p.hardwareProfile),
    storageProfile = sp,
    osProfile = json.copy(p.osProfile),
    diagnosticsProfile = json.copy(p.diagnosticsProfile) or { bootDiagnostics = { enabled = false } },
    licenseType = p.licenseType,
    vmId = p.vmId, location = vm.body.location,
    securityProfile = json.copy(p.securityProfile),
    userData = p.userData,
    hyperVGeneration = vm_rules.vm_generation(vm,
      em.store:get_typed(p.storageProfile.osDisk.managedDisk and p.storageProfile.osDisk.managedDisk.id, DISK_TYPE)),
  }
end

-- The encryption each included disk's restore point gets.  Restore points
-- do not keep the source disk's encryption: platform keys, unless the
-- PUT gives one per disk (sourceMetadata.storageProfile.osDisk /
-- dataDisks[].diskRestorePoint.encryption, data disks matched by
-- managedDisk.id or LUN), whose set must exist in the collection's region.
-- Returns the list (by index of included) or nil, error.
local function drp_encryptions(em, props, included, location)
  local sp = type(props.sourceMetadata) == "table" and props.sourceMetadata.storageProfile
  local out = {}
  for i = 1, #included do out[i] = { type = "EncryptionAtRestWithPlatformKey" } end
  if type(sp) ~= "table" then return out end
  local function apply(input, field)
    local enc = type(input) == "table" and type(input.diskRestorePoint) == "table" and input.diskRestorePoint.encryption
    if type(enc) ~= "table" then return true end
    local target
    for i, d in ipairs(included) do
      if field:find("osDisk", 1, true) then
        if d.role == "os" then target = i end
      elseif d.role == "data" and ((type(input.managedDisk) == "table" and input.managedDisk.id
          and ids.same(input.managedDisk.id, d.ref.managedDisk.id)) or (input.lun ~= nil and input.lun == d.lun)) then
        target = i
      end
    end
    if not target then
      return nil, reply.error(400, "InvalidParameter", string.format(
        "%s names no disk included in the restore point.", field), field)
    end
    local set_id = type(enc.diskEncryptionSet) == "table" and enc.diskEncryptionSet.id
    if set_id then
      local set, err = des.resolve(em, set_id, location, field .. ".diskRestorePoint.encryption.diskEncryptionSet.id")
      if not set then return nil, err end
      out[target] = { type = enc.type or set.body.properties.encryptionType, diskEncryptionSetId = set.body.id }
    elseif enc.type and tostring(enc.type):lower() ~= "encryptionatrestwithplatformkey" then
      return nil, reply.error(400, "InvalidParameter", string.format(
        "Encryption type '%s' needs a disk encryption set.", tostring(enc.type)), field .. ".diskRestorePoint.encryption")
    end
    return true
  end
  local ok, err = apply(sp.osDisk, "properties.sourceMetadata.storageProfile.osDisk")
  if not ok then return nil, err end
  for j, d in ipairs(type(sp.dataDisks) == "table" and sp.dataDisks or {}) do
    ok, err = apply(d, string.format("properties.sourceMetadata.storageProfile.dataDisks[%d]", j - 1))
    if not ok then return nil, err end
  end
  return out
end

-- A local restore point of the collection's VM.
local function create_local(em, req, coll, props, id)
  local vm = em.store:get_typed(coll.body.properties.source.id, VM_TYPE)
  if not vm then
    return reply.error(409, "OperationNotAllowed", string.format(
      "The source virtual machine '%s' of the collection no longer exists.", coll.body.properties.source.id))
  end
  if props.sourceRestorePoint ~= nil then
    return reply.error(400, "InvalidParameter",
      "sourceRestorePoint may only be given in a collection whose source is a restore point collection in another region.",
      "properties.sourceRestorePoint")
  end
  local mode = props.consistencyMode
  if mode ~= nil then
    local m, merr = arm.enum(mode, M.CONSISTENCY, "properties.consistencyMode")
    if not m then return merr end
    mode = m
  else
    local os_type = vm.body.properties.storageProfile.osDisk.osType
    mode = os_type == "Windows" and "ApplicationConsistent" or "FileSystemConsistent"
  end
  -- excludeDisks must name disks of this VM.
  local disks = vm_disks(em, vm)
  local excluded = {}
  local exclude = props.excludeDisks
  if exclude ~= nil and exclude ~= json.null then
    if type(exclude) ~= "table" then
      return reply.error(400, "InvalidParameter", "excludeDisks must be an array of {id}.", "properties.excludeDisks")
    end
    for i, ref in ipairs(exclude) do
      local rid = type(ref) == "table" and ref.id
      local found = false
      for _, d in ipairs(disks) do
        if rid and ids.same(rid, d.ref.managedDisk.id) then excluded[d] = true; found = true end
      end
      if not found then
        return reply.error(400, "InvalidParameter", string.format(
          "excludeDisks[%d].id '%s' is not a disk attached to VM '%s'.", i - 1, tostring(rid), vm.body.name),
          "properties.excludeDisks")
      end
    end
  end
  local included, refused = {}, {}
  for _, d in ipairs(disks) do
    if not excluded[d] then
      local why = unsupported(d, mode)
      if why then refused[#refused + 1] = string.format("%s (%s)", d.ref.name or d.ref.managedDisk.id, why)
      else included[#included + 1] = d end
    end
  end
  if #refused > 0 then
    return reply.error(400, "OperationNotAllowed", "Restore points cannot include these disks: " ..
      table.concat(refused, "; ") .. ". Please exclude these disk(s) using excludeDisks property.",
      "properties.excludeDisks")
  end
  local busy = creating_for_vm(em, vm.body.id)
  if busy then
    return reply.error(409, "OperationNotAllowed", string.format(
      "A restore point creation for VM '%s' is already in progress (%s). " ..
      "Concurrent 'Create RestorePoint' operations on the same VM are not supported.",
      vm.body.name, busy.body.name))
  end
  if props.instantAccessDurationMinutes ~= nil then
    local v = props.instantAccessDurationMinutes
    if math.type(v) ~= "integer" or v < 1 or v > 300 then
      return reply.error(400, "InvalidParameter",
        "instantAccessDurationMinutes must be an integer from 1 to 300.", "properties.instantAccessDurationMinutes")
    end
  end

  -- Snapshot every included disk now: the restore point's point in time.
  local drp_ids, plans = {}, {}
  for i, d in ipairs(included) do
    local name = d.disk.body.name .. "_" .. util.guid()
    drp_ids[i] = id .. "/diskRestorePoints/" .. name
    local snap = d.disk.x.content:snapshot()
    plans[i] = { d = d, name = name, id = drp_ids[i], snap = snap,
      delta = content.delta(snap, previous_snap(em, coll.id, d.disk.id)) }
  end
  local encs, eerr = drp_encryptions(em, props, included, coll.body.location)
  if not encs then return eerr end
  local meta = source_metadata(em, vm, included, drp_ids, encs)
  local doc = { id = id, name = req.params.rp, type = M.RP_TYPE, properties = {
    excludeDisks = json.array(json.copy(exclude ~= json.null and exclude or nil) or {}),
    consistencyMode = mode, provisioningState = "Creating", timeCreated = arm.now_iso(em),
    sourceMetadata = meta, instantAccessDurationMinutes = props.instantAccessDurationMinutes,
  } }
  local rp = em.store:put{ id = id, type = M.RP_TYPE, body = doc,
    x = { vm_id = vm.body.id, plans = plans, request = req.body } }
  local lro_op, headers = em.lro:start{
    sub = req.params.sub, location = coll.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.CREATE_BASE + M.CREATE_PER_DISK * #plans,
    resource_id = id, fail_with = req.fault_provisioning,
    finish = function(op)
      if not em.store:get(id) then return "Canceled", { code = "Canceled", message = "The restore point was deleted." } end
      if op.fail_with then
        rp.body.properties.provisioningState = "Failed"
        return "Failed", op.fail_with
      end
      for i, plan in ipairs(plans) do
        local dp = plan.d.disk.body.properties
        local drp = em.store:put{ id = plan.id, type = M.DRP_TYPE,
          body = drp_doc(plan.id, plan.name, {
            timeCreated = arm.now_iso(em), sourceResourceId = plan.d.disk.body.id,
            osType = dp.osType, hyperVGeneration = dp.hyperVGeneration,
            familyId = util.guid(), sourceUniqueId = dp.uniqueId,
            encryption = encs[i],
            securityProfile = dp.securityProfile and { securityType = dp.securityProfile.securityType } or nil,
            supportedCapabilities = json.copy(dp.supportedCapabilities),
            supportsHibernation = false, networkAccessPolicy = dp.networkAccessPolicy or "AllowAll",
            diskAccessId = dp.diskAccessId, publicNetworkAccess = dp.publicNetworkAccess or "Enabled",
            logicalSectorSize = dp.logicalSectorSize,
          }),
          x = { snap = plan.snap, delta = plan.delta, disk_id = plan.d.disk.body.id,
            location = coll.body.location, size = plan.snap.size } }
        drp.x.ready = drp_ready(drp)
      end
      rp.body.properties.provisioningState = "Succeeded"
      rp.x.plans = nil
      return "Succeeded"
    end }
  rp.x.lro_id = lro_op.id
  return reply.json(201, arm.doc(rp), headers)
end

-- A cross-region copy of a restore point of the source collection.
local function create_copy(em, req, coll, props, id)
  local ref = props.sourceRestorePoint
  local src_id = type(ref) == "table" and ref.id or nil
  if not src_id then
    return reply.error(400, "InvalidParameter",
      "Required parameter 'properties.sourceRestorePoint.id' is missing: restore points in a collection " ..
      "whose source is another collection are copies.", "properties.sourceRestorePoint.id")
  end
  local src = em.store:get_typed(src_id, M.RP_TYPE)
  if not src then
    return reply.error(404, "NotFound", string.format("Source restore point '%s' was not found.", src_id),
      "properties.sourceRestorePoint.id")
  end
  if not ids.same(ids.parent(src.id), coll.body.properties.source.id) then
    return reply.error(400, "InvalidParameter", string.format(
      "Source restore point '%s' is not in this collection's source collection '%s'.",
      src_id, coll.body.properties.source.id), "properties.sourceRestorePoint.id")
  end
  if src.body.properties.sourceRestorePoint then
    return reply.error(400, "OperationNotAllowed",
      "The source restore point is itself a copy; copies of copies are not supported.",
      "properties.sourceRestorePoint.id")
  end
  if src.body.properties.provisioningState ~= "Succeeded" then
    return reply.error(409, "OperationNotAllowed", string.format(
      "The source restore point is '%s'; only a Succeeded restore point can be copied.",
      src.body.properties.provisioningState), "properties.sourceRestorePoint.id")
  end
  for _, other in ipairs(rp_entries(em, coll.id)) do
    local o = other.body.properties.sourceRestorePoint
    if o and ids.same(o.id, src.id) then
      return reply.error(409, "OperationNotAllowed", string.format(
        "Restore point '%s' is already copied to this region as '%s'.", src.body.name, other.body.name))
    end
  end
  local src_drps = em.store:list(M.DRP_TYPE, { parent = src.id })
  local meta = json.copy(src.body.properties.sourceMetadata)
  local plans = {}
  for i, sd in ipairs(src_drps) do
    local name = sd.body.name:gsub("_[%x%-]+$", "") .. "_" .. util.guid()
    plans[i] = { src = sd, name = name, id = id .. "/diskRestorePoints/" .. name }
  end
  local function rewrite(disk)
    if not disk or not disk.diskRestorePoint then return end
    for _, p in ipairs(plans) do
      if ids.same(p.src.id, disk.diskRestorePoint.id) then
        disk.diskRestorePoint = { id = p.id, sourceDiskRestorePoint = { id = p.src.id } }
      end
    end
  end
  rewrite(meta.storageProfile.osDisk)
  for _, d in ipairs(meta.storageProfile.dataDisks or {}) do rewrite(d) end
  meta.location = coll.body.location
  local doc = { id = id, name = req.params.rp, type = M.RP_TYPE, properties = {
    excludeDisks = json.copy(src.body.properties.excludeDisks),
    consistencyMode = src.body.properties.consistencyMode, provisioningState = "Creating",
    timeCreated = src.body.properties.timeCreated, sourceMetadata = meta,
    sourceRestorePoint = { id = src.id },
  } }
  local rp = em.store:put{ id = id, type = M.RP_TYPE, body = doc, x = { request = req.body } }
  local fail = req.fault_provisioning
  local lro_op, headers = em.lro:start{
    sub = req.params.sub, location = coll.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.COPY_START, resource_id = id, fail_with = fail,
    finish = function(op)
      if not em.store:get(id) then return "Canceled", { code = "Canceled", message = "The restore point was deleted." } end
      if op.fail_with then
        rp.body.properties.provisioningState = "Failed"
        return "Failed", op.fail_with
      end
      local now = em.clock:now()
      for _, p in ipairs(plans) do
        local sp = p.src.body.properties
        local bytes = p.src.x.delta and p.src.x.delta.changed_bytes or 0
        local nominal = M.COPY_BASE + bytes / M.COPY_BYTES_PER_S
        local drp = em.store:put{ id = p.id, type = M.DRP_TYPE,
          body = drp_doc(p.id, p.name, {
            timeCreated = arm.now_iso(em), sourceResourceId = p.src.body.id,
            osType = sp.osType, hyperVGeneration = sp.hyperVGeneration, familyId = sp.familyId,
            sourceUniqueId = sp.sourceUniqueId,
            -- customer keys do not cross regions: a copy is on platform keys
            encryption = { type = "EncryptionAtRestWithPlatformKey" },
            securityProfile = json.copy(sp.securityProfile), supportedCapabilities = json.copy(sp.supportedCapabilities),
            supportsHibernation = false, networkAccessPolicy = sp.networkAccessPolicy or "AllowAll",
            publicNetworkAccess = sp.publicNetworkAccess or "Enabled", logicalSectorSize = sp.logicalSectorSize,
            sourceResourceLocation = p.src.x.location,
          }),
          x = { snap = p.src.x.snap, delta = p.src.x.delta, disk_id = p.src.x.disk_id,
            location = coll.body.location, size = p.src.x.size,
            repl = { start = now, done_at = now + em.clock:scale(nominal) } } }
        drp.x.ready = drp_ready(drp)
      end
      rp.body.properties.provisioningState = "Succeeded"
      return "Succeeded"
    end }
  rp.x.lro_id = lro_op.id
  return reply.json(201, arm.doc(rp), headers)
end

local function put_rp(em, req)
  local bad = arm.check_name(req.params.rp, "generic", "restorePointName")
  if bad then return bad end
  local body, err = arm.body(req, false)
  if not body then return err end
  local coll = em.store:get_typed(rpc_id(req), M.RPC_TYPE)
  if not coll then
    local rg, rerr = arm.resource_group(em, req)
    if not rg then return rerr end
    return reply.parent_not_found("restorePointCollections", req.params.rpc)
  end
  local id = coll.id .. "/restorePoints/" .. req.params.rp
  local existing = em.store:get_typed(id, M.RP_TYPE)
  if existing then
    -- The same PUT again (a client resending after a lost answer) is
    -- answered as the first was, with the operation still running.
    if existing.x.request == req.body then
      local running = existing.x.lro_id and em.lro:get(existing.x.lro_id)
      if running and running.status == "InProgress" then
        return reply.json(201, arm.doc(existing), em.lro:headers(running, req.base_url))
      end
      local _, headers = em.lro:start{ sub = req.params.sub, location = coll.body.location,
        api_version = req.query["api-version"], base_url = req.base_url, duration = 0, resource_id = id }
      return reply.json(201, arm.doc(existing), headers)
    end
    return reply.error(409, "OperationNotAllowed",
      "Update of an existing Restore Point is not supported; create a restore point with a new name.")
  end
  local props = type(body.properties) == "table" and body.properties or {}
  if coll.x.copy_target then return create_copy(em, req, coll, props, id) end
  return create_local(em, req, coll, props, id)
end

local function rp_entry(em, req)
  local coll, err = collection_entry(em, req)
  if not coll then
    if err and err.status == 404 and em.store:get(arm.rg_id(req)) then
      return nil, reply.parent_not_found("restorePointCollections", req.params.rpc)
    end
    return nil, err
  end
  local e = em.store:get_typed(coll.id .. "/restorePoints/" .. req.params.rp, M.RP_TYPE)
  if not e then
    return nil, reply.not_found("Microsoft.Compute/restorePointCollections",
      req.params.rpc .. "/restorePoints/" .. req.params.rp, req.params.rg)
  end
  return e, nil, coll
end

local function get_rp(em, req)
  local e, err = rp_entry(em, req)
  if not e then return err end
  local expand = (req.query["$expand"] or ""):lower()
  if expand ~= "" and expand ~= "instanceview" then
    return reply.error(400, "InvalidParameter", string.format(
      "The value '%s' of $expand is not valid; it may be 'instanceView'.", req.query["$expand"]), "$expand")
  end
  return reply.json(200, rp_doc(em, e, expand == "instanceview"))
end

local function delete_rp(em, req)
  local coll = em.store:get_typed(rpc_id(req), M.RPC_TYPE)
  local e = coll and em.store:get_typed(coll.id .. "/restorePoints/" .. req.params.rp, M.RP_TYPE)
  if not e then return reply.empty(204) end
  local blocked = delete_blocker(em, e)
  if blocked then return blocked end
  e.body.properties.provisioningState = "Deleting"
  local _, headers = em.lro:start{
    sub = req.params.sub, location = coll.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = 5, kind = "delete",
    finish = function() remove_tree(em, e.id); return "Succeeded" end }
  return reply.empty(202, headers)
end

function M.routes(em)
  local min = M.MIN_API
  return {
    { method = "PUT", path = RPC, op = "RestorePointCollections_CreateOrUpdate", arm = true, kind = "write", min_api = min, rtype = "restorePointCollections", handler = put_collection },
    { method = "PATCH", path = RPC, op = "RestorePointCollections_Update", arm = true, kind = "write", min_api = min, rtype = "restorePointCollections", handler = patch_collection },
    { method = "GET", path = RPC, op = "RestorePointCollections_Get", arm = true, kind = "read", min_api = min, rtype = "restorePointCollections", handler = get_collection },
    { method = "DELETE", path = RPC, op = "RestorePointCollections_Delete", arm = true, kind = "delete", min_api = min, rtype = "restorePointCollections", handler = delete_collection },
    { method = "GET", path = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/restorePointCollections",
      op = "RestorePointCollections_List", arm = true, kind = "read", min_api = min, rtype = "restorePointCollections", handler = list_collections },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/restorePointCollections",
      op = "RestorePointCollections_ListAll", arm = true, kind = "read", min_api = min, rtype = "restorePointCollections", handler = list_collections },
    { method = "PUT", path = RP, op = "RestorePoints_Create", arm = true, kind = "write", min_api = min, rtype = "restorePointCollections/restorePoints", handler = put_rp },
    { method = "GET", path = RP, op = "RestorePoints_Get", arm = true, kind = "read", min_api = min, rtype = "restorePointCollections/restorePoints", handler = get_rp },
    { method = "DELETE", path = RP, op = "RestorePoints_Delete", arm = true, kind = "delete", min_api = min, rtype = "restorePointCollections/restorePoints", handler = delete_rp },
  }
end

-- After a state load: disk restore points get their readiness check back.
function M.revive(em, e)
  if e.type == M.DRP_TYPE:lower() then e.x.ready = drp_ready(e) end
end

M.rp_entry = rp_entry
return M
