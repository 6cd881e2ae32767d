--- azrp.json: JSON for people to read and diff: pretty-printed, two
-- spaces a level, each object's keys in sorted order, so that the same
-- value always prints the same text.  The azrp command's -o json
-- (azrp.cli.output) and report.json (azrp.report.json) both print with it.
-- lua-cjson keeps neither key order nor layout, hence this small encoder;
-- cjson.null still prints as null.
local cjson = require "cjson.safe"

local M = {}

local null = cjson.null
M.null = null

-- Lists made by list(t) print as lists even when empty.
local LIST = {}

--- list(t) -> t, marked as a list: an empty one prints as [], not {}.
function M.list(t)
  return setmetatable(t, LIST)
end

--- is_list(t) -> true when t prints as a list: keys exactly 1..n, n > 0,
-- or an empty table marked by list().
function M.is_list(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then return false end
    n = n + 1
  end
  if n == 0 then return getmetatable(t) == LIST end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true
end
local is_list = M.is_list

--- number(x) -> the shortest text that reads back as x; JSON has no NaN
-- or infinity, so those are "null".
function M.number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and x > -2^53 and x < 2^53 then return string.format("%.0f", x) end
  for digits = 14, 17 do
    local s = string.format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return string.format("%.17g", x)
end
local number = M.number

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

--- keys(t) -> t's keys, sorted as their tostring() sorts.
function M.keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end
local sorted_keys = M.keys

local encode

local function list(t, indent, out, depth, lists)
  local inner = indent .. "  "
  out[#out + 1] = "[\n"
  for i = 1, #t do
    out[#out + 1] = inner
    encode(t[i], inner, out, depth + 1, lists)
    out[#out + 1] = i < #t and ",\n" or "\n"
  end
  out[#out + 1] = indent .. "]"
end

local function object(t, indent, out, depth, lists)
  local keys = sorted_keys(t)
  local inner = indent .. "  "
  out[#out + 1] = "{\n"
  for i, k in ipairs(keys) do
    out[#out + 1] = inner .. quote(tostring(k)) .. ": "
    encode(t[k], inner, out, depth + 1, lists, k)
    out[#out + 1] = i < #keys and ",\n" or "\n"
  end
  out[#out + 1] = indent .. "}"
end

function encode(v, indent, out, depth, lists, key)
  local tv = type(v)
  if v == nil or v == null then out[#out + 1] = "null"
  elseif tv == "boolean" then out[#out + 1] = tostring(v)
  elseif tv == "number" then out[#out + 1] = number(v)
  elseif tv == "string" then out[#out + 1] = quote(v)
  elseif tv == "table" then
    -- a cycle, or a value no one can read
    if depth > 100 then error("azrp.json: a value nested more than 100 deep", 0) end
    if next(v) == nil then
      out[#out + 1] = (getmetatable(v) == LIST or (lists and lists[key])) and "[]" or "{}"
    elseif is_list(v) then
      list(v, indent, out, depth, lists)
    else
      object(v, indent, out, depth, lists)
    end
  else
    out[#out + 1] = quote(tostring(v))
  end
end

--- encode(value [, lists]) -> pretty JSON text, no final newline.  lists
-- names the fields whose value is a list even when empty (an empty Lua
-- table is {} otherwise): { steps = true } prints "steps": [].
function M.encode(value, lists)
  local out = {}
  encode(value, "", out, 0, lists)
  return table.concat(out)
end

return M
