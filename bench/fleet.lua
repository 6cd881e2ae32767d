--- Fleet benchmark: azrp (Lua 5.4, LuaJIT) against Microsoft's Python SDK,
-- JavaScript SDK and the Azure CLI, in one run, each scenario on one
-- emulator shared by every client (started here).  The clients' sides are
-- bench/azrp_bench.lua, python_bench.py, js_bench.mjs and az_bench.sh.
--
--   lua5.4 bench/fleet.lua [--n 200] [--copies 50] [--runs 5] [--loop 2000]
--     [--clients azrp,azrp-jit,python,js,az] [--scale 1] [--copy-scale 0.02]
--     [--az-parallel 25] [--interval 10] [--scenarios 1,2,3,5] [--no-write]
--
-- Run from the repository root (`make bench` does).  Scenarios (issue 11):
--  1. fleet: --n VMs, one restore point each, all begun at once, throttling
--     off (emulator A: --no-throttle --time-scale S, default 1: the
--     Retry-After in whole seconds and the retry-after-ms the emulator sends
--     then say the same, as Azure's do; scaled down, clients that honour
--     only Retry-After poll less often in emulated time): wall time (inside the
--     client), CPU (user + system of the client process and its children,
--     /usr/bin/time), peak RSS (/usr/bin/time: the largest process), the
--     requests the emulator logged for that client's run by operation and
--     status, and the gap to the ideal (see ideal() below);
--  2. the same fleet against ARM's default limits (emulator B, throttling
--     on, --time-scale S: ARM's buckets refill in real time; the buckets are refilled through the admin clock before each
--     client): 429s received and total requests;
--  3. --copies cross-region copies (RestorePoints_Create with
--     sourceRestorePoint into a northeurope collection) followed to 100 %
--     replication (emulator C: --no-throttle --time-scale CS): wall time and
--     polls (status and resource GETs) per client;
--  5. start-up + one GET (median of --runs, clients interleaved) and
--     --loop steady-state GETs on a kept-alive connection, with CPU per
--     request from the client's own accounting (os.clock,
--     time.process_time, process.cpuUsage).
-- (4, export against curl, is bench/export.lua.)
-- Requests per client come from the emulator's request log (--log FILE,
-- one JSON line per request): each client runs alone, so the lines its run
-- added are its requests.  The section of BENCHMARKS.md between
-- <!-- BEGIN fleet --> and <!-- END fleet --> is rewritten unless --no-write.
local ROOT = "."
package.path = "./spec/?.lua;./lua/?.lua;./lua/?/init.lua;" .. package.path
package.cpath = "./build/5.4/?.so;" .. package.cpath

local opts = { n = 200, copies = 50, runs = 5, loop = 2000, clients = "azrp,azrp-jit,python,js,az", scale = 1,
  ["copy-scale"] = 0.02, ["az-parallel"] = 25, interval = 10, write = true, scenarios = "1,2,3,5" }
do
  local i = 1
  while i <= #arg do
    local k = arg[i]:match("^%-%-(.+)$")
    if k == "no-write" then opts.write = false; i = i + 1
    elseif not k or opts[k] == nil or arg[i + 1] == nil then
      io.stderr:write("usage: lua5.4 bench/fleet.lua [--n N] [--copies M] [--runs R] [--loop L] [--clients a,b]" ..
        " [--scale S] [--copy-scale CS] [--az-parallel P] [--interval NOMINAL_S] [--scenarios 1,2,3,5] [--no-write]\n")
      os.exit(2)
    else
      opts[k] = type(opts[k]) == "number" and assert(tonumber(arg[i + 1]), k .. " must be a number") or arg[i + 1]
      i = i + 2
    end
  end
end
assert(io.open("bin/azrp"), "run bench/fleet.lua from the repository root")

local function sh(cmd) local r = os.execute(cmd); return r == true or r == 0 end
local function quiet(cmd) return sh("{ " .. cmd .. "; } >/dev/null 2>&1") end
local read = require("support.files").read
local function capture(cmd)
  local h = io.popen(cmd)
  local s = h:read("a")
  h:close()
  return (s:gsub("%s+$", ""))
end
local function say(...) io.stderr:write(string.format(...), "\n") end

if not quiet("test -x /usr/bin/time") then
  io.stderr:write("bench: needs /usr/bin/time (apt-get install time) for peak RSS\n")
  os.exit(2)
end
assert(sh("make build >/dev/null"), "make build failed")
local core = require "azrp.core"
local json = require "cjson"
local C = require "support.client"
local process = require "support.process"
local RP = require "azrp.emulator.providers.restore_points"   -- nominal durations (ideal)
local throttle_defaults = require("azrp.emulator.throttle").DEFAULTS

local TMP = os.tmpname()
os.remove(TMP)
assert(sh("mkdir -p " .. TMP))

local SCEN = {}
for s in opts.scenarios:gmatch("%d+") do SCEN[tonumber(s)] = true end

----------------------------------------------------------------------------
-- The clients
----------------------------------------------------------------------------

local bench_clients = dofile("bench/clients.lua")
local clients = bench_clients.select(opts.clients)
assert(#clients > 0, "no client to measure")

----------------------------------------------------------------------------
-- The emulators: N small VMs (a 1 GiB OS disk and a NIC each), a
-- collection per VM (westeurope), and for the first --copies VMs a copy
-- target collection in northeurope whose source is the VM's collection.
----------------------------------------------------------------------------

local SUB = C.SUB
local function arm(rest) return "/subscriptions/" .. SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/" .. rest end
local function coll(i) return string.format("rpc-%03d", i) end

local seed = require("azrp.emulator.seed").default()
seed.vms, seed.disks, seed.resources = {}, {}, {}
for i = 1, opts.n do
  local vm = string.format("vm-%03d", i)
  seed.vms[i] = { resource_group = "rg-prod", name = vm, location = "westeurope", size = "Standard_B1s",
    os_type = "Linux", subnet = "vnet-prod/default", os_disk = { size_gb = 1, sku = "Standard_LRS" } }
  seed.resources[#seed.resources + 1] = { path = arm("restorePointCollections/" .. coll(i)),
    body = { location = "westeurope", properties = { source = { id = arm("virtualMachines/" .. vm) } } } }
end
for i = 1, math.min(opts.copies, opts.n) do
  seed.resources[#seed.resources + 1] = { path = arm(string.format("restorePointCollections/rpc-dr-%03d", i)),
    body = { location = "northeurope", properties = { source = { id = arm("restorePointCollections/" .. coll(i)) } } } }
end
local SEED = TMP .. "/seed.json"
do
  local f = assert(io.open(SEED, "w"))
  f:write(json.encode(seed))
  f:close()
end

local emulators = {}
local function emulator(name, args)
  say("starting emulator %s: %s", name, args)
  local log = TMP .. "/" .. name .. ".log"
  local em = process.start(args .. " --seed " .. SEED .. " --log " .. log)
  em.name, em.log_file, em.args = name, log, args
  emulators[#emulators + 1] = em
  em.az_dir = TMP .. "/az-" .. name
  return em
end
local function cleanup()
  for _, em in ipairs(emulators) do em.stop() end
  os.execute("rm -rf " .. TMP)
end

-- The lines of the request log since mark (a byte offset).
local function log_size(em)
  local f = io.open(em.log_file, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end
local function log_since(em, mark)
  local f = assert(io.open(em.log_file, "rb"))
  f:seek("set", mark)
  local out = { total = 0, by_op = {}, by_status = {}, put_ms = 0, puts = 0 }
  for line in f:lines() do
    local e = json.decode(line)
    out.total = out.total + 1
    out.by_op[e.op] = (out.by_op[e.op] or 0) + 1
    local st = tostring(e.status)
    out.by_status[st] = (out.by_status[st] or 0) + 1
    if e.op == "RestorePoints_Create" then out.put_ms, out.puts = out.put_ms + (e.ms or 0), out.puts + 1 end
  end
  f:close()
  return out
end

local function loadavg() return (read("/proc/loadavg") or "?"):match("^(%S+)") end

-- run(c, em, args [, env]) -> { wall, rss_kib, cpu, out, load, req } | nil, message
local function run(c, em, args, env)
  local out, err, rss = TMP .. "/out", TMP .. "/err", TMP .. "/rss"
  local e = string.format("AZRP_BENCH_URL=%s AZRP_BENCH_CA=%s NODE_EXTRA_CA_CERTS=%s AZURE_CONFIG_DIR=%s %s",
    em.url, em.ca_file, em.ca_file, em.az_dir, env or "")
  local cmd = string.format("env %s /usr/bin/time -f '%%M %%U %%S' -o %s %s %s >%s 2>%s", e, rss, c.cmd, args, out, err)
  local load = loadavg()
  local mark = log_size(em)
  local t0 = core.now()
  local r = os.execute(cmd)
  local wall = core.now() - t0
  local result = json.decode((read(out) or ""):match("[^\n]*\n?$") or "")
  if not (r == true or r == 0) or type(result) ~= "table" then
    return nil, string.format("%s %s failed: %s", c.label, args, (read(err) or ""):sub(1, 600))
  end
  local errs = read(err) or ""
  if errs:find("%S") and c.id ~= "az" then say("%s %s stderr: %s", c.label, args, errs:sub(1, 300)) end
  local kib, user, sys = (read(rss) or ""):match("(%d+) ([%d.]+) ([%d.]+)%s*$")
  return { wall = wall, rss_kib = tonumber(kib), cpu = (tonumber(user) or 0) + (tonumber(sys) or 0), out = result,
    load = load, req = log_since(em, mark) }
end

local median = bench_clients.median

local function az_login(em)
  if em.az_ready then return true end
  for _, c in ipairs(clients) do
    if c.az then
      local r, err = run(c, em, "login")
      if not r then return nil, err end
      em.az_ready = true
    end
  end
  return true
end

-- Args of a client's side for one scenario.
local function fleet_args(c, n, tag)
  if c.az then return string.format("concurrent %d %s %d", n, tag, opts["az-parallel"]) end
  return string.format("concurrent %d %s", n, tag)
end

local R, failures = {}, {}
for _, c in ipairs(clients) do R[c.id] = { starts = {}, start_rss = {} } end
local function fail(msg) failures[#failures + 1] = msg; say("FAILED: %s", msg) end

----------------------------------------------------------------------------
-- The ideal of scenario 1: the emulator cannot finish before it has
-- answered every PUT (it serves one request at a time: the sum of its
-- handler time for this client's PUTs), ARM would not take the PUTs faster
-- than its write bucket allows (a burst of `size`, then `rate` a second),
-- and the last restore point then takes its creation time (the nominal
-- CREATE_BASE + CREATE_PER_DISK x disks, scaled).  ideal = max(PUT service
-- time, ARM write pacing) + creation time.  Polls, final GETs and the token
-- are left out: the ideal client would need at least one status read after
-- the creation ends, so the ideal is a floor.
----------------------------------------------------------------------------
local W = throttle_defaults.write
local CREATE = (RP.CREATE_BASE + RP.CREATE_PER_DISK * 1) * opts.scale
local function ideal(req, n)
  local pacing = math.max(0, n - W.size) / W.rate
  local service = req.put_ms / 1000
  return math.max(service, pacing) + CREATE, service, pacing
end

local function measure()
  local A, B, CC
  if SCEN[1] or SCEN[5] then A = emulator("A", "--no-throttle --time-scale " .. opts.scale) end
  if SCEN[2] then B = emulator("B", "--time-scale " .. opts.scale) end
  if SCEN[3] then CC = emulator("C", "--no-throttle --time-scale " .. opts["copy-scale"]) end
  for _, em in ipairs(emulators) do assert(az_login(em)) end

  if SCEN[5] then
    say("(5) start-up + one GET, %d runs each, interleaved ...", opts.runs)
    for r = 0, opts.runs do
      for _, c in ipairs(clients) do
        local x, err = run(c, A, "startup")
        if not x then fail(err)
        elseif r > 0 then   -- run 0 warms the page cache
          local rr = R[c.id]
          rr.starts[#rr.starts + 1] = x.wall
          rr.start_rss[#rr.start_rss + 1] = x.rss_kib
          rr.start_load = rr.start_load or x.load
          if x.out.name ~= "rpc-001" then fail(c.label .. " start-up read " .. tostring(x.out.name)) end
        end
      end
    end
    say("(5) %d GETs on a kept-alive connection ...", opts.loop)
    for _, c in ipairs(clients) do
      if not c.az then
        local x, err = run(c, A, "loop " .. opts.loop)
        if not x then fail(err)
        else
          local rr = R[c.id]
          rr.ms_per_request, rr.cpu_ms_per_request, rr.loop_load = x.out.ms_per_request, x.out.cpu_ms_per_request, x.load
          if x.req.by_op.RestorePointCollections_Get ~= opts.loop + 20 + (c.id == "az" and 0 or 0) then
            fail(string.format("%s: the emulator saw %s GETs, not %d", c.label,
              tostring(x.req.by_op.RestorePointCollections_Get), opts.loop + 20))
          end
        end
      end
    end
  end

  if SCEN[1] then
    say("(1) fleet of %d restore points, throttling off ...", opts.n)
    for _, c in ipairs(clients) do
      say("  %s ...", c.label)
      local x, err = run(c, A, fleet_args(c, opts.n, "fleet-" .. c.id))
      if not x then fail(err)
      else
        local i, service, pacing = ideal(x.req, opts.n)
        R[c.id].fleet = { wall = x.out.seconds, cpu = x.cpu, rss = x.rss_kib / 1024, req = x.req, load = x.load,
          ideal = i, service = service, pacing = pacing, ok = x.out.ok, anon = x.out.anon_kib and x.out.anon_kib / 1024 }
        if x.out.ok ~= opts.n then fail(string.format("%s fleet: %d of %d Succeeded", c.label, x.out.ok, opts.n)) end
      end
    end
  end

  if SCEN[2] then
    say("(2) fleet of %d restore points, ARM throttling on ...", opts.n)
    for _, c in ipairs(clients) do
      say("  %s ...", c.label)
      -- full buckets for every client: emulated time moves on 60 s
      local st = C.admin(B, "POST", "/_emulator/clock/advance", { seconds = 60 })
      assert(st == 200, "clock/advance")
      local x, err = run(c, B, fleet_args(c, opts.n, "thr-" .. c.id), "AZRP_BENCH_THROTTLE=1")
      if not x then fail(err)
      else
        R[c.id].thr = { wall = x.out.seconds, cpu = x.cpu, rss = x.rss_kib / 1024, req = x.req, load = x.load,
          ok = x.out.ok, r429 = x.req.by_status["429"] or 0 }
        if x.out.ok ~= opts.n then fail(string.format("%s throttled fleet: %d of %d Succeeded", c.label, x.out.ok, opts.n)) end
      end
    end
  end

  if SCEN[3] then
    local m = math.min(opts.copies, opts.n)
    say("(3) %d cross-region copies to 100 %% replication; sources first (azrp, not measured) ...", m)
    local setup = C.client(CC, { throttle = false })
    for _, c in ipairs(clients) do
      local ops = {}
      for i = 1, m do
        ops[i] = assert(setup:restore_points_create{ resource_group_name = "rg-prod",
          restore_point_collection_name = coll(i), restore_point_name = "rp-src-" .. c.id, body = {} })
      end
      for i, r in ipairs(require("azrp").wait_all(ops)) do
        assert(r[1], "source restore point " .. i .. ": " .. tostring(r[2]))
      end
    end
    setup:close()
    local interval = opts.interval * opts["copy-scale"]
    for _, c in ipairs(clients) do
      say("  %s ...", c.label)
      local args = c.az and string.format("copies %d %s %g %d", m, c.id, interval, opts["az-parallel"])
        or string.format("copies %d %s %g", m, c.id, interval)
      local x, err = run(c, CC, args)
      if not x then fail(err)
      else
        local polls = (x.req.by_op.Operations_Get or 0) + (x.req.by_op.RestorePoints_Get or 0)
        R[c.id].copies = { wall = x.out.seconds, cpu = x.cpu, rss = x.rss_kib / 1024, req = x.req, load = x.load,
          ok = x.out.ok, polls = polls }
        if x.out.ok ~= m then fail(string.format("%s copies: %d of %d at 100 %%", c.label, x.out.ok, m)) end
      end
    end
  end
end

local started = os.time()
local t_start = core.now()
local ok, err = pcall(measure)
local whole = core.now() - t_start
cleanup()
if not ok then error(err, 0) end

----------------------------------------------------------------------------
-- Tables (printed, and written into BENCHMARKS.md)
----------------------------------------------------------------------------

local lines = {}
local function out(fmt, ...) lines[#lines + 1] = select("#", ...) > 0 and string.format(fmt, ...) or fmt end
local function num(fmt, v) return v and string.format(fmt, v) or "-" end
local function ratio(v, b) return (v and b and b > 0) and string.format("%.1fx", v / b) or "-" end
local base = R[clients[1].id]
local function bl(k1, k2) local t = base[k1]; return t and (k2 and t[k2] or t) end

local cpu_model = (read("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "?"
local versions = {
  lua = capture("lua5.4 -v 2>&1"):match("Lua [%d.]+") or "?",
  luajit = capture("luajit -v 2>&1"):match("LuaJIT [%w%.%-]+") or "?",
  curl = capture("curl --version 2>/dev/null"):match("libcurl/[%d.]+") or "?",
  python = capture("/usr/bin/python3 --version 2>&1"),
  sdk = capture("/usr/bin/python3 -c 'import azure.mgmt.compute as c, azure.core as k; print(c.__version__, k.__version__)' 2>/dev/null"),
  node = capture("node --version 2>/dev/null"),
  js = capture("node -p 'require(\"./spec/conformance/node_modules/@azure/arm-compute/package.json\").version' 2>/dev/null"),
  az = capture("/usr/bin/python3 -c 'from azure.cli.core import __version__ as v; print(v)' 2>/dev/null"),
}

out("## Fleet: azrp vs the Python SDK, the JS SDK and az CLI")
out("")
out("`lua5.4 bench/fleet.lua` (in `make bench`; %s; whole run %.0f s). Each scenario runs on one emulator that every " ..
  "client uses in turn; a client's requests are the lines the emulator's request log (`--log`) gained during its run. " ..
  "Wall time is measured inside the client (first request to last result); CPU is user + system of the client " ..
  "process and the processes it waited for (`/usr/bin/time`), peak RSS the largest of them. Load is the 1-minute " ..
  "load average when the client started (the machine is shared with other work).",
  os.date("!%Y-%m-%d %H:%M UTC", started), whole)
out("")
out("Machine: %d CPUs, %s, %s. Clients: azrp of this tree (%s, %s; %s), Python SDK (%s; azure-mgmt-compute and azure-core %s), " ..
  "JS SDK (@azure/arm-compute %s on Node %s), az CLI %s (Debian, through spec/conformance/az_cli.py).",
  tonumber(capture("nproc")) or 0, cpu_model, capture("uname -sr"), versions.lua, versions.luajit, versions.curl,
  versions.python, versions.sdk, versions.js, versions.node, versions.az)
out("")
out("How each client is driven: azrp: `client:restore_points_create{...}` x N then `azrp.wait_all` in one thread " ..
  "(a copy's create follows replication to 100 %%); Python: `begin_create` x N (a polling thread each), `.result()`; " ..
  "JS: `Promise.all` of `beginCreateAndWait`; az: one `az restore-point create` process per VM (it waits for the " ..
  "LRO itself), %d at a time with `xargs -P %d` (blocking creates rather than `--no-wait` and `az restore-point show` " ..
  "loops: one process per VM instead of one per VM and poll, and `az rest` would be the same process per request).",
  opts["az-parallel"], opts["az-parallel"])

local function req_ops(req)
  local keys = {}
  for k in pairs(req.by_op) do keys[#keys + 1] = k end
  table.sort(keys)
  local s = {}
  for _, k in ipairs(keys) do s[#s + 1] = string.format("%s %d", k:gsub("^RestorePoints_", "RP_"), req.by_op[k]) end
  return table.concat(s, ", ")
end

if SCEN[1] then
  out("")
  out("### 1. Fleet of %d VMs, a restore point each, throttling off", opts.n)
  out("")
  out("Emulator `--no-throttle --time-scale %g`: a restore point of a one-disk VM takes (%d + %d) x %g = %.2f s. " ..
    "Ideal = max(the emulator's handler time for the run's %d PUTs, summed: it serves one request at a time; ARM's " ..
    "write pacing, max(0, N - %d) / %d s) + that creation time; a floor, as no client can see the end before it " ..
    "happens.", opts.scale, RP.CREATE_BASE, RP.CREATE_PER_DISK, opts.scale, CREATE, opts.n, W.size, W.rate)
  out("")
  out("| client | wall s | ideal s | gap to ideal | CPU s | peak MiB | anon MiB at end | requests | by operation | load |")
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
  for _, c in ipairs(clients) do
    local f = R[c.id].fleet
    if f then
      out("| %s | %.2f | %.2f | %+.0f %% | %.2f | %.1f | %s | %d | %s | %s |", c.label, f.wall, f.ideal,
        (f.wall / f.ideal - 1) * 100, f.cpu, f.rss, num("%.1f", f.anon), f.req.total, req_ops(f.req), f.load)
    end
  end
  out("")
  out("")
  out("Peak MiB is `/usr/bin/time`'s maximum resident set size, which counts the pages of shared libraries the process " ..
    "touched; anon MiB is the process's anonymous (private) resident memory (`RssAnon` of /proc/self/status) read by " ..
    "the client right after its last result, all its operations still held (az: not measured, one process per VM).")
  out("")
  out("| ratio to %s | wall | CPU | peak RSS | anon at end | requests |", clients[1].label)
  out("| --- | ---: | ---: | ---: | ---: | ---: |")
  local b = bl("fleet")
  for _, c in ipairs(clients) do
    local f = R[c.id].fleet
    if f and b then
      out("| %s | %s | %s | %s | %s | %s |", c.label, ratio(f.wall, b.wall), ratio(f.cpu, b.cpu), ratio(f.rss, b.rss),
        ratio(f.anon, b.anon), ratio(f.req.total, b.req.total))
    end
  end
end

if SCEN[2] then
  out("")
  out("### 2. The same fleet against ARM's limits (throttling on)")
  out("")
  out("Emulator with its default limits (per subscription and principal: reads %d, refilled at %d/s; writes %d at " ..
    "%d/s), `--time-scale %g`; the buckets are full when each client starts (the emulated clock moves 60 s between " ..
    "clients). azrp runs with its client-side token bucket on (its default); the SDKs and az have none.",
    throttle_defaults.read.size, throttle_defaults.read.rate, W.size, W.rate, opts.scale)
  out("")
  out("| client | 429s | requests | ratio of requests to %s | wall s | CPU s | peak MiB | by operation | load |", clients[1].label)
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
  local b = bl("thr")
  for _, c in ipairs(clients) do
    local t = R[c.id].thr
    if t then
      out("| %s | %d | %d | %s | %.2f | %.2f | %.1f | %s | %s |", c.label, t.r429, t.req.total,
        b and ratio(t.req.total, b.req.total) or "-", t.wall, t.cpu, t.rss, req_ops(t.req), t.load)
    end
  end
end

if SCEN[3] then
  local m = math.min(opts.copies, opts.n)
  out("")
  out("### 3. %d cross-region copies followed to 100 %% replication", m)
  out("")
  out("Emulator `--no-throttle --time-scale %g`: a copy is Succeeded after %d x %g = %.2f s and its one disk " ..
    "replicates in %d x %g = %.2f s more (completionPercent in steps of %d). Each client copies its own source " ..
    "restore point of rpc-001..%03d (made beforehand, not measured) into rpc-dr-001..%03d (northeurope). Replication " ..
    "is polled every %g s (%g s nominal: a user's choice, the same for all; `GET ...?$expand=instanceView` carries no " ..
    "Retry-After): azrp through `poll.default`, the others in their script. Polls = operation-status GETs + " ..
    "restore point GETs.", opts["copy-scale"], RP.COPY_START, opts["copy-scale"], RP.COPY_START * opts["copy-scale"],
    RP.COPY_BASE, opts["copy-scale"], RP.COPY_BASE * opts["copy-scale"], RP.PROGRESS_STEP, m, m,
    opts.interval * opts["copy-scale"], opts.interval)
  out("")
  out("| client | wall s | polls | requests | ratio of polls to %s | CPU s | peak MiB | load |", clients[1].label)
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  local b = bl("copies")
  for _, c in ipairs(clients) do
    local t = R[c.id].copies
    if t then
      out("| %s | %.2f | %d | %d | %s | %.2f | %.1f | %s |", c.label, t.wall, t.polls, t.req.total,
        b and ratio(t.polls, b.polls) or "-", t.cpu, t.rss, t.load)
    end
  end
end

if SCEN[5] then
  out("")
  out("### 5. Start-up and steady-state GETs")
  out("")
  out("Start-up: a fresh process gets a token and reads one collection (median of %d runs after a warm-up run, " ..
    "clients interleaved; az: one `az restore-point collection show` with its cached login). Steady state: %d " ..
    "sequential `RestorePointCollections_Get` on a kept-alive connection after 20 warm-up GETs; CPU per request " ..
    "from the client's own accounting (`os.clock`, `time.process_time`, `process.cpuUsage`) over the loop. az has " ..
    "no steady state: each command is a process.", opts.runs, opts.loop)
  out("")
  out("| client | start-up s | start-up MiB | GET ms/req | GET CPU ms/req | ratio start-up | ratio CPU/req | load |")
  out("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  for _, c in ipairs(clients) do
    local r = R[c.id]
    r.start = median(r.starts)
    r.start_mib = r.start_rss[1] and median(r.start_rss) / 1024 or nil
    out("| %s | %s | %s | %s | %s | %s | %s | %s |", c.label, num("%.3f", r.start), num("%.1f", r.start_mib),
      num("%.3f", r.ms_per_request), num("%.3f", r.cpu_ms_per_request), ratio(r.start, base.start),
      ratio(r.cpu_ms_per_request, base.cpu_ms_per_request), r.loop_load or r.start_load or "-")
  end
end

-- Targets (issue 11), per azrp build
out("")
out("### Targets")
out("")
out("| target | azrp (Lua 5.4) | azrp (LuaJIT) |")
out("| --- | --- | --- |")
local sdks = {}
for _, c in ipairs(clients) do if c.sdk then sdks[#sdks + 1] = c end end
local function verdict(f)
  local cells = {}
  for _, id in ipairs{ "azrp", "azrp-jit" } do
    local r = R[id]
    if not r then cells[#cells + 1] = "not run"
    else
      local met, txt = f(r)
      cells[#cells + 1] = met == nil and ("not measured" .. (txt and (": " .. txt) or ""))
        or ((met and "**met**" or "**not met**") .. ": " .. txt)
    end
  end
  return cells[1], cells[2]
end
local function best(field, sub)
  local v, who
  for _, c in ipairs(sdks) do
    local r = R[c.id]
    local x = sub and r[sub] and r[sub][field] or (not sub and r[field])
    if x and (not v or x < v) then v, who = x, c.label end
  end
  return v, who
end
if SCEN[5] then
  out("| CPU per request at most a third of the fastest SDK's | %s | %s |", verdict(function(r)
    local v, who = best("cpu_ms_per_request")
    if not (v and r.cpu_ms_per_request) then return nil end
    return r.cpu_ms_per_request <= v / 3, string.format("%.3f ms vs %.3f ms (%s): %.2f of it",
      r.cpu_ms_per_request, v, who, r.cpu_ms_per_request / v)
  end))
end
if SCEN[1] then
  out("| peak RSS at most a quarter of the smallest SDK's (fleet of %d) | %s | %s |", opts.n, verdict(function(r)
    local v, who = best("rss", "fleet")
    if not (v and r.fleet) then return nil end
    return r.fleet.rss <= v / 4, string.format("%.1f MiB vs %.1f MiB (%s): %.2f of it", r.fleet.rss, v, who, r.fleet.rss / v)
  end))
end
if SCEN[1] then
  out("| (not the issue's measure) anonymous memory at the fleet's end at most a quarter of the smallest SDK's | %s | %s |",
    verdict(function(r)
      local v, who = best("anon", "fleet")
      if not (v and r.fleet and r.fleet.anon) then return nil end
      return r.fleet.anon <= v / 4, string.format("%.1f MiB vs %.1f MiB (%s): %.2f of it", r.fleet.anon, v, who,
        r.fleet.anon / v)
    end))
end
if SCEN[5] then
  out("| peak RSS at most a quarter of the smallest SDK's (start-up) | %s | %s |", verdict(function(r)
    local v, who = best("start_mib")
    if not (v and r.start_mib) then return nil end
    return r.start_mib <= v / 4, string.format("%.1f MiB vs %.1f MiB (%s): %.2f of it", r.start_mib, v, who, r.start_mib / v)
  end))
end
if SCEN[1] then
  out("| fleet wall time within 10 %% of the ideal | %s | %s |", verdict(function(r)
    if not r.fleet then return nil end
    return r.fleet.wall <= r.fleet.ideal * 1.1, string.format("%.2f s vs %.2f s (%+.0f %%)", r.fleet.wall,
      r.fleet.ideal, (r.fleet.wall / r.fleet.ideal - 1) * 100)
  end))
end
if SCEN[2] then
  out("| under throttling, fewer 429s than every SDK | %s | %s |", verdict(function(r)
    local v, who = nil, nil
    for _, c in ipairs(sdks) do
      local t = R[c.id].thr
      if t and (not v or t.r429 < v) then v, who = t.r429, c.label end
    end
    if not (v and r.thr) then return nil end
    return r.thr.r429 < v, string.format("%d vs %d (%s, the fewest of the others)", r.thr.r429, v, who)
  end))
  out("| under throttling, fewer requests than every SDK | %s | %s |", verdict(function(r)
    local v, who = nil, nil
    for _, c in ipairs(sdks) do
      local t = R[c.id].thr
      if t and (not v or t.req.total < v) then v, who = t.req.total, c.label end
    end
    if not (v and r.thr) then return nil end
    return r.thr.req.total < v, string.format("%d vs %d (%s, the fewest of the others)", r.thr.req.total, v, who)
  end))
end
if #failures > 0 then
  out("")
  out("Failures in this run:")
  for _, f in ipairs(failures) do out("- %s", (f:gsub("\n", " "))) end
end

local text = table.concat(lines, "\n") .. "\n"
io.stdout:write("\n", text)

if opts.write then
  local path = "BENCHMARKS.md"
  local doc = read(path) or "# Benchmarks\n"
  local section = "<!-- BEGIN fleet -->\n" .. text .. "<!-- END fleet -->\n"
  local a, b = doc:find("<!%-%- BEGIN fleet %-%->.-<!%-%- END fleet %-%->\n?")
  if a then doc = doc:sub(1, a - 1) .. section .. doc:sub(b + 1)
  else doc = doc:gsub("\n*$", "\n\n") .. section end
  local f = assert(io.open(path, "w"))
  f:write(doc)
  f:close()
  say("wrote the fleet section of %s", path)
end
if #failures > 0 then os.exit(1) end
