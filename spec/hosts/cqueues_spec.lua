-- azrp inside a cqueues server: examples/cqueues/server.lua (lua-http on
-- cqueues, Lua 5.4) run as its own process against the emulator.  One
-- request creates 50 restore points (azrp.loop.cqueues: each operation a
-- pollable waited on in a coroutine of the server's controller) and
-- streams their ends while a second connection keeps asking /ping; every
-- ping must be answered; the latency is printed and written to
-- BENCHMARKS.md, not asserted.
local H = require "hosts.host"
local F = require "hosts.fleet"
local C = require "support.client"

local N = 50
local PREFIX = "cq"

describe("a cqueues server (lua-http) with azrp.loop.cqueues", function()
  local seed, em, srv
  setup(function()
    seed = F.write(PREFIX, N)
    em = C.start("--time-scale 0.1 --seed " .. seed)
    local port = H.free_port()
    local log = os.tmpname()
    local env = string.format("AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s AZURE_CLIENT_SECRET=%s " ..
      "AZURE_AUTHORITY_HOST=%s AZURE_SUBSCRIPTION_ID=%s AZRP_ENDPOINT=%s AZRP_CA_FILE=%s " ..
      "LUA_PATH='./lua/?.lua;./lua/?/init.lua;;' LUA_CPATH='./build/5.4/?.so;;'",
      C.TENANT, C.CLIENT_ID, C.SECRET, em.url, C.SUB, em.url, em.ca_file)
    local pid = tonumber(H.sh(string.format("env %s lua5.4 examples/cqueues/server.lua %d > %s 2>&1 & echo $!",
      env, port, log)):match("%d+"))
    srv = { pid = pid, port = port, log = function() return H.read(log) or "" end,
      stop = function() os.execute("kill " .. pid .. " 2>/dev/null"); os.remove(log) end }
  end)
  teardown(function()
    if srv then srv.stop() end
    if em then em.stop() end
    if seed then os.remove(seed) end
  end)

  it("creates 50 restore points from one request, streamed, while /ping keeps answering", function()
    local names = {}
    for i = 1, N do names[i] = F.collection(PREFIX, i) end
    local path = "/restore-points?rg=" .. F.RG .. "&name=rp-cqueues&collections=" .. table.concat(names, ",")
    local stream, pings, idle, busy = H.load(srv.port, path)

    assert.are.equal(200, stream.status, srv.log())
    assert.are.equal("chunked", stream.headers["transfer-encoding"])
    assert.are.equal("started " .. N, stream.lines[1])
    local seen = {}
    for _, l in ipairs(stream.lines) do
      local coll = l:match("^done (%S+) rp%-cqueues Succeeded")
      if coll then seen[coll] = true end
    end
    for i = 1, N do assert.is_true(seen[names[i]], names[i] .. " not reported done: " .. table.concat(stream.lines, "\n")) end
    assert.are.equal("finished ok=" .. N .. " failed=0", stream.lines[#stream.lines])
    assert.is_true(stream.chunks >= 3, "the progress came in " .. stream.chunks .. " chunks")

    local client = C.client(em)
    for i = 1, N do
      local rp, err = client:call("RestorePoints_Get", { resource_group_name = F.RG,
        restore_point_collection_name = names[i], restore_point_name = "rp-cqueues" })
      assert.is_table(rp, tostring(err))
      assert.are.equal("Succeeded", rp.properties.provisioningState)
    end
    client:close()

    assert.are.same({}, pings.bad, srv.log())
    assert.are.equal(pings.sent, pings.ok)
    assert.is_true(#busy > 0, "no ping was sent during the operations")

    local fi, fb = H.figures(idle), H.figures(busy)
    print(string.format("\ncqueues /ping at rest:           %s", H.fmt(fi)))
    print(string.format("cqueues /ping during %d creations: %s", N, H.fmt(fb)))
    H.record("hosts-cqueues", table.concat({
      "## cqueues (lua-http server): latency of /ping during 50 restore point creations",
      "",
      "spec/hosts/cqueues_spec.lua (`make test`, suite `hosts`): examples/cqueues/server.lua " ..
        "(lua-http on cqueues, Lua 5.4, one process); one request creates " .. N ..
        " restore points on the emulator (`--time-scale 0.1`) through azrp.loop.cqueues and streams " ..
        "their ends while a keep-alive connection asks /ping every 2 ms.",
      "",
      "| /ping | requests | p50 | p99 | max |",
      "| --- | ---: | ---: | ---: | ---: |",
      string.format("| at rest | %d | %.2f ms | %.2f ms | %.2f ms |", fi.n, fi.p50, fi.p99, fi.max),
      string.format("| during %d creations | %d | %.2f ms | %.2f ms | %.2f ms |", N, fb.n, fb.p50, fb.p99, fb.max),
      "",
      "Measured on " .. H.machine() .. ".",
    }, "\n"))
  end)
end)
