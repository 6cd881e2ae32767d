-- JSON for the emulator: cjson, plus empty arrays.
--
-- Debian's lua-cjson (2.1.0) has no array metatable: an empty Lua table
-- always encodes as {}.  ARM documents need [] for empty lists (the SDKs
-- deserialise "dataDisks": {} as an error), so tables marked with
-- M.array() that are empty are swapped for a placeholder string before
-- encoding and the placeholder is replaced by [] after.
local cjson = require "cjson.safe"

local M = {}

local codec = cjson.new()
codec.encode_max_depth(64)
codec.decode_max_depth(64)

M.null = codec.null
M.array_mt = { __name = "json.array" }

local EMPTY = "\0azrp-empty-array\0"
local EMPTY_JSON = codec.encode(EMPTY)

-- Marks a Lua table as a JSON array, so that an empty one encodes as [].
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

-- Returns v with empty marked arrays replaced by the placeholder; tables
-- are copied only along the paths that change.
local function prepare(v)
  if type(v) ~= "table" then return v end
  if getmetatable(v) == M.array_mt and next(v) == nil then return EMPTY end
  local copy
  for k, x in pairs(v) do
    local p = prepare(x)
    if p ~= x then
      if not copy then
        copy = {}
        for k2, x2 in pairs(v) do copy[k2] = x2 end
      end
      copy[k] = p
    end
  end
  return copy or v
end

function M.encode(v)
  local s, err = codec.encode(prepare(v))
  if not s then error("json encode: " .. tostring(err), 2) end
  if s:find(EMPTY_JSON, 1, true) then
    s = s:gsub(EMPTY_JSON:gsub("%p", "%%%0"), "[]")
  end
  -- Debian's cjson escapes every "/"; ARM does not.  "\/" only ever
  -- stands for an escaped slash (an escaped backslash is "\\"), so
  -- unescaping it is exact.
  if s:find("\\/", 1, true) then s = s:gsub("\\/", "/") end
  return s
end

-- Debian's cjson decodes every number as a float; ARM integers (sizes,
-- LUNs, durations) must stay integers, so integral values are converted.
local function integers(v)
  for k, x in pairs(v) do
    local t = type(x)
    if t == "number" then
      local i = math.tointeger(x)
      if i then v[k] = i end
    elseif t == "table" then
      integers(x)
    end
  end
  return v
end

-- Returns value, or nil and a message naming where the text is invalid.
function M.decode(s)
  if s == nil or s == "" then return nil, "empty body" end
  local v, err = codec.decode(s)
  if v == nil then return nil, err end
  if type(v) == "table" then return integers(v) end
  return math.tointeger(v) or v
end

-- A deep copy, so that a stored resource never aliases a response body.
function M.copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = M.copy(x) end
  return setmetatable(out, getmetatable(v))
end

return M
