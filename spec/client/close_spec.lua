-- __close of operations and clients (issue 6, item 5): closing a running
-- operation cancels it and leaves the client working; closing a client
-- fails its operations and lets them be collected.  On Lua 5.4 the
-- `<close>` syntax itself is used (through load, so that other versions
-- can parse this file); elsewhere the metamethod is called directly.
local support = require "support.client"

local has_close = _VERSION == "Lua 5.4"

-- Closes v as a `local x <close>` going out of scope would.
local function close(v)
  if has_close then
    assert(load("local v <close> = ...", "=close"))(v)
  else
    getmetatable(v).__close(v)
  end
end

local function vm_get(c)
  return c:virtual_machines_get{ resource_group_name = support.RG, vm_name = "vm-app-01" }
end

describe("__close", function()
  local em
  setup(function() em = support.start("--time-scale 60") end)
  teardown(function() em.stop() end)

  it("cancels a running operation; the client goes on working", function()
    local c = support.client(em)
    local op = assert(vm_get(c))
    local other = assert(vm_get(c))
    close(op)
    assert.is_true(op:done())
    assert.are.equal("canceled", op:status())
    local _, err = op:result()
    assert.are.equal("canceled", err.kind)
    -- The op is out of the client's list: stepping must not touch it.
    for _ = 1, 3 do c:step() end
    local vm = assert(other:wait(30))
    assert.are.equal("vm-app-01", vm.name)
    assert.are.equal("vm-app-01", assert(vm_get(c):wait(30)).name)
    close(op)   -- twice is harmless
    c:close()
  end)

  it("leaves a finished operation's result in place", function()
    local c = support.client(em)
    local op = assert(vm_get(c))
    assert(op:wait(30))
    close(op)
    assert.are.equal("succeeded", op:status())
    assert.are.equal("vm-app-01", op:result().name)
    c:close()
  end)

  it("closing a core client fails its operations and releases them", function()
    local c = support.client(em)
    local weak = setmetatable({}, { __mode = "v" })
    do
      local op = assert(vm_get(c))
      weak[1] = op
      close(c.core)
      assert.is_true(op:done())
      local _, err = op:result()
      assert.are.equal("ClientClosed", err.code)
    end
    collectgarbage("collect"); collectgarbage("collect")
    assert.is_nil(weak[1], "a closed client's operation stayed anchored")
    assert.has_error(function() c.core:step() end, "attempt to use a closed azrp.Client")
  end)

  it("a client collected at interpreter exit with operations in flight does not crash", function()
    -- lua_close runs every finalizer, the ops' and the client's, in any order.
    local script = string.format([[
      package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
      local support = require "support.client"
      local em = { url = %q, ca_file = %q }
      local c = support.client(em)
      for i = 1, 5 do c:virtual_machines_get{ resource_group_name = "rg-prod", vm_name = "vm-app-01" } end
      c:step()
      print("left running")
    ]], em.url, em.ca_file)
    local f = os.tmpname()
    local h = assert(io.open(f, "w")); h:write(script); h:close()
    local lua = has_close and "lua5.4" or "luajit"
    local dir = has_close and "5.4" or "jit"
    -- Under spec/sanitize.sh the child loads the instrumented build too, so
    -- that ASan checks the finalizers lua_close runs, not only malloc/free.
    if has_close and package.cpath:find("build/asan", 1, true) then dir = "asan" end
    local p = io.popen(string.format("%s -e 'package.cpath=\"./build/%s/?.so;\"..package.cpath' %s 2>&1; echo \"rc=$?\"",
      lua, dir, f))
    local out = p:read("*a"); p:close()
    os.remove(f)
    assert.matches("left running", out)
    assert.matches("rc=0", out)
  end)
end)
