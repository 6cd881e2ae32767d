-- Microsoft.Compute/disks (DiskRP): managed disks and their content.
--
-- A disk's bytes live in x.content (content.lua).  Disks are created
-- Empty, as a Copy of a disk or snapshot, or by Restore from a disk restore
-- point (also one copied from another region, once its replication is
-- complete), and they hold exactly the bytes of their source.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local util = require "azrp.emulator.util"
local json = require "azrp.emulator.json"
local content = require "azrp.emulator.content"
local access = require "azrp.emulator.providers.access"
local des = require "azrp.emulator.providers.disk_encryption_sets"
local vm_rules = require "azrp.emulator.vm_rules"

local M = {}

M.TYPE = "Microsoft.Compute/disks"
local PATH = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{disk}"
local GIB = 1024 * 1024 * 1024

M.SKUS = { "Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS",
  "Premium_ZRS", "StandardSSD_ZRS", "PremiumV2_LRS" }
local TIERS = { Standard_LRS = "Standard", Premium_LRS = "Premium",
  StandardSSD_LRS = "StandardSSD", UltraSSD_LRS = "Ultra", Premium_ZRS = "Premium",
  StandardSSD_ZRS = "StandardSSD", PremiumV2_LRS = "PremiumV2" }
local CREATE_OPTIONS = { "Empty", "Attach", "FromImage", "Import", "Copy", "Restore",
  "Upload", "CopyStart", "ImportSecure", "UploadPreparedSecure", "CopyFromSanSnapshot" }

-- Nominal seconds a disk takes to be ready, by how it is created.
M.DURATION = { Empty = 5, Copy = 20, Restore = 30, FromImage = 15 }

local function sku_doc(name) return { name = name, tier = TIERS[name] } end

-- Creates a disk entry directly (seed, VM creation, restore); spec =
-- { sub, rg, name, location, sku, size_gb, os_type, hyper_v, create_option,
--   source_id, source_unique_id, content, tags, max_shares, zones,
--   security_type, encryption (the property; platform keys when nil),
--   supported_capabilities, network_access_policy, disk_access_id,
--   public_network_access, pending }
function M.create(em, spec)
  local id = ids.resource_id(spec.sub, spec.rg, "Microsoft.Compute", "disks", spec.name)
  local size_gb = spec.size_gb or (spec.content and math.ceil(spec.content.size / GIB)) or 32
  local c = spec.content or content.new(size_gb * GIB)
  local props = {
    creationData = { createOption = spec.create_option or "Empty",
      sourceResourceId = spec.source_id, sourceUniqueId = spec.source_unique_id },
    diskSizeGB = size_gb, diskSizeBytes = c.size,
    uniqueId = util.guid(), provisioningState = spec.pending and "Updating" or "Succeeded",
    diskState = "Unattached", timeCreated = arm.now_iso(em),
    osType = spec.os_type, hyperVGeneration = spec.hyper_v or (spec.os_type and "V2") or nil,
    encryption = spec.encryption or { type = "EncryptionAtRestWithPlatformKey" },
    networkAccessPolicy = spec.network_access_policy or "AllowAll",
    diskAccessId = spec.disk_access_id,
    publicNetworkAccess = spec.public_network_access or "Enabled",
    supportedCapabilities = spec.supported_capabilities,
    maxShares = spec.max_shares,
  }
  if spec.security_type then props.securityProfile = { securityType = spec.security_type } end
  if spec.sku == "UltraSSD_LRS" or spec.sku == "PremiumV2_LRS" then
    props.diskIOPSReadWrite = 3000
    props.diskMBpsReadWrite = 125
    props.logicalSectorSize = 4096
  end
  local body = arm.tracked(id, M.TYPE, spec.name, spec.location, spec.tags)
  body.sku = sku_doc(spec.sku or "Standard_LRS")
  body.zones = spec.zones
  body.properties = props
  return em.store:put{ id = id, type = M.TYPE, body = body, x = { content = c } }
end

-- Marks a disk attached to (or detached from) a VM.
function M.attach(em, disk, vm_id)
  disk.body.managedBy = vm_id
  if vm_id then disk.body.properties.diskState = "Attached"
  elseif disk.body.properties.diskState == "Attached" then
    disk.body.properties.diskState = "Unattached"
  end
end

local function sas_state(entry, active)
  local p = entry.body.properties
  if active then p.diskState = "ActiveSAS"
  else p.diskState = entry.body.managedBy and "Attached" or "Unattached" end
end

-- The content a Copy or Restore starts from, or nil and an error response.
local function source_content(em, option, source_id, location)
  if option == "Copy" then
    local src = em.store:get_typed(source_id, M.TYPE)
      or em.store:get_typed(source_id, "Microsoft.Compute/snapshots")
    if not src then
      return nil, reply.error(404, "NotFound", string.format(
        "Source resource '%s' of the copy was not found.", source_id), "creationData.sourceResourceId")
    end
    if src.x.ready then
      local ok, why = src.x.ready(em)
      if not ok then return nil, reply.error(409, "OperationNotAllowed", why, "creationData.sourceResourceId") end
    end
    local from = src.x.snap or src.x.content:snapshot()
    return from, src
  end
  -- Restore: from a disk restore point.
  local drp = em.store:get_typed(source_id,
    "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints")
  if not drp then
    return nil, reply.error(404, "NotFound", string.format(
      "Disk restore point '%s' was not found.", source_id), "creationData.sourceResourceId")
  end
  if drp.x.location ~= location then
    return nil, reply.error(400, "InvalidParameter", string.format(
      "The disk restore point is in region '%s'; a disk restored from it must be created in the same region, not '%s'.",
      drp.x.location, location), "location")
  end
  local ready, why = drp.x.ready(em)
  if not ready then
    return nil, reply.error(409, "OperationNotAllowed", why, "creationData.sourceResourceId")
  end
  return drp.x.snap, drp
end

-- The encryption property a PUT or PATCH asks for (properties.encryption):
-- a disk encryption set in the disk's region, or platform keys; returns
-- it (nil when the body says nothing) or false and the error.
local function encryption_of(em, props, location)
  local enc = props.encryption
  if enc == nil then return nil end
  if type(enc) ~= "table" then
    return false, reply.error(400, "InvalidParameter", "encryption must be an object.", "properties.encryption")
  end
  local field = "properties.encryption.diskEncryptionSetId"
  if enc.diskEncryptionSetId ~= nil then
    local set, err = des.resolve(em, enc.diskEncryptionSetId, location, field)
    if not set then return false, err end
    local out = des.encryption(set)
    if enc.type ~= nil and tostring(enc.type):lower() ~= out.type:lower() then
      return false, reply.error(400, "InvalidParameter", string.format(
        "encryption.type '%s' does not match the disk encryption set's encryptionType '%s'.",
        tostring(enc.type), out.type), "properties.encryption.type")
    end
    return out
  end
  if enc.type ~= nil and tostring(enc.type):lower() ~= "encryptionatrestwithplatformkey" then
    return false, reply.error(400, "InvalidParameter", string.format(
      "encryption.type '%s' needs encryption.diskEncryptionSetId.", tostring(enc.type)), field)
  end
  return { type = "EncryptionAtRestWithPlatformKey" }
end

-- networkAccessPolicy, diskAccessId and publicNetworkAccess of a body:
-- { policy, access_id, public } (fields nil when not given) or nil, 400.
local function network_of(props)
  local out = {}
  if props.networkAccessPolicy ~= nil then
    local v, err = arm.enum(props.networkAccessPolicy, { "AllowAll", "AllowPrivate", "DenyAll" },
      "properties.networkAccessPolicy")
    if not v then return nil, err end
    out.policy = v
    if v == "AllowPrivate" and type(props.diskAccessId) ~= "string" then
      return nil, reply.error(400, "InvalidParameter",
        "diskAccessId is required when networkAccessPolicy is AllowPrivate.", "properties.diskAccessId")
    end
  end
  if type(props.diskAccessId) == "string" then out.access_id = props.diskAccessId end
  if props.publicNetworkAccess ~= nil then
    local v, err = arm.enum(props.publicNetworkAccess, { "Enabled", "Disabled" }, "properties.publicNetworkAccess")
    if not v then return nil, err end
    out.public = v
  end
  return out
end

M.network_of = network_of

-- A property a disk restored or copied from a source keeps: the source's,
-- or the given one when the source has none; a given value that differs
-- from the source's is refused rather than silently dropped.
local function inherited(given, source_value, field)
  if given ~= nil and source_value ~= nil and tostring(given):lower() ~= tostring(source_value):lower() then
    return false, reply.error(400, "InvalidParameter", string.format(
      "%s '%s' does not match the source's '%s': a disk created from it keeps the source's value.",
      field, tostring(given), tostring(source_value)), "properties." .. field)
  end
  if source_value ~= nil then return source_value end
  return given
end

local function update_existing(em, req, e, body)
  local props = body.properties or {}
  if body.tags then
    local tags, terr = arm.tags(body)
    if not tags then return terr end
    e.body.tags = tags
  end
  if props.diskSizeGB then
    local want = props.diskSizeGB
    if math.type(want) ~= "integer" then
      return reply.error(400, "InvalidParameter", "diskSizeGB must be an integer.", "properties.diskSizeGB")
    end
    if want < e.body.properties.diskSizeGB then
      return reply.error(400, "BadRequest", string.format(
        "Disk size can only be increased: requested %d GB, current %d GB.", want,
        e.body.properties.diskSizeGB), "properties.diskSizeGB")
    end
    if want > e.body.properties.diskSizeGB then
      if e.body.managedBy and em.vm_running and em.vm_running(em, e.body.managedBy) then
        return reply.error(409, "OperationNotAllowed",
          "Disk resize is only allowed when the disk is unattached or the VM is deallocated.",
          "properties.diskSizeGB")
      end
      e.x.content = content.from(e.x.content:snapshot(), want * GIB)
      e.body.properties.diskSizeGB = want
      e.body.properties.diskSizeBytes = want * GIB
    end
  end
  local enc, eerr = encryption_of(em, props, e.body.location)
  if enc == false then return eerr end
  local net, nerr = network_of(props)
  if not net then return nerr end
  if enc then
    if e.body.managedBy and em.vm_running and em.vm_running(em, e.body.managedBy) then
      return reply.error(409, "OperationNotAllowed",
        "The encryption of a disk can change only when it is unattached or its VM is deallocated.",
        "properties.encryption")
    end
    e.body.properties.encryption = enc
  end
  if net.policy then e.body.properties.networkAccessPolicy = net.policy end
  if net.access_id then e.body.properties.diskAccessId = net.access_id end
  if net.public then e.body.properties.publicNetworkAccess = net.public end
  if body.sku and body.sku.name then
    local sku, serr = arm.enum(body.sku.name, M.SKUS, "sku.name")
    if not sku then return serr end
    e.body.sku = sku_doc(sku)
  end
  return reply.json(200, arm.doc(e))
end

local function put(em, req)
  local bad = arm.check_name(req.params.disk, "disk", "diskName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "disks", req.params.disk)
  local existing = em.store:get(id)
  if existing then
    local moved = arm.same_location(existing, body)
    if moved then return moved end
    return update_existing(em, req, existing, body)
  end

  local location, lerr = arm.location(body, M.TYPE)
  if not location then return lerr end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local sku = "Standard_LRS"
  if body.sku and body.sku.name then
    local s, serr = arm.enum(body.sku.name, M.SKUS, "sku.name")
    if not s then return serr end
    sku = s
  end
  local props = body.properties or {}
  local option, oerr = arm.need(body, "properties.creationData.createOption",
    "properties.creationData.createOption")
  if not option then return oerr end
  option, oerr = arm.enum(option, CREATE_OPTIONS, "properties.creationData.createOption")
  if not option then return oerr end
  if option ~= "Empty" and option ~= "Copy" and option ~= "Restore" then
    return reply.error(400, "InvalidParameter", string.format(
      "createOption '%s' is not supported by the azrp emulator (Empty, Copy and Restore are).",
      option), "properties.creationData.createOption")
  end
  local size_gb = props.diskSizeGB
  if size_gb ~= nil and (math.type(size_gb) ~= "integer" or size_gb < 1 or size_gb > 65536) then
    return reply.error(400, "InvalidParameter", "diskSizeGB must be an integer from 1 to 65536.",
      "properties.diskSizeGB")
  end
  local zones, zerr = vm_rules.check_zones(body.zones, "zones")
  if zones == false then return zerr end
  local skerr = vm_rules.sku_refusal(sku, zones, props.osType)
  if skerr then return skerr end
  local enc, eerr = encryption_of(em, props, location)
  if enc == false then return eerr end
  local net, nerr = network_of(props)
  if not net then return nerr end
  local given_security = type(props.securityProfile) == "table" and props.securityProfile.securityType or nil
  local c, source
  if option == "Empty" then
    if not size_gb then
      return reply.error(400, "InvalidParameter",
        "Required parameter 'diskSizeGB' is missing (null) for createOption Empty.", "properties.diskSizeGB")
    end
    c = content.new(size_gb * GIB)
  else
    local sid, serr = arm.need(body, "properties.creationData.sourceResourceId",
      "properties.creationData.sourceResourceId")
    if not sid then return serr end
    local snap, src = source_content(em, option, sid, location)
    if not snap then return src end
    source = src
    local want = size_gb and size_gb * GIB or snap.size
    if want < snap.size then
      return reply.error(400, "BadRequest", string.format(
        "The disk size %d GB is smaller than the source's %d GB.", size_gb, math.ceil(snap.size / GIB)),
        "properties.diskSizeGB")
    end
    c = content.from(snap, want)
  end
  -- A restored or copied disk is what its source was: OS type, Hyper-V
  -- generation, security type and capabilities.  Its encryption is the
  -- set the PUT names, else the source's (a disk restore point's is
  -- platform keys, unless the restore point was made with a set).
  local src_props = source and source.body.properties or {}
  local os_type, hyper_v, security = props.osType, props.hyperVGeneration, given_security
  if source then
    local err
    os_type, err = inherited(props.osType, src_props.osType, "osType")
    if os_type == false then return err end
    hyper_v, err = inherited(props.hyperVGeneration, src_props.hyperVGeneration, "hyperVGeneration")
    if hyper_v == false then return err end
    local src_security = src_props.securityProfile and src_props.securityProfile.securityType
    if given_security ~= nil and src_security == nil then
      return reply.error(400, "InvalidParameter", string.format(
        "Security Type '%s' is not supported for CreateOption '%s'.", tostring(given_security), option),
        "properties.securityProfile.securityType")
    end
    security, err = inherited(given_security, src_security, "securityProfile.securityType")
    if security == false then return err end
    if not enc and src_props.encryption then enc = json.copy(src_props.encryption) end
    -- an OS disk's restore point makes an OS disk, osType given or not
    local oerr2 = vm_rules.sku_refusal(sku, nil, os_type)
    if oerr2 then return oerr2 end
  end
  local e = M.create(em, {
    sub = req.params.sub, rg = req.params.rg, name = req.params.disk, location = location,
    sku = sku, content = c, tags = tags, create_option = option,
    source_id = source and source.body.id, source_unique_id = source and src_props.uniqueId,
    os_type = os_type, hyper_v = hyper_v, security_type = security,
    supported_capabilities = json.copy(props.supportedCapabilities or src_props.supportedCapabilities),
    max_shares = props.maxShares, zones = zones, pending = true, encryption = enc,
    network_access_policy = net.policy, disk_access_id = net.access_id, public_network_access = net.public,
  })
  local _, headers = em.lro:start{
    sub = req.params.sub, location = location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.DURATION[option] or 5, resource_id = e.id,
    fail_with = req.fault_provisioning, finish = arm.provisioned(e.body.properties) }
  return reply.json(202, arm.doc(e), headers)
end

local function get_entry(em, req)
  return arm.find(em, req, ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "disks",
    req.params.disk), M.TYPE, req.params.disk)
end

local get = arm.getter(get_entry)

local function patch(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  return update_existing(em, req, e, body)
end

local function delete(em, req)
  local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "disks", req.params.disk)
  local e = em.store:get_typed(id, M.TYPE)
  if not e then return reply.empty(204) end
  if e.body.managedBy then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Disk %s is attached to VM %s.", e.body.name, e.body.managedBy))
  end
  if access.active(em, e) then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Disk %s has an active shared access signature; call endGetAccess before deleting it.", e.body.name))
  end
  return arm.delete_later(em, req, e, 5)
end

local list = arm.lister(M.TYPE)

local function begin_access(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  if e.body.managedBy and em.vm_running and em.vm_running(em, e.body.managedBy) then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Disk %s is attached to running VM %s; access can be granted only to an unattached disk or one of a deallocated VM.",
      e.body.name, e.body.managedBy))
  end
  return access.begin(em, req, e, e.x.content, e.body.location, sas_state)
end

local function end_access(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  return access.revoke(em, req, e, e.body.location, sas_state)
end

function M.routes(em)
  local rgl = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks"
  return {
    { method = "PUT", path = PATH, op = "Disks_CreateOrUpdate", arm = true, kind = "write", handler = put },
    { method = "PATCH", path = PATH, op = "Disks_Update", arm = true, kind = "write", handler = patch },
    { method = "GET", path = PATH, op = "Disks_Get", arm = true, kind = "read", handler = get },
    { method = "DELETE", path = PATH, op = "Disks_Delete", arm = true, kind = "delete", handler = delete },
    { method = "GET", path = rgl, op = "Disks_ListByResourceGroup", arm = true, kind = "read", handler = list },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/disks",
      op = "Disks_List", arm = true, kind = "read", handler = list },
    { method = "POST", path = PATH .. "/beginGetAccess", op = "Disks_GrantAccess", arm = true, kind = "write", handler = begin_access },
    { method = "POST", path = PATH .. "/endGetAccess", op = "Disks_RevokeAccess", arm = true, kind = "write", handler = end_access },
  }
end

return M
