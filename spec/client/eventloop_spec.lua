-- azrp inside event loops: the cqueues adapter (azrp.loop.cqueues) and the
-- luv adapter (azrp.loop.luv, when luv is installed: Debian's lua-luv).
-- Each test runs a ticker beside the azrp work and checks that it kept
-- ticking while restore points were created: nothing blocked the loop.
-- Tests that measure time are tagged #timing (too slow under valgrind).
local C = require "support.client"
local seed_file = require "support.seed"
local core = require "azrp.core"

local NVM = 6

local function vm_name(i) return string.format("vm-el-%02d", i) end
local function coll_name(i) return string.format("rpc-el-%02d", i) end

-- The default demo fleet plus NVM small VMs (an OS disk of 1 GiB and a NIC),
-- each with a restore point collection already made.
local function write_seed()
  local seed = seed_file.demo()
  seed.resources = {}
  for i = 1, NVM do
    seed.vms[#seed.vms + 1] = { resource_group = C.RG, name = vm_name(i), location = "westeurope",
      size = "Standard_B1s", os_type = "Linux", subnet = "vnet-prod/default",
      os_disk = { size_gb = 1, sku = "Standard_LRS" } }
    local vm_id = "/subscriptions/" .. C.SUB .. "/resourceGroups/" .. C.RG ..
      "/providers/Microsoft.Compute/virtualMachines/" .. vm_name(i)
    seed.resources[#seed.resources + 1] = {
      path = "/subscriptions/" .. C.SUB .. "/resourceGroups/" .. C.RG ..
        "/providers/Microsoft.Compute/restorePointCollections/" .. coll_name(i),
      body = { location = "westeurope", properties = { source = { id = vm_id } } } }
  end
  return seed_file.write(seed)
end

local function rp_params(i, name)
  return { resource_group_name = C.RG, restore_point_collection_name = coll_name(i),
    restore_point_name = name, body = { properties = {} } }
end

local function check_rp(rp, err, name)
  assert.is_table(rp, tostring(err))
  assert.are.equal(name, rp.name)
  assert.are.equal("Succeeded", rp.properties.provisioningState)
  assert.is_table(rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint)
end

-- A ticker's record: how often it ran and the longest gap between runs.
local function new_ticker()
  local t = { ticks = 0, max_gap = 0, last = core.now(), started = core.now() }
  function t.tick()
    local now = core.now()
    if now - t.last > t.max_gap then t.max_gap = now - t.last end
    t.last, t.ticks = now, t.ticks + 1
  end
  return t
end

-- The #timing tests' clients wait at least WAIT seconds before each poll
-- (poll.min), whatever short retry-after-ms the emulator sends, so that
-- the work lasts long enough to tell a loop that kept running from one
-- that was blocked.
local WAIT = 0.4

local function timed_client(em)
  return C.client(em, { poll = { default = 0.2, min = WAIT, max = 2 } })
end

-- Over `elapsed` seconds a 10 ms ticker that is never held up ticks about
-- elapsed / 0.01 times.  A blocking wait would stop it for a whole poll
-- interval (WAIT or more); a quarter of the ticks and no gap over 0.75 WAIT
-- prove the loop was never blocked (with room for a loaded machine).
local function assert_ticked(t, elapsed)
  assert.is_true(elapsed >= WAIT * 0.95, "the work took " .. elapsed .. " s: too short to tell")
  assert.is_true(t.ticks >= elapsed / 0.01 * 0.25,
    string.format("ticker ran %d times in %.2f s", t.ticks, elapsed))
  assert.is_true(t.max_gap < WAIT * 0.75, string.format("the loop was held up %.3f s", t.max_gap))
end

describe("event loops", function()
  local seed_path, em
  setup(function()
    seed_path = write_seed()
    em = C.start("--time-scale 0.01 --seed " .. seed_path)
  end)
  teardown(function()
    if em then em.stop() end
    if seed_path then os.remove(seed_path) end
  end)

  describe("azrp.loop.cqueues", function()
    local cqueues = require "cqueues"
    local loop = require "azrp.loop.cqueues"

    it("creates a restore point in one coroutine while a ticker coroutine runs every 10 ms #timing", function()
      local client = timed_client(em)   -- no token yet: renewing it happens inside the loop too
      local cq = cqueues.new()
      local t = new_ticker()
      local rp, err, elapsed
      local done = false
      cq:wrap(function()
        local t0 = core.now()
        rp, err = loop.wait(client:restore_points_create(rp_params(1, "rp-cq-1")), 30)
        elapsed = core.now() - t0
        done = true
      end)
      cq:wrap(function()
        while not done do
          cqueues.sleep(0.01)
          t.tick()
        end
      end)
      assert(cq:loop(60))
      assert.is_true(cq:empty(), "the controller was still busy after 60 s")
      check_rp(rp, err, "rp-cq-1")
      assert_ticked(t, elapsed)
      client:close()
    end)

    it("runs several operations at once, each in its own coroutine, with one pump #timing", function()
      local client = timed_client(em)
      local cq = cqueues.new()
      local t = new_ticker()
      local results, pending = {}, 0
      local steps = 0
      local step = client.step
      client.step = function(self) steps = steps + 1; return step(self) end
      local t0 = core.now()
      for i = 2, NVM do
        pending = pending + 1
        cq:wrap(function()
          local rp, err = loop.wait(client:restore_points_create(rp_params(i, "rp-cq-many")), 30)
          results[i] = { rp, err }
          pending = pending - 1
        end)
      end
      -- and reads beside them, through call()
      cq:wrap(function()
        pending = pending + 1
        local vm, err = loop.call(client, "VirtualMachines_Get", { resource_group_name = C.RG, vm_name = vm_name(1) })
        results.vm = { vm, err }
        pending = pending - 1
      end)
      cq:wrap(function()
        while pending > 0 do
          cqueues.sleep(0.01)
          t.tick()
        end
      end)
      assert(cq:loop(60))
      assert.is_true(cq:empty(), "the controller was still busy after 60 s")
      local elapsed = core.now() - t0
      for i = 2, NVM do check_rp(results[i][1], results[i][2], "rp-cq-many") end
      assert.is_table(results.vm[1], tostring(results.vm[2]))
      assert.are.equal(vm_name(1), results.vm[1].name)
      -- Concurrent: five creations (each WAIT or more: its poll interval)
      -- take about as long as one, not five one after the other.
      assert.is_true(elapsed < 4, "took " .. elapsed .. " s")
      assert_ticked(t, elapsed)
      -- One pump steps the client for all waiters: steps are counted in
      -- wake-ups, not wake-ups times waiters.
      assert.is_true(steps < 200, steps .. " steps")
      client:close()
    end)

    it("wait_all() inside a coroutine, and a timed-out wait leaves the operation running", function()
      local client = C.client(em)
      local cq = cqueues.new()
      local out
      cq:wrap(function()
        local op = client:restore_points_create(rp_params(1, "rp-cq-timeout"))
        local v, err = loop.wait(op, 0.05)
        assert.is_nil(v)
        assert.are.equal("timeout", err.kind)
        assert.are.equal("WaitTimeout", err.code)
        assert.is_false(op:done())
        local get = client:restore_point_collections_get{ resource_group_name = C.RG,
          restore_point_collection_name = coll_name(1) }
        out = loop.wait_all({ op, get }, 30)
      end)
      assert(cq:loop(60))
      assert.is_true(cq:empty(), "the controller was still busy after 60 s")
      check_rp(out[1][1], out[1][2], "rp-cq-timeout")
      assert.is_table(out[2][1], tostring(out[2][2]))
      assert.are.equal(coll_name(1), out[2][1].name)
      client:close()
    end)

    it("reports progress through wait{ progress = fn } and the controller returns once all is done", function()
      local client = C.client(em)
      local cq = cqueues.new()
      local rp, err
      cq:wrap(function()
        rp, err = loop.wait(client:restore_points_create(rp_params(2, "rp-cq-progress")),
          { timeout = 30, progress = function() end })
      end)
      local t0 = core.now()
      assert(cq:loop(60))
      assert.is_true(core.now() - t0 < 10)
      check_rp(rp, err, "rp-cq-progress")
      assert.is_true(cq:empty())   -- the pump stopped when nobody waited any more
      client:close()
    end)

    it("run(client) drives operations nobody waits on until stopped", function()
      local client = C.client(em)
      local cq = cqueues.new()
      local op
      cq:wrap(function()
        local runner = loop.run(client)
        op = client:restore_points_create(rp_params(3, "rp-cq-run"))
        while not op:done() do cqueues.sleep(0.05) end
        runner.stop()
      end)
      assert(cq:loop(60))
      assert.is_true(op:done())
      check_rp(op:result(), nil, "rp-cq-run")
      client:close()
    end)

    it("wait() outside a controller's coroutine is a programmer error", function()
      local client = C.client(em)
      local op = client:restore_point_collections_get{ resource_group_name = C.RG,
        restore_point_collection_name = coll_name(1) }
      assert.has_error(function() loop.wait(op) end)
      assert.is_table(op:wait(30))   -- the operation itself is unharmed
      client:close()
    end)
  end)

  local has_luv, uv = pcall(require, "luv")

  describe("azrp.loop.luv", function()
    if not has_luv then
      pending("luv is not installed (apt-get install lua-luv)")
      return
    end
    local loop = require "azrp.loop.luv"

    -- luv ends the process on an error raised in a callback: coroutines of
    -- the tests catch theirs and the test raises it after uv.run().  Lua
    -- 5.1 (not LuaJIT) cannot yield across pcall: there fn runs unprotected
    -- (an error before its first wait still fails the test; a later one
    -- goes on to libuv, which ends the run with its traceback).
    local pcall_yields = coroutine.wrap(function() return pcall(coroutine.yield, true) end)()
    local function spawn(fn)
      local state = { done = false }
      if not pcall_yields then
        local co = coroutine.create(function() fn(); state.done = true end)
        local ok, err = coroutine.resume(co)
        if not ok then state.done, state.err = true, tostring(err) end
        return state
      end
      coroutine.wrap(function()
        local ok, err = pcall(fn)
        state.done, state.err = true, (not ok) and tostring(err) or nil
      end)()
      return state
    end

    -- uv.run() with a watchdog: past `seconds` every handle is closed, so a
    -- broken adapter fails the test instead of hanging it.
    local function run_loop(seconds)
      local fired = false
      local dog = uv.new_timer()
      dog:start(seconds * 1000, 0, function()
        fired = true
        uv.walk(function(h) if not h:is_closing() then h:close() end end)
      end)
      dog:unref()   -- the watchdog alone does not keep the loop running
      uv.run()
      if not dog:is_closing() then dog:close() end
      uv.run("nowait")   -- let the close callbacks run
      assert.is_false(fired, "the loop was still busy after " .. seconds .. " s")
    end

    -- A uv timer that ticks every 10 ms until stop_when() is true.
    local function start_ticker(t, stop_when)
      local timer = uv.new_timer()
      timer:start(10, 10, function()
        t.tick()
        if stop_when() then timer:stop(); timer:close() end
      end)
    end

    it("creates a restore point in a coroutine while a uv timer ticks every 10 ms #timing", function()
      local client = timed_client(em)   -- no token yet: renewing it happens on the loop too
      local t = new_ticker()
      local rp, err, elapsed
      local job = spawn(function()
        local t0 = core.now()
        rp, err = loop.wait(client:restore_points_create(rp_params(4, "rp-uv-1")), 30)
        elapsed = core.now() - t0
      end)
      start_ticker(t, function() return job.done end)
      run_loop(60)   -- returns when the ticker and azrp's handles are closed
      assert.is_nil(job.err)
      check_rp(rp, err, "rp-uv-1")
      assert_ticked(t, elapsed)
      client:close()
    end)

    it("runs several operations at once with callbacks #timing", function()
      local client = timed_client(em)
      local t = new_ticker()
      local results, pending = {}, 0
      start_ticker(t, function() return pending == 0 end)
      local t0 = core.now()
      for i = 1, NVM do
        pending = pending + 1
        loop.wait(client:restore_points_create(rp_params(i, "rp-uv-many")), 30, function(rp, err)
          results[i] = { rp, err }
          pending = pending - 1
        end)
      end
      assert.are.equal(NVM, pending)   -- callbacks never run before wait() returns
      run_loop(60)
      local elapsed = core.now() - t0
      for i = 1, NVM do check_rp(results[i][1], results[i][2], "rp-uv-many") end
      -- six creations (each WAIT or more) at once take about as long as one
      assert.is_true(elapsed < 4, "took " .. elapsed .. " s")
      assert_ticked(t, elapsed)
      client:close()
    end)

    it("wait_all() and call() in a coroutine; a timed-out wait leaves the operation running", function()
      local client = C.client(em)
      local first, out, coll
      local job = spawn(function()
        local op = client:restore_points_create(rp_params(5, "rp-uv-all"))
        first = { loop.wait(op, 0.05) }
        first.done = op:done()
        coll = loop.call(client, "RestorePointCollections_Get", { resource_group_name = C.RG,
          restore_point_collection_name = coll_name(5) })
        out = loop.wait_all({ op, client:restore_point_collections_get{ resource_group_name = C.RG,
          restore_point_collection_name = coll_name(6) } }, 30)
      end)
      run_loop(60)
      assert.is_nil(job.err)
      assert.is_nil(first[1])
      assert.are.equal("timeout", first[2].kind)
      assert.are.equal("WaitTimeout", first[2].code)
      assert.is_false(first.done)
      assert.is_table(coll)
      assert.are.equal(coll_name(5), coll.name)
      check_rp(out[1][1], out[1][2], "rp-uv-all")
      assert.are.equal(coll_name(6), out[2][1].name)
      client:close()
    end)

    it("run(client) drives operations nobody waits on until stopped", function()
      local client = C.client(em)
      local runner = loop.run(client)
      local op = client:restore_points_create(rp_params(6, "rp-uv-run"))
      local check = uv.new_timer()
      check:start(20, 20, function()
        if op:done() then check:stop(); check:close(); runner.stop() end
      end)
      run_loop(60)
      check_rp(op:result(), nil, "rp-uv-run")
      client:close()
    end)

    it("without a callback, outside a coroutine, wait() is a programmer error", function()
      local client = C.client(em)
      local op = client:restore_point_collections_get{ resource_group_name = C.RG,
        restore_point_collection_name = coll_name(1) }
      assert.has_error(function() loop.wait(op) end)
      assert.is_table(op:wait(30))
      client:close()
    end)
  end)
end)
