-- The status and result URLs of long-running operations.
--
-- GET {Azure-AsyncOperation}: 200 with the operation-status document.
-- GET {Location} (the same URL with monitor=true): 202 while running; then
-- what the synchronous call would have returned: the resource (PUT), the
-- action's result (POST), or 200 with no body (DELETE); a failed operation
-- answers with its error.
local reply = require "azrp.emulator.reply"
local json = require "azrp.emulator.json"

local M = {}

local function result(em, op)
  if op.status ~= "Succeeded" then
    local e = op.error or { code = "OperationFailed", message = "The operation failed." }
    return reply.error(op.http_status or 400, e.code, e.message)
  end
  if op.result then
    if op.result.body then return reply.json(op.result.status or 200, op.result.body) end
    return reply.empty(op.result.status or 200)
  end
  if op.kind == "delete" or not op.resource_id then return reply.empty(200) end
  local e = em.store:get(op.resource_id)
  if not e then return reply.empty(204) end
  return reply.json(200, json.copy(e.body))
end

local function get(em, req)
  local op = em.lro:get(req.params.op)
  if not op or op.sub:lower() ~= req.params.sub:lower() then
    return reply.error(404, "ResourceNotFound", "The operation '" .. req.params.op .. "' was not found.")
  end
  if req.query.monitor == "true" then
    if op.status == "InProgress" then
      local h = em.lro:retry_headers(op, {})
      h.location = req.base_url .. req.path .. "?" .. "p=" .. op.id ..
        "&api-version=" .. (req.query["api-version"] or op.api_version) .. "&monitor=true"
      return reply.empty(202, h)
    end
    return result(em, op)
  end
  local res = reply.json(200, em.lro:status_body(op))
  if op.status == "InProgress" then
    em.lro:retry_headers(op, res.headers)
  end
  return res
end

function M.routes(em)
  local out = {}
  for _, ns in ipairs({ "Microsoft.Compute", "Microsoft.Network", "Microsoft.Resources" }) do
    out[#out + 1] = { method = "GET", arm = true, kind = "read", op = "Operations_Get",
      path = "/subscriptions/{sub}/providers/" .. ns .. "/locations/{location}/operations/{op}",
      handler = get }
  end
  return out
end

return M
