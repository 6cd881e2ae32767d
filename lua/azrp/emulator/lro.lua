-- Long-running operations, the way ARM resource providers run them.
--
-- start() records an operation and returns the headers of the first answer:
-- an absolute Azure-AsyncOperation status URL, an absolute Location URL
-- (the same with monitor=true) and Retry-After.  An operation finishes when
-- its due time passes: settle(), called before every request, runs its
-- finish function once, which changes the store (a restore point becomes
-- Succeeded, a disk appears ...) and says how the operation ended.  Time
-- therefore moves forward even if nobody polls, as in Azure.
local binaryheap = require "binaryheap"
local util = require "azrp.emulator.util"
local clock_mod = require "azrp.emulator.clock"

local M = {}
M.__index = M

-- style: "async" (Azure-AsyncOperation and Location, as ComputeRP and
-- DiskRP answer), "location" (Location only) or "state" (no header: the
-- client follows the resource's provisioningState).  The last two let
-- clients be tested against every polling style ARM allows.
function M.new(clock, style)
  return setmetatable({ clock = clock, ops = {}, due = binaryheap.minUnique(),
    count = 0, style = style or "async" }, M)
end

-- spec = {
--   sub, location, namespace ("Microsoft.Compute"), api_version, base_url,
--   duration    nominal seconds until done (scaled by the clock),
--   resource_id the resource a PUT's final GET returns (Location result),
--   finish      function(op) -> "Succeeded" | "Failed" | "Canceled" [, error]
--               optional; may set op.result = { status, body } for POSTs
--   fail_with   an error {code, message}: the operation ends Failed
-- }
-- Returns op, headers.
function M:start(spec)
  local now = self.clock:now()
  local op = {
    id = util.guid(), sub = spec.sub, location = spec.location or "westus",
    namespace = spec.namespace or "Microsoft.Compute",
    api_version = spec.api_version, status = "InProgress",
    started = now, done_at = now + self.clock:scale(spec.duration or 1),
    resource_id = spec.resource_id, finish = spec.finish,
    fail_with = spec.fail_with, kind = spec.kind,
  }
  self.ops[op.id] = op
  self.due:insert(op.done_at, op.id)
  self.count = self.count + 1
  return op, self:headers(op, spec.base_url)
end

function M:status_url(op, base)
  return string.format("%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?p=%s&api-version=%s",
    base, op.sub, op.namespace, op.location, op.id, op.id, op.api_version)
end

-- Returns the whole seconds for Retry-After (the real time left, 1 to 10),
-- and, when time is scaled down (--time-scale below 1), the milliseconds
-- for retry-after-ms: the hint an unscaled emulator would give (the nominal
-- time left, 1 to 10 s), scaled.  Retry-After cannot say less than a
-- second, so a client that honours only it polls at most once a second;
-- azrp, Azure's SDKs and az prefer retry-after-ms, as Azure's own services
-- send it, and then poll as often (in emulated time) as against Azure.
function M:retry_after(op)
  local left = op.done_at - self.clock:now()
  local s = math.ceil(left)
  if s < 1 then s = 1 elseif s > 10 then s = 10 end
  local factor = self.clock.factor
  if factor >= 1 then return s end
  local nominal = math.ceil(left / factor)
  if nominal < 1 then nominal = 1 elseif nominal > 10 then nominal = 10 end
  return s, M.ms(nominal * factor)
end

-- Whole milliseconds (at least 1) for a retry-after-ms header.
function M.ms(seconds)
  local ms = math.floor(seconds * 1000 + 0.5)
  return tostring(ms < 1 and 1 or ms)
end

-- Sets Retry-After (and retry-after-ms, when time is scaled) in h.
function M:retry_headers(op, h)
  local s, ms = self:retry_after(op)
  h["retry-after"] = tostring(s)
  h["retry-after-ms"] = ms
  return h
end

function M:headers(op, base)
  local status = self:status_url(op, base)
  local h = self:retry_headers(op, {})
  if self.style == "async" then h["azure-asyncoperation"] = status end
  if self.style ~= "state" or op.kind == "post" or op.kind == "delete" then
    h.location = status .. "&monitor=true"
  end
  return h
end

local function complete(op, now)
  if op.status ~= "InProgress" then return end
  -- finish sees op.fail_with (an injected provisioning failure) and marks
  -- its resource Failed; without a finish function the operation fails.
  local status, err
  if op.finish then
    status, err = op.finish(op)
  elseif op.fail_with then
    status, err = "Failed", op.fail_with
  end
  op.status = status or "Succeeded"
  if op.fail_with and op.fail_with.status == "Canceled" and op.status == "Failed" then op.status = "Canceled" end
  op.error = err
  op.ended = now
end

-- Finishes every operation whose time has come.
function M:settle()
  local now = self.clock:now()
  while true do
    local id, at = self.due:peek()
    if not id or at > now then break end
    self.due:pop()
    local op = self.ops[id]
    if op then complete(op, now) end
  end
end

function M:get(id) return self.ops[id] end

-- Ends an operation now (used when a resource the operation works on is
-- deleted under it, or a test wants it done).
function M:finish_now(op)
  if self.due.reverse[op.id] then self.due:remove(op.id) end
  complete(op, self.clock:now())
end

-- The operation-status document (GET on Azure-AsyncOperation).
function M:status_body(op)
  local body = {
    id = string.format("/subscriptions/%s/providers/%s/locations/%s/operations/%s",
      op.sub, op.namespace, op.location, op.id),
    name = op.id, status = op.status, startTime = clock_mod.iso(op.started),
  }
  if op.ended then body.endTime = clock_mod.iso(op.ended) end
  if op.status == "InProgress" then
    local span = op.done_at - op.started
    local pct = span > 0 and (self.clock:now() - op.started) / span * 100 or 0
    body.percentComplete = math.min(99, math.floor(pct))
  end
  if op.error then body.error = { code = op.error.code, message = op.error.message } end
  return body
end

return M
