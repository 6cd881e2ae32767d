-- A minimal HTTPS JSON caller for the emulator's own smoke scenario and
-- tools, on lua-http.  It is not azrp's client library (the emulator shares
-- no code with it): it does one request at a time, verifies the emulator's
-- CA and returns status, decoded body, headers.
local json = require "azrp.emulator.json"

local M = {}
M.__index = M

-- opts: url, ca_file, token (optional), timeout
function M.new(opts)
  return setmetatable({ url = opts.url, ca_file = opts.ca_file, token = opts.token,
    timeout = opts.timeout or 30 }, M)
end

local function context(ca_file)
  local http_tls = require "http.tls"
  local ctx = http_tls.new_client_context()
  if ca_file then
    local store = require("openssl.x509.store").new()
    store:add(ca_file)
    ctx:setStore(store)
    ctx:setVerify(require("openssl.ssl.context").VERIFY_PEER)
  end
  return ctx
end

-- request(method, path_or_url, body?, headers?) -> status, body, headers | nil, err
function M:request(method, target, body, headers)
  local request = require "http.request"
  local url = target:match("^https?://") and target or (self.url .. target)
  local r = request.new_from_uri(url)
  if url:match("^https://") then
    self.ctx = self.ctx or context(self.ca_file)
    r.ctx = self.ctx
  end
  r.headers:upsert(":method", method)
  if self.token then r.headers:upsert("authorization", "Bearer " .. self.token) end
  for k, v in pairs(headers or {}) do r.headers:upsert(k:lower(), v) end
  if body ~= nil then
    r.headers:upsert("content-type", type(body) == "table" and "application/json" or "application/x-www-form-urlencoded")
    r:set_body(type(body) == "table" and json.encode(body) or body)
  end
  local h, stream = r:go(self.timeout)
  if not h then return nil, tostring(stream) end
  local text = stream:get_body_as_string(self.timeout) or ""
  stream:shutdown()
  local out = {}
  for k, v in h:each() do out[k] = v end
  local decoded = text
  if (out["content-type"] or ""):find("json") and text ~= "" then decoded = json.decode(text) end
  return tonumber(h:get(":status")), decoded, out
end

-- Polls an LRO's Azure-AsyncOperation URL to a terminal status.
function M:wait(headers, sleep)
  local url = headers["azure-asyncoperation"]
  while true do
    local st, body, h = self:request("GET", url)
    if not st then return nil, body end
    if st ~= 200 then return nil, string.format("status %d polling an operation", st) end
    if body.status ~= "InProgress" then return body end
    -- retry-after-ms first, as Azure's SDKs read it (the emulator sends it
    -- when time is scaled down); then Retry-After's whole seconds.
    local ms = tonumber(h["retry-after-ms"] or "")
    sleep(ms and ms / 1000 or tonumber(h["retry-after"] or "1") or 1)
  end
end

return M
