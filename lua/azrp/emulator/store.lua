-- The emulator's resource store.
--
-- Each resource is an entry { id, type, sub, rg, body, x, seq }:
--   body  the public JSON document GETs return (id, name, type, location,
--         tags, properties ...), owned by the store; handlers copy it out;
--   x     private emulator state (disk content, grants, progress clocks),
--         never serialised;
--   seq   creation order, so that lists and pages are stable.
-- Keys are ids.key(id): lookups are case-insensitive as in ARM.
local ids = require "azrp.emulator.ids"

local M = {}
M.__index = M

function M.new()
  return setmetatable({ by_key = {}, by_type = {}, seq = 0 }, M)
end

local function type_key(t) return t:lower() end

function M:get(id)
  if not id then return nil end
  return self.by_key[ids.key(id)]
end

-- Returns the entry of the given type, or nil.
function M:get_typed(id, rtype)
  local e = self:get(id)
  if e and e.type == type_key(rtype) then return e end
  return nil
end

function M:put(entry)
  local k = ids.key(entry.id)
  local old = self.by_key[k]
  entry.type = type_key(entry.type)
  if old then
    entry.seq = old.seq
  else
    self.seq = self.seq + 1
    entry.seq = self.seq
  end
  local p = ids.parse(entry.id)
  entry.sub = entry.sub or (p and p.subscription)
  entry.rg = entry.rg or (p and p.resource_group)
  self.by_key[k] = entry
  local bucket = self.by_type[entry.type]
  if not bucket then bucket = {}; self.by_type[entry.type] = bucket end
  bucket[k] = entry
  return entry
end

function M:delete(id)
  local k = ids.key(id)
  local e = self.by_key[k]
  if not e then return nil end
  self.by_key[k] = nil
  self.by_type[e.type][k] = nil
  return e
end

-- Entries of a type, optionally within a subscription, resource group or
-- parent id, in creation order.
function M:list(rtype, filter)
  filter = filter or {}
  local out = {}
  local sub = filter.sub and filter.sub:lower()
  local rg = filter.rg and filter.rg:lower()
  local parent = filter.parent and (ids.key(filter.parent) .. "/")
  for k, e in pairs(self.by_type[type_key(rtype)] or {}) do
    if (not sub or (e.sub and e.sub:lower() == sub))
      and (not rg or (e.rg and e.rg:lower() == rg))
      and (not parent or k:sub(1, #parent) == parent) then
      out[#out + 1] = e
    end
  end
  table.sort(out, function(a, b) return a.seq < b.seq end)
  return out
end

-- Every entry whose id lies under prefix (the prefix itself excluded).
function M:under(prefix)
  local p = ids.key(prefix) .. "/"
  local out = {}
  for k, e in pairs(self.by_key) do
    if k:sub(1, #p) == p then out[#out + 1] = e end
  end
  table.sort(out, function(a, b) return a.seq < b.seq end)
  return out
end

return M
