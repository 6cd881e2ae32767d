-- Microsoft.Compute/snapshots (DiskRP): point-in-time copies of disks.
--
-- A snapshot's bytes are an immutable content view in x.snap, taken when
-- the PUT arrives: later writes to the source disk never reach it.  It is
-- made by Copy from a disk or another snapshot, or by Restore from a disk
-- restore point (sharing the restore point's view), and it is what golden
-- images and gallery image versions are built from.  disks.lua's Copy and
-- VM data disks read x.snap, so a disk made from a snapshot has its bytes.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local util = require "azrp.emulator.util"
local content = require "azrp.emulator.content"
local access = require "azrp.emulator.providers.access"
local disks = require "azrp.emulator.providers.disks"

local M = {}

M.TYPE = "Microsoft.Compute/snapshots"
local DISK_TYPE = "Microsoft.Compute/disks"
local DRP_TYPE = "Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints"
local PATH = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/snapshots/{snapshot}"
local GIB = 1024 * 1024 * 1024

M.SKUS = { "Standard_LRS", "Premium_LRS", "Standard_ZRS" }
local TIERS = { Standard_LRS = "Standard", Premium_LRS = "Premium", Standard_ZRS = "Standard" }
local CREATE_OPTIONS = { "Empty", "Attach", "FromImage", "Import", "Copy", "Restore",
  "Upload", "CopyStart", "ImportSecure", "UploadPreparedSecure", "CopyFromSanSnapshot" }

-- Nominal seconds until a snapshot is Succeeded, by how it is made.
M.DURATION = { Copy = 10, Restore = 20, delete = 5 }

local function sku_doc(name) return { name = name, tier = TIERS[name] } end

local function snapshot_id(req)
  return ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "snapshots", req.params.snapshot)
end

-- Examples write ids without the leading "/"; ARM accepts both.
local function norm_id(s)
  if type(s) == "string" and s ~= "" and s:sub(1, 1) ~= "/" then return "/" .. s end
  return s
end
M.norm_id = norm_id

local function bad(field, fmt, ...)
  return nil, reply.error(400, "InvalidParameter", string.format(fmt, ...), field)
end

local function sas_state(entry, active)
  entry.body.properties.diskState = active and "ActiveSAS" or "Unattached"
end

----------------------------------------------------------------------------
-- Sources
----------------------------------------------------------------------------

local SOURCE_FIELD = "properties.creationData.sourceResourceId"

-- The source of a Copy: { snap, entry, location, props } or nil, error.
local function copy_source(em, source_id)
  local src = em.store:get_typed(source_id, DISK_TYPE) or em.store:get_typed(source_id, M.TYPE)
  if not src then
    if em.store:get_typed(source_id, DRP_TYPE) then
      return bad(SOURCE_FIELD, "'%s' is a disk restore point: use createOption Restore to snapshot it.", source_id)
    end
    return nil, reply.error(404, "NotFound", string.format(
      "Source resource '%s' of the copy was not found.", source_id), SOURCE_FIELD)
  end
  if src.x.ephemeral then
    return nil, reply.error(400, "OperationNotAllowed", string.format(
      "Disk '%s' is an ephemeral OS disk; ephemeral disks cannot be snapshotted.", src.body.name), SOURCE_FIELD)
  end
  -- A disk is read now; a snapshot's view is already immutable.
  local snap = src.x.snap or src.x.content:snapshot()
  return { snap = snap, entry = src, location = src.body.location, props = src.body.properties }
end

-- The source of a Restore: a disk restore point whose bytes are here.
local function restore_source(em, source_id)
  local drp = em.store:get_typed(source_id, DRP_TYPE)
  if not drp then
    if em.store:get_typed(source_id, DISK_TYPE) or em.store:get_typed(source_id, M.TYPE) then
      return bad(SOURCE_FIELD, "'%s' is a disk or snapshot: use createOption Copy to snapshot it.", source_id)
    end
    return nil, reply.error(404, "NotFound", string.format(
      "Disk restore point '%s' was not found.", source_id), SOURCE_FIELD)
  end
  -- A copy in another region has no usable bytes until replication ends.
  local ready, why = drp.x.ready(em)
  if not ready then return nil, reply.error(409, "OperationNotAllowed", why, SOURCE_FIELD) end
  return { snap = drp.x.snap, entry = drp, location = drp.x.location, props = drp.body.properties }
end

-- Incremental snapshots of one disk share a family id, as in Azure.
local function family_id(em, source_unique_id)
  if source_unique_id then
    for _, e in ipairs(em.store:list(M.TYPE)) do
      local p = e.body.properties
      if p.incremental and p.creationData.sourceUniqueId == source_unique_id then
        return p.incrementalSnapshotFamilyId
      end
    end
  end
  return util.guid()
end

----------------------------------------------------------------------------
-- Validation of a new snapshot: every check before any state changes
----------------------------------------------------------------------------

-- Returns plan { location, tags, sku, option, source, snap, incremental,
-- os_type, hyper_v } or nil, error.
local function plan_create(em, body)
  local location, lerr = arm.location(body, M.TYPE)
  if not location then return nil, lerr end
  local tags, terr = arm.tags(body)
  if not tags then return nil, terr end
  local sku = "Standard_LRS"
  if body.sku ~= nil and type(body.sku) == "table" and body.sku.name ~= nil then
    local s, serr = arm.enum(body.sku.name, M.SKUS, "sku.name")
    if not s then return nil, serr end
    sku = s
  end
  local props = type(body.properties) == "table" and body.properties or {}
  local incremental = props.incremental
  if incremental == nil or incremental == json.null then incremental = false end
  if type(incremental) ~= "boolean" then
    return bad("properties.incremental", "properties.incremental must be a boolean, got '%s'.", tostring(incremental))
  end
  local os_type, hyper_v
  if props.osType ~= nil then
    local v, err = arm.enum(props.osType, { "Windows", "Linux" }, "properties.osType")
    if not v then return nil, err end
    os_type = v
  end
  if props.hyperVGeneration ~= nil then
    local v, err = arm.enum(props.hyperVGeneration, { "V1", "V2" }, "properties.hyperVGeneration")
    if not v then return nil, err end
    hyper_v = v
  end
  local size_gb = props.diskSizeGB
  if size_gb ~= nil then
    size_gb = type(size_gb) == "number" and math.tointeger(size_gb)
    if not size_gb or size_gb < 1 or size_gb > 65536 then
      return bad("properties.diskSizeGB", "diskSizeGB must be an integer from 1 to 65536.")
    end
  end
  local net, nerr = disks.network_of(props)
  if not net then return nil, nerr end
  local option, oerr = arm.need(body, "properties.creationData.createOption", "properties.creationData.createOption")
  if not option then return nil, oerr end
  option, oerr = arm.enum(option, CREATE_OPTIONS, "properties.creationData.createOption")
  if not option then return nil, oerr end
  if option ~= "Copy" and option ~= "Restore" then
    return bad("properties.creationData.createOption",
      "createOption '%s' is not supported for snapshots by the azrp emulator (Copy and Restore are).", option)
  end
  local sid, serr = arm.need(body, "properties.creationData.sourceResourceId", SOURCE_FIELD)
  if not sid then return nil, serr end
  if type(sid) ~= "string" then return bad(SOURCE_FIELD, "%s must be a resource id string.", SOURCE_FIELD) end
  local src, err
  if option == "Copy" then src, err = copy_source(em, norm_id(sid))
  else src, err = restore_source(em, norm_id(sid)) end
  if not src then return nil, err end
  if src.location ~= location then
    return bad("location", "The source '%s' is in region '%s'; a snapshot of it must be created in the same region, not '%s'.",
      src.entry.body.name, tostring(src.location), location)
  end
  local snap = src.snap
  if size_gb then
    if size_gb * GIB < snap.size then
      return nil, reply.error(400, "BadRequest", string.format(
        "The snapshot size %d GB is smaller than the source's %d GB.", size_gb, math.ceil(snap.size / GIB)),
        "properties.diskSizeGB")
    end
    -- A bigger snapshot holds the source and a zero tail.
    if size_gb * GIB > snap.size then snap = content.from(snap, size_gb * GIB):snapshot() end
  end
  return { location = location, tags = tags, sku = sku, option = option, source = src,
    snap = snap, incremental = incremental, network = net,
    os_type = os_type or src.props.osType, hyper_v = hyper_v or src.props.hyperVGeneration }
end

----------------------------------------------------------------------------
-- Handlers
----------------------------------------------------------------------------

local function update_existing(em, e, body)
  local props = type(body.properties) == "table" and body.properties or {}
  local cd = props.creationData
  if type(cd) == "table" and cd.sourceResourceId
    and not ids.same(norm_id(cd.sourceResourceId), e.body.properties.creationData.sourceResourceId) then
    return reply.error(409, "PropertyChangeNotAllowed",
      "Changing property 'creationData.sourceResourceId' of a snapshot is not allowed.", SOURCE_FIELD)
  end
  if props.incremental ~= nil and props.incremental ~= e.body.properties.incremental then
    return reply.error(409, "PropertyChangeNotAllowed",
      "Changing property 'incremental' of a snapshot is not allowed.", "properties.incremental")
  end
  local sku
  if type(body.sku) == "table" and body.sku.name ~= nil then
    local s, serr = arm.enum(body.sku.name, M.SKUS, "sku.name")
    if not s then return serr end
    sku = s
  end
  local tags
  if body.tags ~= nil then
    local t, terr = arm.tags(body)
    if not t then return terr end
    tags = t
  end
  local net, nerr = disks.network_of(props)
  if not net then return nerr end
  if sku then e.body.sku = sku_doc(sku) end
  if tags then e.body.tags = tags end
  if net.policy then e.body.properties.networkAccessPolicy = net.policy end
  if net.access_id then e.body.properties.diskAccessId = net.access_id end
  if net.public then e.body.properties.publicNetworkAccess = net.public end
  return reply.json(200, arm.doc(e))
end

local function put(em, req)
  local badname = arm.check_name(req.params.snapshot, "disk", "snapshotName")
  if badname then return badname end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local id = snapshot_id(req)
  local existing = em.store:get_typed(id, M.TYPE)
  if existing then
    local moved = arm.same_location(existing, body)
    if moved then return moved end
    return update_existing(em, existing, body)
  end

  local plan, perr = plan_create(em, body)
  if not plan then return perr end
  local src, snap = plan.source, plan.snap
  local size_gb = math.ceil(snap.size / GIB)
  local source_unique_id = src.props.uniqueId
  local props = {
    creationData = { createOption = plan.option, sourceResourceId = src.entry.body.id,
      sourceUniqueId = source_unique_id },
    diskSizeGB = size_gb, diskSizeBytes = snap.size, incremental = plan.incremental,
    provisioningState = "Updating", diskState = "Unattached", timeCreated = arm.now_iso(em),
    uniqueId = util.guid(), osType = plan.os_type, hyperVGeneration = plan.hyper_v,
    encryption = { type = "EncryptionAtRestWithPlatformKey" },
    networkAccessPolicy = plan.network.policy or "AllowAll", diskAccessId = plan.network.access_id,
    publicNetworkAccess = plan.network.public or "Enabled",
  }
  if plan.incremental then props.incrementalSnapshotFamilyId = family_id(em, source_unique_id) end
  local doc = arm.tracked(id, M.TYPE, req.params.snapshot, plan.location, plan.tags)
  doc.sku = sku_doc(plan.sku)
  doc.properties = props
  local e = em.store:put{ id = id, type = M.TYPE, body = doc,
    x = { snap = snap, source_id = src.entry.body.id } }
  local _, headers = em.lro:start{
    sub = req.params.sub, location = plan.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.DURATION[plan.option], resource_id = id,
    fail_with = req.fault_provisioning, finish = arm.provisioned(props, em, id) }
  return reply.json(202, arm.doc(e), headers)
end

local function get_entry(em, req)
  return arm.find(em, req, snapshot_id(req), M.TYPE, req.params.snapshot)
end

local get = arm.getter(get_entry)

-- SnapshotUpdate: tags, sku and network access (the rest of a snapshot is
-- fixed).
local function patch(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  return update_existing(em, e, body)
end

local function delete(em, req)
  local e = em.store:get_typed(snapshot_id(req), M.TYPE)
  if not e then return arm.absent(em, req) end
  if access.active(em, e) then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Snapshot %s has an active shared access signature; call endGetAccess before deleting it.", e.body.name))
  end
  return arm.delete_later(em, req, e, M.DURATION.delete)
end

local list = arm.lister(M.TYPE)

local function begin_access(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  local state = e.body.properties.provisioningState
  if state ~= "Succeeded" then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Snapshot %s is '%s'; access can be granted once it is Succeeded.", e.body.name, state))
  end
  return access.begin(em, req, e, e.x.snap, e.body.location, sas_state)
end

local function end_access(em, req)
  local e, err = get_entry(em, req)
  if not e then return err end
  return access.revoke(em, req, e, e.body.location, sas_state)
end

function M.routes(em)
  local rgl = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/snapshots"
  local t = "snapshots"
  return {
    { method = "PUT", path = PATH, op = "Snapshots_CreateOrUpdate", arm = true, kind = "write", rtype = t, handler = put },
    { method = "PATCH", path = PATH, op = "Snapshots_Update", arm = true, kind = "write", rtype = t, handler = patch },
    { method = "GET", path = PATH, op = "Snapshots_Get", arm = true, kind = "read", rtype = t, handler = get },
    { method = "DELETE", path = PATH, op = "Snapshots_Delete", arm = true, kind = "delete", rtype = t, handler = delete },
    { method = "GET", path = rgl, op = "Snapshots_ListByResourceGroup", arm = true, kind = "read", rtype = t, handler = list },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/snapshots",
      op = "Snapshots_List", arm = true, kind = "read", rtype = t, handler = list },
    { method = "POST", path = PATH .. "/beginGetAccess", op = "Snapshots_GrantAccess", arm = true, kind = "write", rtype = t, handler = begin_access },
    { method = "POST", path = PATH .. "/endGetAccess", op = "Snapshots_RevokeAccess", arm = true, kind = "write", rtype = t, handler = end_access },
  }
end

return M
