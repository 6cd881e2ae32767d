-- The checks of azrp.loop.ngx that spec/hosts/ngx_api_spec.lua asks for:
-- GET /check/NAME runs checks[NAME] in the request and answers its table
-- as JSON ({ error = msg } when it raised).
local azrp = require "azrp"
local json = require "cjson"
local loop = require "azrp.loop.ngx"

local M = {}
local client
local from_init = {}
local RG = "rg-prod"

local function coll(i) return string.format("rpc-ngapi-%02d", i) end

local function create(i, name)
  return assert(client:restore_points_create{ resource_group_name = RG,
    restore_point_collection_name = coll(i), restore_point_name = name, body = { properties = {} } })
end

local function summary(v, err)
  if v then return { name = v.name, state = v.properties and v.properties.provisioningState } end
  return { err_kind = err and err.kind, err_code = err and err.code }
end

function M.init_worker()
  client = azrp.client{ subscription_id = os.getenv("AZURE_SUBSCRIPTION_ID"), endpoint = os.getenv("AZRP_ENDPOINT"),
    ca_file = os.getenv("AZRP_CA_FILE"), credential = assert(azrp.credentials.environment()) }
  -- wait() cannot suspend init_worker: a programmer's error, raised.
  local op = assert(client:restore_point_collections_get{ resource_group_name = RG,
    restore_point_collection_name = coll(1) })
  local ok, err = pcall(loop.wait, op)
  from_init.wait_raised, from_init.wait_error = not ok, tostring(err)
  -- run() may start from here: it drives op to its end with nobody waiting.
  from_init.op = op
  from_init.runner = loop.run(client)
  -- and one run() nobody stops: a graceful stop of nginx must still end it.
  loop.run(client)
end

local checks = {}

-- An operation nobody waited on, driven by run() from init_worker.
function checks.init()
  local op = from_init.op
  local deadline = ngx.now() + 30
  while not op:done() and ngx.now() < deadline do ngx.sleep(0.01) end
  from_init.runner.stop()
  local v, err = op:result()
  return { wait_raised = from_init.wait_raised, wait_error = from_init.wait_error,
    done = op:done(), result = summary(v, err) }
end

-- A wait that times out leaves the operation running; a second one gets it.
function checks.timeout()
  local op = create(2, "rp-timeout")
  local v, err = loop.wait(op, 0.02)
  local first = summary(v, err)
  first.done = op:done()
  return { first = first, second = summary(loop.wait(op, 30)) }
end

-- wait_all over a creation and a read, in order; call() begins and waits.
function checks.all()
  local out = loop.wait_all({ create(3, "rp-all"), assert(client:restore_point_collections_get{
    resource_group_name = RG, restore_point_collection_name = coll(4) }) }, 30)
  local got = loop.call(client, "RestorePointCollections_Get", { resource_group_name = RG,
    restore_point_collection_name = coll(5) })
  local bad, berr = loop.call(client, "RestorePointCollections_Get", { resource_group_name = RG,
    restore_point_collection_name = "rpc-does-not-exist" })
  return { first = summary(out[1][1], out[1][2]), second = { name = out[2][1] and out[2][1].name },
    call = { name = got and got.name }, missing = summary(bad, berr) }
end

-- Light threads of one request, each waiting on its own operation, with
-- a progress callback beside them; and a bad option raised at the caller.
function checks.threads()
  local threads, names = {}, {}
  for i = 6, 9 do
    local op = create(i, "rp-threads")
    threads[#threads + 1] = ngx.thread.spawn(function()
      return summary(loop.wait(op, { timeout = 30, progress = function() end }))
    end)
  end
  for i, t in ipairs(threads) do
    local ok, r = ngx.thread.wait(t)
    names[i] = ok and r or { error = tostring(r) }
  end
  local op = assert(client:restore_point_collections_get{ resource_group_name = RG,
    restore_point_collection_name = coll(6) })
  local ok, err = pcall(loop.wait, op, "soon")
  loop.wait(op, 30)
  return { results = names, bad_option_raised = not ok, bad_option_error = tostring(err) }
end

-- A client closed under a waiter: close() fails its operations
-- (canceled, ClientClosed) and the wait returns that; the worker and
-- other clients go on.
function checks.closed()
  local c2 = azrp.client{ subscription_id = os.getenv("AZURE_SUBSCRIPTION_ID"), endpoint = os.getenv("AZRP_ENDPOINT"),
    ca_file = os.getenv("AZRP_CA_FILE"), credential = assert(azrp.credentials.environment()) }
  local op = assert(c2:restore_point_collections_get{ resource_group_name = RG,
    restore_point_collection_name = coll(1) })
  local t = ngx.thread.spawn(function() return pcall(loop.wait, op, 30) end)
  c2:close()
  local _, waited, v, werr = ngx.thread.wait(t)
  local after = summary(loop.call(client, "RestorePointCollections_Get", { resource_group_name = RG,
    restore_point_collection_name = coll(2) }))
  if waited then return { raised = false, result = summary(v, werr), message = tostring(werr), after = after } end
  return { raised = true, message = tostring(v), after = after }
end

function M.run(name)
  local fn = checks[name]
  if not fn then ngx.status = 404; ngx.say("{}"); return end
  local ok, r = pcall(fn)
  ngx.header["content-type"] = "application/json"
  ngx.say(json.encode(ok and r or { error = tostring(r) }))
end

return M
