-- Entra ID's token endpoint for the client credentials grant, v1 (a
-- resource), v2.0 (a scope) and the ADFS authority the Azure CLI uses, and
-- Entra's error documents.
--
-- Handlers take ctx, the facade's private parts: { clock, directory,
-- tokens, assertions }.
local json = require "azrp.emulator.json"
local reply = require "azrp.emulator.reply"
local router = require "azrp.emulator.router"
local util = require "azrp.emulator.util"
local settings = require "azrp.emulator.identity.settings"
local resources = require "azrp.emulator.identity.resources"
local assertions = require "azrp.emulator.identity.assertions"
local common = require "azrp.emulator.identity.common"
local lower = common.lower

local M = {}

-- A new table each time: reply.json adds to the headers it is given.
local function no_cache() return { ["cache-control"] = "no-store, no-cache", pragma = "no-cache" } end

-- Errors -----------------------------------------------------------------

-- Entra's error document.  description must never include a secret, an
-- assertion or a token: callers pass fixed text and public identifiers only.
function M.error(ctx, req, status, err, code, description)
  local now = ctx.clock:now()
  local stamp = os.date("!%Y-%m-%d %H:%M:%SZ", math.floor(now))
  local trace = util.guid()
  local corr = req.headers["client-request-id"] or util.guid()
  return reply.json(status, {
    error = err,
    error_description = string.format("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
      code, description, trace, corr, stamp),
    error_codes = json.array{ code },
    timestamp = stamp, trace_id = trace, correlation_id = corr,
    error_uri = "https://login.microsoftonline.com/error?code=" .. code,
  }, no_cache())
end

-- err: "invalid_request" at the token endpoints, "invalid_tenant" in discovery.
function M.unknown_tenant(ctx, req, err)
  return M.error(ctx, req, 400, err, 90002, string.format(
    "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing " ..
    "into the correct cloud. Check with your subscription administrator, this may happen if " ..
    "there are no active subscriptions for the tenant.", tostring(req.params.tenant):sub(1, 100)))
end

local function missing(ctx, req, name)
  return M.error(ctx, req, 400, "invalid_request", 900144,
    string.format("The request body must contain the following parameter: '%s'.", name))
end

-- The token request, step by step -----------------------------------------
-- Each step returns its result, or nil and the error reply; they run in
-- the order Entra checks, so the first problem is the one reported.

local function form(req)
  local ct = lower(req.headers["content-type"]) or ""
  if not ct:find("application/x-www-form-urlencoded", 1, true) then return {} end
  return router.parse_query(req.body)
end

local function check_grant(ctx, req, f)
  if not f.grant_type then return missing(ctx, req, "grant_type") end
  if f.grant_type ~= "client_credentials" then
    return M.error(ctx, req, 400, "unsupported_grant_type", 70003,
      "The app requested an unsupported grant type '" .. f.grant_type:sub(1, 60) .. "'.")
  end
  return nil
end

-- The app named by client_id, in the tenant; ADFS has no tenant in its
-- path, so there the app's own tenant is used.  Returns app, tenant.
local function find_app(ctx, req, f, kind, tenant)
  if not f.client_id or f.client_id == "" then return nil, missing(ctx, req, "client_id") end
  local app = ctx.directory:app(f.client_id)
  if kind == "adfs" and app then tenant = ctx.directory:tenant(app.tenant) end
  if not app or not tenant or app.tenant:lower() ~= tenant.id:lower() then
    return nil, M.error(ctx, req, 400, "unauthorized_client", 700016, string.format(
      "Application with identifier '%s' was not found in the directory '%s'. This can happen if " ..
      "the application has not been installed by the administrator of the tenant or consented to " ..
      "by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
      f.client_id:sub(1, 100), tenant and tenant.name or "adfs"))
  end
  return app, tenant
end

-- Checks the client's credential; returns the token's appidacr ("1" for a
-- secret, "2" for an assertion).
local function authenticate(ctx, req, f, app, tenant, kind)
  if f.client_secret then
    if not common.same_secret(f.client_secret, app.secret) then
      return nil, M.error(ctx, req, 401, "invalid_client", 7000215, string.format(
        "Invalid client secret provided. Ensure the secret being sent in the request is the client " ..
        "secret value, not the client secret ID, for a secret added to app '%s'.", app.client_id))
    end
    return "1"
  end
  if f.client_assertion then
    local code, why = ctx.assertions:check(app, f, assertions.audiences(req, tenant, kind == "adfs"))
    if code then return nil, M.error(ctx, req, 401, "invalid_client", code, why) end
    return "2"
  end
  return nil, M.error(ctx, req, 401, "invalid_client", 7000218,
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
end

local function resource_audience(ctx, req, f, tenant)
  if not f.resource then return nil, missing(ctx, req, "resource") end
  local aud = resources.arm_audience(f.resource, req.base_url)
  if not aud then
    return nil, M.error(ctx, req, 400, "invalid_resource", 500011, string.format(
      "The resource principal named %s was not found in the tenant named %s. This can happen if " ..
      "the application has not been installed by the administrator of the tenant or consented to " ..
      "by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
      f.resource:sub(1, 200), tenant.name))
  end
  return f.resource, aud
end

-- Reserved OIDC scopes are ignored, as Entra does for client credentials.
local RESERVED = { openid = true, profile = true, offline_access = true, email = true }

local function scope_audience(ctx, req, f)
  if not f.scope then return nil, missing(ctx, req, "scope") end
  local wanted = {}
  for s in f.scope:gmatch("%S+") do
    if not RESERVED[s:lower()] then wanted[#wanted + 1] = s end
  end
  local res = #wanted == 1 and resources.of_scope(wanted[1])
  local aud = res and resources.arm_audience(res, req.base_url)
  if not aud then
    return nil, M.error(ctx, req, 400, "invalid_scope", 70011, string.format(
      "The provided request must include a 'scope' input parameter. The provided value for the " ..
      "input parameter 'scope' is not valid. The scope %s is not valid.", f.scope:sub(1, 200)))
  end
  return res, aud
end

-- Which resource the request names (as asked, and as an audience).  v1
-- names a resource; v2.0 (and MSAL against ADFS) a "<resource>/.default"
-- scope.  Returns asked, aud.
local function requested(ctx, req, f, kind, tenant)
  if kind == "v1" or (kind == "adfs" and f.resource and not f.scope) then
    return resource_audience(ctx, req, f, tenant)
  end
  return scope_audience(ctx, req, f)
end

-- v1 answers with strings and names the resource; v2.0 with numbers.
local function token_reply(kind, token, claims, lifetime, asked)
  if kind == "v1" then
    return reply.json(200, {
      token_type = "Bearer", expires_in = tostring(lifetime), ext_expires_in = tostring(lifetime),
      expires_on = tostring(claims.exp), not_before = tostring(claims.nbf),
      resource = asked, access_token = token,
    }, no_cache())
  end
  return reply.json(200, { token_type = "Bearer", expires_in = lifetime,
    ext_expires_in = lifetime, access_token = token }, no_cache())
end

-- kind: "v2" | "v1" | "adfs"
function M.token(ctx, req, kind)
  local f = form(req)
  local tenant
  if kind ~= "adfs" then
    tenant = ctx.directory:tenant(req.params.tenant)
    if not tenant then return M.unknown_tenant(ctx, req, "invalid_request") end
  end
  local bad = check_grant(ctx, req, f)
  if bad then return bad end
  local app
  app, tenant = find_app(ctx, req, f, kind, tenant)
  if not app then return tenant end   -- the error reply
  local acr, refused = authenticate(ctx, req, f, app, tenant, kind)
  if not acr then return refused end
  local asked, aud = requested(ctx, req, f, kind, tenant)
  if not asked then return aud end

  local lifetime = settings.APP_TOKEN_LIFETIME
  local token, claims = ctx.tokens:issue({ tid = tenant.id, oid = app.object_id,
    appid = app.client_id, appidacr = acr, aud = aud }, lifetime)
  return token_reply(kind, token, claims, lifetime, asked)
end

return M
