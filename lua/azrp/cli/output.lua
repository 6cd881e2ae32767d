--- The azrp command's results on stdout: output.write(out, value, fmt [, columns]).
--
-- fmt "json": pretty-printed, keys in sorted order (azrp.json), so that the same value
-- always prints the same; "table": aligned columns under a header, as
-- `az -o table` prints them; "tsv": the same columns, tab-separated, no
-- header (for `cut` and `while read`).  value is one object or a list of
-- them.  columns is a list of { "Header", "dotted.path" | function(item) };
-- without it, the item's top-level scalar fields, in sorted order.
local json = require "azrp.json"

local M = {}

local null = json.null

--- list(t) -> t, marked as a list: an empty one prints as [], not {}.
M.list = json.list
M.is_list = json.is_list
local is_list, number, sorted_keys = json.is_list, json.number, json.keys

--- json(value) -> pretty JSON text (no final newline).
M.json = json.encode

local function get(item, path)
  if type(path) == "function" then return path(item) end
  local v = item
  for part in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = v[tonumber(part) or part]
  end
  return v
end

-- "provisioningState" -> "ProvisioningState", as az names its columns.
local function header_of(k)
  return (tostring(k):gsub("^%l", string.upper))
end

local function default_columns(items)
  local seen, cols = {}, {}
  for _, item in ipairs(items) do
    if type(item) == "table" then
      for _, k in ipairs(sorted_keys(item)) do
        local v = item[k]
        if not seen[k] and type(k) == "string" and type(v) ~= "table" and v ~= null then
          seen[k] = true
          cols[#cols + 1] = { header_of(k), k }
        end
      end
    end
  end
  if #cols == 0 then cols[1] = { "Value", function(x) return x end } end
  return cols
end

local function cell(v)
  if v == nil or v == null then return "" end
  if type(v) == "table" then return M.json(v):gsub("%s*\n%s*", " ") end
  if type(v) == "number" then return number(v) end
  -- One line per row, one field per tab.
  return (tostring(v):gsub("[\t\r\n]", " "))
end

local function rows_of(items, columns)
  local rows = {}
  for i, item in ipairs(items) do
    local row = {}
    for j, col in ipairs(columns) do
      row[j] = type(item) == "table" and cell(get(item, col[2])) or (j == 1 and cell(item) or "")
    end
    rows[i] = row
  end
  return rows
end

local function table_text(items, columns)
  local rows = rows_of(items, columns)
  local widths = {}
  for j, col in ipairs(columns) do
    widths[j] = #col[1]
    for _, row in ipairs(rows) do widths[j] = math.max(widths[j], #row[j]) end
  end
  local lines = {}
  local function line(cells)
    local parts = {}
    for j, c in ipairs(cells) do
      parts[j] = j < #cells and (c .. string.rep(" ", widths[j] - #c)) or c
    end
    lines[#lines + 1] = table.concat(parts, "  ")
  end
  local heads, dashes = {}, {}
  for j, col in ipairs(columns) do heads[j] = col[1]; dashes[j] = string.rep("-", widths[j]) end
  line(heads)
  line(dashes)
  for _, row in ipairs(rows) do line(row) end
  return table.concat(lines, "\n")
end

local function tsv_text(items, columns)
  local lines = {}
  for _, row in ipairs(rows_of(items, columns)) do lines[#lines + 1] = table.concat(row, "\t") end
  return table.concat(lines, "\n")
end

--- write(out, value, fmt [, columns]): value (an object, or a list of
-- objects) to the file out in fmt.  Raises on an unknown fmt (the option
-- parser has checked it).
function M.write(out, value, fmt, columns)
  local text
  if fmt == "json" then
    text = M.json(value)
  elseif fmt == "table" or fmt == "tsv" then
    local items = value
    if type(value) ~= "table" or not is_list(value) then items = { value } end
    if #items == 0 then return true end
    columns = columns or default_columns(items)
    text = fmt == "table" and table_text(items, columns) or tsv_text(items, columns)
  else
    error("output.write: unknown format '" .. tostring(fmt) .. "'", 2)
  end
  out:write(text, "\n")
  out:flush()
  return true
end

return M
