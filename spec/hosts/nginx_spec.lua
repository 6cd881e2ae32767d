-- azrp inside a real nginx (Debian's nginx + libnginx-mod-http-lua,
-- LuaJIT): examples/openresty/nginx.conf, run as is but for its listen
-- port, against the emulator.  One request creates 50 restore points and
-- streams their progress (chunked) while a second connection keeps asking
-- /ping of the same worker; every ping must be answered, and their
-- latency is printed and written to BENCHMARKS.md (not asserted).
local H = require "hosts.host"
local F = require "hosts.fleet"
local C = require "support.client"

local N = 50
local PREFIX = "ng"

-- The two ways azrp.loop.ngx notices a ready socket (see its header).
local MODES = {
  { key = "poll", title = "looks every 2 ms (default)", env = "" },
  { key = "pool", title = "thread pool watches (`thread_pool`)", env = "AZRP_NGX_THREAD_POOL=azrp" },
}
local rows = {}

describe("nginx (libnginx-mod-http-lua) with azrp.loop.ngx", function()
  local seed, em
  setup(function()
    H.needs("nginx", "nginx libnginx-mod-http-lua")
    H.needs("/usr/share/nginx/modules/ngx_http_lua_module.so", "libnginx-mod-http-lua")
    seed = F.write(PREFIX, N)
    em = C.start("--time-scale 0.1 --seed " .. seed)
  end)
  teardown(function()
    if em then em.stop() end
    if seed then os.remove(seed) end
  end)

  it("refuses bad input with a 400 naming the field, before any request is sent", function()
    local ng = H.start_nginx(em, "examples/openresty/nginx.conf", "examples/openresty")
    finally(function() ng.stop() end)
    local before = C.counters(em).total
    local out = {}
    local cq = require("cqueues").new()
    cq:wrap(function()
      local conn = assert(H.connect(ng.port))
      for _, q in ipairs{ "name=rp&collections=rpc-ng-01", "rg=rg-prod&collections=rpc-ng-01",
        "rg=rg-prod&name=rp", "rg=rg-prod&name=rp&collections=rpc-ng-01,bad%2Fname",
        "rg=../x&name=rp&collections=rpc-ng-01" } do
        local st, _, body = conn.get("/restore-points?" .. q)
        out[#out + 1] = { st, body }
      end
      conn.close()
    end)
    assert(cq:loop(30))
    local fields = { "rg", "name", "collections", "collections", "rg" }
    for i, r in ipairs(out) do
      assert.are.equal(400, r[1], r[2])
      assert.are.equal(fields[i], r[2]:match("^(%w+):"), r[2])
    end
    -- the only request since: the first counters read itself
    assert.are.equal(before + 1, C.counters(em).total)
  end)

  for _, mode in ipairs(MODES) do
    it("creates 50 restore points from one request, streamed, while another location keeps answering (" ..
      mode.key .. ")", function()
      local ng = H.start_nginx(em, "examples/openresty/nginx.conf", "examples/openresty", mode.env)
      finally(function() ng.stop() end)
      local rp_name = "rp-nginx-" .. mode.key
      local names = {}
      for i = 1, N do names[i] = F.collection(PREFIX, i) end
      local path = "/restore-points?rg=" .. F.RG .. "&name=" .. rp_name .. "&collections=" .. table.concat(names, ",")
      assert(H.connect(ng.port)).close()   -- up
      local worker = ng.worker()
      local cpu0, t0 = H.cpu(worker), H.now()
      local stream, pings, idle, busy = H.load(ng.port, path)
      local cpu = H.cpu(worker) - cpu0
      local elapsed = H.now() - t0

      -- The stream: chunked, one line per restore point, as they ended.
      assert.are.equal(200, stream.status, ng.log())
      assert.are.equal("chunked", stream.headers["transfer-encoding"])
      assert.are.equal("started " .. N, stream.lines[1])
      local seen = {}
      for _, l in ipairs(stream.lines) do
        local coll = l:match("^done (%S+) " .. rp_name:gsub("%-", "%%-") .. " Succeeded")
        if coll then seen[coll] = true end
      end
      for i = 1, N do assert.is_true(seen[names[i]], names[i] .. " not reported done: " .. table.concat(stream.lines, "\n")) end
      assert.are.equal("finished ok=" .. N .. " failed=0", stream.lines[#stream.lines])
      assert.is_true(stream.chunks >= N, "the progress came in " .. stream.chunks .. " chunks")

      -- The emulator agrees: 50 restore points, each Succeeded.
      local client = C.client(em)
      for i = 1, N do
        local rp, err = client:call("RestorePoints_Get", { resource_group_name = F.RG,
          restore_point_collection_name = names[i], restore_point_name = rp_name })
        assert.is_table(rp, tostring(err))
        assert.are.equal("Succeeded", rp.properties.provisioningState)
      end
      client:close()

      -- The other location answered every request, during the operations too.
      assert.are.same({}, pings.bad, pings.ok .. " pings answered first; " .. ng.log():sub(-3000))
      assert.are.equal(pings.sent, pings.ok)
      assert.is_true(#busy > 0, "no ping was sent during the operations")

      local fi, fb = H.figures(idle), H.figures(busy)
      print(string.format("\nnginx (%s) /ping at rest:           %s", mode.key, H.fmt(fi)))
      print(string.format("nginx (%s) /ping during %d creations: %s; worker CPU %.2f s of %.2f s",
        mode.key, N, H.fmt(fb), cpu, elapsed))
      rows[#rows + 1] = string.format("| %s | at rest | %d | %.2f ms | %.2f ms | %.2f ms | |", mode.title,
        fi.n, fi.p50, fi.p99, fi.max)
      rows[#rows + 1] = string.format("| %s | during %d creations | %d | %.2f ms | %.2f ms | %.2f ms | %.2f s in %.2f s |",
        mode.title, N, fb.n, fb.p50, fb.p99, fb.max, cpu, elapsed)
      if #rows < 2 * #MODES then return end
      H.record("hosts-nginx", table.concat({
        "## OpenResty / nginx: latency of another location during 50 restore point creations",
        "",
        "spec/hosts/nginx_spec.lua (`make test`, suite `hosts`): Debian's nginx + libnginx-mod-http-lua " ..
          "(LuaJIT), one worker running examples/openresty/nginx.conf; one request creates " .. N ..
          " restore points on the emulator (`--time-scale 0.1`) through azrp.loop.ngx and streams " ..
          "their progress while a keep-alive connection asks /ping of the same worker every 2 ms " ..
          "(worker CPU: the whole run, pings and the stream included). Target: p99 under 20 ms.",
        "",
        "| azrp.loop.ngx | /ping | requests | p50 | p99 | max | worker CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        table.concat(rows, "\n"),
        "",
        "The worst ping comes in the first 20 ms, while the first connections are opened " ..
          "(TLS handshakes inside the worker): the demo caps its client at `max_connections = 8`; " ..
          "with the default 64 the same run measured a max of 31-43 ms (p99 unchanged, about 1 ms).",
        "",
        "Measured on " .. H.machine() .. ", shared with other work: the max varies from run to run " ..
          "(5-25 ms seen), p99 stays under 5 ms.",
      }, "\n"))
    end)
  end
end)
