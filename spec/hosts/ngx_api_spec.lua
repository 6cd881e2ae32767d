-- azrp.loop.ngx's API inside a real nginx worker (Debian's nginx +
-- libnginx-mod-http-lua, LuaJIT): the handlers of spec/hosts/ngx, each
-- asked for by a request, against the emulator.  Nothing here is timed:
-- spec/run.sh runs it in its pool, and nginx_spec.lua's latency figures
-- alone after it.
-- spec/run.sh: in the pool
local H = require "hosts.host"
local F = require "hosts.fleet"
local C = require "support.client"

describe("azrp.loop.ngx's API in a real nginx worker (spec/hosts/ngx)", function()
  local json = require "cjson"
  local seed, em, ng, conn
  setup(function()
    H.needs("/usr/share/nginx/modules/ngx_http_lua_module.so", "libnginx-mod-http-lua")
    seed = F.write("ngapi", 9)
    em = C.start("--time-scale 0.05 --seed " .. seed)
    ng = H.start_nginx(em, "spec/hosts/ngx/nginx.conf", "spec/hosts/ngx")
  end)
  teardown(function()
    if ng then ng.stop() end
    if em then em.stop() end
    if seed then os.remove(seed) end
  end)

  local function check(name)
    local out
    local cq = require("cqueues").new()
    cq:wrap(function()
      conn = conn or assert(H.connect(ng.port))
      local st, _, body = conn.get("/check/" .. name)
      out = { status = st, body = body }
    end)
    assert(cq:loop(60))
    assert.are.equal(200, out.status, ng.log())
    local r = json.decode(out.body)
    assert.is_nil(r.error, r.error)
    return r
  end

  it("refuses to wait in init_worker; run() from there drives an operation nobody waits on", function()
    local r = check("init")
    assert.is_true(r.wait_raised)
    assert.matches("cannot wait in nginx's init_worker phase", r.wait_error, 1, true)
    assert.is_true(r.done)
    assert.are.equal("rpc-ngapi-01", r.result.name)
  end)

  it("a timed-out wait leaves the operation running; the next wait gets its result", function()
    local r = check("timeout")
    assert.are.same({ err_kind = "timeout", err_code = "WaitTimeout", done = false }, r.first)
    assert.are.same({ name = "rp-timeout", state = "Succeeded" }, r.second)
  end)

  it("wait_all() in order, call(), and an Azure error returned as nil, err", function()
    local r = check("all")
    assert.are.same({ name = "rp-all", state = "Succeeded" }, r.first)
    assert.are.equal("rpc-ngapi-04", r.second.name)
    assert.are.equal("rpc-ngapi-05", r.call.name)
    assert.are.equal("ResourceNotFound", r.missing.err_code)
  end)

  it("light threads of one request wait on their own operations; a bad option raises", function()
    local r = check("threads")
    assert.are.equal(4, #r.results)
    for _, x in ipairs(r.results) do assert.are.same({ name = "rp-threads", state = "Succeeded" }, x) end
    assert.is_true(r.bad_option_raised)
    assert.matches("expected a number of seconds or an options table", r.bad_option_error, 1, true)
  end)

  it("a client closed under a waiter ends its wait with ClientClosed; other clients go on", function()
    local r = check("closed")
    assert.is_false(r.raised, r.message)
    assert.are.same({ err_kind = "canceled", err_code = "ClientClosed" }, r.result)
    assert.are.equal("rpc-ngapi-02", r.after.name)
  end)

  it("a graceful stop (SIGQUIT) ends the worker although a run() was never stopped", function()
    assert.is_true(ng.stop(), "nginx was still running 10 s after SIGQUIT: " .. ng.log():sub(-2000))
  end)
end)
