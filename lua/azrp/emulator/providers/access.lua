-- Read access (SAS) to disks, snapshots and disk restore points:
-- beginGetAccess and endGetAccess as DiskRP runs them.
--
-- A grant lives in the blob endpoint (blob.lua); here we check the request,
-- reuse and extend an active grant (what Azure does when beginGetAccess is
-- called twice), and answer with the LRO whose final result is the
-- AccessUri.  The SAS URL never appears anywhere but in that final result.
--
-- networkAccessPolicy rules it: DenyAll refuses the grant ("The disk
-- cannot be exported", DiskRP), AllowPrivate grants a SAS that works only
-- through a private endpoint.  A read grant serves the resource as a fixed
-- VHD (its bytes, then a footer), and a disk restore point's grant can be
-- diffed against an earlier one of the same disk.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local vhd = require "azrp.emulator.vhd"

local M = {}

-- Validates GrantAccessData; returns { access, duration } or nil, 400.
function M.grant_data(req)
  local body, err = arm.body(req)
  if not body then return nil, err end
  local access, aerr = arm.need(body, "access", "grantAccessData.access")
  if not access then return nil, aerr end
  local canonical, eerr = arm.enum(access, { "None", "Read", "Write" }, "grantAccessData.access")
  if not canonical then return nil, eerr end
  local dur, derr = arm.need(body, "durationInSeconds", "grantAccessData.durationInSeconds")
  if not dur then return nil, derr end
  if math.type(dur) ~= "integer" or dur < 1 then
    return nil, reply.error(400, "InvalidParameter",
      "grantAccessData.durationInSeconds must be a positive integer.", "grantAccessData.durationInSeconds")
  end
  if canonical == "None" then
    return nil, reply.error(400, "InvalidParameter",
      "grantAccessData.access 'None' cannot be granted.", "grantAccessData.access")
  end
  return { access = canonical, duration = dur, file_format = body.fileFormat }
end

-- The VHD footer of a resource's blob: its size, the disk's unique id (a
-- disk restore point's is its source disk's) and the resource's creation
-- time.
function M.footer(entry, size)
  local p = entry.body.properties or {}
  local uid = vhd.guid_bytes(p.uniqueId) or vhd.guid_bytes(p.sourceUniqueId)
    or vhd.guid_bytes(p.familyId)
  return vhd.footer{ size = size, unique_id = uid, time = vhd.parse_time(p.timeCreated) }
end

-- Which grants can be diffed: disk restore points of one source disk,
-- incremental snapshots of one family; the earlier one (by creation) is
-- the previous point of the later.
local function lineage(entry)
  local p = entry.body.properties or {}
  if entry.x.disk_id then return { family = "drp:" .. ids.key(entry.x.disk_id), point = entry.seq } end
  if p.incremental and p.incrementalSnapshotFamilyId then
    return { family = "snapshot:" .. p.incrementalSnapshotFamilyId:lower(), point = entry.seq }
  end
  return nil
end

-- entry: the resource; source: its content or snapshot; on_state(entry,
-- active) lets the resource show ActiveSAS.  Returns a 202 LRO response,
-- or 409 OperationNotAllowed when the resource's networkAccessPolicy is
-- DenyAll.
function M.begin(em, req, entry, source, location, on_state)
  local data, err = M.grant_data(req)
  if not data then return err end
  if not em.blob then
    return reply.error(501, "NotImplemented", "This emulator build has no blob endpoint.")
  end
  local policy = (entry.body.properties or {}).networkAccessPolicy
  if policy == "DenyAll" then
    return reply.error(409, "OperationNotAllowed", string.format(
      "The disk cannot be exported: the networkAccessPolicy of '%s' is DenyAll.", entry.body.name))
  end
  local _, headers = em.lro:start{
    sub = req.params.sub, location = location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = 2, kind = "post",
    finish = function(op)
      if not em.store:get(entry.id) then
        return "Failed", { code = "ResourceNotFound", message = "The resource was deleted." }
      end
      local g = em.blob:active(entry.id)
      if g then
        g = em.blob:extend(g.id, data.duration)
      else
        local read = data.access == "Read"
        g = em.blob:grant{ source = source, duration = data.duration, access = data.access,
          resource_id = entry.id, base_url = req.base_url,
          footer = read and M.footer(entry, source.size) or nil,
          private = policy == "AllowPrivate", lineage = read and lineage(entry) or nil }
      end
      if on_state then on_state(entry, true) end
      op.result = { status = 200, body = { accessSAS = g.url } }
      return "Succeeded"
    end }
  return reply.empty(202, headers)
end

function M.revoke(em, req, entry, location, on_state)
  local _, headers = em.lro:start{
    sub = req.params.sub, location = location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = 1, kind = "post",
    finish = function(op)
      local g = em.blob and em.blob:active(entry.id)
      if g then em.blob:revoke(g.id) end
      if on_state then on_state(entry, false) end
      op.result = { status = 200 }
      return "Succeeded"
    end }
  return reply.empty(202, headers)
end

-- True while the resource has a SAS that has neither expired nor been revoked.
function M.active(em, entry)
  return em.blob ~= nil and em.blob:active(entry.id) ~= nil
end

return M
