-- The emulator's request log and counters.
--
-- One structured entry per request: method, path (never the query string,
-- which carries SAS signatures), operationId, status, duration, request id.
-- No header or body is ever recorded, so no token, secret or signature can
-- leak through it.  Entries go to a ring buffer the admin API reads and,
-- when a sink is given, as JSON lines to it.
local json = require "azrp.emulator.json"

local M = {}
M.__index = M

local RING = 2000

function M.new(opts)
  opts = opts or {}
  return setmetatable({ ring = {}, head = 0, total = 0, sink = opts.sink,
    by_op = {}, by_status = {}, faults = {} }, M)
end

function M:record(entry)
  self.total = self.total + 1
  self.head = self.head % RING + 1
  self.ring[self.head] = entry
  local op = entry.op or "Unknown"
  self.by_op[op] = (self.by_op[op] or 0) + 1
  local st = tostring(entry.status)
  self.by_status[st] = (self.by_status[st] or 0) + 1
  if entry.fault then
    self.faults[entry.fault] = (self.faults[entry.fault] or 0) + 1
  end
  if self.sink then
    self.sink:write(json.encode(entry), "\n")
    self.sink:flush()
  end
end

-- The last n entries, oldest first.
function M:recent(n)
  n = math.min(n or 100, math.min(self.total, RING))
  local out = {}
  for i = n - 1, 0, -1 do
    local idx = (self.head - i - 1) % RING + 1
    out[#out + 1] = self.ring[idx]
  end
  return json.array(out)
end

function M:counters()
  return { total = self.total, operations = self.by_op, statuses = self.by_status,
    faults = self.faults }
end

function M:reset()
  self.ring, self.head, self.total = {}, 0, 0
  self.by_op, self.by_status, self.faults = {}, {}, {}
end

return M
