--- azrp.loop.ngx: azrp operations inside an nginx worker (OpenResty,
-- Debian's libnginx-mod-http-lua), without blocking it.
--
--     # nginx.conf
--     init_worker_by_lua_block { client = require("azrp").client{ ... } }
--     location /rp { content_by_lua_block {
--       local loop = require "azrp.loop.ngx"
--       local rp, err = loop.wait(client:restore_points_create{ ... }, 600)
--     } }
--
-- nginx runs every request of a worker on one thread, so a blocking call
-- (op:wait(), client:call(), azrp.wait_all(): they sleep in libcurl's poll)
-- would stop all of them.  Here one background light thread per client
-- and worker (an ngx.timer.at callback, the "pump") steps the client and
-- sleeps on an ngx.semaphore between steps; a request's light thread in
-- wait() sleeps on a semaphore of its own, which the pump posts when its
-- operation is done (or its progress moved).  So many operations waited on
-- in many requests cost one step() per wake-up, and the worker serves
-- other requests meanwhile.
--
-- nginx cannot watch a foreign descriptor from Lua, so the pump cannot be
-- woken by client:pollfd() itself.  By default it sleeps until
-- client:timeout() (a Retry-After, a poll interval, a retry) but looks at
-- the descriptor every `interval` seconds (2 ms) meanwhile, with one
-- poll(2) of zero wait through LuaJIT's FFI (azrp.loop.ngx_poll), and
-- steps at once when a socket is ready: a look costs a few microseconds,
-- a step comes only when there is work.  With `thread_pool` set to the
-- name of an nginx thread pool, a thread of that pool sleeps in poll(2) on
-- the descriptor instead (ngx.run_worker_thread) and wakes the pump: no
-- looks at all, a reply is picked up as it comes (BENCHMARKS.md compares
-- the two).  A new wait() wakes the pump at once.  The pump ends when
-- nobody waits, unless run(client) keeps it going.
--
-- Phases: wait(), call() and wait_all() need a yieldable light thread
-- (rewrite, access, content, ngx.timer, ngx.thread); run() may be called
-- from init_worker_by_lua too.  Clients belong to one worker: make them in
-- init_worker_by_lua (or lazily in a request), never in init_by_lua (a
-- libcurl handle must not be shared by forked workers).
local core = require "azrp.core"
local wait = require "azrp.wait"

local ngx = rawget(_G, "ngx")
if not ngx or not ngx.timer then error("azrp.loop.ngx: needs nginx's Lua module (OpenResty, libnginx-mod-http-lua)", 2) end
local semaphore = require "ngx.semaphore"

local M = {}

--- Seconds between two looks at a client's descriptor while operations are
-- in flight (the granularity of a reply's pickup).
M.interval = 0.002

--- The name of an nginx thread pool (`thread_pool NAME threads=N;` in the
-- main context of nginx.conf) to watch descriptors from instead of looking
-- every interval: one of its threads per busy client then sleeps in
-- poll(2) on the client's descriptor (ngx.run_worker_thread) and wakes the
-- pump when a socket is ready.  nil (the default): look every interval.
M.thread_pool = nil

--- The longest a pool thread sleeps in one poll(2), in milliseconds (then
-- it looks whether the pump still runs).
M.watch_ms = 1000

-- driver -> pump; weak keys: a pump holds its driver only while running.
local pumps = setmetatable({}, { __mode = "k" })

local driver_of, timeout_error = wait.driver_of, wait.timeout_error

-- readable(fd) -> true when a poll(2) of zero wait finds fd readable (or
-- when that cannot be known, without LuaJIT's FFI: then the pump steps at
-- every interval).
local readable = function() return true end
do
  local ok, poll = pcall(require, "azrp.loop.ngx_poll")
  if ok then readable = function(fd) return poll.readable(fd, 0) end end
end

-- Wakes the waiters whose operation is done or moved (all of them after
-- an error).  A waiter's semaphore holds at most one resource.
local function notify(p)
  for w in pairs(p.waiters) do
    if p.err ~= nil then w.err = p.err end   -- this waiter's pump failed (a later one may not)
    local post = p.err ~= nil or w.op:done()
    if not post and w.progress then
      local pct = w.op:progress()
      post = pct ~= nil and pct ~= w.last
    end
    if post and w.sema:count() < 1 then w.sema:post(1) end
  end
end

local function wake(p)
  if p.wake:count() < 1 then p.wake:post(1) end
end

-- A run() keeps the pump going, but not past a graceful stop of the
-- worker (nginx -s quit, reload), which waits for running timers.
local function busy(p)
  return next(p.waiters) ~= nil or (p.keep and not ngx.worker.exiting())
end

-- A light thread of the pump's timer: a pool thread polls the descriptor;
-- when it is ready the pump is woken, and the watcher waits until the pump
-- has stepped before it polls again (the descriptor stays readable until then).
local function watch(p, gen)
  while p.running and p.gen == gen do
    local ok, ready = ngx.run_worker_thread(p.pool, "azrp.loop.ngx_poll", "readable", p.fd, M.watch_ms)
    if not ok then p.watch_err = ready; return end
    if ready and p.running and p.gen == gen then
      p.stepped_wanted = true
      wake(p)
      p.stepped:wait(60)
    end
  end
end

-- Sleeps until the client's next deadline, a ready socket or a wake-up.
local function sleep(p, d)
  local t = d:timeout()
  if p.pool and not p.watch_err then
    -- The watcher wakes us when a socket is ready.
    local s = math.min(t or 1, 1)   -- at least once a second: is the worker exiting?
    if s < 0.001 then s = 0.001 end
    if busy(p) then p.wake:wait(s) end
    return
  end
  local deadline = core.now() + math.min(t or 1, 1)   -- at least once a second: is the worker exiting?
  while busy(p) do
    local left = deadline - core.now()
    if left <= 0 then return end
    local s = left
    if t and s > M.interval then s = M.interval end   -- nil: nothing in flight, no socket to watch
    if s < 0.001 then s = 0.001 end
    if p.wake:wait(s) then return end
    if t and readable(p.fd) then return end
  end
end

local function pump_body(premature, p)
  local d = p.driver
  if premature then
    p.err = "azrp.loop.ngx: the nginx worker is exiting"
  else
    if p.pool then ngx.thread.spawn(watch, p, p.gen) end
    while busy(p) do
      local ok, err = pcall(d.step, d)
      if p.stepped_wanted then p.stepped_wanted = false; p.stepped:post(1) end
      if not ok then p.err = err; break end
      notify(p)
      if not busy(p) then break end
      sleep(p, d)
    end
  end
  p.running = false
  if p.stepped_wanted then p.stepped_wanted = false; p.stepped:post(1) end
  notify(p)
  p.driver = nil
end

local function start(p, d)
  if p.running then return end
  p.running, p.err, p.driver = true, nil, d
  p.fd = d:pollfd()
  p.gen = (p.gen or 0) + 1
  p.pool, p.watch_err = M.thread_pool, nil
  local ok, err = ngx.timer.at(0, pump_body, p)
  if not ok then
    p.running, p.driver = false, nil
    error("azrp.loop.ngx: cannot start the client's pump: " .. tostring(err), 3)
  end
end

local function pump_for(d)
  local p = pumps[d]
  if not p then
    p = { waiters = {}, keep = false, wake = assert(semaphore.new(0)), stepped = assert(semaphore.new(0)),
      running = false }
    pumps[d] = p
  end
  return p
end

local YIELDABLE = { rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true, preread = true }

local function check_phase(fname)
  local phase = ngx.get_phase()
  if not YIELDABLE[phase] then
    error("azrp.loop.ngx." .. fname .. ": cannot wait in nginx's " .. phase .. " phase " ..
      "(use it from rewrite, access, content, a timer or ngx.thread)", 3)
  end
end

--- wait(op [, timeout | { timeout = s, progress = function(percent, disks) }])
-- -> result | nil, err.  Suspends the calling light thread until op is done;
-- the same contract as op:wait() (a WaitTimeout error leaves op running).
-- progress runs in the caller's light thread (it may ngx.print/ngx.flush).
function M.wait(op, opts)
  local timeout, progress = wait.options(opts, "azrp.loop.ngx.wait", 2)
  check_phase("wait")
  local deadline = core.now() + (timeout or wait.DEFAULT_TIMEOUT)
  local d = driver_of(op)
  local p = pump_for(d)
  local w = { op = op, progress = progress, sema = assert(semaphore.new(0)) }
  p.waiters[w] = true
  local err
  local ok, perr = pcall(function()
    while not op:done() do
      if w.err then err = w.err; break end
      w.last = wait.report(op, progress, w.last)
      local left = deadline - core.now()
      if left <= 0 then break end
      if not p.running then start(p, d) else wake(p) end
      w.sema:wait(math.max(math.min(left, 60), 0.001))
    end
  end)
  p.waiters[w] = nil
  if not ok then error(perr, 0) end
  if err then error(err, 0) end
  if not op:done() then return nil, timeout_error(op) end
  wait.report(op, progress, w.last)
  return op:result()
end

--- call(client, id, params [, wait_opts]) -> result | nil, err: begin and wait.
function M.call(client, id, params, opts)
  check_phase("call")
  local op, err = client:begin(id, params)
  if not op then return nil, err end
  return M.wait(op, opts)
end

--- wait_all(ops [, timeout]) -> { { value, err }, ... } in the order of ops,
-- as azrp.wait_all(); the operations progress together meanwhile.
function M.wait_all(ops, timeout)
  check_phase("wait_all")
  local deadline = core.now() + (timeout or wait.DEFAULT_TIMEOUT)
  local out = {}
  for i, op in ipairs(ops) do
    local v, err = M.wait(op, math.max(deadline - core.now(), 0.001))
    out[i] = { v, err }
  end
  return out
end

--- run(client) -> handle with stop(): keeps the client stepping in this
-- worker (for operations nobody waits on) until handle:stop().  Callable
-- from init_worker_by_lua.
function M.run(client)
  local d = wait.driver(client)
  local p = pump_for(d)
  p.keep = true
  if p.running then wake(p) else start(p, d) end
  return {
    stop = function()
      p.keep = false
      if p.running then wake(p) end
    end,
  }
end

return M
