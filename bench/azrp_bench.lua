--- One side of bench/restore_points.lua: azrp (Lua 5.4 or LuaJIT).
--
--   AZRP_BENCH_URL=https://127.0.0.1:PORT AZRP_BENCH_CA=ca.pem \
--     lua5.4 bench/azrp_bench.lua startup | loop COUNT | concurrent N TAG | copies N TAG INTERVAL
--
-- Run from the repository root with package.cpath naming the build of
-- azrp.core for the interpreter (build/5.4 or build/jit).  Prints one JSON
-- line.  The same steps as python_bench.py and js_bench.mjs: a
-- client-secret token from the emulator's Entra endpoint, then
-- RestorePointCollections_Get / RestorePoints_Create.
--
-- bench/fleet.lua also uses: AZRP_BENCH_THROTTLE=1 (the client's own token
-- bucket on, its default, for a run against ARM's limits), and `copies N TAG
-- INTERVAL`: N cross-region copies of rpc-00i/rp-src-TAG into rpc-dr-00i,
-- each followed to 100 % replication (azrp's RestorePoints_Create does it
-- for a copy), polling every INTERVAL seconds when the server gives no
-- Retry-After (poll.default, as a user sets it).
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
local azrp = require "azrp"
local core = require "azrp.core"
local json = require "cjson"

local TENANT = "11111111-1111-4111-8111-111111111111"
local SUB = "00000000-0000-4000-8000-000000000001"
local RG = "rg-prod"

local url, ca = assert(os.getenv("AZRP_BENCH_URL"), "AZRP_BENCH_URL"), os.getenv("AZRP_BENCH_CA")
local mode = arg[1] or "startup"

-- the emulator runs with --no-throttle; Python and JS pace nothing either
local throttle = false
if os.getenv("AZRP_BENCH_THROTTLE") == "1" then throttle = nil end   -- nil: the default bucket, on

local client = azrp.client{ endpoint = url, ca_file = ca, subscription_id = SUB,
  credential = azrp.credentials.client_secret{ tenant_id = TENANT, authority_host = url,
    client_id = "22222222-2222-4222-8222-222222222222", client_secret = "azrp-emulator-secret" },
  throttle = throttle,
  poll = mode == "copies" and { default = tonumber(arg[4] or "1") } or nil }

-- KiB of anonymous (private) resident memory now: the client's own heap,
-- without the shared libraries' pages that peak RSS also counts.
local function anon_kib()
  local f = io.open("/proc/self/status")
  local s = f and f:read("*a") or ""
  if f then f:close() end
  return tonumber(s:match("RssAnon:%s*(%d+)"))
end

local function coll(i) return string.format("rpc-%03d", i) end

local function get()
  local v, err = client:call("RestorePointCollections_Get", { resource_group_name = RG,
    restore_point_collection_name = coll(1) })
  if not v then error(tostring(err)) end
  return v
end

local out
if mode == "startup" then
  out = { name = get().name }
elseif mode == "loop" then
  local n = tonumber(arg[2] or "2000")
  for _ = 1, 20 do get() end   -- token and connection warm
  local t0, c0 = core.now(), os.clock()
  for _ = 1, n do get() end
  out = { requests = n, ms_per_request = (core.now() - t0) * 1000 / n,
    cpu_ms_per_request = (os.clock() - c0) * 1000 / n }
elseif mode == "concurrent" then
  local n, tag = tonumber(arg[2] or "100"), arg[3] or "azrp"
  local t0 = core.now()
  local ops = {}
  for i = 1, n do
    ops[i] = assert(client:restore_points_create{ resource_group_name = RG, restore_point_collection_name = coll(i),
      restore_point_name = "rp-" .. tag, body = { properties = {} } })
  end
  local ok = 0
  for i, r in ipairs(azrp.wait_all(ops)) do
    if r[1] and r[1].properties.provisioningState == "Succeeded" then ok = ok + 1
    else io.stderr:write("restore point ", i, ": ", tostring(r[2]), "\n") end
  end
  out = { n = n, ok = ok, seconds = core.now() - t0, anon_kib = anon_kib() }
elseif mode == "copies" then
  local n, tag = tonumber(arg[2] or "50"), arg[3] or "azrp"
  local t0 = core.now()
  local ops = {}
  for i = 1, n do
    local src = string.format("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/" ..
      "restorePointCollections/%s/restorePoints/rp-src-%s", SUB, RG, coll(i), tag)
    ops[i] = assert(client:restore_points_create{ resource_group_name = RG,
      restore_point_collection_name = string.format("rpc-dr-%03d", i), restore_point_name = "rp-copy-" .. tag,
      body = { properties = { sourceRestorePoint = { id = src } } } })
  end
  local ok = 0
  for i, r in ipairs(azrp.wait_all(ops)) do
    local v = r[1]
    local drps = v and v.properties.instanceView and v.properties.instanceView.diskRestorePoints or {}
    local full = #drps > 0
    for _, d in ipairs(drps) do
      if d.replicationStatus.completionPercent ~= 100 then full = false end
    end
    if full then ok = ok + 1
    else io.stderr:write("copy ", i, ": ", tostring(r[2] or "not at 100 %"), "\n") end
  end
  out = { n = n, ok = ok, seconds = core.now() - t0, anon_kib = anon_kib() }
else
  error("mode: startup | loop COUNT | concurrent N TAG | copies N TAG INTERVAL")
end
client:close()
print(json.encode(out))
