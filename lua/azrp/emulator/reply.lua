-- Responses as the emulator's handlers build them.
--
-- A response is a plain table { status = n, headers = { name = value },
-- body = string }.  The server adds the headers every ARM answer carries
-- (x-ms-request-id, Date, ...) on its way out.
local json = require "azrp.emulator.json"

local M = {}

function M.json(status, value, headers)
  headers = headers or {}
  headers["content-type"] = "application/json; charset=utf-8"
  return { status = status, headers = headers, body = json.encode(value) }
end

function M.empty(status, headers)
  return { status = status, headers = headers or {}, body = "" }
end

function M.text(status, text, content_type, headers)
  headers = headers or {}
  headers["content-type"] = content_type or "text/plain; charset=utf-8"
  return { status = status, headers = headers, body = text }
end

-- A body made of many strings (a large blob read: the stored blocks
-- themselves), which the server writes one after another instead of
-- joining them.  res.parts and res.length hold it; res.body, their
-- concatenation, is made only when something reads it (an in-process
-- caller, a fault that cuts the body).
local lazy_body = { __index = function(res, k)
  if k ~= "body" then return nil end
  local s = table.concat(res.parts)
  rawset(res, "body", s)
  return s
end }

function M.parts(status, parts, length, content_type, headers)
  headers = headers or {}
  headers["content-type"] = content_type or "application/octet-stream"
  headers["content-length"] = tostring(length)
  return setmetatable({ status = status, headers = headers, parts = parts, length = length }, lazy_body)
end

-- A body produced piece by piece while it is sent (a whole disk's blob:
-- gigabytes): next_piece() returns the next string, or nil at the end,
-- and the pieces total length bytes.  The server writes each piece as the
-- socket drains, so a body of any size costs the memory of a few pieces.
-- res.body, their concatenation, is made only when something reads it (an
-- in-process caller, on a small body); it consumes the stream.
local lazy_stream = { __index = function(res, k)
  if k ~= "body" then return nil end
  local pieces, next_piece = {}, rawget(res, "stream")
  for piece in next_piece do pieces[#pieces + 1] = piece end
  local s = table.concat(pieces)
  rawset(res, "body", s)
  return s
end }

function M.stream(status, next_piece, length, content_type, headers)
  if type(next_piece) ~= "function" then error("reply.stream needs a function", 2) end
  headers = headers or {}
  headers["content-type"] = content_type or "application/octet-stream"
  headers["content-length"] = tostring(length)
  return setmetatable({ status = status, headers = headers, stream = next_piece, length = length }, lazy_stream)
end

-- The CloudError shape: {"error": {"code", "message", "target"?, "details"?}}.
function M.error(status, code, message, target, extra)
  local e = { code = code, message = message, target = target }
  if extra then for k, v in pairs(extra) do e[k] = v end end
  return M.json(status, { error = e }, nil)
end

-- Errors Azure answers in many places, named once here.
function M.not_found(kind, name, rg)
  if kind == "resourcegroup" then
    return M.error(404, "ResourceGroupNotFound",
      string.format("Resource group '%s' could not be found.", name))
  end
  return M.error(404, "ResourceNotFound", string.format(
    "The Resource '%s' under resource group '%s' was not found. " ..
    "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    kind .. "/" .. name, rg or "?"))
end

function M.parent_not_found(parent_type, parent_name)
  return M.error(404, "ParentResourceNotFound", string.format(
    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
    parent_name), nil, { details = { { code = "ParentResourceNotFound",
      message = parent_type .. "/" .. parent_name } } })
end

function M.bad_request(code, message, target)
  return M.error(400, code or "InvalidParameter", message, target)
end

function M.conflict(code, message, target)
  return M.error(409, code, message, target)
end

return M
