--- azrp.client: the scripting face of azrp.core's client.
--
--     local client = azrp.client{
--       subscription_id = "...",
--       credential = azrp.credentials.default(),   -- or any credential
--       endpoint = "https://management.azure.com", -- the default
--       -- and azrp.core's options: ca_file, timeout, connect_timeout, retry,
--       -- poll, throttle, api_versions, operation_timeout, user_agent ...
--     }
--
-- Methods: one per registry operation (client:restore_points_create{...}
-- -> azrp.Operation), call(id, params) (begin and wait), list(id, params)
-- and each(id, params) for pageable operations, request{...} for raw HTTP
-- (SAS URLs), and step()/pollfd()/events()/timeout() for event loops.
-- Tokens are fetched and renewed by the credential without blocking: the
-- token request is one more operation on the same connection pool.
local core = require "azrp.core"
local json = require "cjson.safe"
local location = require "azrp.location"
local validate = require "azrp.validate"
local wait = require "azrp.wait"

local M = {}
local Client = {}
Client.__index = Client

M.ARM = "https://management.azure.com"
M.SCOPE = "https://management.azure.com/.default"

local OWN = { credential = true, scope = true }

local function snake(id)
  return (id:gsub("_", ""):gsub("(%l)(%u)", "%1_%2"):gsub("(%u)(%u%l)", "%1_%2"):lower())
end

--- azrp.client(opts) -> client.  Raises on bad options (a programmer's mistake).
-- @tparam table opts subscription_id, credential, scope, endpoint (default M.ARM) and azrp.core's client options
-- @return the client
function M.new(opts)
  if type(opts) ~= "table" then error("azrp.client: expected an options table", 2) end
  local core_opts = {}
  for k, v in pairs(opts) do
    if not OWN[k] then core_opts[k] = v end
  end
  core_opts.endpoint = core_opts.endpoint or M.ARM
  local cred = opts.credential
  if cred ~= nil and (type(cred) ~= "table" or type(cred.get_token) ~= "function") then
    error("azrp.client: credential must be an azrp credential (with get_token)", 2)
  end
  local ok, c = pcall(core.client, core_opts)
  if not ok then error(c, 2) end
  local self = setmetatable({ core = c, credential = cred, scope = opts.scope or M.SCOPE }, Client)
  c:set_owner(self)
  return self
end

--- Drives every operation of this client once, without blocking, and
-- keeps the bearer token fresh.  Returns the number of operations in flight.
function Client:step()
  local n, wanted = self.core:step()
  if self.refresh then
    self:_resume_refresh()
  elseif wanted and self.credential then
    local _, rejected = self.core:token_wanted()
    self:_start_refresh(rejected)
  end
  if self.refresh then n = n + 1 end
  return n
end

-- The credential runs in a coroutine: each HTTP request it makes yields
-- an operation, and step() resumes it once that operation is done.
-- After a 401 (rejected) the credential must not answer from its cache.
function Client:_start_refresh(rejected)
  local credential, scope, c = self.credential, self.scope, self.core
  local function http(req)
    local op = c:request(req)
    coroutine.yield(op)
    return op:result()
  end
  local opts = { force = rejected or nil }
  self.refresh = coroutine.create(function()
    return credential:get_token(scope, http, opts)
  end)
  self.waiting = nil
  self:_resume_refresh()
end

function Client:_resume_refresh()
  if self.waiting and not self.waiting:done() then return end
  local ok, a, b = coroutine.resume(self.refresh)
  if not ok then
    self.refresh, self.waiting = nil, nil
    self.core:token_failed(core.error{ kind = "auth", code = "CredentialError", message = tostring(a) })
    return
  end
  if coroutine.status(self.refresh) == "suspended" then
    self.waiting = a
    -- The request started: give it a first push now.
    self.core:step()
    -- Answered within that push (a kept-alive loopback connection): go on
    -- now, or the caller would sleep with nothing left in flight to wake it.
    if a:done() then return self:_resume_refresh() end
    return
  end
  self.refresh, self.waiting = nil, nil
  if a and (type(a) ~= "string" or a == "" or a:find("\0", 1, true)) then
    self.core:token_failed(core.error{ kind = "auth", code = "CredentialError",
      message = "the credential returned a token that is not a non-empty string without NUL bytes" })
  elseif a then
    self.core:set_token(a, b)
  else
    self.core:token_failed(b)
  end
end

--- Sets the bearer token directly (tests, tokens from elsewhere).
function Client:set_token(token, expires_on)
  self.core:set_token(token, expires_on)
end

-- params with body.location in ARM's form ("North Europe" -> "northeurope"),
-- copied rather than changed in the caller's table.
local function normalized(id, params)
  local body = params and params.body
  if type(body) ~= "table" or body.location == nil then return params end
  local loc = location.normalize(body.location)
  if not loc then
    return nil, core.error{ kind = "invalid", code = "InvalidParameter", operation = id, target = "body.location",
      message = "body.location must be an Azure region name such as \"northeurope\" (letters and digits)", retryable = false }
  end
  if loc == body.location then return params end
  local p, b = {}, {}
  for k, v in pairs(params) do p[k] = v end
  for k, v in pairs(body) do b[k] = v end
  b.location, p.body = loc, b
  return p
end

-- Validates, then starts id.  A programmer's mistake raises at level (as
-- error() counts it from here), so that the message names the script's
-- line rather than this file; bad values return nil, err.
local function start(self, id, params, level)
  if type(id) ~= "string" then error("azrp client: operation id must be a string", level) end
  if params ~= nil and type(params) ~= "table" then
    error(id .. ": parameters must be a table, not " .. type(params), level)
  end
  local ok, err = validate.check(id, params)
  if not ok then return nil, err end
  params, err = normalized(id, params)
  if not params then return nil, err end
  local started, op, e = pcall(self.core.begin, self.core, id, params)
  if not started then error(op, level) end
  return op, e
end

--- begin(id, params) -> operation | nil, err: validates the body, then starts it.
-- @string id an operationId of the registry ("RestorePoints_Create")
-- @tparam table params its path, query and body parameters
-- @return the operation, or nil and an azrp error naming the field
function Client:begin(id, params)
  local op, err = start(self, id, params, 3)
  return op, err
end

--- call(id, params [, wait_opts]) -> result | nil, err: begin and wait.
-- @string id an operationId of the registry
-- @tparam table params its parameters
-- @tparam[opt] table wait_opts as op:wait(opts): timeout, progress
-- @return the result, or nil and an azrp error
-- @usage local rp, err = client:call("RestorePoints_Get", { resource_group_name = "rg",
--   restore_point_collection_name = "rpc", restore_point_name = "rp1" })
function Client:call(id, params, wait_opts)
  local op, err = start(self, id, params, 3)
  if not op then return nil, err end
  return op:wait(wait_opts)
end

--- request{ method, url, headers, body, auth, timeout, retry } -> operation
-- whose result is { status, headers, body }.
function Client:request(req)
  return self.core:request(req)
end

-- The next page of a list, from an absolute nextLink.  The link comes from
-- the server: one that is not a string or that the core refuses is an
-- error value, never a raise.
-- Errors name the list's operation (id), as its first page's do.
local function next_page(self, link, wait_fn, id)
  if type(link) ~= "string" then
    return nil, core.error{ kind = "azure", code = "InvalidNextLink", message = "the nextLink of a list is not a string",
      operation = id }
  end
  local ok, op = pcall(self.core.request, self.core, { method = "GET", url = link, auth = true, kind = "read", retry = true })
  if not ok then
    return nil, core.error{ kind = "invalid", code = "InvalidNextLink", operation = id,
      message = "the nextLink of a list was refused: " .. tostring(op):gsub("^request: ", "") }
  end
  local res, err = wait_fn(op)
  if not res then
    if type(err) == "table" and err.operation == nil then err.operation = id end
    return nil, err
  end
  local page = json.decode(res.body)
  if res.status >= 400 or type(page) ~= "table" then
    local e = type(page) == "table" and type(page.error) == "table" and page.error or {}
    return nil, core.error{ kind = "azure", status = res.status, code = e.code or "ListFailed",
      message = e.message or ("HTTP " .. res.status .. " reading the next page of a list"),
      request_id = res.headers["x-ms-request-id"], operation = id }
  end
  return page
end

--- each(id, params [, wait]) -> iterator over the items of every page.  On
-- failure it yields false, err once and stops.  wait(op) -> result, err
-- waits for each page (default op:wait(); event loops pass their own, e.g.
-- require("azrp.loop.cqueues").wait).
local function each(self, id, params, wait_fn, level)
  if not M.pageable[id] then error("client:each: " .. tostring(id) .. " is not a pageable list operation", level) end
  wait_fn = wait_fn or function(op) return op:wait() end
  local page, err
  local first, ferr = start(self, id, params, level + 1)
  if first then page, err = wait_fn(first) else err = ferr end
  local i = 0
  local failed = false
  return function()
    if failed then return nil end
    if not page then failed = true; return false, err end
    while true do
      i = i + 1
      local v = page.value and page.value[i]
      if v ~= nil then return v end
      if not page.nextLink or page.nextLink == json.null then return nil end
      page, err = next_page(self, page.nextLink, wait_fn, id)
      i = 0
      if not page then failed = true; return false, err end
    end
  end
end

--- each(id, params [, wait]) -> iterator over the items of every page;
-- on failure it yields false, err once and stops.
function Client:each(id, params, wait_fn)
  local iter = each(self, id, params, wait_fn, 3)
  return iter
end

--- list(id, params [, wait]) -> every item | nil, err.
function Client:list(id, params, wait_fn)
  if not M.pageable[id] then error("client:list: " .. tostring(id) .. " is not a pageable list operation", 2) end
  local out = {}
  for item, err in each(self, id, params, wait_fn, 3) do
    if item == false then return nil, err end
    out[#out + 1] = item
  end
  return out
end

-- The cqueues polling protocol, and the rest of the core client's face.

--- The descriptor to poll for this client (cqueues' pollable protocol).
function Client:pollfd() return self.core:pollfd() end

--- The events to poll the descriptor for (cqueues' pollable protocol).
function Client:events() return self.core:events() end

--- Seconds until step() is next due (nil: nothing to wait for).
function Client:timeout()
  local t = self.core:timeout()
  if self.refresh and (not t or t > 0.05) then t = 0.05 end
  return t
end
--- Blocks up to seconds for the client's sockets or timers.
function Client:wait(seconds) return self.core:wait(seconds) end

--- The client's counters (requests, retries, throttling ...).
function Client:stats() return self.core:stats() end

--- Closes the client: its connections, and the operations in flight.
function Client:close() return self.core:close() end

function Client:__tostring()
  return "azrp client " .. tostring(self.core)
end
Client.__close = Client.close

--- The registry's methods, { method_name = operation_id }: one method of
-- Client per operation, e.g. client:restore_points_create{...} -> operation
-- | nil, err, validated and started as begin(id, params) is.
M.methods = {}
--- The pageable operations: { operation_id = true }.
M.pageable = {}
for _, def in ipairs(core.operations()) do
  local name = snake(def.id)
  M.methods[name] = def.id
  M.pageable[def.id] = def.pageable
  Client[name] = function(self, params)
    local op, err = start(self, def.id, params, 3)
    return op, err
  end
end

--- The class of the clients M.new makes (their methods).
M.Client = Client

--- snake(operation_id) -> the method name of an operation (RestorePoints_Create -> restore_points_create).
M.snake = snake
return M
