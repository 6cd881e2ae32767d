-- Stand-ins for the identity services Azure clients talk to before ARM:
-- Entra ID's token endpoints (v1, v2.0), an ADFS-style authority for the
-- Azure CLI, the VM metadata service (IMDS) and App Service identity
-- endpoints, plus ARM's tenant-level /subscriptions and /tenants lists.
--
--   local idp = identity.new{ clock = clock, seed = seed }
--   idp:routes()              route tables for the app's router
--   idp:verify(authorization) principal | nil, code, message (ARM's 401s)
--   idp:mint{ client_id, tenant, expires_in }            an access token
--   idp:mint_federated{ issuer, subject, audience, expires_in }
--   idp:signing_public_pem()  the key access tokens are signed with
--   idp.identity_header       the App Service X-IDENTITY-HEADER secret
--
-- Secrets (client secrets, private keys, replay state) live in a table
-- outside the object, so that dumping or printing idp shows none of them;
-- no error this module writes contains a secret, an assertion or a token.
local pkey_mod = require "openssl.pkey"
local x509_mod = require "openssl.x509"
local digest = require "openssl.digest"
local rand = require "openssl.rand"
local jwt = require "azrp.emulator.jwt"
local json = require "azrp.emulator.json"
local reply = require "azrp.emulator.reply"
local router = require "azrp.emulator.router"
local util = require "azrp.emulator.util"

local M = {}
M.__index = M

local private = setmetatable({}, { __mode = "k" })

M.ARM_RESOURCE = "https://management.azure.com/"
M.TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
M.APP_TOKEN_LIFETIME = 3599      -- what Entra answers for client credentials
M.MI_TOKEN_LIFETIME = 86399      -- what IMDS answers
M.SKEW = 300                     -- Entra's allowance for client clock skew
M.CACHE_GENERATION = 512         -- verify() remembers at most 2x this many tokens
M.JTI_LIMIT = 10000              -- replay memory before expired jtis are swept
local ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

-- ARM answers to tokens for either of its two resource names, with or
-- without the trailing slash (the list is the one its 401 message quotes).
local ARM_AUDIENCES = {
  ["https://management.core.windows.net/"] = true,
  ["https://management.core.windows.net"] = true,
  ["https://management.azure.com/"] = true,
  ["https://management.azure.com"] = true,
}

-- Small helpers ----------------------------------------------------------

local function sha256(s) return digest.new("sha256"):final(s) end

-- A GUID derived from a name, so that seeds without object ids still give
-- the same oid from one run to the next.
local function derived_guid(name)
  local h = util.hex(sha256(name):sub(1, 16))
  return string.format("%s-%s-4%s-a%s-%s", h:sub(1, 8), h:sub(9, 12),
    h:sub(14, 16), h:sub(18, 20), h:sub(21, 32))
end

-- Compares digests rather than the strings, so that the time taken says
-- nothing about how much of a guessed secret was right.
local function same_secret(given, expected)
  return type(given) == "string" and type(expected) == "string"
    and sha256(given) == sha256(expected)
end

local function lower(s) return type(s) == "string" and s:lower() or nil end

-- .NET's invariant DateTime format, which ARM's expiry message uses.
local function dotnet_time(t)
  local d = os.date("!*t", math.floor(t))
  local h = d.hour % 12
  return string.format("%d/%d/%d %d:%02d:%02d %s", d.month, d.day, d.year,
    h == 0 and 12 or h, d.min, d.sec, d.hour < 12 and "AM" or "PM")
end

-- "resource/.default" -> the resource with a trailing slash.  Azure CLI
-- sends "https://management.core.windows.net//.default" (resource + "/.default").
local function resource_of_scope(scope)
  local res = scope:match("^(.-)/%.default$")
  if not res or res == "" then return nil end
  if res:sub(-1) ~= "/" then res = res .. "/" end
  return res
end

local function with_slash(s) return s:sub(-1) == "/" and s or s .. "/" end

local function form(req)
  local ct = lower(req.headers["content-type"]) or ""
  if not ct:find("application/x-www-form-urlencoded", 1, true) then return {} end
  return router.parse_query(req.body)
end

-- Entra's error document.  description must never include a secret, an
-- assertion or a token: callers pass fixed text and public identifiers only.
local function aad_error(self, req, status, err, code, description)
  local now = self.clock:now()
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
  }, { ["cache-control"] = "no-store, no-cache", pragma = "no-cache" })
end

-- IMDS and App Service errors are plain OAuth documents.
local function mi_error(status, err, description)
  return reply.json(status, { error = err, error_description = description })
end

local function missing(self, req, name)
  return aad_error(self, req, 400, "invalid_request", 900144,
    string.format("The request body must contain the following parameter: '%s'.", name))
end

-- err: "invalid_request" at the token endpoints, "invalid_tenant" in discovery.
local function unknown_tenant(self, req, err)
  return aad_error(self, req, 400, err, 90002, string.format(
    "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing " ..
    "into the correct cloud. Check with your subscription administrator, this may happen if " ..
    "there are no active subscriptions for the tenant.", tostring(req.params.tenant):sub(1, 100)))
end

local AUTH_METHODS = { "client_secret_post", "private_key_jwt", "client_secret_basic" }

-- Construction -----------------------------------------------------------

local function load_cert(pem, client_id)
  local ok, cert = pcall(x509_mod.new, pem)
  if not ok then error("identity: app " .. client_id .. " has an unreadable certificate", 3) end
  return {
    key = cert:getPublicKey(),
    x5t = jwt.b64url_encode(cert:digest("sha1", "s")),
    x5t256 = jwt.b64url_encode(cert:digest("sha256", "s")),
  }
end

local function load_seed(self, p, seed)
  for _, t in ipairs(seed.tenants or {}) do
    local rec = { id = t.id, name = t.name or t.id }
    p.tenants[#p.tenants + 1] = rec
    p.tenant_by[t.id:lower()] = rec
    if t.name then p.tenant_by[t.name:lower()] = rec end
    -- Entra also knows a tenant by its default domain.
    if t.domain then p.tenant_by[t.domain:lower()] = rec end
  end
  local first = p.tenants[1] and p.tenants[1].id
  for _, a in ipairs(seed.apps or {}) do
    if not a.client_id then error("identity: an app in the seed has no client_id", 3) end
    local tenant = a.tenant or first
    p.apps[a.client_id:lower()] = {
      client_id = a.client_id, tenant = tenant, secret = a.secret,
      object_id = a.object_id or derived_guid("sp:" .. tostring(tenant) .. ":" .. a.client_id:lower()),
      cert = a.certificate and load_cert(a.certificate, a.client_id),
      federated = a.federated or {},
    }
  end
  for _, m in ipairs(seed.managed_identities or {}) do
    if not m.client_id then error("identity: a managed identity in the seed has no client_id", 3) end
    local rec = { client_id = m.client_id, resource_id = m.resource_id, system = m.system,
      tenant = m.tenant or first,
      object_id = m.object_id or derived_guid("mi:" .. m.client_id:lower()) }
    p.mis[#p.mis + 1] = rec
    if m.system then p.system_mi = rec end
  end
  for _, s in ipairs(seed.subscriptions or {}) do
    p.subs[#p.subs + 1] = { id = s.id, name = s.name or s.id, tenant = s.tenant or first }
  end
end

function M.new(opts)
  if type(opts) ~= "table" or not opts.clock then error("identity.new needs { clock = ... }", 2) end
  local self = setmetatable({ clock = opts.clock }, M)
  -- App Service hands this to the workload in IDENTITY_HEADER.
  self.identity_header = util.hex(rand.bytes(16))
  local key = pkey_mod.new{ type = "RSA", bits = 2048 }
  local public_pem = key:toPEM("public")
  local p = {
    key = key, public_pem = public_pem,
    kid = jwt.b64url_encode(sha256(public_pem):sub(1, 20)),
    tenants = {}, tenant_by = {}, apps = {}, mis = {}, subs = {},
    cache = {}, cache_old = {}, cache_count = 0,
    jtis = {}, jti_count = 0,
  }
  private[self] = p
  load_seed(self, p, opts.seed or {})
  return self
end

function M:__tostring()
  return "azrp.emulator.identity"
end

function M:signing_public_pem() return private[self].public_pem end

-- Minting ----------------------------------------------------------------

-- who = { tid, oid, appid, appidacr, aud, mirid }; returns token, claims.
local function issue(self, who, lifetime)
  local p = private[self]
  local now = math.floor(self.clock:now())
  local claims = {
    aud = who.aud or M.ARM_RESOURCE,
    iss = "https://sts.windows.net/" .. who.tid .. "/",
    iat = now, nbf = now, exp = now + lifetime,
    tid = who.tid, oid = who.oid, sub = who.oid, appid = who.appid,
    appidacr = who.appidacr or "1", idtyp = "app", ver = "1.0",
    -- Random per token, as Entra's uti: two tokens minted in the same
    -- second for the same client differ.
    uti = jwt.b64url_encode(rand.bytes(16)),
    xms_mirid = who.mirid,
  }
  return jwt.encode(claims, p.key, "RS256", { kid = p.kid, x5t = p.kid }), claims
end

local function tenant_record(p, name)
  return name and p.tenant_by[name:lower()]
end

-- An access token for a seeded app or managed identity, or for any client
-- id (the admin API and fault injection use it for "expired token" cases:
-- expires_in may be 0 or negative).  args.audience overrides the ARM one.
-- Returns the token, or nil and a message when args.tenant is unknown.
function M:mint(args)
  if type(args) ~= "table" or type(args.client_id) ~= "string" then
    error("identity:mint needs { client_id = ... }", 2)
  end
  local p = private[self]
  local app = p.apps[args.client_id:lower()]
  local tenant
  if args.tenant then
    tenant = tenant_record(p, args.tenant)
    if not tenant then return nil, "unknown tenant '" .. tostring(args.tenant) .. "'" end
  else
    tenant = tenant_record(p, app and app.tenant) or p.tenants[1]
  end
  if not tenant then error("identity:mint: the seed has no tenant", 2) end
  local oid = app and app.object_id
  if not oid then
    for _, m in ipairs(p.mis) do
      if m.client_id:lower() == args.client_id:lower() then oid = m.object_id end
    end
  end
  return (issue(self, { tid = tenant.id, appid = args.client_id,
    oid = oid or derived_guid("sp:" .. tenant.id .. ":" .. args.client_id:lower()),
    aud = args.audience }, args.expires_in or M.APP_TOKEN_LIFETIME))
end

-- A token as an external OIDC issuer (GitHub, Kubernetes ...) would write to
-- AZURE_FEDERATED_TOKEN_FILE; signed with the emulator's key.
function M:mint_federated(args)
  if type(args) ~= "table" or not args.issuer or not args.subject then
    error("identity:mint_federated needs { issuer = ..., subject = ... }", 2)
  end
  local p = private[self]
  local now = math.floor(self.clock:now())
  return jwt.encode({
    iss = args.issuer, sub = args.subject,
    aud = args.audience or M.TOKEN_EXCHANGE_AUDIENCE,
    iat = now, nbf = now, exp = now + (args.expires_in or 3600),
    jti = util.guid(),
  }, p.key, "RS256", { kid = p.kid })
end

-- Verification (ARM side) ------------------------------------------------

local INVALID = "InvalidAuthenticationToken"

local function wrong_audience(aud)
  return string.format("The access token has been obtained for wrong audience or resource '%s'. " ..
    "It should exactly match with one of the allowed audiences " ..
    "'https://management.core.windows.net/','https://management.core.windows.net'," ..
    "'https://management.azure.com/','https://management.azure.com'.",
    type(aud) == "string" and aud or "")
end

-- The expensive part of verify(): signature and fixed claims.  Returns a
-- cache entry { principal, exp, nbf } or nil, code, message.
local function check_token(self, token)
  local p = private[self]
  local t = jwt.decode(token)
  if not t or t.header.alg ~= "RS256" then
    return nil, INVALID, "The access token is invalid."
  end
  if not jwt.verify_signature(t, p.key, { RS256 = true }) then
    return nil, INVALID, "The access token signature is invalid."
  end
  local c = t.claims
  if not ARM_AUDIENCES[c.aud] then return nil, INVALID, wrong_audience(c.aud) end
  local tid = type(c.tid) == "string" and c.tid or ""
  if not p.tenant_by[tid:lower()] or c.iss ~= "https://sts.windows.net/" .. tid .. "/" then
    return nil, INVALID, "The access token is from an unknown issuer."
  end
  if type(c.exp) ~= "number" or type(c.oid) ~= "string" then
    return nil, INVALID, "The access token is invalid."
  end
  return {
    principal = { oid = c.oid, appid = c.appid, tid = tid, sub = c.sub, exp = c.exp },
    exp = c.exp, nbf = type(c.nbf) == "number" and c.nbf or 0,
  }
end

-- Two generations of at most CACHE_GENERATION entries: lookups promote from
-- the old one; when the new one fills, the old one is dropped.  Bounded,
-- and the tokens in use stay.
local function cache_get(p, token)
  local e = p.cache[token]
  if e then return e end
  e = p.cache_old[token]
  if e then
    p.cache_old[token] = nil
    if p.cache_count >= M.CACHE_GENERATION then
      p.cache_old, p.cache, p.cache_count = p.cache, {}, 0
    end
    p.cache[token] = e
    p.cache_count = p.cache_count + 1
  end
  return e
end

local function cache_put(p, token, e)
  if p.cache_count >= M.CACHE_GENERATION then
    p.cache_old, p.cache, p.cache_count = p.cache, {}, 0
  end
  p.cache[token] = e
  p.cache_count = p.cache_count + 1
end

-- authorization: the Authorization header value, or nil.  The principal
-- returned is shared with the cache: treat it as read-only.
function M:verify(authorization)
  if authorization == nil or authorization == "" then
    return nil, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
  end
  local token = type(authorization) == "string" and authorization:match("^[Bb][Ee][Aa][Rr][Ee][Rr] +([^%s]+)%s*$")
  if not token then
    return nil, "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is provided in an invalid format."
  end
  local p = private[self]
  local e = cache_get(p, token)
  if not e then
    local code, message
    e, code, message = check_token(self, token)
    if not e then return nil, code, message end
    cache_put(p, token, e)
  end
  -- Time is checked on every call: a cached token still expires.
  local now = self.clock:now()
  if now >= e.exp then
    return nil, "ExpiredAuthenticationToken", string.format(
      "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
      dotnet_time(e.exp), dotnet_time(now))
  end
  if e.nbf > now + M.SKEW then
    return nil, INVALID, "The access token is not yet valid."
  end
  return e.principal
end

-- Client assertions (token endpoint side) --------------------------------

-- The token endpoint URLs a client may put in an assertion's aud: this
-- emulator's or login.microsoftonline.com's, v1 or v2.0, naming the tenant
-- by the path segment, its id or its name.
local function assertion_audiences(req, tenant, adfs)
  local set = {}
  local base = lower(req.base_url or "https://127.0.0.1")
  if adfs then set[base .. "/adfs/oauth2/token"] = true end
  local names = { lower(req.params and req.params.tenant), lower(tenant.id), lower(tenant.name) }
  for _, host in ipairs{ base, "https://login.microsoftonline.com" } do
    for _, n in pairs(names) do
      set[host .. "/" .. n .. "/oauth2/v2.0/token"] = true
      set[host .. "/" .. n .. "/oauth2/token"] = true
    end
  end
  return set
end

local function aud_matches(aud, set)
  if type(aud) == "string" then return set[(aud:lower():gsub("/+$", ""))] == true end
  if type(aud) == "table" then
    for _, a in ipairs(aud) do if aud_matches(a, set) then return true end end
  end
  return false
end

local function time_ok(self, c)
  local now = self.clock:now()
  if type(c.exp) ~= "number" or c.exp + M.SKEW <= now then return false end
  if c.nbf ~= nil and (type(c.nbf) ~= "number" or c.nbf > now + M.SKEW) then return false end
  return true
end

-- Remembers (client, jti) until the assertion expires; sweeps expired
-- entries when the table grows, so memory stays bounded by live assertions.
local function replayed(self, p, client_id, jti, exp)
  local now = self.clock:now()
  local k = client_id:lower() .. "\0" .. jti
  local seen = p.jtis[k]
  if seen and seen + M.SKEW > now then return true end
  if p.jti_count >= M.JTI_LIMIT then
    local n = 0
    for key, until_ in pairs(p.jtis) do
      if until_ + M.SKEW <= now then p.jtis[key] = nil else n = n + 1 end
    end
    p.jti_count = n
  end
  if not seen then p.jti_count = p.jti_count + 1 end
  p.jtis[k] = exp
  return false
end

-- Each check returns nil on success, or AADSTS code, description.
local function check_certificate(self, p, app, t, auds)
  local cert = app.cert
  local h, c = t.header, t.claims
  if not cert then
    return 700027, "Client assertion failed signature validation. [Reason - The key was not found., " ..
      "The application has no certificate credential.]"
  end
  local named = h["x5t#S256"] or h.x5t
  if not named then
    return 700027, "Client assertion failed signature validation. [Reason - The key was not found., " ..
      "The assertion header has neither 'x5t#S256' nor 'x5t'.]"
  end
  if (h["x5t#S256"] and h["x5t#S256"] ~= cert.x5t256) or (not h["x5t#S256"] and h.x5t ~= cert.x5t) then
    return 700027, string.format("The certificate with identifier used to sign the client assertion is not " ..
      "registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s']",
      type(named) == "string" and named:sub(1, 64) or "?")
  end
  if not jwt.verify_signature(t, cert.key, { RS256 = true, PS256 = true }) then
    return 700027, "Client assertion failed signature validation."
  end
  if lower(c.sub) ~= app.client_id:lower() then
    return 700027, "Client assertion contains an invalid 'sub' claim: it must be the client id."
  end
  if not aud_matches(c.aud, auds) then
    return 700027, "Client assertion audience claim does not match the token endpoint of the tenant."
  end
  if not time_ok(self, c) then
    return 700024, "Client assertion is not within its valid time range."
  end
  if type(c.jti) ~= "string" or c.jti == "" then
    return 700027, "Client assertion has no 'jti' claim."
  end
  if replayed(self, p, app.client_id, c.jti, c.exp) then
    return 700027, "Client assertion has already been used (its 'jti' was seen before)."
  end
  return nil
end

-- Federated tokens are not replay-checked: the token file is reused for
-- every request until the platform rotates it.
local function check_federated(self, p, app, t)
  if not jwt.verify_signature(t, p.key, { RS256 = true }) then
    return 700027, "Client assertion failed signature validation."
  end
  local c = t.claims
  if not time_ok(self, c) then
    return 700024, "Client assertion is not within its valid time range."
  end
  for _, f in ipairs(app.federated) do
    local want = (f.audience or M.TOKEN_EXCHANGE_AUDIENCE):lower():gsub("/+$", "")
    if c.iss == f.issuer and c.sub == f.subject and aud_matches(c.aud, { [want] = true }) then
      return nil
    end
  end
  -- Issuer, subject and audience are public identifiers, safe to name.
  local function s(v) return type(v) == "string" and v:sub(1, 200) or "?" end
  return 70021, string.format("No matching federated identity record found for presented assertion. " ..
    "Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.",
    s(c.iss), s(c.sub), s(type(c.aud) == "table" and c.aud[1] or c.aud))
end

local function check_assertion(self, p, app, f, auds)
  if f.client_assertion_type ~= ASSERTION_TYPE then
    return 700027, "The client_assertion_type must be '" .. ASSERTION_TYPE .. "'."
  end
  local t = jwt.decode(f.client_assertion)
  if not t then return 700027, "Client assertion is not a valid JWT." end
  local h = t.header
  -- Entra tells the two apart the same way: a self-issued assertion names
  -- the client as its issuer; anything else is an external (federated) token.
  local self_issued = lower(t.claims.iss) == app.client_id:lower()
  if self_issued or h.x5t or h["x5t#S256"] or h.x5c then
    if not self_issued then
      return 700027, "Client assertion contains an invalid 'iss' claim: it must be the client id."
    end
    return check_certificate(self, p, app, t, auds)
  end
  return check_federated(self, p, app, t)
end

-- Token endpoint ---------------------------------------------------------

-- Which resource the request names, as an audience, or nil.  Reserved
-- OIDC scopes are ignored, as Entra does for client credentials.
local RESERVED = { openid = true, profile = true, offline_access = true, email = true }

local function arm_resource(resource, base_url)
  local r = lower(with_slash(resource))
  if ARM_AUDIENCES[r] then
    return r == "https://management.core.windows.net/" and r or M.ARM_RESOURCE
  end
  if base_url and r == lower(with_slash(base_url)) then return M.ARM_RESOURCE end
  return nil
end

-- kind: "v2" | "v1" | "adfs"
local function token_request(self, req, kind)
  local p = private[self]
  local f = form(req)
  local tenant
  if kind ~= "adfs" then
    tenant = tenant_record(p, req.params.tenant)
    if not tenant then return unknown_tenant(self, req, "invalid_request") end
  end
  if not f.grant_type then return missing(self, req, "grant_type") end
  if f.grant_type ~= "client_credentials" then
    return aad_error(self, req, 400, "unsupported_grant_type", 70003,
      "The app requested an unsupported grant type '" .. f.grant_type:sub(1, 60) .. "'.")
  end
  if not f.client_id or f.client_id == "" then return missing(self, req, "client_id") end
  local app = p.apps[f.client_id:lower()]
  if kind == "adfs" and app then tenant = tenant_record(p, app.tenant) end
  if not app or not tenant or app.tenant:lower() ~= tenant.id:lower() then
    return aad_error(self, req, 400, "unauthorized_client", 700016, string.format(
      "Application with identifier '%s' was not found in the directory '%s'. This can happen if " ..
      "the application has not been installed by the administrator of the tenant or consented to " ..
      "by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
      f.client_id:sub(1, 100), tenant and tenant.name or "adfs"))
  end

  local acr
  if f.client_secret then
    if not same_secret(f.client_secret, app.secret) then
      return aad_error(self, req, 401, "invalid_client", 7000215, string.format(
        "Invalid client secret provided. Ensure the secret being sent in the request is the client " ..
        "secret value, not the client secret ID, for a secret added to app '%s'.", app.client_id))
    end
    acr = "1"
  elseif f.client_assertion then
    local code, why = check_assertion(self, p, app, f, assertion_audiences(req, tenant, kind == "adfs"))
    if code then return aad_error(self, req, 401, "invalid_client", code, why) end
    acr = "2"
  else
    return aad_error(self, req, 401, "invalid_client", 7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
  end

  -- v1 names a resource; v2.0 (and MSAL against ADFS) a "<resource>/.default" scope.
  local asked, aud
  if kind == "v1" or (kind == "adfs" and f.resource and not f.scope) then
    if not f.resource then return missing(self, req, "resource") end
    asked = f.resource
    aud = arm_resource(asked, req.base_url)
    if not aud then
      return aad_error(self, req, 400, "invalid_resource", 500011, string.format(
        "The resource principal named %s was not found in the tenant named %s. This can happen if " ..
        "the application has not been installed by the administrator of the tenant or consented to " ..
        "by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
        asked:sub(1, 200), tenant.name))
    end
  else
    if not f.scope then return missing(self, req, "scope") end
    local wanted = {}
    for s in f.scope:gmatch("%S+") do
      if not RESERVED[s:lower()] then wanted[#wanted + 1] = s end
    end
    local res = #wanted == 1 and resource_of_scope(wanted[1])
    aud = res and arm_resource(res, req.base_url)
    if not aud then
      return aad_error(self, req, 400, "invalid_scope", 70011, string.format(
        "The provided request must include a 'scope' input parameter. The provided value for the " ..
        "input parameter 'scope' is not valid. The scope %s is not valid.", f.scope:sub(1, 200)))
    end
    asked = res
  end

  local lifetime = M.APP_TOKEN_LIFETIME
  local token, claims = issue(self, { tid = tenant.id, oid = app.object_id,
    appid = app.client_id, appidacr = acr, aud = aud }, lifetime)
  local headers = { ["cache-control"] = "no-store, no-cache", pragma = "no-cache" }
  if kind == "v1" then
    return reply.json(200, {
      token_type = "Bearer", expires_in = tostring(lifetime), ext_expires_in = tostring(lifetime),
      expires_on = tostring(claims.exp), not_before = tostring(claims.nbf),
      resource = asked, access_token = token,
    }, headers)
  end
  return reply.json(200, { token_type = "Bearer", expires_in = lifetime,
    ext_expires_in = lifetime, access_token = token }, headers)
end

-- Managed identity (IMDS, App Service) -----------------------------------

-- The identity a request selects: client_id, object_id / principal_id, or
-- msi_res_id / mi_res_id; without one, the system-assigned identity, or the
-- only user-assigned one as IMDS does.  Returns record or nil, 400.
local function select_mi(p, q)
  local by_client = q.client_id or q.clientid
  local by_object = q.object_id or q.principal_id
  local by_res = q.msi_res_id or q.mi_res_id
  if by_client or by_object or by_res then
    for _, m in ipairs(p.mis) do
      if (by_client and m.client_id:lower() == by_client:lower())
        or (by_object and m.object_id:lower() == by_object:lower())
        or (by_res and m.resource_id and m.resource_id:lower() == by_res:lower()) then
        return m
      end
    end
    return nil, mi_error(400, "invalid_request", "Identity not found")
  end
  if p.system_mi then return p.system_mi end
  if #p.mis == 1 then return p.mis[1] end
  if #p.mis > 1 then
    return nil, mi_error(400, "invalid_request", "Multiple user assigned identities exist, " ..
      "please specify the clientId / resourceId of the identity in the token request")
  end
  return nil, mi_error(400, "invalid_request", "Identity not found")
end

local function mi_token(self, req, full)
  local p = private[self]
  local q = req.query
  if not q["api-version"] then
    return mi_error(400, "invalid_request", "Required api-version parameter not specified")
  end
  if not q.resource or q.resource == "" then
    return mi_error(400, "invalid_request", "Required audience parameter not specified")
  end
  local aud = arm_resource(q.resource, req.base_url)
  if not aud then
    return mi_error(400, "invalid_resource", "AADSTS500011: The resource principal named " ..
      q.resource:sub(1, 200) .. " was not found in the tenant.")
  end
  local mi, bad = select_mi(p, q)
  if not mi then return bad end
  local tenant = tenant_record(p, mi.tenant) or p.tenants[1]
  if not tenant then return mi_error(500, "unknown_error", "The emulator's seed has no tenant.") end
  local lifetime = M.MI_TOKEN_LIFETIME
  local token, claims = issue(self, { tid = tenant.id, oid = mi.object_id, appid = mi.client_id,
    appidacr = "2", aud = aud, mirid = mi.resource_id }, lifetime)
  local body = { access_token = token, client_id = mi.client_id,
    expires_on = tostring(claims.exp), resource = q.resource, token_type = "Bearer" }
  if full then
    body.expires_in = tostring(lifetime)
    body.ext_expires_in = tostring(lifetime)
    body.not_before = tostring(claims.nbf)
  end
  return reply.json(200, body)
end

local function imds_token(self, req)
  if lower(req.headers["metadata"]) ~= "true" then
    return mi_error(400, "invalid_request", "Required metadata header not specified")
  end
  return mi_token(self, req, true)
end

local function app_service_token(self, req)
  local given = req.headers["x-identity-header"]
  if not same_secret(given, self.identity_header) then
    -- The value is a secret: never repeat it.
    return mi_error(400, "invalid_request", "The X-IDENTITY-HEADER header is missing or invalid")
  end
  return mi_token(self, req, false)
end

-- Discovery documents ----------------------------------------------------

local function base(req) return req.base_url or "https://127.0.0.1" end

local function adfs_configuration(self, req)
  local b = base(req) .. "/adfs"
  return reply.json(200, {
    issuer = b,
    authorization_endpoint = b .. "/oauth2/authorize",
    token_endpoint = b .. "/oauth2/token",
    jwks_uri = b .. "/discovery/keys",
    userinfo_endpoint = b .. "/userinfo",
    end_session_endpoint = b .. "/oauth2/logout",
    response_types_supported = json.array{ "code", "id_token", "code id_token", "token" },
    response_modes_supported = json.array{ "query", "fragment", "form_post" },
    grant_types_supported = json.array{ "authorization_code", "refresh_token", "client_credentials" },
    subject_types_supported = json.array{ "pairwise" },
    scopes_supported = json.array{ "openid", "profile", "email", "offline_access" },
    id_token_signing_alg_values_supported = json.array{ "RS256" },
    token_endpoint_auth_methods_supported = json.array(AUTH_METHODS),
    access_token_issuer = b .. "/services/trust",
  })
end

local function tenant_configuration(self, req, v2)
  local p = private[self]
  local name = req.params.tenant
  local tenant = tenant_record(p, name)
  local multi = name:lower() == "common" or name:lower() == "organizations"
  if not tenant and not multi then return unknown_tenant(self, req, "invalid_tenant") end
  local b, seg = base(req), tenant and tenant.id or name
  local tid = tenant and tenant.id or "{tenantid}"
  local v = v2 and "/v2.0" or ""
  return reply.json(200, {
    issuer = v2 and string.format("%s/%s/v2.0", b, tid)
      or string.format("https://sts.windows.net/%s/", tid),
    token_endpoint = string.format("%s/%s/oauth2%s/token", b, seg, v),
    authorization_endpoint = string.format("%s/%s/oauth2%s/authorize", b, seg, v),
    device_authorization_endpoint = string.format("%s/%s/oauth2%s/devicecode", b, seg, v),
    end_session_endpoint = string.format("%s/%s/oauth2%s/logout", b, seg, v),
    jwks_uri = string.format("%s/%s/discovery%s/keys", b, seg, v),
    token_endpoint_auth_methods_supported = json.array(AUTH_METHODS),
    response_modes_supported = json.array{ "query", "fragment", "form_post" },
    response_types_supported = json.array{ "code", "id_token", "code id_token", "id_token token" },
    subject_types_supported = json.array{ "pairwise" },
    scopes_supported = json.array{ "openid", "profile", "email", "offline_access" },
    id_token_signing_alg_values_supported = json.array{ "RS256" },
    tenant_region_scope = "NA", cloud_instance_name = "microsoftonline.com",
    request_uri_parameter_supported = false,
  })
end

-- MSAL's instance discovery: the authority is known and is its own alias.
local function instance_discovery(self, req)
  local b = base(req)
  local host = b:match("^%a+://([^/]+)") or b
  local tenant = (req.query.authorization_endpoint or ""):match("^%a+://[^/]+/([^/]+)/") or "common"
  return reply.json(200, {
    tenant_discovery_endpoint = string.format("%s/%s/v2.0/.well-known/openid-configuration", b, tenant),
    ["api-version"] = "1.1",
    metadata = json.array{ { preferred_network = host, preferred_cache = host,
      aliases = json.array{ host } } },
  })
end

local function jwks(self)
  local p = private[self]
  return reply.json(200, { keys = json.array{ jwt.jwk(p.key, p.kid) } })
end

-- ARM tenant-level lists --------------------------------------------------

local function need_api_version(req)
  if req.query["api-version"] then return nil end
  return reply.error(400, "MissingApiVersionParameter",
    "The api-version query parameter (?api-version=) is required for all requests.")
end

local function subscription_doc(s)
  return {
    id = "/subscriptions/" .. s.id, subscriptionId = s.id, tenantId = s.tenant,
    displayName = s.name, state = "Enabled",
    subscriptionPolicies = { locationPlacementId = "Public_2014-09-01",
      quotaId = "PayAsYouGo_2014-09-01", spendingLimit = "Off" },
    authorizationSource = "RoleBased",
  }
end

-- A caller sees the subscriptions of the tenant its token was issued in
-- (the app puts the verified principal in req.principal).
local function visible(req, s)
  local who = req.principal
  return not who or not who.tid or lower(s.tenant) == lower(who.tid)
end

local function list_subscriptions(self, req)
  local bad = need_api_version(req)
  if bad then return bad end
  local out = json.array()
  for _, s in ipairs(private[self].subs) do
    if visible(req, s) then out[#out + 1] = subscription_doc(s) end
  end
  return reply.json(200, { value = out, count = { type = "Total", value = #out } })
end

local function get_subscription(self, req)
  local bad = need_api_version(req)
  if bad then return bad end
  local want = req.params.subscriptionId:lower()
  for _, s in ipairs(private[self].subs) do
    if s.id:lower() == want and visible(req, s) then
      return reply.json(200, subscription_doc(s))
    end
  end
  return reply.error(404, "SubscriptionNotFound",
    string.format("The subscription '%s' could not be found.", req.params.subscriptionId))
end

local function list_tenants(self, req)
  local bad = need_api_version(req)
  if bad then return bad end
  local out = json.array()
  for _, t in ipairs(private[self].tenants) do
    out[#out + 1] = { id = "/tenants/" .. t.id, tenantId = t.id, tenantCategory = "Home",
      countryCode = "US", displayName = t.name, domains = json.array{ t.name },
      defaultDomain = t.name, tenantType = "AAD" }
  end
  return reply.json(200, { value = out })
end

-- Routes -----------------------------------------------------------------

-- Literal paths come before templates of the same length ("/adfs/oauth2/token"
-- before "/{tenant}/oauth2/token"): the router takes the first match.
function M:routes()
  local function bind(fn, ...)
    local extra = table.pack(...)
    return function(_, req) return fn(self, req, table.unpack(extra, 1, extra.n)) end
  end
  return {
    { method = "GET", path = "/adfs/.well-known/openid-configuration", op = "ADFS_OpenIdConfiguration",
      handler = bind(adfs_configuration) },
    { method = "GET", path = "/adfs/discovery/keys", op = "ADFS_Keys", handler = bind(jwks) },
    { method = "POST", path = "/adfs/oauth2/token", op = "ADFS_Token", handler = bind(token_request, "adfs") },
    { method = "GET", path = "/common/discovery/instance", op = "Entra_InstanceDiscovery",
      handler = bind(instance_discovery) },
    { method = "POST", path = "/{tenant}/oauth2/v2.0/token", op = "Entra_Token", handler = bind(token_request, "v2") },
    { method = "POST", path = "/{tenant}/oauth2/token", op = "Entra_TokenV1", handler = bind(token_request, "v1") },
    { method = "GET", path = "/{tenant}/v2.0/.well-known/openid-configuration", op = "Entra_OpenIdConfiguration",
      handler = bind(tenant_configuration, true) },
    { method = "GET", path = "/{tenant}/.well-known/openid-configuration", op = "Entra_OpenIdConfigurationV1",
      handler = bind(tenant_configuration, false) },
    { method = "GET", path = "/{tenant}/discovery/v2.0/keys", op = "Entra_Keys", handler = bind(jwks) },
    { method = "GET", path = "/{tenant}/discovery/keys", op = "Entra_KeysV1", handler = bind(jwks) },
    { method = "GET", path = "/metadata/identity/oauth2/token", op = "IMDS_Token", handler = bind(imds_token) },
    { method = "GET", path = "/msi/token", op = "AppService_Token", handler = bind(app_service_token) },
    { method = "GET", path = "/subscriptions", op = "Subscriptions_List", arm = true, kind = "read",
      handler = bind(list_subscriptions) },
    { method = "GET", path = "/subscriptions/{subscriptionId}", op = "Subscriptions_Get", arm = true,
      kind = "read", handler = bind(get_subscription) },
    { method = "GET", path = "/tenants", op = "Tenants_List", arm = true, kind = "read",
      handler = bind(list_tenants) },
  }
end

return M
