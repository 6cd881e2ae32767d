-- What the blob endpoint served, per grant and per resource: request
-- counts and bytes, with the bytes served more than once told apart, so
-- that a test can prove that an export (resumed or not) read no range
-- twice.  The admin API shows it (GET /_emulator/blobs).
--
-- Ranges are kept as a sorted list of disjoint, non-adjacent inclusive
-- byte intervals; served_bytes = distinct_bytes + reread_bytes.  A grant's
-- figures outlive the grant (an export revokes its SAS when it is done).
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"

local M = {}
M.__index = M

local KINDS = { get = "gets", head = "heads", pagelist = "pagelists", put = "puts" }

local function counters()
  return { requests = 0, gets = 0, heads = 0, pagelists = 0, puts = 0, denied = 0,
    served_bytes = 0, distinct_bytes = 0, reread_bytes = 0 }
end

-- Adds [a, b] to the interval list set; returns how many of its bytes
-- were not in it yet.
local function add_range(set, a, b)
  local lo, hi = 1, #set + 1
  while lo < hi do   -- the first interval that ends at or after a - 1
    local mid = (lo + hi) // 2
    if set[mid][2] < a - 1 then lo = mid + 1 else hi = mid end
  end
  local j, k = lo, lo
  local overlap, na, nb = 0, a, b
  while set[k] and set[k][1] <= b + 1 do
    local s = set[k]
    local ov = math.min(b, s[2]) - math.max(a, s[1]) + 1
    if ov > 0 then overlap = overlap + ov end
    if s[1] < na then na = s[1] end
    if s[2] > nb then nb = s[2] end
    k = k + 1
  end
  if k == j then
    table.insert(set, j, { na, nb })
  else
    set[j] = { na, nb }
    for _ = j + 1, k - 1 do table.remove(set, j + 1) end
  end
  return (b - a + 1) - overlap
end
M.add_range = add_range

function M.new()
  return setmetatable({ grants = {}, order = {}, resources = {}, stray = counters() }, M)
end

-- A new grant: { id, resource_id, access, private, created }.
function M:open(g)
  local k = ids.key(g.resource_id)
  local r = self.resources[k]
  if not r then
    r = { resource_id = g.resource_id, c = counters(), set = {}, grants = 0 }
    self.resources[k] = r
  end
  r.grants = r.grants + 1
  self.grants[g.id] = { id = g.id, resource_id = g.resource_id, access = g.access,
    private = g.private or false, created = g.created, c = counters(), set = {}, resource = r }
  self.order[#self.order + 1] = g.id
end

-- The grant ended ("revoked" or "expired").
function M:close(grant_id, how)
  local s = self.grants[grant_id]
  if s and not s.ended then s.ended = how end
end

local function bump(s, field)
  s.c.requests = s.c.requests + 1
  s.resource.c.requests = s.resource.c.requests + 1
  s.c[field] = s.c[field] + 1
  s.resource.c[field] = s.resource.c[field] + 1
end

-- An authorized request of kind "get", "head", "pagelist" or "put".
function M:request(grant_id, kind)
  local s = self.grants[grant_id]
  if s then bump(s, KINDS[kind] or error("blob_stats: unknown kind " .. tostring(kind), 2)) end
end

-- A refused request; grant_id when the refusal names a grant (a private
-- grant reached from outside), else nil (a bad or stale signature).
function M:denied(grant_id)
  local s = grant_id and self.grants[grant_id]
  if s then
    bump(s, "denied")
  else
    self.stray.requests = self.stray.requests + 1
    self.stray.denied = self.stray.denied + 1
  end
end

local function account(c, set, a, b)
  local new = add_range(set, a, b)
  c.served_bytes = c.served_bytes + (b - a + 1)
  c.distinct_bytes = c.distinct_bytes + new
  c.reread_bytes = c.reread_bytes + (b - a + 1 - new)
end

-- Bytes [first, last] of the blob went out through grant_id.
function M:served(grant_id, first, last)
  local s = self.grants[grant_id]
  if not s or last < first then return end
  account(s.c, s.set, first, last)
  account(s.resource.c, s.resource.set, first, last)
end

local function copy(c)
  local out = {}
  for k, v in pairs(c) do out[k] = v end
  return out
end

-- { total, resources = [...], grants = [...] }, for every resource or
-- only resource_id.  Nothing of a SAS but its signed identifier.
function M:report(resource_id)
  local want = resource_id and ids.key(resource_id)
  local total = counters()
  local resources, grants = json.array(), json.array()
  local keys = {}
  for k in pairs(self.resources) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if not want or k == want then
      local r = self.resources[k]
      local doc = copy(r.c)
      doc.resource_id, doc.grants = r.resource_id, r.grants
      resources[#resources + 1] = doc
      for f, v in pairs(r.c) do total[f] = total[f] + v end
    end
  end
  for _, id in ipairs(self.order) do
    local s = self.grants[id]
    if not want or ids.key(s.resource_id) == want then
      local doc = copy(s.c)
      doc.grant_id, doc.resource_id, doc.access, doc.private = s.id, s.resource_id, s.access, s.private
      doc.state = s.ended or "active"
      grants[#grants + 1] = doc
    end
  end
  if not want then
    total.requests = total.requests + self.stray.requests
    total.denied = total.denied + self.stray.denied
  end
  return { total = total, resources = resources, grants = grants }
end

return M
