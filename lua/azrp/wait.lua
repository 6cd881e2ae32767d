--- Blocking waits over the non-blocking core: op:wait() and wait_all().
--
-- Both loop over the owning client's step() (which also renews tokens)
-- and its wait(), which sleeps in libcurl's poll until a socket is ready or
-- the next deadline (a retry, a poll interval) comes.  Event loops use the
-- pollable objects instead (azrp.loop).
local core = require "azrp.core"

local M = {}

-- core client -> azrp.client object (set by azrp.client), weak on both sides.
M.drivers = setmetatable({}, { __mode = "kv" })

--- The object that drives op: its azrp.client, or the bare core client.
function M.driver_of(op)
  local c = op:client()
  return M.drivers[c] or c
end

-- Advances the client of op once: transfers, timers and token renewal.
function M.step(c)
  local d = M.drivers[c]
  if d then return d:step() end
  return c:step()
end

--- The error of a wait that timed out (the operation itself goes on).
function M.timeout_error(op)
  return core.error{ kind = "timeout", code = "WaitTimeout", operation = op:info().operation,
    message = "the wait timed out; the operation goes on (wait again or cancel it)", retryable = true }
end
local timeout_error = M.timeout_error

--- op:wait([timeout | { timeout = s, progress = function(percent, disks) }])
-- -> result | nil, err.  Progress is reported for cross-region copies.
function M.wait(op, opts)
  local timeout, progress
  if type(opts) == "number" then timeout = opts
  elseif type(opts) == "table" then timeout, progress = opts.timeout, opts.progress
  elseif opts ~= nil then error("op:wait: expected a number of seconds or an options table", 2) end
  local c = op:client()
  local deadline = timeout and core.now() + timeout
  local last
  while not op:done() do
    M.step(c)
    if progress then
      local pct, disks = op:progress()
      if pct and pct ~= last then last = pct; progress(pct, disks) end
    end
    if op:done() then break end
    local left = deadline and deadline - core.now()
    if left and left <= 0 then return nil, timeout_error(op) end
    c:wait(left and math.min(left, 5) or 5)
  end
  if progress then
    local pct, disks = op:progress()
    if pct and pct ~= last then progress(pct, disks) end
  end
  return op:result()
end

--- wait_all(ops [, timeout]) -> { { value, err }, ... } in the order of ops.
function M.all(ops, timeout)
  local deadline = timeout and core.now() + timeout
  local clients, order = {}, {}
  for _, op in ipairs(ops) do
    local c = op:client()
    if not clients[c] then clients[c] = true; order[#order + 1] = c end
  end
  while true do
    local pending = false
    for _, c in ipairs(order) do M.step(c) end
    for _, op in ipairs(ops) do
      if not op:done() then pending = true; break end
    end
    if not pending then break end
    local left = deadline and deadline - core.now()
    if left and left <= 0 then break end
    -- One client can sleep in its poll; with several, poll each briefly.
    if #order == 1 then order[1]:wait(left and math.min(left, 5) or 5)
    else for _, c in ipairs(order) do c:wait(0.01) end end
  end
  local out = {}
  for i, op in ipairs(ops) do
    if op:done() then
      local v, err = op:result()
      out[i] = { v, err }
    else
      out[i] = { nil, timeout_error(op) }
    end
  end
  return out
end

core.interpose("Operation", "wait", M.wait)

return M
