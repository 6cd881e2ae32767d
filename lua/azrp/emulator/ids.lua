-- ARM resource ids: parsing, building and case-insensitive keys.
--
-- ARM ids are case-insensitive (Azure itself returns some with the resource
-- group upper-cased), so the store keys every resource by key(id) and keeps
-- the id as the client first wrote it for display.
local M = {}

function M.key(id)
  return (id:lower():gsub("/+$", ""))
end

-- Splits "/subscriptions/s/resourceGroups/rg/providers/NS/type/name[/type/name...]"
-- into { subscription, resource_group, namespace, types = {...}, names = {...} }.
function M.parse(id)
  if type(id) ~= "string" or id:sub(1, 1) ~= "/" then return nil end
  local segs = {}
  for s in id:gmatch("[^/]+") do segs[#segs + 1] = s end
  if #segs < 2 or segs[1]:lower() ~= "subscriptions" then return nil end
  local out = { subscription = segs[2], types = {}, names = {} }
  local i = 3
  if segs[i] and segs[i]:lower() == "resourcegroups" then
    if not segs[i + 1] then return nil end
    out.resource_group = segs[i + 1]
    i = i + 2
  end
  if segs[i] and segs[i]:lower() == "providers" then
    out.namespace = segs[i + 1]
    if not out.namespace then return nil end
    i = i + 2
    while segs[i] do
      if not segs[i + 1] then return nil end
      out.types[#out.types + 1] = segs[i]
      out.names[#out.names + 1] = segs[i + 1]
      i = i + 2
    end
  elseif segs[i] then
    return nil
  end
  out.type = out.namespace and (out.namespace .. "/" .. table.concat(out.types, "/"))
  out.name = out.names[#out.names]
  return out
end

function M.rg_id(sub, rg)
  return string.format("/subscriptions/%s/resourceGroups/%s", sub, rg)
end

function M.resource_id(sub, rg, namespace, ...)
  local parts = { M.rg_id(sub, rg), "providers", namespace }
  for _, p in ipairs({ ... }) do parts[#parts + 1] = p end
  return table.concat(parts, "/")
end

-- The id of the parent of a nested resource id (one type/name pair less).
function M.parent(id)
  local p = id:match("^(.*)/[^/]+/[^/]+$")
  return p
end

-- Compares two ids as ARM does.
function M.same(a, b)
  return a ~= nil and b ~= nil and M.key(a) == M.key(b)
end

return M
