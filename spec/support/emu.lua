-- Test helpers for the emulator: an in-process app with an authenticated
-- call(), and a real emulator process reached over HTTPS.
local json = require "azrp.emulator.json"
local app_mod = require "azrp.emulator.app"
local seed = require "azrp.emulator.seed"

local H = {}

H.SUB = seed.SUBSCRIPTION
H.TENANT = seed.TENANT
H.CLIENT_ID = seed.CLIENT_ID
H.SECRET = seed.CLIENT_SECRET
H.RG = "/subscriptions/" .. H.SUB .. "/resourceGroups/rg-prod"
H.DR = "/subscriptions/" .. H.SUB .. "/resourceGroups/rg-dr"
H.COMPUTE = "/providers/Microsoft.Compute"
H.VM = H.RG .. H.COMPUTE .. "/virtualMachines/vm-app-01"
H.API = { compute = "2025-11-01", disk = "2026-03-02", resources = "2021-04-01" }

-- One token-signing key for every in-process emulator of a test run:
-- making a 2048-bit RSA key costs about 0.15 s, and a spec makes an app per
-- test.  (Each emulator process still makes its own.)
local signing_key
function H.signing_key()
  signing_key = signing_key or require("openssl.pkey").new{ type = "RSA", bits = 2048 }
  return signing_key
end

-- An in-process emulator.  opts as app.new (time_scale defaults to 1 so
-- that tests move time explicitly with advance()).
-- Unless opts.seed says otherwise, the fleet is the demo fleet with 1 GiB
-- disks (support.small_seed).
function H.app(opts)
  opts = opts or {}
  local o = { signing_key = H.signing_key(), seed = require("support.small_seed").shrink(seed.default()) }
  for k, v in pairs(opts) do o[k] = v end
  opts = o
  local a = app_mod.new(opts)
  local api = H.API
  local t = { app = a }
  -- A token renewed before it expires, as a client's credential would be.
  local token, token_exp
  local function bearer()
    if not a.identity then return nil end
    if not token or a.clock:now() > token_exp - 300 then
      token = a.identity:mint{ client_id = H.CLIENT_ID, tenant = H.TENANT, expires_in = 3600 }
      token_exp = a.clock:now() + 3600
      t.token = token
    end
    return token
  end
  bearer()

  -- call(method, path, body?, opts?) -> status, decoded body (or raw), headers
  function t.call(method, path, body, o)
    o = o or {}
    local p, q = path:match("^([^?]*)%??(.*)$")
    local query = require("azrp.emulator.router").parse_query(q)
    if not query["api-version"] and o.api ~= false then
      local lower = p:lower()
      query["api-version"] = o.api or ((lower:find("/disks") or lower:find("diskrestorepoints")
        or lower:find("/snapshots")) and api.disk) or
        (lower:match("/resourcegroups/[^/]+$") and api.resources) or api.compute
    end
    local b = bearer()
    local headers = { authorization = b and ("Bearer " .. b) or nil }
    for k, v in pairs(o.headers or {}) do headers[k:lower()] = v end
    local res = a:handle{ method = method, path = p, query = query, headers = headers,
      body = type(body) == "table" and json.encode(body) or body or "",
      base_url = "https://127.0.0.1:1" }
    local decoded = res.body
    if res.headers["content-type"] and res.headers["content-type"]:find("json") then
      decoded = json.decode(res.body)
    end
    return res.status, decoded, res.headers
  end

  -- Moves emulated time and lets operations finish.
  function t.advance(seconds)
    a.clock:advance(seconds)
    a.lro:settle()
  end

  -- Follows an LRO status URL (absolute) until it is terminal.
  function t.wait(headers, max_seconds)
    local url = headers["azure-asyncoperation"] or headers.location
    local path = url:gsub("^https?://[^/]+", "")
    for _ = 1, (max_seconds or 3600) do
      local st, body = t.call("GET", path, nil, { api = false })
      if st == 200 and body.status and body.status ~= "InProgress" then return body end
      t.advance(1)
    end
    error("operation did not finish")
  end

  function t.write(disk_id, offset, data)
    local e = a.store:get(disk_id)
    assert(e and e.x.content, "no disk " .. disk_id)
    assert(e.x.content:write(offset, data))
  end

  function t.sha(id)
    local e = a.store:get(id)
    return (e.x.content or e.x.snap):sha256()
  end

  return t
end

----------------------------------------------------------------------------
-- A real emulator process
----------------------------------------------------------------------------

-- Starts `azrp emulator` with extra args (see support.process).
H.start = require("support.process").start

-- One HTTPS request to a running emulator with lua-http's client,
-- verifying the emulator's CA.  Returns status, body, headers (table).
function H.http(em, method, path, body, headers, timeout)
  local request = require "http.request"
  local http_tls = require "http.tls"
  local store = require "openssl.x509.store"
  local r = request.new_from_uri(em.url .. path)
  local ctx = http_tls.new_client_context()
  local st = store.new()
  st:add(em.ca_file)
  ctx:setStore(st)
  ctx:setVerify(require("openssl.ssl.context").VERIFY_PEER)
  r.ctx = ctx
  r.headers:upsert(":method", method)
  if type(body) == "table" then r.headers:upsert("content-type", "application/json") end
  for k, v in pairs(headers or {}) do r.headers:upsert(k:lower(), v) end
  if body then r:set_body(type(body) == "table" and json.encode(body) or body) end
  local h, stream = r:go(timeout or 10)
  if not h then return nil, stream end
  local text, err = stream:get_body_as_string(timeout or 10)
  local out = {}
  for k, v in h:each() do out[k] = v end
  return tonumber(h:get(":status")), text, out, err
end

return H
