-- Client authentication by JWT at the token endpoint: client assertions
-- signed with an app's certificate (replay-checked by jti), and federated
-- tokens from an external issuer the app trusts.
--
-- Each check returns nil on success, or an AADSTS code and a description
-- that names public identifiers only, never the assertion itself.
local jwt = require "azrp.emulator.jwt"
local settings = require "azrp.emulator.identity.settings"
local lower = require("azrp.emulator.identity.common").lower

local M = {}
M.__index = M

local ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

-- tokens: the emulator's signer, which federated tokens are signed with.
function M.new(clock, tokens)
  return setmetatable({ clock = clock, tokens = tokens, jtis = {}, jti_count = 0 }, M)
end

-- The token endpoint URLs a client may put in an assertion's aud: this
-- emulator's or login.microsoftonline.com's, v1 or v2.0, naming the tenant
-- by the path segment, its id or its name.
function M.audiences(req, tenant, adfs)
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
  if type(c.exp) ~= "number" or c.exp + settings.SKEW <= now then return false end
  if c.nbf ~= nil and (type(c.nbf) ~= "number" or c.nbf > now + settings.SKEW) then return false end
  return true
end

-- Remembers (client, jti) until the assertion expires; sweeps expired
-- entries when the table grows, so memory stays bounded by live assertions.
local function replayed(self, client_id, jti, exp)
  local now = self.clock:now()
  local k = client_id:lower() .. "\0" .. jti
  local seen = self.jtis[k]
  if seen and seen + settings.SKEW > now then return true end
  if self.jti_count >= settings.JTI_LIMIT then
    local n = 0
    for key, until_ in pairs(self.jtis) do
      if until_ + settings.SKEW <= now then self.jtis[key] = nil else n = n + 1 end
    end
    self.jti_count = n
  end
  if not seen then self.jti_count = self.jti_count + 1 end
  self.jtis[k] = exp
  return false
end

-- The header names the app's certificate by thumbprint, and the signature
-- is that certificate's.
local function check_key(app, t)
  local cert = app.cert
  local h = t.header
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
  return nil
end

local function check_certificate(self, app, t, auds)
  local code, why = check_key(app, t)
  if code then return code, why end
  local c = t.claims
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
  if replayed(self, app.client_id, c.jti, c.exp) then
    return 700027, "Client assertion has already been used (its 'jti' was seen before)."
  end
  return nil
end

-- Federated tokens are not replay-checked: the token file is reused for
-- every request until the platform rotates it.
local function check_federated(self, app, t)
  if not self.tokens:signed_by_us(t) then
    return 700027, "Client assertion failed signature validation."
  end
  local c = t.claims
  if not time_ok(self, c) then
    return 700024, "Client assertion is not within its valid time range."
  end
  for _, f in ipairs(app.federated) do
    local want = (f.audience or settings.TOKEN_EXCHANGE_AUDIENCE):lower():gsub("/+$", "")
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

-- f: the token request's form; auds: M.audiences() for the request.
function M:check(app, f, auds)
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
    return check_certificate(self, app, t, auds)
  end
  return check_federated(self, app, t)
end

return M
