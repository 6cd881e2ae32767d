-- Replaces one generated section of a Markdown file, the text between
-- `<!-- BEGIN name -->` and `<!-- END name -->` (appended at the end, with
-- its markers, when the file has none yet).  Lua 5.1 to 5.4 and LuaJIT.
local M = {}

--- replace(path, name, text): writes text between the markers of name.
function M.replace(path, name, text)
  local f = io.open(path, "rb")
  local doc = f and f:read("*a") or ""
  if f then f:close() end
  local b, e = "<!-- BEGIN " .. name .. " -->", "<!-- END " .. name .. " -->"
  local i = doc:find(b, 1, true)
  local j = i and doc:find(e, i, true)
  local body = b .. "\n" .. text:gsub("\n*$", "\n") .. e
  if i and j then
    doc = doc:sub(1, i - 1) .. body .. doc:sub(j + #e)
  else
    doc = doc:gsub("\n*$", "\n\n") .. body .. "\n"
  end
  local tmp = path .. ".tmp"
  local w = assert(io.open(tmp, "wb"))
  w:write(doc)
  w:close()
  assert(os.rename(tmp, path))
end

return M
