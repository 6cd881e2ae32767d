--- azrp.loop.cqueues: azrp operations inside a cqueues controller.
--
--     local cqueues = require "cqueues"
--     local loop = require "azrp.loop.cqueues"
--     local cq = cqueues.new()
--     cq:wrap(function()
--       local rp, err = loop.wait(client:restore_points_create{ ... })
--     end)
--     cq:wrap(function() --[[ anything else: sockets, timers, more operations ]] end)
--     assert(cq:loop())
--
-- Nothing here blocks the controller.  azrp's core never waits: step()
-- advances transfers, timers and token renewal with zero wait, and the
-- client is a cqueues pollable object (pollfd() an epoll descriptor that is
-- readable when one of its sockets is ready, events() "r", timeout() the
-- seconds to its next deadline: a Retry-After, a poll interval, a retry).
-- A coroutine in wait() sleeps on a condition variable; one "pump"
-- coroutine per client and controller steps the client whenever the
-- controller finds its descriptor ready or its deadline due, then wakes
-- the waiters.  So a thousand operations waited on in a thousand
-- coroutines cost one step() per wake-up, not a thousand.  The pump
-- exits when nobody waits (so cq:loop() returns once the work is done),
-- unless run(client) keeps it going for operations nobody waits on.
--
-- Operations only progress while something steps their client: wait() on
-- them (or on any operation of the same client), or run(client).  Close a
-- client only when nothing waits on it any more: the controller would find
-- the descriptor it polls closed under it (EBADF, cq:loop() fails).
--
-- Blocking calls of the other layers (client:call(), op:wait(),
-- client:list()/each(), azrp.wait_all()) sleep in libcurl's poll and would
-- stall the controller: in a coroutine use wait(), call() and wait_all()
-- from here instead.
local cqueues = require "cqueues"
local condition = require "cqueues.condition"
local core = require "azrp.core"
local wait = require "azrp.wait"

local M = {}

-- controller -> { [driver] = pump }; weak so that neither outlives its users
-- (a pump holds neither: on LuaJIT, without ephemerons, that would pin both).
local pumps = setmetatable({}, { __mode = "k" })

local driver_of, timeout_error = wait.driver_of, wait.timeout_error

local function controller(fname)
  local cq = cqueues.running()
  if not cq then
    error("azrp.loop.cqueues." .. fname .. ": call it from a coroutine of a cqueues controller " ..
      "(cq:wrap(function() ... end)); outside one use op:wait()", 3)
  end
  return cq
end

-- The pump's body: step, wake the waiters, sleep on the client's
-- descriptor and deadline (or until a waiter leaves or stop() is called).
local function pump_loop(p, d)
  while p.waiters > 0 or p.keep do
    local ok, err = pcall(d.step, d)
    if not ok then
      -- A broken client (closed, libcurl failure): every waiter gets the error.
      p.err = err
      p.cond:signal()
      break
    end
    p.cond:signal()
    if p.waiters == 0 and not p.keep then break end
    cqueues.poll(d, p.wake)
  end
  p.running = false
end

local function pump_for(cq, d)
  local per = pumps[cq]
  if not per then per = setmetatable({}, { __mode = "k" }); pumps[cq] = per end
  local p = per[d]
  if not p then
    p = { cond = condition.new(), wake = condition.new(), waiters = 0, keep = false }
    per[d] = p
  end
  if not p.running then
    p.running = true
    p.err = nil
    cq:wrap(pump_loop, p, d)
  end
  return p
end

--- wait(op [, timeout | { timeout = s, progress = function(percent, disks) }])
-- -> result | nil, err.  Yields to the controller until op is done; the
-- same contract as op:wait() (a WaitTimeout error leaves op running).
function M.wait(op, opts)
  local timeout, progress = wait.options(opts, "azrp.loop.cqueues.wait", 2)
  local cq = controller("wait")
  local deadline = timeout and core.now() + timeout
  local last
  local d = driver_of(op)
  local p = pump_for(cq, d)
  p.waiters = p.waiters + 1
  local err
  while not op:done() do
    if p.err then err = p.err; break end
    last = wait.report(op, progress, last)
    local left = deadline and deadline - core.now()
    if left and left <= 0 then break end
    if not p.running then pump_for(cq, d) end  -- it stopped on a former error
    if left then p.cond:wait(left) else p.cond:wait() end
  end
  p.waiters = p.waiters - 1
  if p.waiters == 0 then p.wake:signal() end  -- let the pump see it may stop
  if err then error(err, 0) end
  if not op:done() then return nil, timeout_error(op) end
  wait.report(op, progress, last)
  return op:result()
end

--- call(client, id, params [, wait_opts]) -> result | nil, err: begin and wait.
function M.call(client, id, params, opts)
  local op, err = client:begin(id, params)
  if not op then return nil, err end
  return M.wait(op, opts)
end

--- wait_all(ops [, timeout]) -> { { value, err }, ... } in the order of ops,
-- as azrp.wait_all(), yielding to the controller meanwhile.
function M.wait_all(ops, timeout)
  local deadline = timeout and core.now() + timeout
  local out = {}
  for i, op in ipairs(ops) do
    local left = deadline and math.max(deadline - core.now(), 0)
    local v, err = M.wait(op, left)
    out[i] = { v, err }
  end
  return out
end

--- run(client [, cq]) -> handle with stop(): keeps the client stepping in
-- its own coroutine of cq (default: the running controller) until
-- handle:stop(), for operations nobody waits on (fire and forget, progress
-- read elsewhere).  cq:loop() does not return while it runs.
function M.run(client, cq)
  cq = cq or controller("run")
  local d = wait.driver(client)
  local p = pump_for(cq, d)
  p.keep = true
  return {
    stop = function()
      p.keep = false
      p.wake:signal()
    end,
  }
end

return M
