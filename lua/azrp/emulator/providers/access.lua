-- Read access (SAS) to disks, snapshots and disk restore points:
-- beginGetAccess and endGetAccess as DiskRP runs them.
--
-- A grant lives in the blob endpoint (blob.lua); here we check the request,
-- reuse and extend an active grant (what Azure does when beginGetAccess is
-- called twice), and answer with the LRO whose final result is the
-- AccessUri.  The SAS URL never appears anywhere but in that final result.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"

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

-- entry: the resource; source: its content or snapshot; on_state(entry,
-- active) lets the resource show ActiveSAS.  Returns a 202 LRO response.
function M.begin(em, req, entry, source, location, on_state)
  local data, err = M.grant_data(req)
  if not data then return err end
  if not em.blob then
    return reply.error(501, "NotImplemented", "This emulator build has no blob endpoint.")
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
        g = em.blob:grant{ source = source, duration = data.duration, access = data.access,
          resource_id = entry.id, base_url = req.base_url }
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
