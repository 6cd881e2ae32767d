-- A soak of azrp.core: N requests (default 100,000) against one emulator
-- (`--no-throttle`, a small time scale, some injected faults), from one
-- client, sampling the process's memory every 1,000 requests.
--
--   lua5.4 tools/reliability/soak.lua [--requests N] [--out FILE.json] [--seed N]
--   luajit tools/reliability/soak.lua ...
-- (`make check-soak` runs both and tools/reliability/soak_report.lua writes
-- the soak section of RELIABILITY.md from their --out files.)
--
-- The mix, round after round until the client's own count of HTTP requests
-- sent (client:stats().requests: retries, polls and token requests
-- included) reaches N:
--   * 16 GETs at once (VM, collection, restore point, disk: wait_all);
--   * a list with nextLink (RestorePointCollections_List of 12 collections,
--     page size 5: three pages);
--   * 2 restore points created at once, each LRO polled to its end, read
--     back, then deleted (an LRO too) and checked gone (404);
--   * faults on every operation: 429 (Retry-After), 500, 503, dropped
--     connections and expired tokens, 2.2 % of requests in all, which the
--     core retries (and refreshes the token for).
-- Every result is checked: a round whose GET, list, create or delete fails
-- counts as an error, and the soak fails on any.
--
-- Memory: every 1,000 requests, after a full collectgarbage, the RSS
-- (/proc/self/statm) and the Lua heap (collectgarbage "count").  After the
-- warm-up (the first 10 % of requests), the least-squares slope of each in
-- KiB per 10,000 requests.  The soak fails when either slope is above
-- THRESHOLD_KIB (see the comment at its definition), or on any error.
-- Prints a summary and writes the figures and samples to --out (JSON).
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;./tools/reliability/?.lua;" .. package.path
package.cpath = (jit and "./build/jit/?.so;" or ("./build/" .. _VERSION:match("%d%.%d") .. "/?.so;")) .. package.cpath

local azrp = require "azrp"
local C = require "support.client"
local json = require "cjson"

local opts = { requests = 100000, out = nil, seed = 7 }
do
  local i = 1
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--requests" then opts.requests = assert(tonumber(v), "--requests: a number")
    elseif a == "--out" then opts.out = v
    elseif a == "--seed" then opts.seed = assert(tonumber(v), "--seed: a number")
    else io.stderr:write("soak.lua: unknown argument ", a, "\n"); os.exit(2) end
    i = i + 2
  end
end

-- A leak of one allocation per request is at least 32 bytes of glibc heap
-- (its smallest chunk; a Lua string or table is more), 312 KiB per 10,000
-- requests; one per operation (a round sends about 1.5 requests per
-- operation) is more than 200.  THRESHOLD_KIB = 100 catches either with a
-- wide margin while staying above the slopes measured without a leak
-- (-15 to 45 KiB of RSS, under 15 of Lua heap, about 0 of malloc on
-- LuaJIT: RELIABILITY.md).
-- Checked by hand once (2026-12-07): the same soak keeping one short
-- string per GET in a global table (16 each round of about 34 requests)
-- measured a heap slope of 251 and an RSS slope of 672 KiB / 10,000
-- requests over 20,000 requests, and failed.
local THRESHOLD_KIB = 100
local WARMUP = 0.1
local SAMPLE_EVERY = 1000
local interp = jit and jit.version or _VERSION

local PAGE = 4096
do
  local p = io.popen("getconf PAGESIZE")
  PAGE = tonumber(p:read("*a")) or 4096
  p:close()
end

-- On LuaJIT, also the bytes malloc has handed out and not had back
-- (glibc's mallinfo2, through the FFI): LuaJIT's own heap is not malloc's,
-- so this is the C side alone (azrp.core, libcurl, OpenSSL), free of the
-- page-level noise of RSS.
local malloc_kib
if jit then
  local ok, ffi = pcall(require, "ffi")
  if ok and pcall(ffi.cdef, [[
    struct azrp_soak_mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost; };
    struct azrp_soak_mallinfo2 mallinfo2(void);
  ]]) and pcall(function() return ffi.C.mallinfo2 end) then
    malloc_kib = function()
      local m = ffi.C.mallinfo2()
      return (tonumber(m.uordblks) + tonumber(m.hblkhd)) / 1024
    end
  end
end

local function statm()
  local f = assert(io.open("/proc/self/statm"))
  local s = f:read("*l")
  f:close()
  local _, resident = s:match("^(%d+)%s+(%d+)")
  return tonumber(resident) * PAGE / 1024
end

local FAULTS = "429=0.006,500=0.005,503=0.005,reset=0.004,expired=0.002,retry_after=1,seed=" .. opts.seed
local SCALE = 0.0005
local em = C.start(string.format("--no-throttle --time-scale %s --page-size 5 --seed %s --faults '%s'",
  SCALE, require("support.small_seed").file(), FAULTS))
-- throttle = false: the client's token bucket would pace the soak at ARM's
-- per-subscription rates (hours for 100,000 requests); spec/client/throttle_spec.lua
-- covers it.
local client = C.client(em, { throttle = false, poll = { default = 0.02, max = 0.2 },
  retry = { base_delay = 0.005, max_delay = 0.05 } })

local RG = C.RG
local errors, error_kinds = 0, {}
local function bad(what, err)
  errors = errors + 1
  local k = what .. ": " .. tostring(err and (err.code or err.kind) or err)
  error_kinds[k] = (error_kinds[k] or 0) + 1
  if errors <= 5 then io.stderr:write("soak: ", what, ": ", tostring(err), "\n") end
end

-- Setup (not counted in the mix, but in the request count): 12
-- collections of vm-app-01 and one restore point in the first, to GET.
local COLLS = 12   -- and 2 more below: 14 in rg-prod, three pages of 5
for i = 1, COLLS do
  local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = RG,
    restore_point_collection_name = "rpc-soak-" .. i,
    body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } })
  if not coll then error("setup: " .. tostring(err)) end
end
-- the restore points created and deleted: one collection per VM (Azure
-- takes one restore point creation at a time per VM)
local CREATE_VMS = { "vm-app-01", "vm-sql-01" }
for k, name in ipairs(CREATE_VMS) do
  local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = RG,
    restore_point_collection_name = "rpc-soak-vm-" .. k,
    body = { location = "westeurope", properties = { source = { id = C.VM_ID:gsub("vm%-app%-01$", name) } } } })
  if not coll then error("setup: " .. tostring(err)) end
end
local base_rp, berr = client:call("RestorePoints_Create", { resource_group_name = RG,
  restore_point_collection_name = "rpc-soak-1", restore_point_name = "rp-base", body = { properties = {} } })
if not base_rp then error("setup: " .. tostring(berr)) end
local vm = assert(client:call("VirtualMachines_Get", { resource_group_name = RG, vm_name = "vm-app-01" }))
local os_disk = vm.properties.storageProfile.osDisk.name
-- vm-sql-01's Ultra and shared data disks cannot be in a restore point
local sql = assert(client:call("VirtualMachines_Get", { resource_group_name = RG, vm_name = "vm-sql-01" }))
local exclude = {}
for _, d in ipairs(sql.properties.storageProfile.dataDisks or {}) do
  if d.name == "vm-sql-01-data0" or d.name == "disk-shared-01" then exclude[#exclude + 1] = { id = d.managedDisk.id } end
end
local create_props = { {}, { excludeDisks = exclude } }

local gets = {
  { "VirtualMachines_Get", { resource_group_name = RG, vm_name = "vm-app-01" } },
  { "RestorePointCollections_Get", { resource_group_name = RG, restore_point_collection_name = "rpc-soak-1" } },
  { "RestorePoints_Get", { resource_group_name = RG, restore_point_collection_name = "rpc-soak-1",
    restore_point_name = "rp-base" } },
  { "Disks_Get", { resource_group_name = RG, disk_name = os_disk } },
}

local samples = {}
local phase = { get = 0, list = 0, create = 0, delete = 0 }
local ops_done = { get = 0, list = 0, create = 0, delete = 0 }
local next_sample = 0
local t0 = azrp.now()
local round = 0

local function sample(requests)
  collectgarbage("collect")
  samples[#samples + 1] = { requests = requests, rss_kib = statm(), heap_kib = collectgarbage("count"),
    malloc_kib = malloc_kib and malloc_kib() or nil, t = azrp.now() - t0 }
end

local function requests() return client:stats().requests end

-- One round of the mix (a function, so that nothing of it is left on the
-- stack, alive to the collector, when the memory is sampled).
local function one_round()
  round = round + 1
  local tp = azrp.now()
  -- 16 GETs at once
  local ops = {}
  for i = 1, 16 do
    local g = gets[(i - 1) % #gets + 1]
    ops[i] = assert(client:begin(g[1], g[2]))
  end
  for i, r in ipairs(azrp.wait_all(ops)) do
    if not r[1] then bad(gets[(i - 1) % #gets + 1][1], r[2])
    elseif type(r[1]) ~= "table" or not r[1].id then bad(gets[(i - 1) % #gets + 1][1], "no id in the result") end
  end
  ops_done.get = ops_done.get + 16
  phase.get = phase.get + azrp.now() - tp; tp = azrp.now()

  -- a list of three pages
  local items, lerr = client:list("RestorePointCollections_List", { resource_group_name = RG })
  if not items then bad("RestorePointCollections_List", lerr)
  elseif #items < COLLS + 2 then bad("RestorePointCollections_List", #items .. " items") end
  ops_done.list = ops_done.list + 1
  phase.list = phase.list + azrp.now() - tp; tp = azrp.now()

  -- two restore points created, read, deleted and checked gone
  local names, creates = {}, {}
  for k = 1, 2 do
    names[k] = string.format("rp-%d-%d", round, k)
    creates[k] = assert(client:begin("RestorePoints_Create", { resource_group_name = RG,
      restore_point_collection_name = "rpc-soak-vm-" .. k, restore_point_name = names[k],
      body = { properties = create_props[k] } }))
  end
  local made = azrp.wait_all(creates)
  phase.create = phase.create + azrp.now() - tp; tp = azrp.now()
  local deletes, dk = {}, {}
  for k = 1, 2 do
    local rp, err = made[k][1], made[k][2]
    ops_done.create = ops_done.create + 1
    if not rp then bad("RestorePoints_Create", err)
    elseif rp.properties.provisioningState ~= "Succeeded" then bad("RestorePoints_Create", rp.properties.provisioningState) end
    deletes[#deletes + 1] = assert(client:begin("RestorePoints_Delete", { resource_group_name = RG,
      restore_point_collection_name = "rpc-soak-vm-" .. k, restore_point_name = names[k] }))
    dk[#dk + 1] = k
  end
  for i, r in ipairs(azrp.wait_all(deletes)) do
    ops_done.delete = ops_done.delete + 1
    if r[1] == nil and r[2] then bad("RestorePoints_Delete", r[2]) end
    local k = dk[i]
    local gone, gerr = client:call("RestorePoints_Get", { resource_group_name = RG,
      restore_point_collection_name = "rpc-soak-vm-" .. k, restore_point_name = names[k] })
    if gone or not gerr or gerr.status ~= 404 then bad("RestorePoints_Get after delete", gerr or "still there") end
  end
  phase.delete = phase.delete + azrp.now() - tp
end

while true do
  local n = requests()
  if n >= next_sample then
    sample(n)
    next_sample = (math.floor(n / SAMPLE_EVERY) + 1) * SAMPLE_EVERY
  end
  if n >= opts.requests then break end
  one_round()
end

local wall = azrp.now() - t0
local stats = client:stats()
local counters = C.counters(em)
client:close()
em.stop()

-- least squares slope of ys over xs
local function slope(xs, ys)
  local n, sx, sy, sxx, sxy = #xs, 0, 0, 0, 0
  for i = 1, n do sx, sy = sx + xs[i], sy + ys[i]; sxx, sxy = sxx + xs[i] ^ 2, sxy + xs[i] * ys[i] end
  local d = n * sxx - sx * sx
  if n < 2 or d == 0 then return 0 end
  return (n * sxy - sx * sy) / d
end

local xs, rss, heap, mal = {}, {}, {}, {}
local peak, peak_heap = 0, 0
for _, s in ipairs(samples) do
  peak = math.max(peak, s.rss_kib)
  peak_heap = math.max(peak_heap, s.heap_kib)
  if s.requests >= WARMUP * opts.requests then
    xs[#xs + 1], rss[#rss + 1], heap[#heap + 1] = s.requests, s.rss_kib, s.heap_kib
    mal[#mal + 1] = s.malloc_kib
  end
end
local rss_slope = slope(xs, rss) * 10000
local heap_slope = slope(xs, heap) * 10000
local malloc_slope = #mal == #xs and #mal > 1 and slope(xs, mal) * 10000 or nil
local function sum(t) local s = 0; for _, v in pairs(t or {}) do s = s + (tonumber(v) or 0) end; return s end

local result = {
  interpreter = interp, requests = stats.requests, retries = stats.retries, wall_s = wall,
  rounds = round, ops = ops_done, errors = errors, error_kinds = error_kinds,
  emulator_requests = counters and sum(counters.operations), faults = counters and counters.faults,
  samples = #samples, warmup_requests = math.floor(WARMUP * opts.requests),
  rss_first_kib = samples[1] and samples[1].rss_kib, rss_after_warmup_kib = rss[1], rss_last_kib = rss[#rss],
  rss_peak_kib = peak, rss_slope_kib_per_10k = rss_slope,
  heap_after_warmup_kib = heap[1], heap_last_kib = heap[#heap], heap_peak_kib = peak_heap,
  heap_slope_kib_per_10k = heap_slope, threshold_kib_per_10k = THRESHOLD_KIB,
  malloc_after_warmup_kib = mal[1], malloc_last_kib = mal[#mal], malloc_slope_kib_per_10k = malloc_slope,
  faults_spec = FAULTS, time_scale = SCALE,
}
result.ok = errors == 0 and rss_slope <= THRESHOLD_KIB and heap_slope <= THRESHOLD_KIB
  and (malloc_slope or 0) <= THRESHOLD_KIB

print(string.format("soak %s: %d requests (%d retries) in %.1f s, %d rounds, ops %d GET %d list %d create %d delete, %d errors",
  interp, stats.requests, stats.retries, wall, round, ops_done.get, ops_done.list, ops_done.create, ops_done.delete, errors))
print(string.format("  seconds: GETs %.1f, lists %.1f, creates %.1f, deletes %.1f", phase.get, phase.list,
  phase.create, phase.delete))
print(string.format("  RSS: %.0f KiB after warm-up, %.0f KiB last, peak %.0f KiB, slope %.1f KiB / 10,000 requests",
  rss[1] or 0, rss[#rss] or 0, peak, rss_slope))
print(string.format("  Lua heap: %.0f KiB after warm-up, %.0f KiB last, peak %.0f KiB, slope %.1f KiB / 10,000 requests",
  heap[1] or 0, heap[#heap] or 0, peak_heap, heap_slope))
if malloc_slope then
  print(string.format("  malloc in use (C side): %.0f KiB after warm-up, %.0f KiB last, slope %.1f KiB / 10,000 requests",
    mal[1], mal[#mal], malloc_slope))
end
print(string.format("  threshold %d KiB / 10,000 requests: %s", THRESHOLD_KIB, result.ok and "ok" or "FAILED"))

if opts.out then
  result.sample_list = samples
  local f = assert(io.open(opts.out, "w"))
  f:write(json.encode(result))
  f:close()
end
os.exit(result.ok and 0 or 1)
