--- Side-by-side benchmark: azrp against Microsoft's Python and JavaScript
-- SDKs, in one run, against the same emulator (started here).
--
--   lua5.4 bench/restore_points.lua [--n 300] [--runs 5] [--loop 2000] [--clients azrp,azrp-jit,python,js]
--
-- (a) start-up + one GET: a fresh process makes a client, gets a token and
--     reads one restore point collection (median wall time and peak RSS of
--     --runs runs, after one unmeasured warm-up run);
-- (b) steady state: --loop sequential GETs on one kept-alive connection,
--     in ms per request, after 20 warm-up GETs;
-- (c) --n restore point creations at once (one per VM: the emulator, like
--     Azure, allows one creation at a time per VM), to completion: wall time
--     from the first PUT to the last result, the CPU time (user + system)
--     of the whole client process, and its peak RSS.
-- The emulator runs with --no-throttle (ARM's limits would pace every
-- client to the same 10 writes/s) and --time-scale 0.01 (a restore point
-- takes 0.3 s; every client still waits the 1 s Retry-After the emulator
-- sends).  Peak RSS is /usr/bin/time's "maximum resident set size".
-- See bench/README.md.
local ROOT = (arg[0]:match("^(.*)/bench/[^/]*$") or "."):gsub("^$", ".")
package.path = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. package.path
package.cpath = ROOT .. "/build/5.4/?.so;" .. package.cpath

local opts = { n = 300, runs = 5, loop = 2000, clients = "azrp,azrp-jit,python,js" }
do
  local i = 1
  while i <= #arg do
    local k = arg[i]:match("^%-%-(.+)$")
    if not k or opts[k] == nil or arg[i + 1] == nil then
      io.stderr:write("usage: lua5.4 bench/restore_points.lua [--n N] [--runs R] [--loop L] [--clients a,b,...]\n")
      os.exit(2)
    end
    opts[k] = type(opts[k]) == "number" and assert(tonumber(arg[i + 1]), k .. " must be a number") or arg[i + 1]
    i = i + 2
  end
end

local function sh(cmd) local r = os.execute(cmd); return r == true or r == 0 end
local function quiet(cmd) return sh("{ " .. cmd .. "; } >/dev/null 2>&1") end
local ok_exec = quiet

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

if not ok_exec("test -x /usr/bin/time") then
  io.stderr:write("bench: needs /usr/bin/time (apt-get install time) for peak RSS\n")
  os.exit(2)
end
-- azrp.core for Lua 5.4 and LuaJIT, up to date with src/
assert(sh("cd " .. ROOT .. " && make build >/dev/null"), "make build failed")
local core = require "azrp.core"
local json = require "cjson"

local TMP = os.tmpname()
os.remove(TMP)
assert(ok_exec("mkdir -p " .. TMP))

----------------------------------------------------------------------------
-- The clients
----------------------------------------------------------------------------

-- bench/clients.lua (shared with bench/fleet.lua); az has no side for
-- this script's modes.
local bench_clients = dofile(ROOT .. "/bench/clients.lua")
local clients = bench_clients.select(opts.clients, ROOT)
assert(#clients > 0, "no client to measure")

----------------------------------------------------------------------------
-- The emulator: the demo fleet's identity and network, opts.n small VMs
-- (a 1 GiB OS disk and a NIC each) and a collection per VM.
----------------------------------------------------------------------------

local SUB = "00000000-0000-4000-8000-000000000001"
local function arm(rest) return "/subscriptions/" .. SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/" .. rest end

local seed = require("azrp.emulator.seed").default()
seed.vms, seed.disks, seed.resources = {}, {}, {}
for i = 1, opts.n do
  local vm = string.format("vm-%03d", i)
  seed.vms[i] = { resource_group = "rg-prod", name = vm, location = "westeurope", size = "Standard_B1s",
    os_type = "Linux", subnet = "vnet-prod/default", os_disk = { size_gb = 1, sku = "Standard_LRS" } }
  seed.resources[i] = { path = arm(string.format("restorePointCollections/rpc-%03d", i)),
    body = { location = "westeurope", properties = { source = { id = arm("virtualMachines/" .. vm) } } } }
end
do
  local f = assert(io.open(TMP .. "/seed.json", "w"))
  f:write(json.encode(seed))
  f:close()
end

local p = io.popen(string.format("cd %s && lua5.4 bin/azrp emulator --port 0 --no-throttle --time-scale 0.01 " ..
  "--seed %s/seed.json --state-dir %s/state --ready-file %s/ready.json >%s/emulator.log 2>&1 & echo $!",
  ROOT, TMP, TMP, TMP, TMP))
local emu_pid = tonumber(p:read("*l"))
p:close()
local function cleanup()
  if emu_pid then os.execute("kill " .. emu_pid .. " 2>/dev/null") end
  os.execute("rm -rf " .. TMP)
end
local ready
for _ = 1, 300 do
  local s = read(TMP .. "/ready.json")
  if s then ready = json.decode(s); break end
  os.execute("sleep 0.1")
end
if not ready then
  io.stderr:write(read(TMP .. "/emulator.log") or "", "\n")
  cleanup()
  error("the emulator did not start")
end

local ENV = string.format("AZRP_BENCH_URL=%s AZRP_BENCH_CA=%s NODE_EXTRA_CA_CERTS=%s", ready.url, ready.ca_file,
  ready.ca_file)

-- run(client, args) -> wall seconds, peak RSS KiB, decoded JSON output, CPU seconds
-- (user + system) | nil, message
local function run(c, args)
  local out, err, rss = TMP .. "/out", TMP .. "/err", TMP .. "/rss"
  local cmd = string.format("cd %s && env %s /usr/bin/time -f '%%M %%U %%S' -o %s %s %s >%s 2>%s", ROOT, ENV, rss,
    c.cmd, args, out, err)
  local t0 = core.now()
  local r = os.execute(cmd)
  local wall = core.now() - t0
  local result = json.decode((read(out) or ""):match("[^\n]*\n?$") or "")
  if not (r == true or r == 0) or type(result) ~= "table" then
    return nil, string.format("%s %s failed: %s", c.label, args, (read(err) or ""):sub(1, 600))
  end
  local kib, user, sys = (read(rss) or ""):match("(%d+) ([%d.]+) ([%d.]+)%s*$")
  return wall, tonumber(kib), result, (tonumber(user) or 0) + (tonumber(sys) or 0)
end

local median = bench_clients.median

local results, failures = {}, {}
for _, c in ipairs(clients) do results[c.id] = { starts = {}, rss = {} } end

local function measure()
  -- (a) start-up + one GET, clients interleaved run by run
  io.stderr:write(string.format("(a) start-up + one GET, %d runs each ...\n", opts.runs))
  for r = 0, opts.runs do
    for _, c in ipairs(clients) do
      local wall, rss, res = run(c, "startup")
      if not wall then failures[#failures + 1] = rss
      elseif r > 0 then   -- run 0 warms the page cache
        local rr = results[c.id]
        rr.starts[#rr.starts + 1] = wall
        rr.rss[#rr.rss + 1] = rss
        assert(res.name == "rpc-001")
      end
    end
  end
  -- (b) steady-state GET loop
  io.stderr:write(string.format("(b) %d GETs on a kept-alive connection ...\n", opts.loop))
  for _, c in ipairs(clients) do
    local wall, rss, res = run(c, "loop " .. opts.loop)
    if not wall then failures[#failures + 1] = rss
    else results[c.id].ms_per_request = res.ms_per_request end
  end
  -- (c) opts.n concurrent restore point creations
  io.stderr:write(string.format("(c) %d restore point creations at once ...\n", opts.n))
  for _, c in ipairs(clients) do
    local wall, rss, res, cpu = run(c, string.format("concurrent %d %s", opts.n, c.id))
    if not wall then failures[#failures + 1] = rss
    else
      local rr = results[c.id]
      rr.lro_seconds, rr.lro_rss, rr.lro_cpu = res.seconds, rss, cpu
      if res.ok ~= opts.n then
        failures[#failures + 1] = string.format("%s: %d of %d restore points succeeded", c.label, res.ok, opts.n)
      end
    end
  end
end

local ok, err = pcall(measure)
local counters
do
  local h = io.popen(string.format("curl -sS --cacert %s %s/_emulator/counters", ready.ca_file, ready.url))
  counters = json.decode(h:read("*a") or "")
  h:close()
end
cleanup()
if not ok then error(err, 0) end

----------------------------------------------------------------------------
-- The table
----------------------------------------------------------------------------

local base = results[clients[1].id]
local function ratio(v, b) return (v and b and b > 0) and string.format("%.1f", v / b) or "-" end
local function num(fmt, v) return v and string.format(fmt, v) or "-" end

local cpu = (read("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "?"
local uname = io.popen("uname -sr"):read("*l")
print(string.format("\nazrp vs Microsoft's SDKs, same emulator (%s, --no-throttle, --time-scale 0.01)", ready.url))
print(string.format("machine: %s, %s; %d start-up runs (median), %d GETs, N = %d", cpu, uname, opts.runs, opts.loop,
  opts.n))
print()
local head = string.format("| %-16s | %10s | %12s | %10s | %12s | %11s | %14s |", "client", "start-up s",
  "start-up MiB", "GET ms/req", "N RPs wall s", "N RPs CPU s", "N RPs peak MiB")
print(head)
print((head:gsub("[^|]", "-")))
local rows = {}
for _, c in ipairs(clients) do
  local r = results[c.id]
  r.start = #r.starts > 0 and median(r.starts) or nil
  r.start_rss = #r.rss > 0 and median(r.rss) / 1024 or nil
  r.lro_mib = r.lro_rss and r.lro_rss / 1024 or nil
  rows[#rows + 1] = r
  print(string.format("| %-16s | %10s | %12s | %10s | %12s | %11s | %14s |", c.label, num("%.3f", r.start),
    num("%.1f", r.start_rss), num("%.3f", r.ms_per_request), num("%.2f", r.lro_seconds), num("%.2f", r.lro_cpu),
    num("%.1f", r.lro_mib)))
end
print()
print(string.format("ratios (%s = 1.0; higher is slower or bigger)", clients[1].label))
print(head)
print((head:gsub("[^|]", "-")))
for i, c in ipairs(clients) do
  local r = rows[i]
  print(string.format("| %-16s | %10s | %12s | %10s | %12s | %11s | %14s |", c.label, ratio(r.start, base.start),
    ratio(r.start_rss, base.start_rss), ratio(r.ms_per_request, base.ms_per_request),
    ratio(r.lro_seconds, base.lro_seconds), ratio(r.lro_cpu, base.lro_cpu), ratio(r.lro_mib, base.lro_mib)))
end
if counters and counters.statuses then
  print(string.format("\nemulator: %d requests, statuses %s", counters.total or 0, json.encode(counters.statuses)))
end
if #failures > 0 then
  print("\nFAILURES:")
  for _, f in ipairs(failures) do print("  " .. f) end
  os.exit(1)
end
