-- Routes requests to handlers by method and path template.
--
-- Templates are written as Azure documents them
-- ("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/disks/{disk}");
-- literal segments match case-insensitively, as ARM paths do, and {names}
-- capture the percent-decoded segment as the client wrote it.
local M = {}
M.__index = M

function M.new()
  return setmetatable({ by_len = {} }, M)
end

local function split(path)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = s end
  return segs
end

function M.unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- route = { method, path, op, handler, kind = "read"|"write"|"delete"|"action", ... }
function M:add(route)
  assert(route.method and route.path and route.handler, "route needs method, path, handler")
  local segs = split(route.path)
  local pattern = {}
  for i, s in ipairs(segs) do
    local name = s:match("^{(.+)}$")
    pattern[i] = name and { capture = name } or { literal = s:lower() }
  end
  route.pattern = pattern
  local n = #segs
  self.by_len[n] = self.by_len[n] or {}
  table.insert(self.by_len[n], route)
  return route
end

-- Returns route, params; or nil, allowed_methods (a set) when the path
-- exists with other methods; or nil.
function M:match(method, path)
  local segs = split(path)
  local candidates = self.by_len[#segs]
  if not candidates then return nil end
  local lowered = {}
  for i, s in ipairs(segs) do lowered[i] = s:lower() end
  local allowed
  for _, r in ipairs(candidates) do
    local params, ok = {}, true
    for i, p in ipairs(r.pattern) do
      if p.literal then
        if p.literal ~= lowered[i] then ok = false; break end
      else
        params[p.capture] = M.unescape(segs[i])
      end
    end
    if ok then
      if r.method == method then return r, params end
      allowed = allowed or {}
      allowed[r.method] = true
    end
  end
  return nil, allowed
end

-- Parses a query string; keys are percent-decoded and lower-cased
-- ("%24expand" and "$Expand" both become "$expand").
function M.parse_query(q)
  local out = {}
  if not q or q == "" then return out end
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k = M.unescape((k:gsub("+", " "))):lower()
    out[k] = M.unescape((v:gsub("+", " ")))
  end
  return out
end

return M
