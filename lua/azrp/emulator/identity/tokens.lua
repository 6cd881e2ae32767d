-- Access tokens: the emulator's signing key, minting with the claims
-- Entra's v1 tokens carry, and ARM's check of the Authorization header.
-- Holds the private key, so the facade keeps it out of the object.
local pkey_mod = require "openssl.pkey"
local rand = require "openssl.rand"
local jwt = require "azrp.emulator.jwt"
local util = require "azrp.emulator.util"
local settings = require "azrp.emulator.identity.settings"
local resources = require "azrp.emulator.identity.resources"
local token_cache = require "azrp.emulator.identity.token_cache"
local sha256 = require("azrp.emulator.identity.common").sha256

local M = {}
M.__index = M

-- directory: known tenants are the only issuers verify() accepts.  key: an
-- RSA private key (luaossl pkey) to sign with; by default a new 2048-bit
-- one (about 0.15 s to make), so every emulator signs with its own.
function M.new(clock, directory, key)
  key = key or pkey_mod.new{ type = "RSA", bits = 2048 }
  local public_pem = key:toPEM("public")
  return setmetatable({
    clock = clock, directory = directory,
    key = key, public_pem = public_pem,
    kid = jwt.b64url_encode(sha256(public_pem):sub(1, 20)),
    cache = token_cache.new(),
  }, M)
end

-- The published key, as the discovery documents' jwks_uri serves it.
function M:jwk() return jwt.jwk(self.key, self.kid) end

-- True when t (a decoded JWT) carries an RS256 signature by this key.
function M:signed_by_us(t)
  return jwt.verify_signature(t, self.key, { RS256 = true })
end

-- Minting ----------------------------------------------------------------

-- who = { tid, oid, appid, appidacr, aud, mirid }; returns token, claims.
function M:issue(who, lifetime)
  local now = math.floor(self.clock:now())
  local claims = {
    aud = who.aud or settings.ARM_RESOURCE,
    iss = "https://sts.windows.net/" .. who.tid .. "/",
    iat = now, nbf = now, exp = now + lifetime,
    tid = who.tid, oid = who.oid, sub = who.oid, appid = who.appid,
    appidacr = who.appidacr or "1", idtyp = "app", ver = "1.0",
    -- Random per token, as Entra's uti: two tokens minted in the same
    -- second for the same client differ.
    uti = jwt.b64url_encode(rand.bytes(16)),
    xms_mirid = who.mirid,
  }
  return jwt.encode(claims, self.key, "RS256", { kid = self.kid, x5t = self.kid }), claims
end

-- A token as an external OIDC issuer (GitHub, Kubernetes ...) would write to
-- AZURE_FEDERATED_TOKEN_FILE; signed with the emulator's key.
-- args = { issuer, subject, audience, expires_in }
function M:federated(args)
  local now = math.floor(self.clock:now())
  return jwt.encode({
    iss = args.issuer, sub = args.subject,
    aud = args.audience or settings.TOKEN_EXCHANGE_AUDIENCE,
    iat = now, nbf = now, exp = now + (args.expires_in or 3600),
    jti = util.guid(),
  }, self.key, "RS256", { kid = self.kid })
end

-- Verification (ARM side) ------------------------------------------------

local INVALID = "InvalidAuthenticationToken"

-- .NET's invariant DateTime format, which ARM's expiry message uses.
local function dotnet_time(t)
  local d = os.date("!*t", math.floor(t))
  local h = d.hour % 12
  return string.format("%d/%d/%d %d:%02d:%02d %s", d.month, d.day, d.year,
    h == 0 and 12 or h, d.min, d.sec, d.hour < 12 and "AM" or "PM")
end

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
  local t = jwt.decode(token)
  if not t or t.header.alg ~= "RS256" then
    return nil, INVALID, "The access token is invalid."
  end
  if not self:signed_by_us(t) then
    return nil, INVALID, "The access token signature is invalid."
  end
  local c = t.claims
  if not resources.is_arm_audience(c.aud) then return nil, INVALID, wrong_audience(c.aud) end
  local tid = type(c.tid) == "string" and c.tid or ""
  if not self.directory:tenant(tid) or c.iss ~= "https://sts.windows.net/" .. tid .. "/" then
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

-- The bearer token in an Authorization header value, or nil, code, message.
local function bearer(authorization)
  if authorization == nil or authorization == "" then
    return nil, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
  end
  local token = type(authorization) == "string" and authorization:match("^[Bb][Ee][Aa][Rr][Ee][Rr] +([^%s]+)%s*$")
  if not token then
    return nil, "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is provided in an invalid format."
  end
  return token
end

-- authorization: the Authorization header value, or nil.  Returns the
-- principal, shared with the cache: treat it as read-only; or nil, code,
-- message for ARM's 401.
function M:verify(authorization)
  local token, code, message = bearer(authorization)
  if not token then return nil, code, message end
  local e = self.cache:get(token)
  if not e then
    e, code, message = check_token(self, token)
    if not e then return nil, code, message end
    self.cache:put(token, e)
  end
  -- Time is checked on every call: a cached token still expires.
  local now = self.clock:now()
  if now >= e.exp then
    return nil, "ExpiredAuthenticationToken", string.format(
      "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
      dotnet_time(e.exp), dotnet_time(now))
  end
  if e.nbf > now + settings.SKEW then
    return nil, INVALID, "The access token is not yet valid."
  end
  return e.principal
end

return M
