-- Small helpers shared by the emulator's modules.
local rand = require "openssl.rand"

local M = {}

function M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- A random (version 4) GUID, lower-case, no braces.
function M.guid()
  local b = { rand.bytes(16):byte(1, 16) }
  b[7] = (b[7] & 0x0f) | 0x40
  b[9] = (b[9] & 0x3f) | 0x80
  local h = M.hex(string.char(table.unpack(b)))
  return string.format("%s-%s-%s-%s-%s", h:sub(1, 8), h:sub(9, 12),
    h:sub(13, 16), h:sub(17, 20), h:sub(21, 32))
end

function M.is_guid(s)
  return type(s) == "string" and
    s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

function M.shallow_copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

return M
