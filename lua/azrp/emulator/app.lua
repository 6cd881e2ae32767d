-- The emulator as a request -> response function, with no sockets in it.
--
-- server.lua feeds it parsed HTTP requests; specs may call it directly.
-- handle() applies, in ARM's order: operation settling (time moves on),
-- routing, fault injection, api-version rules, authentication, throttling,
-- then the resource provider's handler; every answer gets ARM's common
-- headers and one log entry.
local clock_mod = require "azrp.emulator.clock"
local store_mod = require "azrp.emulator.store"
local lro_mod = require "azrp.emulator.lro"
local router_mod = require "azrp.emulator.router"
local log_mod = require "azrp.emulator.log"
local reply = require "azrp.emulator.reply"
local apiversion = require "azrp.emulator.apiversion"
local util = require "azrp.emulator.util"

local M = {}
M.__index = M

-- The modules that contribute routes, in the order they are registered.
M.PROVIDERS = {
  "azrp.emulator.providers.resources",
  "azrp.emulator.providers.locations",
  "azrp.emulator.providers.network",
  "azrp.emulator.providers.disk_encryption_sets",
  "azrp.emulator.providers.disks",
  "azrp.emulator.providers.snapshots",
  "azrp.emulator.providers.virtual_machines",
  "azrp.emulator.providers.vm_extensions",
  "azrp.emulator.providers.restore_points",
  "azrp.emulator.providers.disk_restore_points",
  "azrp.emulator.providers.images",
  "azrp.emulator.providers.galleries",
  "azrp.emulator.providers.operations",
  "azrp.emulator.admin",
}

local function optional(name)
  local ok, mod = pcall(require, name)
  if ok then return mod end
  if type(mod) == "string" and mod:find("module '" .. name .. "' not found", 1, true) then
    return nil
  end
  error(mod, 0)
end

-- opts: time_scale, seed (table), faults (parsed spec), throttle (table or
-- false), log_sink (file), now (clock source, for tests), signing_key (an
-- RSA pkey for tokens; tests that make many apps share one)
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, M)
  self.opts = opts
  self.clock = clock_mod.new{ time_scale = opts.time_scale, now = opts.now }
  self.store = store_mod.new()
  self.lro = lro_mod.new(self.clock, opts.lro_style)
  self.router = router_mod.new()
  self.log = log_mod.new{ sink = opts.log_sink }
  self.seed = opts.seed or require("azrp.emulator.seed").default()

  local identity = optional("azrp.emulator.identity")
  if identity then
    self.identity = identity.new{ clock = self.clock, seed = self.seed, signing_key = opts.signing_key }
    self:add_routes(self.identity:routes())
  end
  local blob = optional("azrp.emulator.blob")
  if blob then
    self.blob = blob.new{ clock = self.clock }
    self:add_routes(self.blob:routes())
  end
  local throttle = optional("azrp.emulator.throttle")
  if throttle and opts.throttle ~= false then
    self.throttle = throttle.new{ clock = self.clock, limits = opts.throttle }
  end
  local faults = optional("azrp.emulator.faults")
  if faults then
    self.faults = faults.new{ spec = opts.faults, seed = opts.fault_seed }
  end
  self.providers = {}
  for _, name in ipairs(M.PROVIDERS) do
    local mod = optional(name)
    if mod then
      self.providers[#self.providers + 1] = mod
      self:add_routes(mod.routes(self))
    end
  end
  if opts.state_file and io.open(opts.state_file) then
    local ok, err = self:load_state(opts.state_file)
    if not ok then error(err, 0) end
  else
    require("azrp.emulator.seed").apply(self, self.seed)
  end
  return self
end

-- Replaces the model with the one saved in path (state.lua), then lets
-- providers re-create what entries hold beyond data.
function M:load_state(path)
  local ok, err = require("azrp.emulator.state").load(self, path)
  if not ok then return nil, err end
  for _, mod in ipairs(self.providers) do
    if mod.revive then
      for _, e in pairs(self.store.by_key) do mod.revive(self, e) end
    end
  end
  return true
end

function M:save_state(path)
  return require("azrp.emulator.state").save(self, path)
end

function M:add_routes(list)
  for _, r in ipairs(list) do self.router:add(r) end
end

local function common_headers(res, req, request_id, now)
  local h = res.headers
  h["x-ms-request-id"] = h["x-ms-request-id"] or request_id
  h["x-ms-correlation-request-id"] = req.headers["x-ms-correlation-request-id"] or request_id
  h["x-ms-routing-request-id"] = "WESTEUROPE:" .. os.date("!%Y%m%dT%H%M%SZ", math.floor(now)) .. ":" .. request_id
  local crid = req.headers["x-ms-client-request-id"]
  if crid then h["x-ms-client-request-id"] = crid end
  h["date"] = clock_mod.http_date(now)
  h["cache-control"] = h["cache-control"] or "no-cache"
end

-- Authentication, throttling and api-version, for ARM routes only.
function M:gate(req, route)
  if self.identity then
    local principal, code, message = self.identity:verify(req.headers["authorization"])
    if not principal then
      local res = reply.error(401, code, message)
      res.headers["www-authenticate"] = string.format(
        'Bearer authorization_uri="%s/%s", error="invalid_token", error_description="%s"',
        req.base_url, self.seed.tenants[1].id, code)
      return res
    end
    req.principal = principal
  end
  local bad = apiversion.check(req, route)
  if bad then return bad end
  if self.throttle then
    local sub = req.params.sub or req.params.subscriptionId or "tenant"
    local who = req.principal and req.principal.oid or "anonymous"
    local remaining, retry_after, kind, wait = self.throttle:take(sub, who, route.kind or "read")
    if not remaining then
      local res = reply.error(429, "SubscriptionRequestsThrottled", string.format(
        "Number of '%s' requests for subscription '%s' actor '%s' exceeded. " ..
        "Please try again after '%d' seconds after additional tokens are available.",
        kind, sub, who, retry_after))
      res.headers["retry-after"] = tostring(retry_after)
      -- Buckets refill in real time, so the exact wait is already real;
      -- with time scaled down, say it to the millisecond (retry-after-ms,
      -- which clients prefer) rather than make every 429 cost a second.
      if self.clock.factor < 1 then
        res.headers["retry-after-ms"] = tostring(math.max(1, math.ceil(wait * 1000)))
      end
      res.headers["x-ms-ratelimit-remaining-subscription-" .. kind] = "0"
      return res
    end
    req.ratelimit = { kind = kind, remaining = remaining }
  end
  return nil
end

-- req = { method, path, query (parsed), headers (lower-case names),
--         body (string), base_url }
-- Returns the response and the route (or nil).
function M:handle(req)
  local started = self.clock.source()
  local now = self.clock:now()
  self.lro:settle()
  local request_id = util.guid()
  req.request_id = request_id
  local route, params = self.router:match(req.method, req.path)
  local res
  if not route then
    if params then
      res = reply.error(405, "MethodNotAllowed", string.format(
        "The requested resource does not support http method '%s'.", req.method))
    else
      res = self:not_found(req)
    end
  else
    req.params = params
    req.route = route
    local fault = self.faults and self.faults:pick(req, route, self)
    if fault and fault.down then
      -- A region that stopped answering: the request has no effect, and
      -- the server holds it unanswered (server.lua); in process, a 504.
      res = reply.error(504, "GatewayTimeout", "Region '" .. fault.region .. "' is not answering (injected fault).")
      req.fault_transport = fault
    elseif fault and fault.status then
      res = self.faults:respond(fault, req, self)
      req.fault = fault.name
    else
      if fault and fault.provider then
        req.fault = fault.name
        req.fault_provisioning = fault.name == "canceled"
          and { code = "Canceled", status = "Canceled", message = "The operation was canceled (injected fault)." }
          or { code = "InternalOperationError", message = "The operation failed while provisioning (injected fault)." }
      elseif fault then
        req.fault_transport = fault
      end
      if route.arm then res = self:gate(req, route) end
      if not res then
        local ok, out = pcall(route.handler, self, req)
        if ok then
          res = out
        else
          io.stderr:write("emulator: handler error in ", route.op or "?", ": ", tostring(out), "\n")
          res = reply.error(500, "InternalServerError",
            "The emulator failed while handling this request (see its stderr).")
        end
      end
      if req.ratelimit and res.status < 500 then
        res.headers["x-ms-ratelimit-remaining-subscription-" .. req.ratelimit.kind] =
          tostring(req.ratelimit.remaining)
      end
    end
  end
  if not (route and route.raw) then common_headers(res, req, request_id, now) end
  self.log:record{
    ts = clock_mod.iso(now), method = req.method, path = req.path,
    op = route and route.op or "NotFound", status = res.status,
    ms = math.floor((self.clock.source() - started) * 1e6) / 1000,
    request_id = request_id, fault = req.fault or (req.fault_transport and req.fault_transport.name),
  }
  return res, route
end

function M:not_found(req)
  local lower = req.path:lower()
  local ns, rtype = lower:match("/providers/([^/]+)/([^/]+)")
  if ns then
    return reply.error(404, "InvalidResourceType", string.format(
      "The resource type '%s' could not be found in the namespace '%s' for api version '%s'.",
      rtype, ns, req.query["api-version"] or ""))
  end
  return reply.error(404, "NotFound", "No route matches " .. req.method .. " " .. req.path .. ".")
end

return M
