--- azrp.loop.luv: azrp operations on a libuv loop (luv; Neovim's vim.uv).
--
--     local loop = require "azrp.loop.luv"
--     -- a callback given: asynchronous, returns at once
--     loop.wait(client:restore_points_create{ ... }, function(rp, err) ... end)
--     -- no callback, inside a coroutine: suspends it until the result comes
--     coroutine.wrap(function()
--       local rp, err = loop.wait(client:restore_points_create{ ... }, 600)
--     end)()
--     uv.run()   -- or nothing in Neovim: its loop is already running
--
-- luv's rule: a callback given means asynchronous; none means "in a
-- coroutine", which is resumed with the result.  A call outside any
-- coroutine and without a callback raises: it would have to block.
--
-- Nothing here blocks the loop.  Per client one uv poll handle watches its
-- descriptor (client:pollfd(), an epoll descriptor readable when one of its
-- sockets is ready) and one uv timer is re-armed after every step from
-- client:timeout() (a Retry-After, a poll interval, a retry, a token
-- renewal) and the waiters' own deadlines.  Each wake-up steps the client
-- once, whatever the number of waiters, and hands finished operations to
-- their callbacks.  Both handles are closed when nobody waits (so uv.run()
-- returns once the work is done), unless run(client) keeps them.
--
-- Operations progress only while something steps their client: a wait()
-- on one of them, run(client), or a blocking call.  Blocking calls of the
-- other layers (client:call(), op:wait(), client:list()/each(),
-- azrp.wait_all()) would stall the loop: use wait(), call() and
-- wait_all() from here.  Callbacks run from libuv, so in Neovim they run in
-- a "fast" context: use vim.schedule() before calling most vim.api
-- functions.  Stop waiting (or stop() a run) before closing a client.
local core = require "azrp.core"
local wait = require "azrp.wait"

local M = {}

local uv_lib
local function uv()
  if not uv_lib then
    local vim = rawget(_G, "vim")
    uv_lib = vim and (vim.uv or vim.loop) or require "luv"
  end
  return uv_lib
end

--- use(uv): the luv module to use (default: vim.uv / vim.loop in Neovim, else require "luv").
function M.use(lib) uv_lib = lib end

-- driver (azrp client object or core client) -> watcher
local watchers = {}

local driver_of, timeout_error = wait.driver_of, wait.timeout_error

local function close_watcher(w)
  if w.closed then return end
  w.closed = true
  watchers[w.driver] = nil
  w.poll:stop(); w.poll:close()
  w.timer:stop(); w.timer:close()
end

local function arm(w)
  local t = w.driver:timeout()
  if #w.waiters > 0 then
    local now = core.now()
    for _, x in ipairs(w.waiters) do
      if x.deadline then
        local left = x.deadline - now
        if not t or left < t then t = left end
      end
    end
  end
  w.timer:stop()
  if t then
    if t < 0 then t = 0 end
    if t > 86400 then t = 86400 end
    w.timer:start(math.ceil(t * 1000), 0, w.on_tick)
  end
end

-- One wake-up: step the client once, hand finished operations over,
-- re-arm (or close when nobody waits).
local function tick(w)
  if w.closed then return end
  local ok, step_err = pcall(w.driver.step, w.driver)
  local now = core.now()
  local ready, keep = {}, {}
  for _, x in ipairs(w.waiters) do
    if not ok then
      ready[#ready + 1] = x
    elseif x.op:done() then
      ready[#ready + 1] = x
    elseif x.deadline and now >= x.deadline then
      x.timed_out = true
      ready[#ready + 1] = x
    else
      keep[#keep + 1] = x
      x.last = wait.report(x.op, x.progress, x.last)
    end
  end
  w.waiters = keep
  if not ok or (#keep == 0 and not w.keep) then close_watcher(w) else arm(w) end
  -- Deliver after the bookkeeping, so a callback may wait() again; the
  -- first error a callback raises goes on to libuv once all were called.
  local first_err
  for _, x in ipairs(ready) do
    local cok, cerr
    if not ok then
      cok, cerr = pcall(x.fail, step_err)
    elseif x.timed_out then
      cok, cerr = pcall(x.deliver, nil, timeout_error(x.op))
    else
      wait.report(x.op, x.progress, x.last)
      cok, cerr = pcall(x.deliver, x.op:result())
    end
    if not cok and first_err == nil then first_err = cerr end
  end
  if first_err ~= nil then error(first_err, 0) end
end

local function watcher_for(d)
  local w = watchers[d]
  if w and not w.poll:is_closing() and not w.timer:is_closing() then return w end
  if w then w.closed = true end   -- someone else closed its handles (uv.walk)
  local lib = uv()
  w = { driver = d, waiters = {}, keep = false }
  w.on_tick = function() tick(w) end
  w.poll = assert(lib.new_poll(d:pollfd()))
  w.timer = assert(lib.new_timer())
  w.poll:start("r", w.on_tick)
  watchers[d] = w
  return w
end

-- Registers a waiter; its first step runs on the next loop iteration, so
-- the callback never runs before wait() returns.
local function add_waiter(op, timeout, progress, deliver, fail)
  local w = watcher_for(driver_of(op))
  w.waiters[#w.waiters + 1] = { op = op, deadline = timeout and core.now() + timeout, progress = progress,
    deliver = deliver, fail = fail }
  w.timer:stop()
  w.timer:start(0, 0, w.on_tick)
end

local function parse(fname, a, b)
  local opts, cb = a, b
  if type(a) == "function" and b == nil then opts, cb = nil, a end
  local timeout, progress = wait.options(opts, "azrp.loop.luv." .. fname, 3)
  if cb ~= nil and type(cb) ~= "function" then error("azrp.loop.luv." .. fname .. ": callback must be a function", 3) end
  return timeout, progress, cb
end

local function current_coroutine(fname)
  local co, main = coroutine.running()
  if co == nil or main then
    error("azrp.loop.luv." .. fname .. ": give a callback, or call it from a coroutine " ..
      "(it would block the loop otherwise)", 3)
  end
  return co
end

-- Resumes co with the values; an error inside co goes on to libuv.
local function resumer(co)
  return function(...)
    local ok, err = coroutine.resume(co, ...)
    if not ok then error(debug.traceback(co, tostring(err)), 0) end
  end
end

--- wait(op [, timeout | { timeout = s, progress = fn }] [, callback(result, err)])
-- With a callback: returns at once; callback(result) or callback(nil, err)
-- later.  Without: must run in a coroutine, which is suspended until the
-- result comes and gets result | nil, err.  A WaitTimeout error leaves op
-- running, as with op:wait().
function M.wait(op, a, b)
  local timeout, progress, cb = parse("wait", a, b)
  if cb then
    add_waiter(op, timeout, progress, cb, function(e) error(e, 0) end)
    return
  end
  local co = current_coroutine("wait")
  local resume = resumer(co)
  local failed = {}
  add_waiter(op, timeout, progress, resume, function(e) resume(failed, e) end)
  local v, err = coroutine.yield()
  if v == failed then error(err, 0) end
  return v, err
end

--- call(client, id, params [, wait_opts] [, callback]) -> as wait(), after begin.
function M.call(client, id, params, a, b)
  local op, err = client:begin(id, params)
  local _, _, cb = parse("call", a, b)
  if not op then
    if cb then
      -- Asynchronous even when it failed at once.
      local t = uv().new_timer()
      t:start(0, 0, function() t:close(); cb(nil, err) end)
      return
    end
    current_coroutine("call")
    return nil, err
  end
  return M.wait(op, a, b)
end

--- wait_all(ops [, timeout] [, callback(results)]) -> { { value, err }, ... }
-- in the order of ops (or handed to callback), as azrp.wait_all().
function M.wait_all(ops, a, b)
  local timeout, _, cb = parse("wait_all", a, b)
  local co, resume
  if not cb then
    co = current_coroutine("wait_all")
    resume = resumer(co)
  end
  local out, left = {}, #ops
  local failed = {}
  local function finish()
    if cb then cb(out) else resume(out) end
  end
  if left == 0 then
    local t = uv().new_timer()
    t:start(0, 0, function() t:close(); finish() end)
  end
  for i, op in ipairs(ops) do
    add_waiter(op, timeout, nil, function(v, err)
      out[i] = { v, err }
      left = left - 1
      if left == 0 then finish() end
    end, function(e)
      if cb then error(e, 0) end
      if left > 0 then left = 0; resume(failed, e) end
    end)
  end
  if cb then return end
  local res, err = coroutine.yield()
  if res == failed then error(err, 0) end
  return res
end

--- run(client) -> handle with stop(): keeps the client stepping on the loop
-- (for operations nobody waits on) until handle:stop().  uv.run() does
-- not return while it runs.
function M.run(client)
  local d = wait.driver(client)
  local w = watcher_for(d)
  w.keep = true
  w.timer:stop()
  w.timer:start(0, 0, w.on_tick)
  return {
    stop = function()
      local cur = watchers[d]
      if not cur then return end
      cur.keep = false
      if #cur.waiters == 0 then close_watcher(cur) end
    end,
  }
end

return M
