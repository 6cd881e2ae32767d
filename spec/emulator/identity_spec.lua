-- The emulator's identity provider, in-process: route handlers are called
-- with hand-built requests (through the real router, so route order is
-- tested too), and tokens are checked with idp:verify().
--
-- Client assertions are built here with luaossl and cjson directly, and
-- PS256 signatures with the openssl command, so that jwt.lua is checked
-- against independent implementations rather than against itself.
require("azrp.emulator.deps").setup()

local cjson = require "cjson"
local pkey = require "openssl.pkey"
local x509 = require "openssl.x509"
local x509_name = require "openssl.x509.name"
local bignum = require "openssl.bignum"
local digest = require "openssl.digest"
local identity = require "azrp.emulator.identity"
local jwt = require "azrp.emulator.jwt"
local clock_mod = require "azrp.emulator.clock"
local router_mod = require "azrp.emulator.router"

local T0 = 1760000000
local BASE = "https://127.0.0.1:8443"
local TENANT = "11111111-1111-4111-8111-111111111111"
local OTHER_TENANT = "99999999-9999-4999-8999-999999999999"
local NO_TENANT = "87654321-4321-4321-8321-210987654321"
local SUB = "00000000-0000-4000-8000-000000000001"
local APP = "22222222-2222-4222-8222-222222222222"
local APP_OID = "33333333-3333-4333-8333-333333333333"
local SECRET = "s3cr3t-Value~with+odd/chars="
local CERT_APP = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
local FED_APP = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
local FED_ISSUER = "https://token.actions.githubusercontent.com"
local FED_SUBJECT = "repo:contoso/azrp:ref:refs/heads/main"
local SYS_MI = "44444444-4444-4444-8444-444444444444"
local SYS_MI_OID = "55555555-5555-4555-8555-555555555555"
local UA_MI = "66666666-6666-4666-8666-666666666666"
local UA_MI_OID = "77777777-7777-4777-8777-777777777777"
local UA_MI_RES = "/subscriptions/" .. SUB ..
  "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-azrp"
local ARM_SCOPE = "https://management.azure.com/.default"
local ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

-- Independent helpers ------------------------------------------------------

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function b64url(s)
  local bits = s:gsub(".", function(c)
    local b, out = c:byte(), ""
    for i = 7, 0, -1 do out = out .. ((b >> i) & 1) end
    return out
  end)
  bits = bits .. string.rep("0", (6 - #bits % 6) % 6)
  return (bits:gsub("......", function(six) local v = tonumber(six, 2); return B64:sub(v + 1, v + 1) end))
end

local function self_signed(cn)
  local key = pkey.new{ type = "RSA", bits = 2048 }
  local cert = x509.new()
  cert:setVersion(3)
  cert:setSerial(bignum.new(1))
  local name = x509_name.new()
  name:add("CN", cn)
  cert:setSubject(name)
  cert:setIssuer(name)
  cert:setLifetime(T0 - 86400, T0 + 86400 * 365)
  cert:setPublicKey(key)
  cert:sign(key, "sha256")
  return key, cert
end

local function thumbprint(cert, alg)
  return b64url(digest.new(alg):final(cert:tostring("DER")))
end

local function have_openssl_cli()
  return os.execute("openssl version >/dev/null 2>&1") == true
end

-- RSA-PSS, SHA-256, salt 32, by the openssl command.
local function pss_sign_cli(key, input)
  local kf, df, sf = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(kf, "w")); f:write(key:toPEM("private")); f:close()
  f = assert(io.open(df, "wb")); f:write(input); f:close()
  assert(os.execute(string.format("openssl dgst -sha256 -sigopt rsa_padding_mode:pss " ..
    "-sigopt rsa_pss_saltlen:32 -sign %s -out %s %s", kf, sf, df)))
  f = assert(io.open(sf, "rb")); local sig = f:read("a"); f:close()
  os.remove(kf); os.remove(df); os.remove(sf)
  return sig
end

local function pss_verify_cli(pub_pem, input, sig)
  local kf, df, sf = os.tmpname(), os.tmpname(), os.tmpname()
  local f = assert(io.open(kf, "w")); f:write(pub_pem); f:close()
  f = assert(io.open(df, "wb")); f:write(input); f:close()
  f = assert(io.open(sf, "wb")); f:write(sig); f:close()
  local ok = os.execute(string.format("openssl dgst -sha256 -sigopt rsa_padding_mode:pss " ..
    "-sigopt rsa_pss_saltlen:32 -verify %s -signature %s %s >/dev/null 2>&1", kf, sf, df))
  os.remove(kf); os.remove(df); os.remove(sf)
  return ok == true
end

-- A compact JWS; alg RS256 (luaossl, PKCS#1 v1.5) or PS256 (openssl command).
local function sign_jwt(header, claims, key)
  local input = b64url(cjson.encode(header)) .. "." .. b64url(cjson.encode(claims))
  local sig
  if header.alg == "PS256" then
    sig = pss_sign_cli(key, input)
  else
    local d = digest.new("sha256")
    d:update(input)
    sig = key:sign(d)
  end
  return input .. "." .. b64url(sig)
end

-- Flips one character in the middle of the signature segment.
local function tamper(token)
  local head, sig = token:match("^(.*%.)(.*)$")
  local i = #sig // 2
  local c = sig:sub(i, i)
  return head .. sig:sub(1, i - 1) .. (c == "A" and "B" or "A") .. sig:sub(i + 1)
end

local function form_encode(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = k .. "=" .. tostring(v):gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", c:byte())
    end)
  end
  table.sort(parts)
  return table.concat(parts, "&")
end

-- The fixture ------------------------------------------------------------

local cert_key, cert = self_signed("azrp-test-app")
local other_key, other_cert = self_signed("azrp-other")
local X5T, X5T256 = thumbprint(cert, "sha1"), thumbprint(cert, "sha256")
local OTHER_X5T, OTHER_X5T256 = thumbprint(other_cert, "sha1"), thumbprint(other_cert, "sha256")

-- Each test gets a fresh identity; they share one signing key, as making
-- a 2048-bit RSA key costs about 0.15 s.
local SIGNING_KEY = pkey.new{ type = "RSA", bits = 2048 }

local function new_idp()
  local clock = clock_mod.new{ now = function() return T0 end }
  local idp = identity.new{ clock = clock, signing_key = SIGNING_KEY, seed = {
    tenants = { { id = TENANT, name = "azrp-emulator" }, { id = OTHER_TENANT, name = "other" } },
    subscriptions = { { id = SUB, name = "azrp-emulator-subscription", tenant = TENANT },
      { id = "00000000-0000-4000-8000-000000000002", name = "elsewhere", tenant = OTHER_TENANT } },
    apps = {
      { client_id = APP, tenant = TENANT, secret = SECRET, object_id = APP_OID },
      { client_id = CERT_APP, tenant = TENANT, certificate = cert:toPEM() },
      { client_id = FED_APP, tenant = TENANT, federated = {
        { issuer = FED_ISSUER, subject = FED_SUBJECT, audience = "api://AzureADTokenExchange" } } },
    },
    managed_identities = {
      { client_id = SYS_MI, object_id = SYS_MI_OID, tenant = TENANT, system = true },
      { client_id = UA_MI, object_id = UA_MI_OID, tenant = TENANT, resource_id = UA_MI_RES },
    },
  } }
  local router = router_mod.new()
  for _, r in ipairs(idp:routes()) do router:add(r) end
  return idp, clock, router
end

-- Calls a route as the app would; returns status, decoded body, response.
local function call(router, method, target, opts)
  opts = opts or {}
  local path, q = target:match("^([^?]*)%??(.*)$")
  local route, params = router:match(method, path)
  assert(route, "no route for " .. method .. " " .. path)
  local headers = opts.headers or {}
  local body = ""
  if opts.form then
    headers["content-type"] = "application/x-www-form-urlencoded"
    body = form_encode(opts.form)
  end
  local req = { method = method, path = path, query = router_mod.parse_query(q),
    headers = headers, body = body, params = params, base_url = BASE,
    principal = opts.principal }
  local res = route.handler({}, req)
  return res.status, cjson.decode(res.body), res, route
end

local function secret_form(extra)
  local f = { grant_type = "client_credentials", client_id = APP, client_secret = SECRET, scope = ARM_SCOPE }
  for k, v in pairs(extra or {}) do f[k] = v end
  return f
end

local function assertion_claims(overrides)
  local c = { aud = BASE .. "/" .. TENANT .. "/oauth2/v2.0/token", iss = CERT_APP, sub = CERT_APP,
    jti = string.format("%08x-jti", math.random(0, 0x7fffffff)), nbf = T0 - 10, iat = T0 - 10, exp = T0 + 600 }
  for k, v in pairs(overrides or {}) do c[k] = v end
  return c
end

local function assertion_form(assertion, client_id)
  return { grant_type = "client_credentials", client_id = client_id or CERT_APP, scope = ARM_SCOPE,
    client_assertion_type = ASSERTION_TYPE, client_assertion = assertion }
end

local function token_path(tenant) return "/" .. (tenant or TENANT) .. "/oauth2/v2.0/token" end

-- Tests ------------------------------------------------------------------

describe("emulator identity", function()
  local idp, clock, router

  before_each(function()
    idp, clock, router = new_idp()
  end)

  describe("client credentials with a secret (v2.0)", function()
    it("issues a Bearer token that verify() accepts", function()
      local status, body, res = call(router, "POST", token_path(), { form = secret_form() })
      assert.equal(200, status)
      assert.equal("Bearer", body.token_type)
      assert.equal(3599, body.expires_in)
      assert.equal(3599, body.ext_expires_in)
      assert.is_nil(body.expires_on)
      assert.matches("no%-store", res.headers["cache-control"])
      local p = assert(idp:verify("Bearer " .. body.access_token))
      assert.same({ APP_OID, APP, TENANT, APP_OID }, { p.oid, p.appid, p.tid, p.sub })
    end)

    it("signs RS256 access tokens with the claims ARM reads", function()
      local _, body = call(router, "POST", token_path(), { form = secret_form() })
      local h64, c64 = body.access_token:match("^([^.]+)%.([^.]+)%.")
      local header = cjson.decode(jwt.b64url_decode(h64))
      local claims = cjson.decode(jwt.b64url_decode(c64))
      assert.equal("RS256", header.alg)
      assert.equal("https://management.azure.com/", claims.aud)
      assert.equal("https://sts.windows.net/" .. TENANT .. "/", claims.iss)
      assert.equal(T0, claims.iat)
      assert.equal(T0, claims.nbf)
      assert.equal(T0 + 3599, claims.exp)
      -- the signature checks out with the published key, independently of jwt.lua
      local pub = pkey.new(idp:signing_public_pem())
      local d = digest.new("sha256")
      d:update(h64 .. "." .. c64)
      assert.is_true(pub:verify(jwt.b64url_decode(body.access_token:match("[^.]+$")), d))
    end)

    it("accepts the tenant by name, the Azure CLI's scope and the emulator's own URL", function()
      assert.equal(200, (call(router, "POST", token_path("azrp-emulator"), { form = secret_form() })))
      local status, body = call(router, "POST", token_path(),
        { form = secret_form{ scope = "https://management.core.windows.net//.default" } })
      assert.equal(200, status)
      assert.truthy(idp:verify("Bearer " .. body.access_token))
      assert.equal(200, (call(router, "POST", token_path(), { form = secret_form{ scope = BASE .. "/.default" } })))
      assert.equal(200, (call(router, "POST", token_path(),
        { form = secret_form{ scope = ARM_SCOPE .. " offline_access openid profile" } })))
    end)

    it("rejects a wrong secret with 401 AADSTS7000215 and never echoes it", function()
      local wrong = "not-the-secret-" .. SECRET
      local status, body, res = call(router, "POST", token_path(), { form = secret_form{ client_secret = wrong } })
      assert.equal(401, status)
      assert.equal("invalid_client", body.error)
      assert.same({ 7000215 }, body.error_codes)
      assert.matches("^AADSTS7000215: ", body.error_description)
      assert.truthy(body.trace_id and body.correlation_id and body.timestamp)
      assert.is_nil(res.body:find(wrong, 1, true))
      assert.is_nil(res.body:find(SECRET, 1, true))
    end)

    it("rejects an unknown client, an app of another tenant and an unknown tenant", function()
      local status, body = call(router, "POST", token_path(),
        { form = secret_form{ client_id = "12345678-1234-4234-8234-123456789012" } })
      assert.same({ 400, "unauthorized_client", 700016 }, { status, body.error, body.error_codes[1] })
      status, body = call(router, "POST", token_path(OTHER_TENANT), { form = secret_form() })
      assert.same({ 400, "unauthorized_client", 700016 }, { status, body.error, body.error_codes[1] })
      status, body = call(router, "POST", token_path(NO_TENANT), { form = secret_form() })
      assert.same({ 400, "invalid_request", 90002 }, { status, body.error, body.error_codes[1] })
    end)

    it("rejects other scopes with invalid_scope AADSTS70011", function()
      for _, scope in ipairs{ "https://vault.azure.net/.default", "https://management.azure.com/user_impersonation",
        "https://management.azure.com/.default https://graph.microsoft.com/.default" } do
        local status, body = call(router, "POST", token_path(), { form = secret_form{ scope = scope } })
        assert.same({ 400, "invalid_scope", 70011 }, { status, body.error, body.error_codes[1] })
      end
    end)

    it("names missing parameters and unsupported grants", function()
      local f = secret_form()
      f.grant_type = nil
      local status, body = call(router, "POST", token_path(), { form = f })
      assert.same({ 400, "invalid_request", 900144 }, { status, body.error, body.error_codes[1] })
      assert.matches("'grant_type'", body.error_description)
      status, body = call(router, "POST", token_path(), { form = secret_form{ grant_type = "password" } })
      assert.same({ 400, "unsupported_grant_type", 70003 }, { status, body.error, body.error_codes[1] })
      f = secret_form()
      f.client_secret = nil
      status, body = call(router, "POST", token_path(), { form = f })
      assert.same({ 401, "invalid_client", 7000218 }, { status, body.error, body.error_codes[1] })
    end)

    it("answers the v1 endpoint with string-valued fields and the resource", function()
      local f = secret_form{ resource = "https://management.azure.com/" }
      f.scope = nil
      local status, body = call(router, "POST", "/" .. TENANT .. "/oauth2/token", { form = f })
      assert.equal(200, status)
      assert.same({ "Bearer", "3599", "3599", tostring(T0 + 3599), tostring(T0), "https://management.azure.com/" },
        { body.token_type, body.expires_in, body.ext_expires_in, body.expires_on, body.not_before, body.resource })
      assert.truthy(idp:verify("Bearer " .. body.access_token))
      f.resource = "https://vault.azure.net"
      status, body = call(router, "POST", "/" .. TENANT .. "/oauth2/token", { form = f })
      assert.same({ 400, "invalid_resource" }, { status, body.error })
    end)
  end)

  describe("certificate client assertions", function()
    local function post_assertion(assertion, path)
      return call(router, "POST", path or token_path(), { form = assertion_form(assertion) })
    end

    it("accepts RS256 with x5t (SHA-1 thumbprint)", function()
      local a = sign_jwt({ alg = "RS256", typ = "JWT", x5t = X5T }, assertion_claims(), cert_key)
      local status, body = post_assertion(a)
      assert.equal(200, status)
      local p = assert(idp:verify("Bearer " .. body.access_token))
      assert.equal(CERT_APP, p.appid)
    end)

    it("accepts PS256 with x5t#S256 (SHA-256 thumbprint)", function()
      if not have_openssl_cli() then return pending("needs the openssl command") end
      local a = sign_jwt({ alg = "PS256", typ = "JWT", ["x5t#S256"] = X5T256 },
        assertion_claims(), cert_key)
      assert.equal(200, (post_assertion(a)))
    end)

    it("accepts login.microsoftonline.com and v1 audiences", function()
      for _, aud in ipairs{ "https://login.microsoftonline.com/" .. TENANT .. "/oauth2/v2.0/token",
        "https://login.microsoftonline.com/azrp-emulator/oauth2/token", BASE .. "/" .. TENANT .. "/oauth2/token" } do
        local a = sign_jwt({ alg = "RS256", x5t = X5T }, assertion_claims{ aud = aud }, cert_key)
        assert.equal(200, (post_assertion(a)), aud)
      end
    end)

    local function rejected(a, code)
      local status, body, res = post_assertion(a)
      assert.same({ 401, "invalid_client", code }, { status, body.error, body.error_codes[1] })
      -- neither the assertion nor any of its parts is echoed
      for part in a:gmatch("[^.]+") do
        assert.is_nil(res.body:find(part, 1, true))
      end
      return body
    end

    it("rejects a wrong audience", function()
      local a = sign_jwt({ alg = "RS256", x5t = X5T },
        assertion_claims{ aud = "https://login.microsoftonline.com/" .. OTHER_TENANT .. "/oauth2/v2.0/token" },
        cert_key)
      rejected(a, 700027)
    end)

    it("rejects an expired or not yet valid assertion with AADSTS700024", function()
      local function at(nbf, exp)
        return sign_jwt({ alg = "RS256", x5t = X5T }, assertion_claims{ nbf = nbf, exp = exp }, cert_key)
      end
      rejected(at(T0 - 4000, T0 - 3600), 700024)
      rejected(at(T0 + 3600, T0 + 4000), 700024)
      -- five minutes of skew are forgiven
      assert.equal(200, (post_assertion(sign_jwt({ alg = "RS256", x5t = X5T },
        assertion_claims{ nbf = T0 + 120 }, cert_key))))
    end)

    it("rejects a replayed jti and an assertion without one", function()
      local a = sign_jwt({ alg = "RS256", x5t = X5T }, assertion_claims{ jti = "once" }, cert_key)
      assert.equal(200, (post_assertion(a)))
      rejected(a, 700027)
      local c = assertion_claims()
      c.jti = nil
      rejected(sign_jwt({ alg = "RS256", x5t = X5T }, c, cert_key), 700027)
    end)

    it("rejects a tampered signature, a foreign key and an unregistered certificate", function()
      rejected(tamper(sign_jwt({ alg = "RS256", x5t = X5T }, assertion_claims(), cert_key)), 700027)
      -- right thumbprint, wrong key
      rejected(sign_jwt({ alg = "RS256", x5t = X5T }, assertion_claims(), other_key), 700027)
      -- another certificate altogether
      rejected(sign_jwt({ alg = "RS256", x5t = OTHER_X5T }, assertion_claims(), other_key), 700027)
      -- the registered key, but naming another certificate
      local body = rejected(sign_jwt({ alg = "RS256", x5t = OTHER_X5T }, assertion_claims(), cert_key),
        700027)
      assert.matches("not registered", body.error_description)
      rejected(sign_jwt({ alg = "RS256", ["x5t#S256"] = OTHER_X5T256 }, assertion_claims(), cert_key),
        700027)
      -- no thumbprint at all
      rejected(sign_jwt({ alg = "RS256" }, assertion_claims(), cert_key), 700027)
      -- sub is not the client
      rejected(sign_jwt({ alg = "RS256", x5t = X5T }, assertion_claims{ sub = APP }, cert_key), 700027)
      -- an algorithm Entra does not take for assertions
      rejected(sign_jwt({ alg = "HS256", x5t = X5T }, assertion_claims(), cert_key), 700027)
    end)

    it("rejects a tampered or foreign PS256 signature", function()
      if not have_openssl_cli() then return pending("needs the openssl command") end
      rejected(tamper(sign_jwt({ alg = "PS256", ["x5t#S256"] = X5T256 }, assertion_claims(), cert_key)), 700027)
      rejected(sign_jwt({ alg = "PS256", ["x5t#S256"] = X5T256 }, assertion_claims(), other_key), 700027)
      -- a well-formed PSS signature, but of other claims
      local a = sign_jwt({ alg = "PS256", ["x5t#S256"] = X5T256 }, assertion_claims(), cert_key)
      local b = sign_jwt({ alg = "PS256", ["x5t#S256"] = X5T256 }, assertion_claims(), cert_key)
      rejected(a:match("^[^.]+%.[^.]+%.") .. b:match("[^.]+$"), 700027)
    end)

    it("rejects an assertion for an app with no certificate", function()
      local a = sign_jwt({ alg = "RS256", x5t = X5T },
        assertion_claims{ iss = APP, sub = APP }, cert_key)
      local status, body = call(router, "POST", token_path(), { form = assertion_form(a, APP) })
      assert.same({ 401, 700027 }, { status, body.error_codes[1] })
    end)

    it("produces PS256 signatures OpenSSL accepts (jwt.lua's own signer)", function()
      if not have_openssl_cli() then return pending("needs the openssl command") end
      local t = jwt.encode({ hello = "world" }, cert_key, "PS256")
      local parsed = assert(jwt.decode(t))
      assert.is_true(pss_verify_cli(cert_key:toPEM("public"), parsed.input, parsed.signature))
      assert.is_true(jwt.verify_signature(parsed, cert:getPublicKey()))
    end)
  end)

  describe("federated credentials (workload identity)", function()
    local function post_fed(assertion)
      return call(router, "POST", token_path(), { form = assertion_form(assertion, FED_APP) })
    end

    it("exchanges a matching token, as often as the file is re-read", function()
      local file = idp:mint_federated{ issuer = FED_ISSUER, subject = FED_SUBJECT }
      for _ = 1, 2 do
        local status, body = post_fed(file)
        assert.equal(200, status)
        assert.equal(FED_APP, idp:verify("Bearer " .. body.access_token).appid)
      end
    end)

    it("rejects a subject, issuer or audience with no federated record", function()
      for _, args in ipairs{
        { issuer = FED_ISSUER, subject = "repo:contoso/azrp:pull_request" },
        { issuer = "https://evil.example", subject = FED_SUBJECT },
        { issuer = FED_ISSUER, subject = FED_SUBJECT, audience = "api://other" } } do
        local status, body = post_fed(idp:mint_federated(args))
        assert.same({ 401, "invalid_client", 70021 }, { status, body.error, body.error_codes[1] })
      end
    end)

    it("rejects an expired token and one the emulator did not sign", function()
      local expired = idp:mint_federated{ issuer = FED_ISSUER, subject = FED_SUBJECT, expires_in = -600 }
      local status, body = post_fed(expired)
      assert.same({ 401, 700024 }, { status, body.error_codes[1] })
      local forged = sign_jwt({ alg = "RS256", kid = "x" }, { iss = FED_ISSUER, sub = FED_SUBJECT,
        aud = "api://AzureADTokenExchange", exp = T0 + 600, nbf = T0 }, other_key)
      local res
      status, body, res = post_fed(forged)
      assert.same({ 401, 700027 }, { status, body.error_codes[1] })
      assert.is_nil(res.body:find(forged, 1, true))
    end)
  end)

  describe("ADFS authority and discovery (Azure CLI, MSAL)", function()
    it("publishes an ADFS openid-configuration on the client's base URL", function()
      local status, body = call(router, "GET", "/adfs/.well-known/openid-configuration")
      assert.equal(200, status)
      assert.equal(BASE .. "/adfs/oauth2/token", body.token_endpoint)
      assert.equal(BASE .. "/adfs/oauth2/authorize", body.authorization_endpoint)
      assert.equal(BASE .. "/adfs", body.issuer)
      assert.truthy(body.jwks_uri)
    end)

    it("issues tokens at /adfs/oauth2/token in the app's tenant", function()
      local status, body, _, route = call(router, "POST", "/adfs/oauth2/token",
        { form = secret_form{ scope = "https://management.core.windows.net//.default" } })
      assert.equal("ADFS_Token", route.op)
      assert.equal(200, status)
      assert.equal(TENANT, idp:verify("Bearer " .. body.access_token).tid)
      status = call(router, "POST", "/adfs/oauth2/token", { form = secret_form{ client_secret = "nope" } })
      assert.equal(401, status)
    end)

    it("serves tenant discovery, instance discovery and keys", function()
      local status, body = call(router, "GET", "/" .. TENANT .. "/v2.0/.well-known/openid-configuration")
      assert.equal(200, status)
      assert.equal(BASE .. "/" .. TENANT .. "/oauth2/v2.0/token", body.token_endpoint)
      status, body = call(router, "GET", "/" .. NO_TENANT .. "/v2.0/.well-known/openid-configuration")
      assert.same({ 400, "invalid_tenant" }, { status, body.error })
      status, body = call(router, "GET", "/common/discovery/instance?api-version=1.1&authorization_endpoint=" ..
        "https://login.microsoftonline.com/" .. TENANT .. "/oauth2/v2.0/authorize")
      assert.equal(200, status)
      assert.equal(BASE .. "/" .. TENANT .. "/v2.0/.well-known/openid-configuration", body.tenant_discovery_endpoint)
      assert.same({ "127.0.0.1:8443" }, body.metadata[1].aliases)
      status, body = call(router, "GET", "/" .. TENANT .. "/discovery/v2.0/keys")
      assert.equal(200, status)
      local token = idp:mint{ client_id = APP }
      local kid = cjson.decode(jwt.b64url_decode(token:match("^[^.]+"))).kid
      assert.equal(kid, body.keys[1].kid)
      assert.equal("AQAB", body.keys[1].e)
    end)
  end)

  describe("managed identity endpoints", function()
    local RES = "https://management.azure.com/"
    local function imds(query, headers)
      return call(router, "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" .. RES ..
        (query or ""), { headers = headers or { metadata = "true" } })
    end

    it("requires the Metadata header", function()
      local status, body = imds("", {})
      assert.equal(400, status)
      assert.same({ error = "invalid_request", error_description = "Required metadata header not specified" }, body)
    end)

    it("answers for the system-assigned identity with string fields", function()
      local status, body = imds()
      assert.equal(200, status)
      assert.equal(SYS_MI, body.client_id)
      assert.same({ "Bearer", RES, "86399", "86399", tostring(T0 + 86399), tostring(T0) },
        { body.token_type, body.resource, body.expires_in, body.ext_expires_in, body.expires_on, body.not_before })
      for k, v in pairs(body) do assert.equal("string", type(v), k) end
      assert.equal(SYS_MI_OID, idp:verify("Bearer " .. body.access_token).oid)
    end)

    it("selects a user-assigned identity by client_id, object_id or msi_res_id", function()
      for _, q in ipairs{ "&client_id=" .. UA_MI, "&object_id=" .. UA_MI_OID, "&msi_res_id=" .. UA_MI_RES } do
        local status, body = imds(q)
        assert.equal(200, status, q)
        assert.equal(UA_MI, body.client_id)
        assert.equal(UA_MI_OID, idp:verify("Bearer " .. body.access_token).oid)
      end
      local status, body = imds("&client_id=12345678-1234-4234-8234-123456789012")
      assert.equal(400, status)
      assert.same({ error = "invalid_request", error_description = "Identity not found" }, body)
    end)

    it("needs a resource it knows", function()
      local status, body = call(router, "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01",
        { headers = { metadata = "true" } })
      assert.same({ 400, "invalid_request" }, { status, body.error })
      status = call(router, "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01" ..
        "&resource=https://vault.azure.net", { headers = { metadata = "true" } })
      assert.equal(400, status)
    end)

    it("serves the App Service endpoint behind X-IDENTITY-HEADER", function()
      local target = "/msi/token?api-version=2019-08-01&resource=" .. RES
      local status, body = call(router, "GET", target, { headers = { ["x-identity-header"] = idp.identity_header } })
      assert.equal(200, status)
      assert.same({ SYS_MI, tostring(T0 + 86399), "Bearer" }, { body.client_id, body.expires_on, body.token_type })
      local res
      status, body, res = call(router, "GET", target, { headers = { ["x-identity-header"] = "guess" } })
      assert.equal(400, status)
      assert.is_nil(res.body:find(idp.identity_header, 1, true))
      assert.equal(400, (call(router, "GET", target, { headers = {} })))
    end)
  end)

  describe("verify()", function()
    it("names a missing or malformed Authorization header", function()
      local p, code, msg = idp:verify(nil)
      assert.same({ nil, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing." },
        { p, code, msg })
      p, code = idp:verify("Basic dXNlcjpwYXNz")
      assert.same({ nil, "AuthenticationFailed" }, { p, code })
      p, code = idp:verify("Bearer not.a.jwt")
      assert.same({ nil, "InvalidAuthenticationToken" }, { p, code })
    end)

    it("accepts a valid token on every call, then reports expiry by the clock", function()
      local token = idp:mint{ client_id = APP, expires_in = 60 }
      for _ = 1, 3 do assert.equal(APP_OID, idp:verify("Bearer " .. token).oid) end
      clock:advance(61)
      local p, code, msg = idp:verify("Bearer " .. token)
      assert.is_nil(p)
      assert.equal("ExpiredAuthenticationToken", code)
      assert.matches("^The access token expiry UTC time '.- [AP]M' is earlier than current UTC time", msg)
      assert.is_nil(msg:find(token, 1, true))
    end)

    it("rejects tampered tokens, foreign signatures and wrong audiences", function()
      local token = idp:mint{ client_id = APP }
      local p, code, msg = idp:verify("Bearer " .. tamper(token))
      assert.same({ nil, "InvalidAuthenticationToken" }, { p, code })
      assert.is_nil(msg:find(token:match("^[^.]+%.[^.]+"), 1, true))
      -- same claims, signed by a key the emulator does not own
      local h64, c64 = token:match("^([^.]+)%.([^.]+)")
      local claims = cjson.decode(jwt.b64url_decode(c64))
      local forged = sign_jwt(cjson.decode(jwt.b64url_decode(h64)), claims, other_key)
      assert.equal("InvalidAuthenticationToken", select(2, idp:verify("Bearer " .. forged)))
      -- a payload edited under the original signature
      claims.oid = "00000000-0000-0000-0000-000000000000"
      local edited = h64 .. "." .. b64url(cjson.encode(claims)) .. "." .. token:match("[^.]+$")
      assert.is_nil(idp:verify("Bearer " .. edited))
      -- a token for another resource, and a federated token, are not ARM tokens
      p, code, msg = idp:verify("Bearer " .. idp:mint{ client_id = APP, audience = "https://vault.azure.net" })
      assert.same({ nil, "InvalidAuthenticationToken" }, { p, code })
      assert.matches("wrong audience or resource 'https://vault.azure.net'", msg)
      assert.is_nil(idp:verify("Bearer " .. idp:mint_federated{ issuer = FED_ISSUER, subject = FED_SUBJECT }))
    end)

    it("stays correct when the cache turns over", function()
      local saved = identity.CACHE_GENERATION
      identity.CACHE_GENERATION = 2
      local tokens = {}
      for i = 1, 7 do tokens[i] = idp:mint{ client_id = APP, expires_in = 100 * i } end
      for _ = 1, 3 do
        for i = 1, 7 do assert.truthy(idp:verify("Bearer " .. tokens[i])) end
      end
      clock:advance(350)
      for i = 1, 7 do assert.equal(i > 3, idp:verify("Bearer " .. tokens[i]) ~= nil) end
      identity.CACHE_GENERATION = saved
    end)

    it("is cheap for a token seen before", function()
      local header = "Bearer " .. idp:mint{ client_id = APP }
      local started = os.clock()
      for _ = 1, 20000 do assert(idp:verify(header)) end
      -- well above 2000 verifications a second, with room for slow CI
      assert.is_true(os.clock() - started < 2)
    end)

    it("mints for known tenants only", function()
      local token, err = idp:mint{ client_id = APP, tenant = "nowhere" }
      assert.is_nil(token)
      assert.matches("unknown tenant", err)
      assert.equal(OTHER_TENANT, idp:verify("Bearer " .. idp:mint{ client_id = APP, tenant = "other" }).tid)
    end)
  end)

  describe("ARM subscriptions and tenants", function()
    it("marks its ARM routes for authentication", function()
      for _, r in ipairs(idp:routes()) do
        assert.equal(r.path:match("^/subscriptions") ~= nil or r.path == "/tenants", r.arm == true, r.path)
      end
    end)

    it("lists the caller's subscriptions in ARM's shape", function()
      local status, body = call(router, "GET", "/subscriptions?api-version=2019-11-01",
        { principal = { tid = TENANT } })
      assert.equal(200, status)
      assert.equal(1, #body.value)
      assert.same({
        id = "/subscriptions/" .. SUB, subscriptionId = SUB, tenantId = TENANT,
        displayName = "azrp-emulator-subscription", state = "Enabled",
        subscriptionPolicies = { locationPlacementId = "Public_2014-09-01",
          quotaId = "PayAsYouGo_2014-09-01", spendingLimit = "Off" },
        authorizationSource = "RoleBased" }, body.value[1])
      status, body = call(router, "GET", "/subscriptions?api-version=2019-11-01")
      assert.equal(2, #body.value)
    end)

    it("gets one subscription, or 404 SubscriptionNotFound", function()
      local status, body = call(router, "GET", "/subscriptions/" .. SUB:upper() .. "?api-version=2022-12-01")
      assert.same({ 200, SUB }, { status, body.subscriptionId })
      status, body = call(router, "GET", "/subscriptions/12345678-1234-4234-8234-123456789012?api-version=2022-12-01")
      assert.same({ 404, "SubscriptionNotFound" }, { status, body.error.code })
    end)

    it("lists tenants", function()
      local status, body = call(router, "GET", "/tenants?api-version=2022-12-01")
      assert.equal(200, status)
      assert.equal(TENANT, body.value[1].tenantId)
    end)
  end)

  describe("secrets", function()
    it("keeps them out of the object, tostring and error bodies", function()
      assert.equal("azrp.emulator.identity", tostring(idp))
      -- walk everything reachable from the object
      local seen = {}
      local function walk(v)
        if type(v) == "string" then
          assert.is_nil(v:find(SECRET, 1, true))
          assert.is_nil(v:find("PRIVATE KEY", 1, true))
        elseif type(v) == "table" and not seen[v] then
          seen[v] = true
          for k, x in pairs(v) do walk(k); walk(x) end
        end
      end
      walk(idp)
      local status, _, res = call(router, "POST", token_path(), { form = secret_form{ scope = "bad" } })
      assert.equal(400, status)
      assert.is_nil(res.body:find(SECRET, 1, true))
    end)
  end)
end)
