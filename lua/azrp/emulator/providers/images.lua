-- Microsoft.Compute/images (ComputeRP): managed images, the classic golden
-- image.
--
-- An image is made from a VM's disks (sourceVirtualMachine) or from disks
-- and snapshots named one by one (storageProfile).  Each disk's bytes are
-- taken when the PUT arrives and kept in x.disks["os"] and x.disks[lun] as
-- immutable content views, so that VMs created from the image later get
-- exactly those bytes even if the sources change or are deleted.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local disks = require "azrp.emulator.providers.disks"

local M = {}

M.TYPE = "Microsoft.Compute/images"
local VM_TYPE = "Microsoft.Compute/virtualMachines"
local DISK_TYPE = "Microsoft.Compute/disks"
local SNAPSHOT_TYPE = "Microsoft.Compute/snapshots"
local DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"
local PATH = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images/{image}"
local GIB = 1024 * 1024 * 1024

M.DURATION = { create = 20, delete = 5 }
M.MAX_DISK_GB = 1023
local CACHING = { "None", "ReadOnly", "ReadWrite" }

local function image_id(req)
  return ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "images", req.params.image)
end

local function norm_id(s)
  if type(s) == "string" and s ~= "" and s:sub(1, 1) ~= "/" then return "/" .. s end
  return s
end

local function bad(field, fmt, ...)
  return nil, reply.error(400, "InvalidParameter", string.format(fmt, ...), field)
end

local function int(v) return type(v) == "number" and math.tointeger(v) or nil end

local function type_of(id)
  local p = ids.parse(id)
  return p and p.type and p.type:lower()
end

local function optional_enum(value, allowed, field)
  if value == nil or value == json.null then return true, nil end
  local v, err = arm.enum(value, allowed, field)
  if not v then return nil, err end
  return true, v
end

----------------------------------------------------------------------------
-- Disk sources
----------------------------------------------------------------------------

-- Azure makes no managed image of a Trusted Launch or confidential VM or
-- disk (only a Compute Gallery image definition with the SecurityType
-- feature holds those).
local function refuse_security(what, name, security, field)
  if security and security ~= "Standard" then
    return bad(field, "%s '%s' has security type '%s', which managed images do not support; " ..
      "capture it to an Azure Compute Gallery image definition with the feature SecurityType %s instead.",
      what, name, security, security == "TrustedLaunch" and "TrustedLaunchSupported" or "ConfidentialVmSupported")
  end
  return true
end

-- Resolves one ImageDisk (d, at field) to { snap, ref, entry }.
local function image_disk_source(em, d, field, location)
  local snap_id = type(d.snapshot) == "table" and d.snapshot.id or nil
  local disk_id = type(d.managedDisk) == "table" and d.managedDisk.id or nil
  local given = (snap_id and 1 or 0) + (disk_id and 1 or 0) + (d.blobUri and 1 or 0)
  if given == 0 then
    return bad(field, "%s needs one of snapshot.id, managedDisk.id or blobUri.", field)
  elseif given > 1 then
    return bad(field, "%s may name only one of snapshot.id, managedDisk.id and blobUri.", field)
  end
  if d.blobUri then
    return bad(field .. ".blobUri", "%s.blobUri: VHD blobs are not supported by the azrp emulator; use a snapshot or managed disk.", field)
  end
  local rid = norm_id(snap_id or disk_id)
  local subfield = field .. (snap_id and ".snapshot.id" or ".managedDisk.id")
  if type_of(rid) == DRP_TYPE:lower() then
    return bad(subfield, "%s '%s' is a disk restore point, which is not a valid image source; " ..
      "create a disk (createOption Restore) or a snapshot from it first.", subfield, rid)
  end
  local entry = snap_id and em.store:get_typed(rid, SNAPSHOT_TYPE) or em.store:get_typed(rid, DISK_TYPE)
  if not entry then
    return nil, reply.error(404, "NotFound", string.format("%s '%s' was not found.", subfield, rid), subfield)
  end
  if entry.x.ephemeral then
    return bad(subfield, "Disk '%s' is an ephemeral OS disk and cannot be captured.", entry.body.name)
  end
  local state = entry.body.properties.provisioningState
  if state ~= "Succeeded" then
    return nil, reply.error(409, "OperationNotAllowed", string.format(
      "%s '%s' is '%s'; it can be captured once it is Succeeded.", subfield, entry.body.name, tostring(state)), subfield)
  end
  if entry.body.location ~= location then
    return bad("location", "%s '%s' is in region '%s'; the image must be created in the same region, not '%s'.",
      subfield, entry.body.name, entry.body.location, location)
  end
  local snap = entry.x.snap or entry.x.content:snapshot()
  local ref = snap_id and { snapshot = { id = entry.body.id } } or { managedDisk = { id = entry.body.id } }
  return { snap = snap, ref = ref, entry = entry }
end

-- The documented fields of one image disk: caching, size, account type.
local function disk_doc(src, d, field, default_caching)
  local ok, caching = optional_enum(d.caching, CACHING, field .. ".caching")
  if not ok then return nil, caching end
  local ok2, account = optional_enum(d.storageAccountType, disks.SKUS, field .. ".storageAccountType")
  if not ok2 then return nil, account end
  local source_gb = math.ceil(src.snap.size / GIB)
  local size = source_gb
  if d.diskSizeGB ~= nil and d.diskSizeGB ~= json.null then
    size = int(d.diskSizeGB)
    if not size or size < source_gb or size > M.MAX_DISK_GB then
      return bad(field .. ".diskSizeGB", "%s.diskSizeGB must be an integer from the source's %d GB to %d GB.",
        field, source_gb, M.MAX_DISK_GB)
    end
  end
  local doc = json.copy(src.ref)
  doc.caching = caching or default_caching
  doc.diskSizeGB = size
  doc.storageAccountType = account or src.entry.body.sku.name
  return doc
end

----------------------------------------------------------------------------
-- Plans: validated inputs, nothing changed yet
----------------------------------------------------------------------------

local SP = "properties.storageProfile"

-- From storageProfile: returns plan { storage, snaps, os_type, hyper_v } or nil, err.
local function plan_from_profile(em, sp, location)
  local os = sp.osDisk
  if type(os) ~= "table" then
    return bad(SP .. ".osDisk", "Required parameter '%s.osDisk' is missing (null).", SP)
  end
  local field = SP .. ".osDisk"
  local os_type, terr = arm.need(os, "osType", field .. ".osType")
  if not os_type then return nil, terr end
  os_type, terr = arm.enum(os_type, { "Windows", "Linux" }, field .. ".osType")
  if not os_type then return nil, terr end
  local os_state, serr = arm.need(os, "osState", field .. ".osState")
  if not os_state then return nil, serr end
  os_state, serr = arm.enum(os_state, { "Generalized", "Specialized" }, field .. ".osState")
  if not os_state then return nil, serr end
  local src, err = image_disk_source(em, os, field, location)
  if not src then return nil, err end
  local sp_sec = src.entry.body.properties.securityProfile
  local fine, serr2 = refuse_security("Disk", src.entry.body.name, sp_sec and sp_sec.securityType,
    field .. (os.snapshot and ".snapshot.id" or ".managedDisk.id"))
  if not fine then return nil, serr2 end
  local os_doc, derr = disk_doc(src, os, field, "ReadWrite")
  if not os_doc then return nil, derr end
  os_doc.osType, os_doc.osState = os_type, os_state
  local snaps = { os = src.snap }
  local data_docs = json.array()
  local data = sp.dataDisks
  if data ~= nil and data ~= json.null and type(data) ~= "table" then
    return bad(SP .. ".dataDisks", "%s.dataDisks must be an array.", SP)
  end
  for i, d in ipairs(data ~= json.null and data or {}) do
    local f = string.format("%s.dataDisks[%d]", SP, i - 1)
    if type(d) ~= "table" then return bad(f, "%s must be an object.", f) end
    local lun = int(d.lun)
    if d.lun == nil then return bad(f .. ".lun", "Required parameter '%s.lun' is missing (null).", f) end
    if not lun or lun < 0 or lun > 63 then return bad(f .. ".lun", "%s.lun must be an integer from 0 to 63.", f) end
    if snaps[lun] then return bad(f .. ".lun", "LUN %d is used by more than one data disk.", lun) end
    local dsrc, dserr = image_disk_source(em, d, f, location)
    if not dsrc then return nil, dserr end
    local ddoc, dderr = disk_doc(dsrc, d, f, "None")
    if not ddoc then return nil, dderr end
    ddoc.lun = lun
    snaps[lun] = dsrc.snap
    data_docs[#data_docs + 1] = ddoc
  end
  if sp.zoneResilient ~= nil and type(sp.zoneResilient) ~= "boolean" then
    return bad(SP .. ".zoneResilient", "%s.zoneResilient must be a boolean.", SP)
  end
  return { storage = { osDisk = os_doc, dataDisks = data_docs, zoneResilient = sp.zoneResilient or false },
    snaps = snaps, os_type = os_type, hyper_v = src.entry.body.properties.hyperVGeneration }
end

-- From sourceVirtualMachine: the VM's current disks, captured now.
local function plan_from_vm(em, ref, location)
  local field = "properties.sourceVirtualMachine.id"
  local vid = type(ref) == "table" and norm_id(ref.id) or nil
  if not vid then return bad(field, "Required parameter '%s' is missing (null).", field) end
  local vm = em.store:get_typed(vid, VM_TYPE)
  if not vm then
    return nil, reply.error(404, "NotFound", string.format("The virtual machine '%s' was not found.", vid), field)
  end
  if vm.body.location ~= location then
    return bad("location", "VM '%s' is in region '%s'; the image must be created in the same region, not '%s'.",
      vm.body.name, vm.body.location, location)
  end
  local vsec = vm.body.properties.securityProfile
  local fine, serr = refuse_security("The virtual machine", vm.body.name, vsec and vsec.securityType, field)
  if not fine then return nil, serr end
  -- Azure captures only a stopped, generalized VM; the emulator has no
  -- generalize, so a stopped one is enough.
  local power = vm.x.power
  if power == "running" or power == "starting" then
    return nil, reply.error(409, "OperationNotAllowed", string.format(
      "The VM '%s' is %s; stop (deallocate) and generalize it before creating an image from it.",
      vm.body.name, power), field)
  end
  local sp = vm.body.properties.storageProfile
  local snaps, data_docs = {}, json.array()
  local function capture(d, what)
    local disk = d.managedDisk and em.store:get_typed(d.managedDisk.id, DISK_TYPE)
    if not disk then
      return nil, reply.error(409, "OperationNotAllowed", string.format(
        "The %s of VM '%s' is not a managed disk the emulator knows.", what, vm.body.name), field)
    end
    if disk.x.ephemeral then
      return nil, reply.error(409, "OperationNotAllowed", string.format(
        "VM '%s' has an ephemeral OS disk, which cannot be captured.", vm.body.name), field)
    end
    return disk, { managedDisk = { id = disk.body.id }, caching = d.caching or "None",
      diskSizeGB = disk.body.properties.diskSizeGB, storageAccountType = disk.body.sku.name }
  end
  local os_disk, os_doc = capture(sp.osDisk, "OS disk")
  if not os_disk then return nil, os_doc end
  local os_type = sp.osDisk.osType or os_disk.body.properties.osType or "Linux"
  os_doc.osType, os_doc.osState = os_type, "Generalized"
  snaps.os = os_disk.x.content:snapshot()
  for _, d in ipairs(sp.dataDisks or {}) do
    local disk, ddoc = capture(d, string.format("data disk at LUN %s", tostring(d.lun)))
    if not disk then return nil, ddoc end
    local lun = int(d.lun) or d.lun
    ddoc.lun = lun
    snaps[lun] = disk.x.content:snapshot()
    data_docs[#data_docs + 1] = ddoc
  end
  return { storage = { osDisk = os_doc, dataDisks = data_docs, zoneResilient = false },
    snaps = snaps, os_type = os_type, hyper_v = os_disk.body.properties.hyperVGeneration,
    source_vm = vm.body.id }
end

local function plan_image(em, body, location)
  local props = body.properties
  if type(props) ~= "table" then
    return bad("properties", "Required parameter 'properties' is missing (null).")
  end
  local ok, hyper_v = optional_enum(props.hyperVGeneration, { "V1", "V2" }, "properties.hyperVGeneration")
  if not ok then return nil, hyper_v end
  local vm_ref, sp = props.sourceVirtualMachine, props.storageProfile
  if vm_ref ~= nil and vm_ref ~= json.null and type(sp) == "table" and sp.osDisk ~= nil then
    return bad("properties.sourceVirtualMachine",
      "Give either properties.sourceVirtualMachine or properties.storageProfile.osDisk, not both.")
  end
  local plan, err
  if vm_ref ~= nil and vm_ref ~= json.null then
    plan, err = plan_from_vm(em, vm_ref, location)
  elseif type(sp) == "table" then
    plan, err = plan_from_profile(em, sp, location)
  else
    return bad(SP, "One of properties.sourceVirtualMachine or properties.storageProfile is required.")
  end
  if not plan then return nil, err end
  plan.hyper_v = hyper_v or plan.hyper_v or "V1"
  return plan
end

-- What an image was made from, to refuse a PUT that changes it.
local function signature(storage, source_vm)
  local function ref(d) return (d.snapshot or d.managedDisk).id:lower() end
  local parts = { source_vm and source_vm:lower() or "", "os=" .. ref(storage.osDisk) }
  local luns = {}
  for _, d in ipairs(storage.dataDisks) do luns[#luns + 1] = d.lun .. "=" .. ref(d) end
  table.sort(luns)
  for _, l in ipairs(luns) do parts[#parts + 1] = l end
  return table.concat(parts, ";")
end

----------------------------------------------------------------------------
-- Handlers
----------------------------------------------------------------------------

local function put(em, req)
  local badname = arm.check_name(req.params.image, "generic", "imageName")
  if badname then return badname end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local location, lerr = arm.location(body, M.TYPE)
  if not location then return lerr end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local id = image_id(req)
  local existing = em.store:get_typed(id, M.TYPE)
  if existing and existing.body.location ~= location then
    return reply.error(409, "InvalidResourceLocation", string.format(
      "The image '%s' already exists in location '%s'; it cannot be moved to '%s'.",
      req.params.image, existing.body.location, location), "location")
  end
  local plan, perr = plan_image(em, body, location)
  if not plan then return perr end
  local sig = signature(plan.storage, plan.source_vm)
  if existing then
    -- Only tags of an image change; its disks are fixed at creation.
    if existing.x.signature ~= sig then
      return reply.error(409, "PropertyChangeNotAllowed",
        "Changing the source disks of an existing image is not allowed; create a new image.",
        plan.source_vm and "properties.sourceVirtualMachine.id" or SP)
    end
    existing.body.tags = tags
    return reply.json(200, arm.doc(existing))
  end
  local doc = arm.tracked(id, M.TYPE, req.params.image, location, tags)
  doc.properties = {
    storageProfile = plan.storage, hyperVGeneration = plan.hyper_v, provisioningState = "Creating",
    sourceVirtualMachine = plan.source_vm and { id = plan.source_vm } or nil,
  }
  local e = em.store:put{ id = id, type = M.TYPE, body = doc, x = {
    disks = plan.snaps, os_type = plan.os_type, os_state = plan.storage.osDisk.osState,
    hyper_v = plan.hyper_v, location = location, signature = sig } }
  local _, headers = em.lro:start{
    sub = req.params.sub, location = location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.DURATION.create, resource_id = id,
    fail_with = req.fault_provisioning, finish = arm.provisioned(doc.properties, em, id) }
  return reply.json(201, arm.doc(e), headers)
end

local function get_entry(em, req)
  return arm.find(em, req, image_id(req), M.TYPE, req.params.image)
end

local get = arm.getter(get_entry)

-- ImageUpdate: tags (the disks are fixed).
local function patch(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  local terr = arm.patch_tags(e, body)
  if terr then return terr end
  return reply.json(200, arm.doc(e))
end

local function delete(em, req)
  local e = em.store:get_typed(image_id(req), M.TYPE)
  if not e then return arm.absent(em, req) end
  return arm.delete_later(em, req, e, M.DURATION.delete)
end

local list = arm.lister(M.TYPE)

function M.routes(em)
  local t = "images"
  return {
    { method = "PUT", path = PATH, op = "Images_CreateOrUpdate", arm = true, kind = "write", rtype = t, handler = put },
    { method = "PATCH", path = PATH, op = "Images_Update", arm = true, kind = "write", rtype = t, handler = patch },
    { method = "GET", path = PATH, op = "Images_Get", arm = true, kind = "read", rtype = t, handler = get },
    { method = "DELETE", path = PATH, op = "Images_Delete", arm = true, kind = "delete", rtype = t, handler = delete },
    { method = "GET", path = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/images",
      op = "Images_ListByResourceGroup", arm = true, kind = "read", rtype = t, handler = list },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/images",
      op = "Images_List", arm = true, kind = "read", rtype = t, handler = list },
  }
end

return M
