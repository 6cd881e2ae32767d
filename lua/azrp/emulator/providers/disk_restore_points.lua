-- Microsoft.Compute disk restore points (DiskRP): read-only resources made
-- by restore point creation; get, list, and SAS access to their bytes.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local access = require "azrp.emulator.providers.access"
local rps = require "azrp.emulator.providers.restore_points"

local M = {}

local BASE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/" ..
  "restorePointCollections/{rpc}/restorePoints/{rp}/diskRestorePoints"
local DRP = BASE .. "/{drp}"

-- The restore point (by the request's path) or nil and a 404.
local function restore_point(em, req)
  local e, err = rps.rp_entry(em, req)
  if not e then return nil, err end
  return e
end

local function drp_entry(em, req)
  local rp, err = restore_point(em, req)
  if not rp then return nil, err end
  local e = em.store:get_typed(rp.id .. "/diskRestorePoints/" .. req.params.drp, rps.DRP_TYPE)
  if not e then
    return nil, reply.not_found("Microsoft.Compute/restorePointCollections", req.params.rpc .. "/restorePoints/" ..
      req.params.rp .. "/diskRestorePoints/" .. req.params.drp, req.params.rg)
  end
  return e, rp
end

-- The document with the replication fields of a copy filled in.
local function doc(em, e)
  local d = arm.doc(e)
  if e.x.repl then
    local p = rps.percent(em, e)
    d.properties.completionPercent = p
    d.properties.replicationState = p >= 100 and "Succeeded" or "InProgress"
  end
  return d
end

local function get(em, req)
  local e, err = drp_entry(em, req)
  if not e then return err end
  return reply.json(200, doc(em, e))
end

local function list(em, req)
  local rp, err = restore_point(em, req)
  if not rp then return err end
  local docs = {}
  for _, e in ipairs(em.store:list(rps.DRP_TYPE, { parent = rp.id })) do docs[#docs + 1] = doc(em, e) end
  return arm.list(em, req, docs)
end

local function begin_access(em, req)
  local e, rp = drp_entry(em, req)
  if not e then return rp end
  if rp.body.properties.provisioningState ~= "Succeeded" then
    return reply.error(409, "OperationNotAllowed", "The restore point is not in state Succeeded.")
  end
  local ready, why = e.x.ready(em)
  if not ready then return reply.error(409, "OperationNotAllowed", why) end
  return access.begin(em, req, e, e.x.snap, e.x.location)
end

local function end_access(em, req)
  local e, rp = drp_entry(em, req)
  if not e then return rp end
  return access.revoke(em, req, e, e.x.location)
end

function M.routes(em)
  local min = rps.MIN_API
  local t = "restorePointCollections/restorePoints/diskRestorePoints"
  return {
    { method = "GET", path = DRP, op = "DiskRestorePoint_Get", arm = true, kind = "read", min_api = min, rtype = t, handler = get },
    { method = "GET", path = BASE, op = "DiskRestorePoint_ListByRestorePoint", arm = true, kind = "read", min_api = min, rtype = t, handler = list },
    { method = "POST", path = DRP .. "/beginGetAccess", op = "DiskRestorePoint_GrantAccess", arm = true, kind = "write", min_api = min, rtype = t, handler = begin_access },
    { method = "POST", path = DRP .. "/endGetAccess", op = "DiskRestorePoint_RevokeAccess", arm = true, kind = "write", min_api = min, rtype = t, handler = end_access },
  }
end

return M
