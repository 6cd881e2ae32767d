--- azrp_demo: the content module of examples/openresty/nginx.conf.
--
-- init_worker() makes this worker's azrp client from the environment;
-- create_restore_points() (GET /restore-points?rg=&collections=&name=)
-- starts one restore point creation per collection and streams a line as
-- each one ends.  Every wait goes through azrp.loop.ngx, so the worker
-- keeps serving other requests meanwhile.
local azrp = require "azrp"
local loop = require "azrp.loop.ngx"

local M = {}

local client, client_err

function M.init_worker()
  loop.thread_pool = os.getenv("AZRP_NGX_THREAD_POOL")   -- nil: look every 2 ms
  local credential, err = azrp.credentials.environment()
  if not credential then client_err = err; ngx.log(ngx.ERR, "azrp: ", err); return end
  local ok, c = pcall(azrp.client, {
    subscription_id = os.getenv("AZURE_SUBSCRIPTION_ID"),
    endpoint = os.getenv("AZRP_ENDPOINT"),   -- unset: Azure's ARM
    ca_file = os.getenv("AZRP_CA_FILE"),     -- unset: the system's CAs
    credential = credential,
    -- Each new connection is a TLS handshake done inside the worker: with
    -- libcurl's default of 64, 50 creations at once opened 50 and held
    -- the worker 30-40 ms; 8 kept-alive connections carry them as fast.
    max_connections = 8,
  })
  if not ok then client_err = c; ngx.log(ngx.ERR, "azrp: ", c); return end
  client = c
end

local function fail(status, msg)
  ngx.status = status
  ngx.header["content-type"] = "text/plain"
  ngx.say(msg)
  return ngx.exit(status)
end

local NAME = "^[%w][%w_.-]*$"

function M.create_restore_points()
  if not client then return fail(500, "azrp client not configured: " .. tostring(client_err)) end
  local args = ngx.req.get_uri_args()
  local rg, name, list = args.rg, args.name, args.collections
  if type(rg) ~= "string" or not rg:match(NAME) then return fail(400, "rg: a resource group name is required") end
  if type(name) ~= "string" or not name:match(NAME) then return fail(400, "name: a restore point name is required") end
  if type(list) ~= "string" then return fail(400, "collections: a comma-separated list is required") end
  local collections = {}
  for c in list:gmatch("[^,]+") do
    if not c:match(NAME) then return fail(400, "collections: bad collection name " .. c) end
    collections[#collections + 1] = c
  end
  if #collections == 0 then return fail(400, "collections: a comma-separated list is required") end

  ngx.header["content-type"] = "text/plain"
  local ok_n, failed_n = 0, 0
  local function line(s) ngx.say(s); ngx.flush(true) end
  local threads = {}
  line("started " .. #collections)
  for _, coll in ipairs(collections) do
    local op, err = client:restore_points_create{ resource_group_name = rg,
      restore_point_collection_name = coll, restore_point_name = name, body = { properties = {} } }
    if not op then
      failed_n = failed_n + 1
      line(string.format("failed %s %s", coll, tostring(err)))
    else
      threads[#threads + 1] = ngx.thread.spawn(function()
        local rp, werr = loop.wait(op, 600)
        if rp then
          ok_n = ok_n + 1
          line(string.format("done %s %s %s (%d/%d)", coll, rp.name, rp.properties.provisioningState,
            ok_n + failed_n, #collections))
        else
          failed_n = failed_n + 1
          line(string.format("failed %s %s (%d/%d)", coll, tostring(werr), ok_n + failed_n, #collections))
        end
      end)
    end
  end
  for _, t in ipairs(threads) do ngx.thread.wait(t) end
  line(string.format("finished ok=%d failed=%d", ok_n, failed_n))
end

return M
