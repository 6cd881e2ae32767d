--- Blocking waits over the non-blocking core: op:wait() and wait_all().
--
-- Both loop over the owning client's step() (which also renews tokens)
-- and its wait(), which sleeps in libcurl's poll until a socket is ready or
-- the next deadline (a retry, a poll interval) comes.  Event loops use the
-- pollable objects instead (azrp.loop).
local core = require "azrp.core"

local M = {}

--- A wait without a timeout gives up after this many seconds (an
-- operation's own deadline, operation_timeout, comes first when shorter).
-- Six hours: a cross-region copy of large disks can take hours.
M.DEFAULT_TIMEOUT = 6 * 3600

--- The object that drives client c (an azrp.client or a core client): the
-- azrp.client that owns a core client (kept on the core client itself, so
-- that it lives as long as any operation of it), or c.
function M.driver(c)
  if type(c) == "userdata" then return c:owner() or c end
  return c
end

--- The object that drives op: its azrp.client, or the bare core client.
function M.driver_of(op)
  return M.driver(op:client())
end

--- Advances the client of op once: transfers, timers and token renewal.
function M.step(c)
  return M.driver(c):step()
end

-- An error when op waits for a token that nothing will bring: a bare core
-- client, or an azrp.client without a credential, never renews one.
local function stranded(op)
  local d = M.driver_of(op)
  if type(d) == "table" and d.credential then return nil end
  if op:info().state ~= "need_token" then return nil end
  return core.error{ kind = "auth", code = "NoCredential", operation = op:info().operation,
    message = "the operation needs a bearer token and its client has no credential (set_token or credential)",
    retryable = false }
end

--- The error of a wait that timed out (the operation itself goes on).
function M.timeout_error(op)
  return core.error{ kind = "timeout", code = "WaitTimeout", operation = op:info().operation,
    message = "the wait timed out; the operation goes on (wait again or cancel it)", retryable = true }
end
local timeout_error = M.timeout_error

--- The error of a wait cut short by a trapped SIGINT or SIGTERM
-- (azrp.host.trap): the operation goes on; the flag stays set for the
-- caller (a workflow runner) to see and clear.
function M.interrupted_error(op, sig)
  return core.error{ kind = "interrupted", code = "SIG" .. sig, operation = op and op:info().operation,
    message = "interrupted by SIG" .. sig .. "; the operation goes on", retryable = false }
end

--- options(opts, fname, level) -> timeout, progress: the options of a
-- wait (this one's and the event loops'), a number of seconds or
-- { timeout = s, progress = function(percent, disks) } or nil; anything
-- else raises "<fname>: expected ..." at level (as error's: 1 the
-- function that calls options).
function M.options(opts, fname, level)
  if type(opts) == "number" then return opts, nil end
  if type(opts) == "table" then return opts.timeout, opts.progress end
  if opts ~= nil then error(fname .. ": expected a number of seconds or an options table", level + 1) end
  return nil, nil
end

--- report(op, progress, last) -> the percent reported last: calls
-- progress(percent, disks) when op has a percent that is not last (a
-- wait's progress option, nil for none).
function M.report(op, progress, last)
  if not progress then return last end
  local pct, disks = op:progress()
  if pct and pct ~= last then
    progress(pct, disks)
    return pct
  end
  return last
end

--- op:wait([timeout | { timeout = s, progress = function(percent, disks) }])
-- -> result | nil, err.  Progress is reported for cross-region copies.
function M.wait(op, opts)
  local timeout, progress = M.options(opts, "op:wait", 2)
  local c = op:client()
  local deadline = core.now() + (timeout or M.DEFAULT_TIMEOUT)
  local last
  while not op:done() do
    M.step(c)
    local err = stranded(op)
    if err then return nil, err end
    last = M.report(op, progress, last)
    if op:done() then break end
    local sig = core.signal()
    if sig then return nil, M.interrupted_error(op, sig) end
    local left = deadline - core.now()
    if left <= 0 then return nil, timeout_error(op) end
    c:wait(math.min(left, 5))
  end
  M.report(op, progress, last)
  return op:result()
end

--- wait_all(ops [, timeout]) -> { { value, err }, ... } in the order of ops.
function M.all(ops, timeout)
  local deadline = core.now() + (timeout or M.DEFAULT_TIMEOUT)
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
    if core.signal() then break end
    local left = deadline - core.now()
    if left <= 0 then break end
    -- One client can sleep in its poll; with several, poll each briefly.
    if #order == 1 then order[1]:wait(math.min(left, 5))
    else for _, c in ipairs(order) do c:wait(0.01) end end
  end
  local out = {}
  for i, op in ipairs(ops) do
    if op:done() then
      local v, err = op:result()
      out[i] = { v, err }
    else
      local sig = core.signal()
      out[i] = { nil, sig and M.interrupted_error(op, sig) or timeout_error(op) }
    end
  end
  return out
end

core.interpose("Operation", "wait", M.wait)

return M
