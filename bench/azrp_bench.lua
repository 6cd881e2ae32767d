--- One side of bench/restore_points.lua: azrp (Lua 5.4 or LuaJIT).
--
--   AZRP_BENCH_URL=https://127.0.0.1:PORT AZRP_BENCH_CA=ca.pem \
--     lua5.4 bench/azrp_bench.lua startup | loop COUNT | concurrent N TAG
--
-- Run from the repository root with package.cpath naming the build of
-- azrp.core for the interpreter (build/5.4 or build/jit).  Prints one JSON
-- line.  The same steps as python_bench.py and js_bench.mjs: a
-- client-secret token from the emulator's Entra endpoint, then
-- RestorePointCollections_Get / RestorePoints_Create.
package.path = "./lua/?.lua;./lua/?/init.lua;" .. package.path
local azrp = require "azrp"
local core = require "azrp.core"
local json = require "cjson"

local TENANT = "11111111-1111-4111-8111-111111111111"
local SUB = "00000000-0000-4000-8000-000000000001"
local RG = "rg-prod"

local url, ca = assert(os.getenv("AZRP_BENCH_URL"), "AZRP_BENCH_URL"), os.getenv("AZRP_BENCH_CA")
local mode = arg[1] or "startup"

local client = azrp.client{ endpoint = url, ca_file = ca, subscription_id = SUB,
  credential = azrp.credentials.client_secret{ tenant_id = TENANT, authority_host = url,
    client_id = "22222222-2222-4222-8222-222222222222", client_secret = "azrp-emulator-secret" },
  throttle = false }   -- the emulator runs with --no-throttle; Python and JS pace nothing either

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
  local t0 = core.now()
  for _ = 1, n do get() end
  out = { requests = n, ms_per_request = (core.now() - t0) * 1000 / n }
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
  out = { n = n, ok = ok, seconds = core.now() - t0 }
else
  error("mode: startup | loop COUNT | concurrent N TAG")
end
client:close()
print(json.encode(out))
