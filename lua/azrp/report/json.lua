--- azrp.report.json: a cleaned report (azrp.report.clean) as pretty JSON
-- with its keys sorted, so that two runs' reports diff line by line.
-- lua-cjson keeps neither order nor layout, hence this small encoder.
local M = {}

-- Fields that are lists even when empty (an empty Lua table is ambiguous).
local LISTS = { steps = true, substeps = true, resources = true }

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function str(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

-- The shortest form that reads back as the same number; JSON has no NaN
-- or infinity, so those become null.
local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == math.floor(x) and x > -2^53 and x < 2^53 then return string.format("%.0f", x) end
  for digits = 14, 17 do
    local s = string.format("%." .. digits .. "g", x)
    if tonumber(s) == x then return s end
  end
  return string.format("%.17g", x)
end

-- Is t a list: keys exactly 1..n?
local function is_list(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then return false end
    n = n + 1
  end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return n > 0
end

local encode

local function object(t, indent, out)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  if #keys == 0 then out[#out + 1] = "{}" return end
  table.sort(keys)
  local byname = {}
  for k, v in pairs(t) do byname[tostring(k)] = v end
  local inner = indent .. "  "
  out[#out + 1] = "{\n"
  for i, k in ipairs(keys) do
    out[#out + 1] = inner .. str(k) .. ": "
    encode(byname[k], inner, out, k)
    out[#out + 1] = i < #keys and ",\n" or "\n"
  end
  out[#out + 1] = indent .. "}"
end

local function list(t, indent, out)
  local inner = indent .. "  "
  out[#out + 1] = "[\n"
  for i = 1, #t do
    out[#out + 1] = inner
    encode(t[i], inner, out)
    out[#out + 1] = i < #t and ",\n" or "\n"
  end
  out[#out + 1] = indent .. "]"
end

function encode(v, indent, out, key)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = str(v)
  elseif t == "number" then
    out[#out + 1] = num(v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    if next(v) == nil then
      out[#out + 1] = LISTS[key] and "[]" or "{}"
    elseif is_list(v) then
      list(v, indent, out)
    else
      object(v, indent, out)
    end
  else
    out[#out + 1] = "null"
  end
end

--- render(r) -> r as JSON text, ending in a newline.
function M.render(r)
  local out = {}
  encode(r, "", out)
  out[#out + 1] = "\n"
  return table.concat(out)
end

return M
