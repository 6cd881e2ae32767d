-- Microsoft.Compute/galleries (GalleryRP): Azure Compute Gallery, its image
-- definitions and image versions.
--
-- A gallery holds image definitions (osType, osState, identifier); each
-- definition holds versions named Major.Minor.Patch.  A version is built
-- from snapshots or disks (storageProfile.osDiskImage / dataDiskImages), or
-- from a managed image or VM (storageProfile.source).  Its bytes are taken
-- when the PUT arrives and kept in x.disks["os"] / x.disks[lun]; it then
-- replicates to each target region over time, and its provisioningState
-- becomes Succeeded once every region has a complete copy, as in Azure.
-- A disk restore point is not a gallery source: Azure wants a disk or a
-- snapshot made from it first.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local clock_mod = require "azrp.emulator.clock"

local M = {}

M.GALLERY_TYPE = "Microsoft.Compute/galleries"
M.IMAGE_TYPE = "Microsoft.Compute/galleries/images"
M.VERSION_TYPE = "Microsoft.Compute/galleries/images/versions"
local VM_TYPE = "Microsoft.Compute/virtualMachines"
local DISK_TYPE = "Microsoft.Compute/disks"
local SNAPSHOT_TYPE = "Microsoft.Compute/snapshots"
local MANAGED_IMAGE_TYPE = "Microsoft.Compute/images"
local DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"

local RG_PATH = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries"
local GALLERY = RG_PATH .. "/{gallery}"
local IMAGE = GALLERY .. "/images/{image}"
local VERSION = IMAGE .. "/versions/{version}"
local GIB = 1024 * 1024 * 1024

-- Nominal durations (seconds, before --time-scale).
M.GALLERY_CREATE, M.IMAGE_CREATE, M.DELETE = 5, 5, 10
M.REPL_HOME = 60            -- a version's copy in the gallery's own region
M.REPL_REMOTE = 300         -- a copy in another region, plus its bytes at:
M.REPL_BYTES_PER_S = 64 * 1024 * 1024
M.REPL_PER_REPLICA = 10     -- each replica after the first
M.PROGRESS_STEP = 5

local CACHING = { "None", "ReadOnly", "ReadWrite" }
local ACCOUNT_TYPES = { "Standard_LRS", "Standard_ZRS", "Premium_LRS" }

----------------------------------------------------------------------------
-- Small helpers
----------------------------------------------------------------------------

local function bad(field, fmt, ...)
  return nil, reply.error(400, "InvalidParameter", string.format(fmt, ...), field)
end

local function int(v) return type(v) == "number" and math.tointeger(v) or nil end

local function norm_id(s)
  if type(s) == "string" and s ~= "" and s:sub(1, 1) ~= "/" then return "/" .. s end
  return s
end

local function type_of(id)
  local p = ids.parse(id)
  return p and p.type and p.type:lower()
end

-- "West US" and "westus" are the same region.
local function region_key(name) return (name:lower():gsub("%s", "")) end

local function given(v) return v ~= nil and v ~= json.null end

local function optional_enum(value, allowed, field)
  if not given(value) then return true, nil end
  local v, err = arm.enum(value, allowed, field)
  if not v then return nil, err end
  return true, v
end

-- Gallery names allow letters, digits, _ and . (no hyphens), with the
-- punctuation only in the middle.
local function check_gallery_name(name)
  local ok = name and #name >= 1 and #name <= 80 and name:match("^[%w_%.]+$")
    and name:match("^%w") and name:match("%w$")
  if ok then return nil end
  return reply.error(400, "InvalidParameter", string.format(
    "The value '%s' of parameter 'galleryName' is invalid: a name is 1 to 80 characters of letters, " ..
    "numbers, _ and ., starting and ending with a letter or number.", tostring(name)), "galleryName")
end

local function gallery_id(req)
  return ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "galleries", req.params.gallery)
end

local function image_def_id(req)
  return gallery_id(req) .. "/images/" .. req.params.image
end

local function version_id(req)
  return image_def_id(req) .. "/versions/" .. req.params.version
end

-- Starts a create/update LRO whose final GET returns the resource; an
-- injected provisioning fault leaves the resource Failed.
local function start_lro(em, req, e, location, duration, on_done)
  local _, headers = em.lro:start{
    sub = req.params.sub, location = location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = duration, resource_id = e.id,
    fail_with = req.fault_provisioning,
    finish = function(op)
      if not em.store:get(e.id) then
        return "Canceled", { code = "Canceled", message = "The resource was deleted." }
      end
      if op.fail_with then
        e.body.properties.provisioningState = "Failed"
        if e.x.on_fail then e.x.on_fail() end
        return "Failed", op.fail_with
      end
      if on_done then on_done() end
      e.body.properties.provisioningState = "Succeeded"
      return "Succeeded"
    end }
  return headers
end

local function start_delete(em, req, e)
  e.body.properties.provisioningState = "Deleting"
  local _, headers = em.lro:start{
    sub = req.params.sub, location = e.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.DELETE, kind = "delete",
    finish = function() em.store:delete(e.id); return "Succeeded" end }
  return reply.empty(202, headers)
end

local function busy(e)
  local st = e.body.properties.provisioningState
  if st == "Creating" or st == "Updating" or st == "Deleting" then
    return reply.error(409, "OperationNotAllowed", string.format(
      "'%s' is %s; wait for that operation to finish.", e.body.name, st:lower()))
  end
  return nil
end

local function docs_of(em, rtype, filter)
  local docs = {}
  for _, e in ipairs(em.store:list(rtype, filter)) do docs[#docs + 1] = arm.doc(e) end
  return docs
end

----------------------------------------------------------------------------
-- Lookups, with the errors ARM gives for each missing level
----------------------------------------------------------------------------

local function gallery_entry(em, req)
  local e = em.store:get_typed(gallery_id(req), M.GALLERY_TYPE)
  if e then return e end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return nil, rerr end
  return nil, reply.not_found(M.GALLERY_TYPE, req.params.gallery, req.params.rg)
end

-- The gallery as the parent of a request on one of its images.
local function parent_gallery(em, req)
  local e = em.store:get_typed(gallery_id(req), M.GALLERY_TYPE)
  if e then return e end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return nil, rerr end
  return nil, reply.parent_not_found("galleries", req.params.gallery)
end

-- The image definition as the parent of a request on one of its versions.
local function parent_image(em, req)
  local g, err = parent_gallery(em, req)
  if not g then return nil, err end
  local e = em.store:get_typed(image_def_id(req), M.IMAGE_TYPE)
  if e then return e, g end
  return nil, reply.parent_not_found("galleries/images", req.params.gallery .. "/" .. req.params.image)
end

----------------------------------------------------------------------------
-- Galleries
----------------------------------------------------------------------------

local function put_gallery(em, req)
  local badname = check_gallery_name(req.params.gallery)
  if badname then return badname end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local location, lerr = arm.location(body, M.GALLERY_TYPE)
  if not location then return lerr end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local props = type(body.properties) == "table" and body.properties or {}
  if given(props.description) and type(props.description) ~= "string" then
    return select(2, bad("properties.description", "properties.description must be a string."))
  end
  local id = gallery_id(req)
  local existing = em.store:get_typed(id, M.GALLERY_TYPE)
  if existing then
    if existing.body.location ~= location then
      return reply.error(409, "InvalidResourceLocation", string.format(
        "The gallery '%s' already exists in location '%s'; it cannot be moved to '%s'.",
        req.params.gallery, existing.body.location, location), "location")
    end
    existing.body.tags = tags
    if given(props.description) then existing.body.properties.description = props.description end
    return reply.json(200, arm.doc(existing))
  end
  local doc = arm.tracked(id, M.GALLERY_TYPE, req.params.gallery, location, tags)
  doc.properties = {
    description = given(props.description) and props.description or nil,
    identifier = { uniqueName = req.params.sub .. "-" .. req.params.gallery:upper() },
    sharingProfile = given(props.sharingProfile) and json.copy(props.sharingProfile) or nil,
    provisioningState = "Creating",
  }
  local e = em.store:put{ id = id, type = M.GALLERY_TYPE, body = doc, x = {} }
  local headers = start_lro(em, req, e, location, M.GALLERY_CREATE)
  return reply.json(201, arm.doc(e), headers)
end

local function get_gallery(em, req)
  local e, err = gallery_entry(em, req)
  if not e then return err end
  return reply.json(200, arm.doc(e))
end

local function delete_gallery(em, req)
  local e = em.store:get_typed(gallery_id(req), M.GALLERY_TYPE)
  if not e then return arm.absent(em, req) end
  if #em.store:list(M.IMAGE_TYPE, { parent = e.id }) > 0 then
    return reply.error(409, "CannotDeleteResource", string.format(
      "Gallery '%s' still contains image definitions; delete them first.", e.body.name))
  end
  return start_delete(em, req, e)
end

local function list_galleries(em, req)
  if req.params.rg then
    local rg, rerr = arm.resource_group(em, req)
    if not rg then return rerr end
  end
  return arm.list(em, req, docs_of(em, M.GALLERY_TYPE, { sub = req.params.sub, rg = req.params.rg }))
end

----------------------------------------------------------------------------
-- Image definitions
----------------------------------------------------------------------------

-- Fields that define what an image is; a PUT may not change them.
local FIXED = { "osType", "osState", "hyperVGeneration", "architecture" }

local PASSTHROUGH = { "description", "eula", "privacyStatementUri", "releaseNoteUri", "endOfLifeDate",
  "recommended", "disallowed", "purchasePlan", "features" }

-- Returns the properties document of a definition, or nil, err.
local function definition_props(body)
  local props = body.properties
  if type(props) ~= "table" then return bad("properties", "Required parameter 'properties' is missing (null).") end
  local os_type, e1 = arm.need(body, "properties.osType", "properties.osType")
  if not os_type then return nil, e1 end
  os_type, e1 = arm.enum(os_type, { "Windows", "Linux" }, "properties.osType")
  if not os_type then return nil, e1 end
  local os_state, e2 = arm.need(body, "properties.osState", "properties.osState")
  if not os_state then return nil, e2 end
  os_state, e2 = arm.enum(os_state, { "Generalized", "Specialized" }, "properties.osState")
  if not os_state then return nil, e2 end
  for _, f in ipairs({ "publisher", "offer", "sku" }) do
    local field = "properties.identifier." .. f
    local v, e3 = arm.need(body, field, field)
    if not v then return nil, e3 end
    if type(v) ~= "string" then return bad(field, "%s must be a string.", field) end
  end
  local ok, hyper_v = optional_enum(props.hyperVGeneration, { "V1", "V2" }, "properties.hyperVGeneration")
  if not ok then return nil, hyper_v end
  local ok2, arch = optional_enum(props.architecture, { "x64", "Arm64" }, "properties.architecture")
  if not ok2 then return nil, arch end
  local out = {
    osType = os_type, osState = os_state, hyperVGeneration = hyper_v or "V1", architecture = arch or "x64",
    identifier = { publisher = props.identifier.publisher, offer = props.identifier.offer, sku = props.identifier.sku },
  }
  for _, k in ipairs(PASSTHROUGH) do
    if given(props[k]) then out[k] = json.copy(props[k]) end
  end
  return out
end

local function same_identifier(a, b)
  for _, f in ipairs({ "publisher", "offer", "sku" }) do
    if a[f]:lower() ~= b[f]:lower() then return false end
  end
  return true
end

local function update_definition(existing, props, tags)
  local old = existing.body.properties
  for _, f in ipairs(FIXED) do
    if props[f] ~= old[f] then
      return reply.error(409, "PropertyChangeNotAllowed", string.format(
        "Changing property '%s' of a gallery image definition is not allowed.", f), "properties." .. f)
    end
  end
  if not same_identifier(props.identifier, old.identifier) then
    return reply.error(409, "PropertyChangeNotAllowed",
      "Changing property 'identifier' of a gallery image definition is not allowed.", "properties.identifier")
  end
  for _, k in ipairs(PASSTHROUGH) do
    if props[k] ~= nil then old[k] = props[k] end
  end
  existing.body.tags = tags
  return reply.json(200, arm.doc(existing))
end

local function put_image(em, req)
  local badname = arm.check_name(req.params.image, "generic", "galleryImageName")
  if badname then return badname end
  local body, err = arm.body(req)
  if not body then return err end
  local gallery, gerr = parent_gallery(em, req)
  if not gallery then return gerr end
  local location, lerr = arm.location(body, M.IMAGE_TYPE)
  if not location then return lerr end
  if location ~= gallery.body.location then
    return reply.error(400, "InvalidParameter", string.format(
      "An image definition must be in its gallery's region '%s', not '%s'.", gallery.body.location, location),
      "location")
  end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local props, perr = definition_props(body)
  if not props then return perr end
  local id = image_def_id(req)
  local existing = em.store:get_typed(id, M.IMAGE_TYPE)
  if existing then return update_definition(existing, props, tags) end
  for _, other in ipairs(em.store:list(M.IMAGE_TYPE, { parent = gallery.id })) do
    if same_identifier(other.body.properties.identifier, props.identifier) then
      return reply.error(409, "Conflict", string.format(
        "Gallery image definition '%s' already uses identifier %s/%s/%s in this gallery.", other.body.name,
        props.identifier.publisher, props.identifier.offer, props.identifier.sku), "properties.identifier")
    end
  end
  props.provisioningState = "Creating"
  local doc = arm.tracked(id, M.IMAGE_TYPE, req.params.image, location, tags)
  doc.properties = props
  local e = em.store:put{ id = id, type = M.IMAGE_TYPE, body = doc, x = {} }
  local headers = start_lro(em, req, e, location, M.IMAGE_CREATE)
  return reply.json(201, arm.doc(e), headers)
end

local function image_entry(em, req)
  local g, err = parent_gallery(em, req)
  if not g then return nil, err end
  local e = em.store:get_typed(image_def_id(req), M.IMAGE_TYPE)
  if e then return e end
  return nil, reply.not_found(M.IMAGE_TYPE, req.params.gallery .. "/images/" .. req.params.image, req.params.rg)
end

local function get_image(em, req)
  local e, err = image_entry(em, req)
  if not e then return err end
  return reply.json(200, arm.doc(e))
end

local function delete_image(em, req)
  local e = em.store:get_typed(image_def_id(req), M.IMAGE_TYPE)
  if not e then return arm.absent(em, req) end
  if #em.store:list(M.VERSION_TYPE, { parent = e.id }) > 0 then
    return reply.error(409, "CannotDeleteResource", string.format(
      "Gallery image definition '%s' still has versions; delete them first.", e.body.name))
  end
  return start_delete(em, req, e)
end

local function list_images(em, req)
  local g, err = parent_gallery(em, req)
  if not g then return err end
  return arm.list(em, req, docs_of(em, M.IMAGE_TYPE, { parent = g.id }))
end

----------------------------------------------------------------------------
-- Image versions: sources
----------------------------------------------------------------------------

local SP = "properties.storageProfile"

local function drp_refused(field, id)
  return bad(field, "%s '%s' is a disk restore point, which is not a valid gallery image version source; " ..
    "create a disk (createOption Restore) or a snapshot from it first and use that.", field, id)
end

local function check_ready(entry, field)
  local st = entry.body.properties.provisioningState
  if st ~= "Succeeded" then
    return nil, reply.error(409, "OperationNotAllowed", string.format(
      "The source '%s' is '%s'; it can be used once it is Succeeded.", entry.body.name, tostring(st)), field)
  end
  return true
end

local function check_region(entry, location, field)
  if entry.body.location ~= location then
    return bad(field, "The source '%s' is in region '%s'; it must be in the gallery's region '%s'.",
      entry.body.name, entry.body.location, location)
  end
  return true
end

-- A snapshot or disk by id: { snap, id } or nil, err.
local function disk_source(em, id, field, location)
  id = norm_id(id)
  local t = type_of(id)
  if t == DRP_TYPE:lower() then return drp_refused(field, id) end
  if t ~= SNAPSHOT_TYPE:lower() and t ~= DISK_TYPE:lower() then
    return bad(field, "%s '%s' must be the id of a snapshot or a managed disk.", field, tostring(id))
  end
  local e = em.store:get_typed(id, t == DISK_TYPE:lower() and DISK_TYPE or SNAPSHOT_TYPE)
  if not e then
    return nil, reply.error(404, "NotFound", string.format("%s '%s' was not found.", field, id), field)
  end
  local ok, err = check_region(e, location, field)
  if not ok then return nil, err end
  ok, err = check_ready(e, field)
  if not ok then return nil, err end
  if e.x.ephemeral then return bad(field, "Disk '%s' is an ephemeral OS disk and cannot be captured.", e.body.name) end
  return { snap = e.x.snap or e.x.content:snapshot(), id = e.body.id, entry = e }
end

-- What an OS source is, for the checks against its image definition:
-- { id, os_type, hyper_v, security, arch } from a disk's or snapshot's
-- properties.
local function disk_traits(e)
  local p = e.body.properties
  return { id = e.body.id, os_type = p.osType, hyper_v = p.hyperVGeneration,
    security = p.securityProfile and p.securityProfile.securityType or nil,
    arch = p.supportedCapabilities and p.supportedCapabilities.architecture or nil }
end

local function host_caching(d, field, default)
  local ok, v = optional_enum(d.hostCaching, CACHING, field .. ".hostCaching")
  if not ok then return nil, v end
  return v or default
end

local function size_gb(snap) return math.ceil(snap.size / GIB) end

-- osDiskImage / dataDiskImages from snapshots or disks.
local function plan_from_disks(em, sp, location)
  local os = type(sp.osDiskImage) == "table" and sp.osDiskImage or {}
  local field = SP .. ".osDiskImage.source.id"
  local src, err = disk_source(em, os.source.id, field, location)
  if not src then return nil, err end
  local caching, cerr = host_caching(os, SP .. ".osDiskImage", "ReadWrite")
  if not caching then return nil, cerr end
  local snaps = { os = src.snap }
  local traits = disk_traits(src.entry)
  local storage = { osDiskImage = { source = { id = src.id }, sizeInGB = size_gb(src.snap), hostCaching = caching },
    dataDiskImages = json.array() }
  local data = sp.dataDiskImages
  if given(data) and type(data) ~= "table" then return bad(SP .. ".dataDiskImages", "dataDiskImages must be an array.") end
  for i, d in ipairs(given(data) and data or {}) do
    local f = string.format("%s.dataDiskImages[%d]", SP, i - 1)
    if type(d) ~= "table" then return bad(f, "%s must be an object.", f) end
    if d.lun == nil then return bad(f .. ".lun", "Required parameter '%s.lun' is missing (null).", f) end
    local lun = int(d.lun)
    if not lun or lun < 0 or lun > 63 then return bad(f .. ".lun", "%s.lun must be an integer from 0 to 63.", f) end
    if snaps[lun] then return bad(f .. ".lun", "LUN %d is used by more than one data disk image.", lun) end
    local sid = type(d.source) == "table" and d.source.id or nil
    if not given(sid) then return bad(f .. ".source.id", "Required parameter '%s.source.id' is missing (null).", f) end
    local dsrc, derr = disk_source(em, sid, f .. ".source.id", location)
    if not dsrc then return nil, derr end
    local dc, dcerr = host_caching(d, f, "None")
    if not dc then return nil, dcerr end
    snaps[lun] = dsrc.snap
    storage.dataDiskImages[#storage.dataDiskImages + 1] = { lun = lun, source = { id = dsrc.id },
      sizeInGB = size_gb(dsrc.snap), hostCaching = dc }
  end
  return { storage = storage, snaps = snaps, traits = traits }
end

-- storageProfile.source: a managed image or a VM, whose disks are taken now.
local function plan_from_source(em, sp, location)
  local src = sp.source
  local field = SP .. ".source.id"
  local id = given(src.id) and src.id or nil
  if not id and given(src.virtualMachineId) then id, field = src.virtualMachineId, SP .. ".source.virtualMachineId" end
  id = norm_id(id)
  local t = type_of(id)
  if t == DRP_TYPE:lower() then return drp_refused(field, id) end
  if t == SNAPSHOT_TYPE:lower() or t == DISK_TYPE:lower() then
    return bad(field, "%s '%s' is a snapshot or disk: give it as %s.osDiskImage.source.id instead.", field, id, SP)
  end
  local snaps, storage = {}, { source = { id = id }, dataDiskImages = json.array() }
  local traits
  if t == MANAGED_IMAGE_TYPE:lower() then
    local img = em.store:get_typed(id, MANAGED_IMAGE_TYPE)
    if not img then return nil, reply.error(404, "NotFound", string.format("Image '%s' was not found.", id), field) end
    local ok, err = check_region(img, location, field)
    if not ok then return nil, err end
    ok, err = check_ready(img, field)
    if not ok then return nil, err end
    local isp = img.body.properties.storageProfile
    storage.source.id = img.body.id
    traits = { id = img.body.id, os_type = img.x.os_type, hyper_v = img.x.hyper_v }
    snaps.os = img.x.disks.os
    storage.osDiskImage = { sizeInGB = size_gb(snaps.os), hostCaching = isp.osDisk.caching or "ReadWrite" }
    for _, d in ipairs(isp.dataDisks or {}) do
      local lun = int(d.lun)
      snaps[lun] = img.x.disks[lun]
      storage.dataDiskImages[#storage.dataDiskImages + 1] = { lun = lun, sizeInGB = size_gb(snaps[lun]),
        hostCaching = d.caching or "None" }
    end
  elseif t == VM_TYPE:lower() then
    local vm = em.store:get_typed(id, VM_TYPE)
    if not vm then return nil, reply.error(404, "NotFound", string.format("Virtual machine '%s' was not found.", id), field) end
    local ok, err = check_region(vm, location, field)
    if not ok then return nil, err end
    storage.source.id = vm.body.id
    local vsp = vm.body.properties.storageProfile
    local function disk_of(d)
      local disk = d.managedDisk and em.store:get_typed(d.managedDisk.id, DISK_TYPE)
      if not disk then
        return nil, reply.error(409, "OperationNotAllowed", string.format(
          "A disk of VM '%s' is not a managed disk the emulator knows.", vm.body.name), field)
      end
      if disk.x.ephemeral then
        return nil, reply.error(409, "OperationNotAllowed", string.format(
          "VM '%s' has an ephemeral OS disk, which cannot be captured.", vm.body.name), field)
      end
      return disk
    end
    local os_disk, oerr = disk_of(vsp.osDisk)
    if not os_disk then return nil, oerr end
    traits = disk_traits(os_disk)
    traits.id = vm.body.id
    local vsec = vm.body.properties.securityProfile
    traits.security = vsec and vsec.securityType or traits.security
    snaps.os = os_disk.x.content:snapshot()
    storage.osDiskImage = { sizeInGB = size_gb(snaps.os), hostCaching = vsp.osDisk.caching or "ReadWrite" }
    for _, d in ipairs(vsp.dataDisks or {}) do
      local disk, derr = disk_of(d)
      if not disk then return nil, derr end
      local lun = int(d.lun)
      snaps[lun] = disk.x.content:snapshot()
      storage.dataDiskImages[#storage.dataDiskImages + 1] = { lun = lun, sizeInGB = size_gb(snaps[lun]),
        hostCaching = d.caching or "None" }
    end
  else
    return bad(field, "%s '%s' must be the id of a managed image or a virtual machine.", field, tostring(id))
  end
  return { storage = storage, snaps = snaps, traits = traits }
end

-- The security types an image definition's features admit (its feature
-- SecurityType), beyond Standard.
local ADMITS = {
  trustedlaunch = { TrustedLaunch = true },
  trustedlaunchsupported = { TrustedLaunch = true },
  confidentialvm = { ConfidentialVM = true },
  confidentialvmsupported = { ConfidentialVM = true },
  trustedlaunchandconfidentialvmsupported = { TrustedLaunch = true, ConfidentialVM = true },
}

local function definition_security(dp)
  for _, f in ipairs(type(dp.features) == "table" and dp.features or {}) do
    if type(f) == "table" and type(f.name) == "string" and f.name:lower() == "securitytype" then
      return type(f.value) == "string" and f.value or nil
    end
  end
end

-- Refuses an OS source that the image definition cannot hold, as Azure
-- does: another OS type, another Hyper-V generation (Conflict), a
-- Trusted Launch or confidential source in a definition whose features
-- do not admit it, another architecture.
local function check_traits(def, traits, field)
  if not traits then return true end
  local dp = def.body.properties
  if traits.os_type and traits.os_type ~= dp.osType then
    return bad(field, "The source '%s' has OS type '%s'; the gallery image '%s' is '%s'.",
      traits.id, traits.os_type, def.body.name, dp.osType)
  end
  local hv = traits.hyper_v or "V1"
  if hv ~= (dp.hyperVGeneration or "V1") then
    return nil, reply.error(409, "Conflict", string.format(
      "The resource with id '%s' has a different Hypervisor generation ['%s'] than the parent gallery image " ..
      "Hypervisor generation ['%s'].", traits.id, hv, dp.hyperVGeneration or "V1"), field)
  end
  local sec = traits.security
  if sec and sec ~= "Standard" then
    local feature = definition_security(dp)
    local admits = feature and ADMITS[feature:lower()] or {}
    if not admits[sec] then
      return bad(field, "The source '%s' has security type '%s'; the gallery image '%s' needs the feature " ..
        "SecurityType %s to hold it (it has %s).", traits.id, sec, def.body.name,
        sec == "TrustedLaunch" and "'TrustedLaunchSupported' or 'TrustedLaunch'" or "'ConfidentialVmSupported' or 'ConfidentialVM'",
        feature and ("'" .. feature .. "'") or "none")
    end
  end
  local arch = traits.arch or "x64"
  if arch:lower() ~= (dp.architecture or "x64"):lower() then
    return bad(field, "The source '%s' has architecture '%s'; the gallery image '%s' is '%s'.",
      traits.id, arch, def.body.name, dp.architecture or "x64")
  end
  return true
end

local function plan_storage(em, body, location)
  local sp = type(body.properties) == "table" and body.properties.storageProfile
  if type(sp) ~= "table" then
    return bad(SP, "Required parameter '%s' is missing (null).", SP)
  end
  local has_source = type(sp.source) == "table" and (given(sp.source.id) or given(sp.source.virtualMachineId))
  local os = sp.osDiskImage
  local has_os = type(os) == "table" and type(os.source) == "table" and given(os.source.id)
  if has_source and has_os then
    return bad(SP .. ".osDiskImage.source.id",
      "Give either %s.source.id (a managed image or VM) or %s.osDiskImage.source.id (a snapshot or disk), not both.", SP, SP)
  end
  if has_source then return plan_from_source(em, sp, location) end
  if has_os then return plan_from_disks(em, sp, location) end
  return bad(SP .. ".osDiskImage.source.id",
    "The version needs a source: %s.osDiskImage.source.id (a snapshot or disk) or %s.source.id (a managed image or VM).", SP, SP)
end

----------------------------------------------------------------------------
-- Image versions: publishing and replication
----------------------------------------------------------------------------

local PP = "properties.publishingProfile"

-- Returns publishing { doc, regions = { { key, name, replicas, account } } } or nil, err.
local function plan_publishing(body, location, home_name)
  local pp = type(body.properties) == "table" and body.properties.publishingProfile
  if given(pp) and type(pp) ~= "table" then return bad(PP, "%s must be an object.", PP) end
  pp = given(pp) and pp or {}
  local replicas = 1
  if given(pp.replicaCount) then
    replicas = int(pp.replicaCount)
    if not replicas or replicas < 1 or replicas > 100 then
      return bad(PP .. ".replicaCount", "%s.replicaCount must be an integer from 1 to 100.", PP)
    end
  end
  local ok, account = optional_enum(pp.storageAccountType, ACCOUNT_TYPES, PP .. ".storageAccountType")
  if not ok then return nil, account end
  account = account or "Standard_LRS"
  if given(pp.excludeFromLatest) and type(pp.excludeFromLatest) ~= "boolean" then
    return bad(PP .. ".excludeFromLatest", "%s.excludeFromLatest must be a boolean.", PP)
  end
  local targets = pp.targetRegions
  if given(targets) and (type(targets) ~= "table" or #targets == 0) then
    return bad(PP .. ".targetRegions", "%s.targetRegions must be a non-empty array.", PP)
  end
  if not given(targets) then targets = { { name = home_name } } end
  local regions, docs, seen = {}, json.array(), {}
  for i, t in ipairs(targets) do
    local f = string.format("%s.targetRegions[%d]", PP, i - 1)
    -- A name that is there but not a string is arm.region's to refuse.
    if type(t) ~= "table" or not given(t.name) or t.name == "" then
      return bad(f .. ".name", "Required parameter '%s.name' is missing (null).", f)
    end
    local key, rerr = arm.region(t.name, M.VERSION_TYPE, f .. ".name")
    if not key then return nil, rerr end
    if seen[key] then return bad(f .. ".name", "Region '%s' is listed more than once.", t.name) end
    seen[key] = true
    local n = replicas
    if given(t.regionalReplicaCount) then
      n = int(t.regionalReplicaCount)
      if not n or n < 1 or n > 100 then
        return bad(f .. ".regionalReplicaCount", "%s.regionalReplicaCount must be an integer from 1 to 100.", f)
      end
    end
    local ok2, acct = optional_enum(t.storageAccountType, ACCOUNT_TYPES, f .. ".storageAccountType")
    if not ok2 then return nil, acct end
    local d = json.copy(t)
    d.regionalReplicaCount, d.storageAccountType = n, acct or account
    if d.excludeFromLatest == nil then d.excludeFromLatest = false end
    docs[#docs + 1] = d
    regions[#regions + 1] = { key = key, name = t.name, replicas = n }
  end
  if not seen[location] then
    return bad(PP .. ".targetRegions", "%s.targetRegions must include the gallery's region '%s'.", PP, home_name)
  end
  local doc = { targetRegions = docs, replicaCount = replicas, storageAccountType = account,
    excludeFromLatest = pp.excludeFromLatest or false }
  if given(pp.endOfLifeDate) then doc.endOfLifeDate = pp.endOfLifeDate end
  if given(pp.replicationMode) then doc.replicationMode = pp.replicationMode end
  return { doc = doc, regions = regions }
end

local function stored_bytes(snaps)
  local n = 0
  for _, s in pairs(snaps) do n = n + s:stored_bytes() end
  return n
end

-- Nominal seconds to replicate to one region.
local function repl_nominal(region, location, bytes)
  local base = region.key == location and M.REPL_HOME or (M.REPL_REMOTE + bytes / M.REPL_BYTES_PER_S)
  return base + M.REPL_PER_REPLICA * (region.replicas - 1)
end

local function progress(em, r)
  if r.failed then return r.failed_at or 0 end
  local span = r.done_at - r.start
  local p = span <= 0 and 100 or (em.clock:now() - r.start) / span * 100
  if p >= 100 then return 100 end
  return math.max(0, math.floor(p / M.PROGRESS_STEP) * M.PROGRESS_STEP)
end

local function replication_status(em, e)
  local summary, all_done, failed = json.array(), true, false
  for _, r in ipairs(e.x.regions) do
    local p = progress(em, r)
    local state = r.failed and "Failed" or (p >= 100 and "Completed" or "Replicating")
    if state == "Failed" then failed = true end
    if p < 100 then all_done = false end
    summary[#summary + 1] = { region = r.name, state = state, details = "", progress = p }
  end
  local agg = failed and "Failed" or (all_done and "Completed" or "InProgress")
  return { aggregatedState = agg, summary = summary }
end

-- Starts replication to the regions not yet copied; keeps the ones that
-- are.  Returns the nominal seconds until all are complete.
local function replicate(em, e, regions, location)
  local now = em.clock:now()
  local old = {}
  for _, r in ipairs(e.x.regions or {}) do old[r.key] = r end
  local bytes = stored_bytes(e.x.disks)
  local factor = em.clock.factor or 1
  local longest, out = 0, {}
  for _, want in ipairs(regions) do
    local r = old[want.key]
    if r and not r.failed then
      r.name, r.fresh = want.name, false
      if factor > 0 then longest = math.max(longest, (r.done_at - now) / factor) end
    else
      local nominal = repl_nominal(want, location, bytes)
      r = { key = want.key, name = want.name, start = now, done_at = now + em.clock:scale(nominal), fresh = true }
      longest = math.max(longest, nominal)
    end
    out[#out + 1] = r
  end
  e.x.regions = out
  return longest
end

-- Once the operation ends every region is complete (lro timing may run a
-- hair ahead of the regions' clocks).
local function replication_done(em, e)
  return function()
    local now = em.clock:now()
    for _, r in ipairs(e.x.regions) do
      if r.done_at > now then r.done_at = now end
    end
  end
end

-- Other providers (VM creation) ask whether a region has its copy.
local function replicated_check(e)
  return function(em2, region)
    for _, r in ipairs(e.x.regions) do
      if r.key == region_key(region) then return progress(em2, r) >= 100 and not r.failed end
    end
    return false
  end
end

-- An injected failure ends the operation when its last copy would have
-- completed, so the copies this operation started in other regions are
-- the ones that fail (the home copy, if it was the only one).
local function replication_failed(em, e, location)
  return function()
    local remote = false
    for _, r in ipairs(e.x.regions) do
      if r.fresh and r.key ~= location then remote = true end
    end
    for _, r in ipairs(e.x.regions) do
      if r.fresh and (r.key ~= location or not remote) then
        r.failed_at = math.min(progress(em, r), 100 - M.PROGRESS_STEP)
        r.failed = true
      end
    end
  end
end

----------------------------------------------------------------------------
-- Image versions: handlers
----------------------------------------------------------------------------

local function version_doc(em, e, expand)
  local doc = arm.doc(e)
  if expand then doc.properties.replicationStatus = replication_status(em, e) end
  return doc
end

local function same_storage(a, b)
  local function src(x) return x.source and x.source.id and x.source.id:lower() or "" end
  if src(a) ~= src(b) or src(a.osDiskImage or {}) ~= src(b.osDiskImage or {}) then return false end
  if #a.dataDiskImages ~= #b.dataDiskImages then return false end
  for i, d in ipairs(a.dataDiskImages) do
    local o = b.dataDiskImages[i]
    if d.lun ~= o.lun or src(d) ~= src(o) then return false end
  end
  return true
end

local function update_version(em, req, e, body, tags, storage, publishing, location)
  local blocked = busy(e)
  if blocked then return blocked end
  if not same_storage(storage, e.body.properties.storageProfile) then
    return reply.error(409, "PropertyChangeNotAllowed",
      "Changing the storageProfile (sources) of a gallery image version is not allowed.", SP)
  end
  local safety = e.body.properties.safetyProfile
  if not safety.allowDeletionOfReplicatedLocations then
    local keep = {}
    for _, r in ipairs(publishing.regions) do keep[r.key] = true end
    for _, r in ipairs(e.x.regions) do
      if not keep[r.key] then
        return reply.error(409, "OperationNotAllowed", string.format(
          "Region '%s' cannot be removed: safetyProfile.allowDeletionOfReplicatedLocations is false.", r.name),
          PP .. ".targetRegions")
      end
    end
  end
  e.body.tags = tags
  local pp = e.body.properties.publishingProfile
  local published = pp.publishedDate
  e.body.properties.publishingProfile = publishing.doc
  publishing.doc.publishedDate = published
  e.body.properties.provisioningState = "Updating"
  local nominal = replicate(em, e, publishing.regions, location)
  e.x.on_fail = replication_failed(em, e, location)
  local headers = start_lro(em, req, e, location, nominal, replication_done(em, e))
  return reply.json(200, version_doc(em, e, false), headers)
end

local function put_version(em, req)
  local badname = arm.check_name(req.params.version, "version", "galleryImageVersionName")
  if badname then return badname end
  local body, err = arm.body(req)
  if not body then return err end
  local def, derr = parent_image(em, req)
  if not def then return derr end
  local location, lerr = arm.location(body, M.VERSION_TYPE)
  if not location then return lerr end
  if location ~= def.body.location then
    return reply.error(400, "InvalidParameter", string.format(
      "An image version must be in its gallery's region '%s', not '%s'.", def.body.location, location), "location")
  end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local plan, perr = plan_storage(em, body, location)
  if not plan then return perr end
  local publishing, pperr = plan_publishing(body, location, body.location)
  if not publishing then return pperr end
  local fits, ferr = check_traits(def, plan.traits, plan.storage.source and SP .. ".source.id" or SP .. ".osDiskImage.source.id")
  if not fits then return ferr end
  local props = type(body.properties) == "table" and body.properties or {}
  local sp_in = type(props.safetyProfile) == "table" and props.safetyProfile or {}
  for _, f in ipairs({ "allowDeletionOfReplicatedLocations", "blockDeletionBeforeEndOfLife" }) do
    if given(sp_in[f]) and type(sp_in[f]) ~= "boolean" then
      return select(2, bad("properties.safetyProfile." .. f, "properties.safetyProfile.%s must be a boolean.", f))
    end
  end
  local id = version_id(req)
  local existing = em.store:get_typed(id, M.VERSION_TYPE)
  if existing then
    return update_version(em, req, existing, body, tags, plan.storage, publishing, location)
  end
  publishing.doc.publishedDate = clock_mod.iso(em.clock:now())
  local doc = arm.tracked(id, M.VERSION_TYPE, req.params.version, location, tags)
  doc.properties = {
    publishingProfile = publishing.doc, storageProfile = plan.storage,
    safetyProfile = {
      allowDeletionOfReplicatedLocations = sp_in.allowDeletionOfReplicatedLocations ~= false,
      blockDeletionBeforeEndOfLife = sp_in.blockDeletionBeforeEndOfLife == true,
      reportedForPolicyViolation = false,
    },
    provisioningState = "Creating",
  }
  local dp = def.body.properties
  local e = em.store:put{ id = id, type = M.VERSION_TYPE, body = doc, x = {
    disks = plan.snaps, os_type = dp.osType, os_state = dp.osState, hyper_v = dp.hyperVGeneration } }
  e.x.replicated = replicated_check(e)
  local nominal = replicate(em, e, publishing.regions, location)
  e.x.on_fail = replication_failed(em, e, location)
  local headers = start_lro(em, req, e, location, nominal, replication_done(em, e))
  return reply.json(201, version_doc(em, e, false), headers)
end

local function version_entry(em, req)
  local def, err = parent_image(em, req)
  if not def then return nil, err end
  local e = em.store:get_typed(version_id(req), M.VERSION_TYPE)
  if e then return e end
  return nil, reply.not_found(M.VERSION_TYPE,
    req.params.gallery .. "/images/" .. req.params.image .. "/versions/" .. req.params.version, req.params.rg)
end

-- $expand: ReplicationStatus (or UefiSettings, which changes nothing here).
local function expand_option(req)
  local v = req.query["$expand"]
  if not v or v == "" then return true, false end
  local low = v:lower()
  if low == "replicationstatus" then return true, true end
  if low == "uefisettings" then return true, false end
  return nil, reply.error(400, "InvalidParameter", string.format(
    "The value '%s' of $expand is not valid; it may be 'ReplicationStatus' or 'UefiSettings'.", v), "$expand")
end

local function get_version(em, req)
  local ok, expand = expand_option(req)
  if not ok then return expand end
  local e, err = version_entry(em, req)
  if not e then return err end
  return reply.json(200, version_doc(em, e, expand))
end

local function delete_version(em, req)
  local e = em.store:get_typed(version_id(req), M.VERSION_TYPE)
  if not e then return arm.absent(em, req) end
  local pp, safety = e.body.properties.publishingProfile, e.body.properties.safetyProfile
  if safety.blockDeletionBeforeEndOfLife and pp.endOfLifeDate and pp.endOfLifeDate > arm.now_iso(em) then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Version '%s' cannot be deleted before its end of life (%s): safetyProfile.blockDeletionBeforeEndOfLife is true.",
      e.body.name, pp.endOfLifeDate))
  end
  return start_delete(em, req, e)
end

local function list_versions(em, req)
  local ok, expand = expand_option(req)
  if not ok then return expand end
  local def, err = parent_image(em, req)
  if not def then return err end
  local docs = {}
  for _, e in ipairs(em.store:list(M.VERSION_TYPE, { parent = def.id })) do
    docs[#docs + 1] = version_doc(em, e, expand)
  end
  return arm.list(em, req, docs)
end

-- After a state load: versions get their replication check back.
function M.revive(em, e)
  if e.type == M.VERSION_TYPE:lower() then e.x.replicated = replicated_check(e) end
end

function M.routes(em)
  local tg, ti, tv = "galleries", "galleries/images", "galleries/images/versions"
  return {
    { method = "PUT", path = GALLERY, op = "Galleries_CreateOrUpdate", arm = true, kind = "write", rtype = tg, handler = put_gallery },
    { method = "GET", path = GALLERY, op = "Galleries_Get", arm = true, kind = "read", rtype = tg, handler = get_gallery },
    { method = "DELETE", path = GALLERY, op = "Galleries_Delete", arm = true, kind = "delete", rtype = tg, handler = delete_gallery },
    { method = "GET", path = RG_PATH, op = "Galleries_ListByResourceGroup", arm = true, kind = "read", rtype = tg, handler = list_galleries },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/galleries",
      op = "Galleries_List", arm = true, kind = "read", rtype = tg, handler = list_galleries },
    { method = "PUT", path = IMAGE, op = "GalleryImages_CreateOrUpdate", arm = true, kind = "write", rtype = ti, handler = put_image },
    { method = "GET", path = IMAGE, op = "GalleryImages_Get", arm = true, kind = "read", rtype = ti, handler = get_image },
    { method = "DELETE", path = IMAGE, op = "GalleryImages_Delete", arm = true, kind = "delete", rtype = ti, handler = delete_image },
    { method = "GET", path = GALLERY .. "/images", op = "GalleryImages_ListByGallery", arm = true, kind = "read", rtype = ti, handler = list_images },
    { method = "PUT", path = VERSION, op = "GalleryImageVersions_CreateOrUpdate", arm = true, kind = "write", rtype = tv, handler = put_version },
    { method = "GET", path = VERSION, op = "GalleryImageVersions_Get", arm = true, kind = "read", rtype = tv, handler = get_version },
    { method = "DELETE", path = VERSION, op = "GalleryImageVersions_Delete", arm = true, kind = "delete", rtype = tv, handler = delete_version },
    { method = "GET", path = IMAGE .. "/versions", op = "GalleryImageVersions_ListByGalleryImage", arm = true, kind = "read", rtype = tv, handler = list_versions },
  }
end

return M
