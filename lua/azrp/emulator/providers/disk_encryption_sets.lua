-- Microsoft.Compute/diskEncryptionSets (DiskRP): just enough for disks
-- and VMs to name one.  A set holds no key material here: it is a
-- resource in a region that disks reference by id (encryption.
-- diskEncryptionSetId), and which cannot go while they do.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local util = require "azrp.emulator.util"

local M = {}

M.TYPE = "Microsoft.Compute/diskEncryptionSets"
local DISK_TYPE = "Microsoft.Compute/disks"
local PATH = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/diskEncryptionSets/{des}"

M.ENCRYPTION_TYPES = { "EncryptionAtRestWithCustomerKey", "EncryptionAtRestWithPlatformAndCustomerKeys",
  "ConfidentialVmEncryptedWithCustomerKey" }

local function des_id(req)
  return ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "diskEncryptionSets", req.params.des)
end

-- The set named by id, usable by a disk in location: the entry, or nil and
-- the error Azure answers (404 when it does not exist, 400 when it is in
-- another region, as a disk and its set must share one).
function M.resolve(em, id, location, field)
  local e = type(id) == "string" and em.store:get_typed(id, M.TYPE)
  if not e then
    return nil, reply.error(404, "NotFound", string.format(
      "The disk encryption set '%s' was not found.", tostring(id)), field)
  end
  if location and e.body.location ~= location then
    return nil, reply.error(400, "InvalidParameter", string.format(
      "The disk encryption set '%s' is in region '%s'; a disk in region '%s' needs a set in its own region.",
      e.body.name, e.body.location, location), field)
  end
  return e
end

-- The encryption property of a disk encrypted with set e.
function M.encryption(e)
  return { type = e.body.properties.encryptionType, diskEncryptionSetId = e.body.id }
end

local function put(em, req)
  local bad = arm.check_name(req.params.des, "disk", "diskEncryptionSetName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local id = des_id(req)
  local existing = em.store:get_typed(id, M.TYPE)
  if existing then
    local moved = arm.same_location(existing, body)
    if moved then return moved end
  end
  local location, lerr = arm.location(body, M.TYPE)
  if not location then return lerr end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local props = type(body.properties) == "table" and body.properties or {}
  local key, kerr = arm.need(body, "properties.activeKey.keyUrl", "properties.activeKey.keyUrl")
  if not key then return kerr end
  local kind = "EncryptionAtRestWithCustomerKey"
  if props.encryptionType ~= nil then
    local k, eerr = arm.enum(props.encryptionType, M.ENCRYPTION_TYPES, "properties.encryptionType")
    if not k then return eerr end
    kind = k
  end
  local doc = arm.tracked(id, M.TYPE, req.params.des, location, tags)
  doc.identity = { type = "SystemAssigned", principalId = existing and existing.body.identity.principalId or util.guid(),
    tenantId = em.seed and em.seed.tenants and em.seed.tenants[1].id or nil }
  doc.properties = {
    encryptionType = kind,
    activeKey = { keyUrl = key, sourceVault = props.activeKey.sourceVault },
    rotationToLatestKeyVersionEnabled = props.rotationToLatestKeyVersionEnabled == true,
    provisioningState = "Updating",
  }
  local e = em.store:put{ id = id, type = M.TYPE, body = doc, x = {} }
  local _, headers = em.lro:start{
    sub = req.params.sub, location = location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = 5, resource_id = id,
    fail_with = req.fault_provisioning, finish = arm.provisioned(doc.properties, em, id) }
  return reply.json(existing and 200 or 202, arm.doc(e), headers)
end

local function entry(em, req)
  return arm.find(em, req, des_id(req), M.TYPE, req.params.des)
end

local function delete(em, req)
  local e = em.store:get_typed(des_id(req), M.TYPE)
  if not e then return arm.absent(em, req) end
  for _, d in ipairs(em.store:list(DISK_TYPE)) do
    local enc = d.body.properties.encryption
    if enc and enc.diskEncryptionSetId and ids.same(enc.diskEncryptionSetId, e.id) then
      return reply.error(409, "OperationNotAllowed", string.format(
        "The disk encryption set '%s' is in use by disk '%s' and cannot be deleted.", e.body.name, d.body.name))
    end
  end
  return arm.delete_later(em, req, e, 5)
end

local list = arm.lister(M.TYPE)

function M.routes(em)
  return {
    { method = "PUT", path = PATH, op = "DiskEncryptionSets_CreateOrUpdate", arm = true, kind = "write", handler = put },
    { method = "GET", path = PATH, op = "DiskEncryptionSets_Get", arm = true, kind = "read", handler = arm.getter(entry) },
    { method = "DELETE", path = PATH, op = "DiskEncryptionSets_Delete", arm = true, kind = "delete", handler = delete },
    { method = "GET", path = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/diskEncryptionSets",
      op = "DiskEncryptionSets_ListByResourceGroup", arm = true, kind = "read", handler = list },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/diskEncryptionSets",
      op = "DiskEncryptionSets_List", arm = true, kind = "read", handler = list },
  }
end

return M
