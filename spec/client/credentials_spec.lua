-- Every credential kind against the emulator's identity endpoints (Entra ID
-- v2.0 token endpoint, IMDS, App Service), each then used by a client to
-- GET vm-app-01, so ARM's own token check proves the token good; plus the
-- client's token cache sharing and refresh before expiry.
--
-- Fixtures (RSA certificates and keys from the openssl command, a seed
-- with the apps that trust them, federated token files, a fake `az`) are
-- made at test time in a temporary directory, removed at the end.
local C = require "support.client"
local azrp = require "azrp"
local core = azrp.core
local json = require "cjson.safe"
local entra = require "azrp.credentials.entra"

local SCOPE = "https://management.azure.com/.default"
local CERT_APP = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"        -- trusts cert 1
local OTHER_CERT_APP = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"  -- trusts cert 2 only
local FED_APP = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"         -- trusts ISSUER/SUBJECT
local SYSTEM_MI = "44444444-4444-4444-8444-444444444444"
local SYSTEM_MI_OID = "55555555-5555-4555-8555-555555555555"
local USER_MI = "66666666-6666-4666-8666-666666666666"
local USER_MI_OID = "77777777-7777-4777-8777-777777777777"
local USER_MI_RES = "/subscriptions/" .. C.SUB ..
  "/resourceGroups/rg-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-azrp"
local ISSUER = "https://oidc.aks.test/issuer/0f3c"
local SUBJECT = "system:serviceaccount:backup:azrp"
local EXCHANGE = "api://AzureADTokenExchange"
local PASSWORD = "p@ss phrase 'with' \"quotes\""
local WRONG_SECRET = "WRONG-secret-Value-42"

----------------------------------------------------------------------------
-- Helpers
----------------------------------------------------------------------------

local shell = require "support.shell"
local sh, capture = shell.sh, shell.capture

local files = require "support.files"
local tmp = require "support.tmp"
local write = files.write
local function read(path) return assert(files.read(path)) end

-- base64url (and standard base64) decoding without bit operators, for
-- Lua 5.4 and LuaJIT alike.
local B64 = {}
do
  local a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
  for i = 1, #a do B64[a:sub(i, i)] = i - 1 end
  B64["-"], B64["_"], B64["+"], B64["/"] = 62, 63, 62, 63
end
local function b64decode(s)
  s = s:gsub("=", "")
  local out, acc, bits = {}, 0, 0
  for i = 1, #s do
    local v = assert(B64[s:sub(i, i)], "bad base64")
    acc, bits = acc * 64 + v, bits + 6
    if bits >= 8 then
      bits = bits - 8
      local p = 2 ^ bits
      local byte = math.floor(acc / p)
      out[#out + 1] = string.char(byte)
      acc = acc - byte * p
    end
  end
  return table.concat(out)
end

-- A compact JWT -> header, claims, signing input, signature bytes.
local function jwt(token)
  local h, c, s = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
  assert(h, "not a compact JWT")
  return json.decode(b64decode(h)), json.decode(b64decode(c)), h .. "." .. c, b64decode(s)
end

local function from_hex(hex)
  return (hex:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

local function form(body)
  local t = {}
  for k, v in body:gmatch("([^&=]+)=([^&]*)") do
    t[k] = (v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
  end
  return t
end

-- A credential that records every request inner makes (and how often it
-- is asked for a token).
local function recording(inner)
  local rec = { requests = {}, calls = 0 }
  rec.credential = { get_token = function(_, scope, http)
    rec.calls = rec.calls + 1
    return inner:get_token(scope, function(req)
      rec.requests[#rec.requests + 1] = req
      return http(req)
    end)
  end }
  return rec
end

-- Runs fn with entra.REFRESH_MARGIN set to margin (a margin longer than
-- a token's life makes every credential cache miss), restoring it after.
local function with_margin(margin, fn)
  local old = entra.REFRESH_MARGIN
  entra.REFRESH_MARGIN = margin
  local ok, err = pcall(fn)
  entra.REFRESH_MARGIN = old
  if not ok then error(err, 0) end
end

local function has_value(t, needle)
  for _, v in pairs(t) do
    if type(v) == "string" and v:find(needle, 1, true) then return true end
  end
  return false
end

----------------------------------------------------------------------------

describe("azrp.credentials against the emulator", function()
  local em, plain, dir, http
  local fp = {}      -- certificate thumbprints as openssl computes them
  local F = {}       -- fixture paths

  local function count(op)
    local c = C.counters(em)
    return c and c.operations and c.operations[op] or 0
  end
  local function reset() C.admin(em, "POST", "/_emulator/counters/reset") end

  -- A client with this credential reads vm-app-01; returns vm, err.
  local function get_vm(credential, opts)
    local o = { credential = credential }
    for k, v in pairs(opts or {}) do o[k] = v end
    local client = C.client(em, o)
    local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
    client:close()
    return vm, err
  end

  local function assert_vm(credential, opts)
    local vm, err = get_vm(credential, opts)
    assert.is_table(vm, tostring(err))
    assert.are.equal("vm-app-01", vm.name)
    assert.are.equal(C.VM_ID, vm.id)
  end

  local function mint(body)
    local status, res = C.admin(em, "POST", "/_emulator/tokens", body or {})
    assert.are.equal(200, status)
    return res.access_token
  end

  local function federated(args)
    local status, res = C.admin(em, "POST", "/_emulator/federated-tokens", args)
    assert.are.equal(200, status, json.encode(res))
    return res.token
  end

  local function cert_cred(opts)
    local o = { tenant_id = C.TENANT, client_id = CERT_APP, authority_host = em.url,
      certificate_path = F.cert1, private_key_path = F.key1 }
    for k, v in pairs(opts or {}) do
      if v == false then o[k] = nil else o[k] = v end   -- false: leave the option out
    end
    return azrp.credentials.client_certificate(o)
  end

  local function secret_cred(secret, client_id)
    return azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = client_id or C.CLIENT_ID,
      client_secret = secret or C.SECRET, authority_host = em.url }
  end

  setup(function()
    dir = tmp.dir()
    for _, n in ipairs({ "1", "2" }) do
      F["cert" .. n], F["key" .. n] = dir .. "/cert" .. n .. ".pem", dir .. "/key" .. n .. ".pem"
      sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 " ..
        "-subj /CN=azrp-spec-%s >/dev/null 2>&1", F["key" .. n], F["cert" .. n], n))
    end
    F.pw = dir .. "/pw.txt"
    write(F.pw, PASSWORD)
    F.key1_enc = dir .. "/key1.enc.pem"      -- PKCS#8, encrypted
    sh(string.format("openssl pkey -in %s -aes-256-cbc -passout file:%s -out %s 2>/dev/null", F.key1, F.pw, F.key1_enc))
    F.key1_trad = dir .. "/key1.trad.pem"    -- "BEGIN RSA PRIVATE KEY" with Proc-Type: ENCRYPTED
    sh(string.format("openssl rsa -in %s -aes256 -traditional -passout file:%s -out %s 2>/dev/null",
      F.key1, F.pw, F.key1_trad))
    F.both = dir .. "/both.pem"              -- certificate and plain key in one file
    write(F.both, read(F.cert1) .. read(F.key1))
    F.both_enc = dir .. "/both.enc.pem"      -- certificate and encrypted key in one file
    write(F.both_enc, read(F.cert1) .. read(F.key1_enc))
    F.pub1 = dir .. "/pub1.pem"
    sh(string.format("openssl x509 -in %s -pubkey -noout > %s", F.cert1, F.pub1))
    for _, alg in ipairs({ "sha1", "sha256" }) do
      local out = capture(string.format("openssl x509 -in %s -noout -fingerprint -%s", F.cert1, alg))
      fp[alg] = core.base64url(from_hex((out:match("=([%x:]+)"):gsub(":", ""))))
    end
    fp.der_b64 = capture(string.format("openssl x509 -in %s -outform DER | base64 -w0", F.cert1))

    -- The default fleet plus apps that authenticate with certificates and
    -- federated tokens.
    local seed = require("support.seed").demo()
    assert.is_table(seed)
    table.insert(seed.apps, { client_id = CERT_APP, tenant = C.TENANT, certificate = read(F.cert1) })
    table.insert(seed.apps, { client_id = OTHER_CERT_APP, tenant = C.TENANT, certificate = read(F.cert2) })
    table.insert(seed.apps, { client_id = FED_APP, tenant = C.TENANT,
      federated = { { issuer = ISSUER, subject = SUBJECT, audience = EXCHANGE } } })
    F.seed = dir .. "/seed.json"
    write(F.seed, json.encode(seed))
    em = C.start("--http-port 0 --seed " .. F.seed)
    assert.is_string(em.http_url)
    plain = C.client(em)
    -- A blocking http(req) for calling get_token directly.
    http = function(req) return plain:request(req):wait() end
  end)

  teardown(function()
    if plain then plain:close() end
    if em then em.stop() end
    tmp.remove(dir)
  end)

  --------------------------------------------------------------------------
  describe("static", function()
    it("a token minted by the emulator lets a client read the VM", function()
      local token = mint()
      local cred = azrp.credentials.static{ token = token, expires_on = math.floor(core.wall()) + 3600 }
      assert.are.equal("static", cred.kind)
      assert.is_nil(tostring(cred):find(token, 1, true))
      local t, exp = cred:get_token(SCOPE)
      assert.are.equal(token, t)
      assert.is_true(exp > core.wall() + 3500)
      assert_vm(cred)
      -- Without expires_on it never expires.
      assert_vm(azrp.credentials.static{ token = token })
    end)

    it("an expired token fails with TokenExpired before anything is sent", function()
      local cred = azrp.credentials.static{ token = mint(), expires_on = math.floor(core.wall()) - 10 }
      local t, err = cred:get_token(SCOPE)
      assert.is_nil(t)
      assert.are.equal("TokenExpired", err.code)
      assert.are.equal("auth", err.kind)
      reset()
      local vm, verr = get_vm(cred)
      assert.is_nil(vm)
      assert.are.equal("auth", verr.kind)
      assert.matches("expired", verr.message)
      assert.are.equal(0, count("VirtualMachines_Get"))
    end)

    it("a token ARM refuses is asked for once more, then the 401 is returned", function()
      local rec = recording(azrp.credentials.static{ token = "not-a-jwt" })
      local vm, err = get_vm(rec.credential)
      assert.is_nil(vm)
      assert.are.equal(401, err.status)
      assert.are.equal("InvalidAuthenticationToken", err.code)
      assert.are.equal(2, rec.calls)
    end)

    it("raises for bad options", function()
      assert.has_error(function() azrp.credentials.static{} end)
      assert.has_error(function() azrp.credentials.static{ token = "" } end)
      assert.has_error(function() azrp.credentials.static("tok") end)
    end)
  end)

  --------------------------------------------------------------------------
  describe("client_secret", function()
    it("gets a v2.0 token for the app and the client reads the VM", function()
      local cred = secret_cred()
      assert.are.equal("client_secret", cred.kind)
      reset()
      local rec = recording(cred)
      local t, exp = rec.credential:get_token(SCOPE, http)
      assert.is_string(t, tostring(exp))
      local _, claims = jwt(t)
      assert.are.equal(C.CLIENT_ID, claims.appid)
      assert.are.equal("1", claims.appidacr)
      assert.are.equal(C.TENANT, claims.tid)
      assert.are.equal("https://management.azure.com/", claims.aud)
      assert.is_true(math.abs(exp - claims.exp) <= 5, "expires_on from expires_in")
      local req = rec.requests[1]
      assert.are.equal("POST", req.method)
      assert.are.equal(em.url .. "/" .. C.TENANT .. "/oauth2/v2.0/token", req.url)
      local f = form(req.body)
      assert.are.same({ grant_type = "client_credentials", client_id = C.CLIENT_ID, client_secret = C.SECRET,
        scope = SCOPE }, f)
      assert.are.equal(1, count("Entra_Token"))
      assert_vm(cred)
      assert.are.equal(1, count("Entra_Token"))   -- the credential's cache served the client
    end)

    it("a wrong secret is invalid_client (401), and no message holds the secret", function()
      local cred = secret_cred(WRONG_SECRET)
      local t, err = cred:get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("invalid_client", err.code)
      assert.are.equal(401, err.status)
      assert.are.equal("auth", err.kind)
      assert.is_false(err.retryable)
      assert.matches("AADSTS7000215", err.message)
      assert.is_nil(err.message:find(WRONG_SECRET, 1, true))
      assert.is_nil(tostring(err):find(WRONG_SECRET, 1, true))
      assert.is_nil(err.message:find("Trace ID", 1, true))   -- the first line only
      local vm, verr = get_vm(cred)
      assert.is_nil(vm)
      assert.are.equal("auth", verr.kind)
      assert.are.equal("invalid_client", verr.code)     -- the credential's error reaches the operation
      assert.are.equal(401, verr.status)
      assert.matches("AADSTS7000215", verr.message)
      assert.is_nil(tostring(verr):find(WRONG_SECRET, 1, true))
    end)

    it("an unknown tenant or client is refused with Entra's codes", function()
      local cred = azrp.credentials.client_secret{ tenant_id = "99999999-9999-4999-8999-999999999999",
        client_id = C.CLIENT_ID, client_secret = C.SECRET, authority_host = em.url }
      local t, err = cred:get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("invalid_request", err.code)
      assert.matches("AADSTS90002", err.message)
      t, err = secret_cred(C.SECRET, "99999999-0000-4000-8000-000000000000"):get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("unauthorized_client", err.code)
      assert.matches("AADSTS700016", err.message)
    end)

    it("keeps the secret out of fields and tostring; raises for missing options", function()
      local cred = secret_cred("s3cr3t-value-xyz")
      assert.is_false(has_value(cred, "s3cr3t-value-xyz"))
      assert.is_nil(tostring(cred):find("s3cr3t", 1, true))
      assert.matches(C.CLIENT_ID, tostring(cred), 1, true)
      assert.has_error(function() azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = C.CLIENT_ID } end,
        "credentials.client_secret: option 'client_secret' is required")
      assert.has_error(function() azrp.credentials.client_secret() end)
    end)
  end)

  describe("authority_host over plain http", function()
    local function secret(host, allow_http)
      local cred = azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = C.CLIENT_ID,
        client_secret = "s3cr3t-value-xyz", authority_host = host, allow_http = allow_http }
      return cred   -- not a tail call, so that the error names this line
    end

    it("refuses an http authority that is not loopback, even with allow_http, before any request", function()
      for _, host in ipairs{ "http://login.example.com", "http://192.0.2.2:8080", "HTTP://10.0.0.1" } do
        local ok, err = pcall(secret, host, true)
        assert.is_false(ok)
        assert.matches("credentials.client_secret: authority_host (or AZURE_AUTHORITY_HOST) is plain http", err, 1, true)
        assert.is_nil(err:find("s3cr3t", 1, true))
        assert.is_false(pcall(secret, host))
      end
    end)

    it("refuses loopback http without allow_http, takes it with allow_http", function()
      for _, host in ipairs{ "http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1" } do
        assert.has_error(function() secret(host) end)
        assert.is_truthy(secret(host, true))
      end
    end)

    it("refuses user-info that would hide the real host, other schemes and non-strings", function()
      local function raises(host, what)
        local ok, err = pcall(secret, host, true)
        assert.is_false(ok)
        assert.matches(what, err, 1, true)
      end
      raises("http://127.0.0.1@192.0.2.2", "must not carry user-info")
      raises("https://localhost:x@login.example.com", "must not carry user-info")
      raises("ftp://login.example.com", "must be an https URL")
      raises("login.microsoftonline.com", "must be an https URL")
      raises(42, "must be a string")
    end)

    it("checks AZURE_AUTHORITY_HOST from the environment credential, and the certificate and workload credentials", function()
      local env = { AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = C.CLIENT_ID, AZURE_CLIENT_SECRET = "s3cr3t-value-xyz",
        AZURE_AUTHORITY_HOST = "http://login.example.com" }
      local ok, err = pcall(azrp.credentials.environment, { env = function(k) return env[k] end })
      assert.is_false(ok)
      assert.matches("plain http", err, 1, true)
      assert.has_error(function()
        azrp.credentials.client_certificate{ tenant_id = C.TENANT, client_id = CERT_APP,
          certificate_path = F.both, authority_host = "http://login.example.com", allow_http = true }
      end)
      assert.has_error(function()
        azrp.credentials.workload_identity{ tenant_id = C.TENANT, client_id = C.CLIENT_ID,
          token_file = "/nonexistent", authority_host = "http://login.example.com", allow_http = true }
      end)
    end)

    it("points the error at the caller's line", function()
      local ok, err = pcall(secret, "http://login.example.com")
      assert.is_false(ok)
      assert.matches("credentials_spec.lua", err, 1, true)
    end)
  end)

  --------------------------------------------------------------------------
  describe("client_certificate", function()
    -- Checks one recorded token request: form, JWT header and claims, and
    -- the signature with openssl against the certificate's public key.
    local function check_assertion(req, alg, client_id)
      local f = form(req.body)
      assert.are.equal("client_credentials", f.grant_type)
      assert.are.equal(client_id or CERT_APP, f.client_id)
      assert.are.equal("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.client_assertion_type)
      assert.are.equal(SCOPE, f.scope)
      assert.is_nil(f.client_secret)
      local h, c, input, sig = jwt(f.client_assertion)
      assert.are.equal(alg, h.alg)
      assert.are.equal("JWT", h.typ)
      if alg == "PS256" then
        assert.are.equal(fp.sha256, h["x5t#S256"])
        assert.is_nil(h.x5t)
      else
        assert.are.equal(fp.sha1, h.x5t)
        assert.is_nil(h["x5t#S256"])
      end
      assert.are.equal(em.url .. "/" .. C.TENANT .. "/oauth2/v2.0/token", c.aud)
      assert.are.equal(client_id or CERT_APP, c.iss)
      assert.are.equal(client_id or CERT_APP, c.sub)
      assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", c.jti)
      assert.are.equal(600, c.exp - c.nbf)
      assert.is_true(math.abs(c.nbf - core.wall()) < 60)
      -- An independent check: openssl verifies the signature (PSS: salt = 32).
      write(dir .. "/input", input)
      write(dir .. "/sig", sig)
      local opts = alg == "PS256" and "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 " or ""
      local out = capture(string.format("openssl dgst -sha256 %s-verify %s -signature %s/sig %s/input 2>&1",
        opts, F.pub1, dir, dir))
      assert.matches("Verified OK", out)
      return h, c
    end

    for _, alg in ipairs({ "PS256", "RS256" }) do
      it(alg .. ": the emulator checks signature, thumbprint, aud and exp; the client reads the VM", function()
        local cred = cert_cred{ alg = alg ~= "PS256" and alg or nil }   -- PS256 is the default
        assert.are.equal("client_certificate", cred.kind)
        local rec = recording(cred)
        reset()
        assert_vm(rec.credential)
        assert.are.equal(1, #rec.requests)
        assert.are.equal(1, count("Entra_Token"))
        check_assertion(rec.requests[1], alg)
        local t = cred:get_token(SCOPE, http)   -- cached
        local _, claims = jwt(t)
        assert.are.equal(CERT_APP, claims.appid)
        assert.are.equal("2", claims.appidacr)
        assert.are.equal(1, count("Entra_Token"))
      end)

      it(alg .. ": a certificate the app does not trust is invalid_client (AADSTS700027)", function()
        local cred = cert_cred{ client_id = OTHER_CERT_APP, alg = alg }
        local t, err = cred:get_token(SCOPE, http)
        assert.is_nil(t)
        assert.are.equal("invalid_client", err.code)
        assert.are.equal(401, err.status)
        assert.matches("AADSTS700027", err.message)
        assert.matches("not registered", err.message)
        local vm, verr = get_vm(cred)
        assert.is_nil(vm)
        assert.are.equal("auth", verr.kind)
        assert.matches("AADSTS700027", verr.message)
      end)
    end

    it("an app with no certificate credential refuses assertions", function()
      local t, err = cert_cred{ client_id = C.CLIENT_ID }:get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("invalid_client", err.code)
      assert.matches("no certificate credential", err.message)
    end)

    it("sends the certificate (x5c) when asked", function()
      local rec = recording(cert_cred{ send_certificate_chain = true })
      assert_vm(rec.credential)
      local h = check_assertion(rec.requests[1], "PS256")
      assert.are.same({ fp.der_b64 }, h.x5c)
    end)

    it("signs a new assertion (new jti) for each token request", function()
      local rec = recording(cert_cred())
      with_margin(1e6, function()
        for _ = 1, 3 do
          local t, err = rec.credential:get_token(SCOPE, http)
          assert.is_string(t, tostring(err))   -- a replayed jti would be refused
        end
      end)
      assert.are.equal(3, #rec.requests)
      local seen = {}
      for _, req in ipairs(rec.requests) do
        local _, c = jwt(form(req.body).client_assertion)
        assert.is_nil(seen[c.jti])
        seen[c.jti] = true
      end
    end)

    it("takes the PEM text itself, and one PEM holding both certificate and key", function()
      assert_vm(cert_cred{ certificate_path = false, private_key_path = false,
        certificate = read(F.cert1), private_key = read(F.key1) })
      assert_vm(cert_cred{ certificate_path = F.both, private_key_path = false })
    end)

    it("decrypts an encrypted key (PKCS#8 and traditional) with the password", function()
      local rec = recording(cert_cred{ private_key_path = F.key1_enc, password = PASSWORD })
      assert_vm(rec.credential)
      check_assertion(rec.requests[1], "PS256")
      assert_vm(cert_cred{ private_key_path = F.key1_trad, password = PASSWORD, alg = "RS256" })
      assert_vm(cert_cred{ certificate_path = F.both_enc, private_key_path = false, password = PASSWORD })
    end)

    it("raises naming the problem for a missing or wrong password, without the password", function()
      local ok, err = pcall(cert_cred, { private_key_path = F.key1_enc })
      assert.is_false(ok)
      assert.matches("encrypted and no passphrase", err)
      ok, err = pcall(cert_cred, { private_key_path = F.key1_enc, password = "not " .. PASSWORD })
      assert.is_false(ok)
      assert.matches("wrong passphrase", err)
      assert.is_nil(err:find(PASSWORD, 1, true))
      ok, err = pcall(cert_cred, { private_key_path = F.key1_trad, password = "nope" })
      assert.is_false(ok)
      assert.matches("wrong passphrase", err)
    end)

    it("raises for a key that is not the certificate's, bad files and options", function()
      local ok, err = pcall(cert_cred, { private_key_path = F.key2 })
      assert.is_false(ok)
      assert.matches("credentials.client_certificate: the private key does not match the certificate", err, 1, true)
      assert.has_error(function() cert_cred{ private_key_path = false, certificate_path = F.cert1 } end)
      assert.has_error(function() cert_cred{ certificate_path = dir .. "/missing.pem" } end)
      assert.has_error(function() cert_cred{ certificate_path = F.key1 } end)   -- no certificate in it
      assert.has_error(function() cert_cred{ alg = "ES256" } end,
        "credentials.client_certificate: alg must be PS256 or RS256")
      assert.has_error(function() cert_cred{ client_id = "" } end)
    end)

    it("shows no key material in tostring or fields", function()
      local cred = cert_cred{ private_key_path = F.key1_enc, password = PASSWORD }
      local key_body = read(F.key1):match("KEY%-%-%-%-%-\n(.-)\n")
      assert.is_false(has_value(cred, key_body))
      assert.is_false(has_value(cred, PASSWORD))
      assert.is_nil(tostring(cred):find("BEGIN", 1, true))
      assert.matches(CERT_APP, tostring(cred), 1, true)
    end)
  end)

  --------------------------------------------------------------------------
  describe("workload_identity", function()
    local function wi(file)
      return azrp.credentials.workload_identity{ tenant_id = C.TENANT, client_id = FED_APP, token_file = file,
        authority_host = em.url }
    end

    it("exchanges the federated token file for an access token; the client reads the VM", function()
      local file = dir .. "/wi-token"
      local fed = federated{ issuer = ISSUER, subject = SUBJECT, audience = EXCHANGE }
      write(file, fed .. "\n")    -- a trailing newline, as kubelet may write
      local rec = recording(wi(file))
      reset()
      assert_vm(rec.credential)
      assert.are.equal(1, count("Entra_Token"))
      local f = form(rec.requests[1].body)
      assert.are.equal(fed, f.client_assertion)
      assert.are.equal("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.client_assertion_type)
      assert.are.equal(FED_APP, f.client_id)
      assert.are.equal(SCOPE, f.scope)
      assert.are.equal("workload_identity", wi(file).kind)
    end)

    it("reads the file again at each token request (rotation)", function()
      local file = dir .. "/wi-rotate"
      local first = federated{ issuer = ISSUER, subject = SUBJECT }
      write(file, first)
      local rec = recording(wi(file))
      local t1, err = rec.credential:get_token(SCOPE, http)
      assert.is_string(t1, tostring(err))
      -- Rotated to a token the app does not trust: while cached, nothing is
      -- asked; past the cache, the new file is sent and refused.
      write(file, federated{ issuer = ISSUER, subject = "system:serviceaccount:other:sa" })
      assert.are.equal(t1, (rec.credential:get_token(SCOPE, http)))
      assert.are.equal(1, #rec.requests)
      with_margin(1e6, function()
        local t, ferr = rec.credential:get_token(SCOPE, http)
        assert.is_nil(t)
        assert.are.equal("invalid_client", ferr.code)
        assert.matches("AADSTS70021", ferr.message)
        assert.matches("system:serviceaccount:other:sa", ferr.message, 1, true)
        -- Rotated again to a good token: it is the one sent, and it works.
        local second = federated{ issuer = ISSUER, subject = SUBJECT, expires_in = 7200 }
        assert.are_not.equal(first, second)
        write(file, second)
        local t2, serr = rec.credential:get_token(SCOPE, http)
        assert.is_string(t2, tostring(serr))
        assert.are_not.equal(t1, t2)
        assert.are.equal(second, form(rec.requests[#rec.requests].body).client_assertion)
      end)
      assert.are.equal(3, #rec.requests)
      -- A new credential on the rotated file works too, through a client.
      assert_vm(wi(file))
    end)

    it("a token from an untrusted issuer, subject or audience is invalid_client (AADSTS70021)", function()
      local file = dir .. "/wi-bad"
      for _, args in ipairs({
        { issuer = "https://evil.test", subject = SUBJECT },
        { issuer = ISSUER, subject = "system:serviceaccount:backup:other" },
        { issuer = ISSUER, subject = SUBJECT, audience = "api://SomethingElse" },
      }) do
        write(file, federated(args))
        local t, err = wi(file):get_token(SCOPE, http)
        assert.is_nil(t)
        assert.are.equal("invalid_client", err.code)
        assert.matches("AADSTS70021", err.message)
      end
      write(file, federated{ issuer = ISSUER, subject = SUBJECT })
      local t, err = azrp.credentials.workload_identity{ tenant_id = C.TENANT, client_id = C.CLIENT_ID,
        token_file = file, authority_host = em.url }:get_token(SCOPE, http)
      assert.is_nil(t)   -- the app without that federated credential
      assert.are.equal("invalid_client", err.code)
    end)

    it("a missing or empty token file is CredentialUnavailable, and nothing is sent", function()
      reset()
      local t, err = wi(dir .. "/no-such-file"):get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("CredentialUnavailable", err.code)
      assert.matches("cannot read the token file", err.message)
      write(dir .. "/wi-empty", "\n")
      t, err = wi(dir .. "/wi-empty"):get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("CredentialUnavailable", err.code)
      assert.matches("empty", err.message)
      assert.are.equal(0, count("Entra_Token"))
      local vm, verr = get_vm(wi(dir .. "/no-such-file"))
      assert.is_nil(vm)
      assert.are.equal("auth", verr.kind)
    end)
  end)

  --------------------------------------------------------------------------
  describe("managed_identity (IMDS)", function()
    local function mi(opts)
      local o = { endpoint = em.http_url }
      for k, v in pairs(opts or {}) do o[k] = v end
      return azrp.credentials.managed_identity(o)
    end

    it("system-assigned: a token for the VM's identity; the client reads the VM", function()
      local rec = recording(mi())
      reset()
      local t, exp = rec.credential:get_token(SCOPE, http)
      assert.is_string(t, tostring(exp))
      local _, claims = jwt(t)
      assert.are.equal(SYSTEM_MI, claims.appid)
      assert.are.equal(SYSTEM_MI_OID, claims.oid)
      assert.are.equal(claims.exp, exp)   -- IMDS's expires_on
      local req = rec.requests[1]
      assert.are.equal("GET", req.method)
      assert.are.equal("true", req.headers.Metadata)
      assert.matches("^" .. em.http_url:gsub("%p", "%%%0") .. "/metadata/identity/oauth2/token%?", req.url)
      assert.matches("api-version=2018-02-01", req.url, 1, true)
      assert.matches("resource=https%3A%2F%2Fmanagement.azure.com%2F", req.url, 1, true)
      assert.are.equal(1, count("IMDS_Token"))
      assert_vm(mi())
      assert.are.equal(2, count("IMDS_Token"))
      assert.are.equal("managed_identity", mi().kind)
    end)

    it("user-assigned, chosen by client_id, object_id or resource_id", function()
      for _, o in ipairs({ { client_id = USER_MI }, { object_id = USER_MI_OID }, { resource_id = USER_MI_RES } }) do
        local cred = mi(o)
        local t, err = cred:get_token(SCOPE, http)
        assert.is_string(t, tostring(err))
        local _, claims = jwt(t)
        assert.are.equal(USER_MI, claims.appid)
        assert.are.equal(USER_MI_OID, claims.oid)
        assert.are.equal(USER_MI_RES, claims.xms_mirid)
      end
      assert_vm(mi{ client_id = USER_MI, endpoint = em.http_url .. "/" })   -- a trailing slash is fine
    end)

    it("an unknown client_id is an error (400 invalid_request)", function()
      local cred = mi{ client_id = "12345678-1234-4234-8234-123456789abc" }
      local t, err = cred:get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("invalid_request", err.code)
      assert.are.equal(400, err.status)
      assert.are.equal("auth", err.kind)
      assert.matches("Identity not found", err.message)
      local vm, verr = get_vm(cred)
      assert.is_nil(vm)
      assert.are.equal("auth", verr.kind)
      assert.matches("Identity not found", verr.message)
    end)

    it("off Azure (nothing listening) it fails fast with CredentialUnavailable", function()
      local cred = azrp.credentials.managed_identity{ endpoint = "http://127.0.0.1:1" }
      -- A client with the default retry policy, as a script off Azure has.
      local client = azrp.client{ endpoint = em.url, ca_file = em.ca_file, subscription_id = C.SUB, credential = cred }
      local t0 = core.now()
      local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      local took = core.now() - t0
      client:close()
      assert.is_nil(vm)
      assert.are.equal("auth", err.kind)
      assert.are.equal("CredentialUnavailable", err.code)
      assert.matches("no managed identity endpoint answered", err.message)
      assert.is_true(took < 3, "took " .. took .. " s")
      t0 = core.now()
      local t, derr = cred:get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("CredentialUnavailable", derr.code)
      assert.is_true(core.now() - t0 < 3)
    end)

    it("App Service style: GET identity_endpoint with X-IDENTITY-HEADER, whose value no error repeats", function()
      local header = "not-the-platform-header-0123"
      local rec = recording(azrp.credentials.managed_identity{ identity_endpoint = em.http_url .. "/msi/token",
        identity_header = header, client_id = USER_MI })
      reset()
      local t, err = rec.credential:get_token(SCOPE, http)
      -- The emulator's header secret is not known outside it: this proves
      -- the request shape and the error path.
      assert.is_nil(t)
      assert.are.equal("invalid_request", err.code)
      assert.are.equal(400, err.status)
      assert.matches("X%-IDENTITY%-HEADER", err.message)
      assert.is_nil(tostring(err):find(header, 1, true))
      assert.are.equal(1, count("AppService_Token"))
      assert.are.equal(0, count("IMDS_Token"))
      local req = rec.requests[1]
      assert.are.equal(header, req.headers["X-IDENTITY-HEADER"])
      assert.is_nil(req.headers.Metadata)
      assert.matches("api-version=2019-08-01", req.url, 1, true)
      assert.matches("client_id=" .. USER_MI, req.url, 1, true)
    end)
  end)

  --------------------------------------------------------------------------
  describe("environment", function()
    local function env_of(t) return function(k) return t[k] end end

    it("AZURE_CLIENT_SECRET: a client secret credential", function()
      local cred = azrp.credentials.environment{ env = env_of{ AZURE_TENANT_ID = C.TENANT,
        AZURE_CLIENT_ID = C.CLIENT_ID, AZURE_CLIENT_SECRET = C.SECRET }, authority_host = em.url }
      assert.are.equal("client_secret", cred.kind)
      assert_vm(cred)
    end)

    it("AZURE_CLIENT_CERTIFICATE_PATH (certificate and key in one PEM), with and without a password", function()
      local cred = azrp.credentials.environment{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = CERT_APP,
        AZURE_CLIENT_CERTIFICATE_PATH = F.both_enc, AZURE_CLIENT_CERTIFICATE_PASSWORD = PASSWORD },
        authority_host = em.url }
      assert.are.equal("client_certificate", cred.kind)
      assert_vm(cred)
      assert_vm(azrp.credentials.environment{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = CERT_APP,
        AZURE_CLIENT_CERTIFICATE_PATH = F.both }, authority_host = em.url })
    end)

    it("prefers the secret when both are set", function()
      local cred = azrp.credentials.environment{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = C.CLIENT_ID,
        AZURE_CLIENT_SECRET = C.SECRET, AZURE_CLIENT_CERTIFICATE_PATH = F.both }, authority_host = em.url }
      assert.are.equal("client_secret", cred.kind)
    end)

    it("returns nil and a reason when the variables describe no service principal", function()
      local cred, why = azrp.credentials.environment{ env = env_of{ AZURE_CLIENT_ID = C.CLIENT_ID,
        AZURE_CLIENT_SECRET = C.SECRET } }
      assert.is_nil(cred)
      assert.matches("AZURE_TENANT_ID", why)
      cred, why = azrp.credentials.environment{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = C.CLIENT_ID } }
      assert.is_nil(cred)
      assert.matches("AZURE_CLIENT_SECRET", why)
    end)
  end)

  --------------------------------------------------------------------------
  describe("chain and default", function()
    local function env_of(t) return function(k) return t[k] end end
    local function kinds(chain)
      local out = {}
      for i, c in ipairs(chain:credentials()) do out[i] = c.kind end
      return out
    end

    it("falls through failing entries to the first that works, and keeps it", function()
      local bad_secret = recording(secret_cred(WRONG_SECRET))
      local no_file = recording(azrp.credentials.workload_identity{ tenant_id = C.TENANT, client_id = FED_APP,
        token_file = dir .. "/absent", authority_host = em.url })
      local imds = recording(azrp.credentials.managed_identity{ endpoint = em.http_url, client_id = USER_MI })
      local never = recording(secret_cred())
      local chain = azrp.credentials.chain{ bad_secret.credential, no_file.credential, imds.credential, never.credential }
      assert.are.equal("chain", chain.kind)
      reset()
      assert_vm(chain)
      assert.are.same({ 1, 1, 1, 0 }, { bad_secret.calls, no_file.calls, imds.calls, never.calls })
      assert.are.equal(1, count("Entra_Token"))      -- the wrong secret's
      assert.are.equal(1, count("IMDS_Token"))
      -- Later tokens come from the one that worked, even past its cache.
      with_margin(1e6, function()
        local t, err = chain:get_token(SCOPE, http)
        assert.is_string(t, tostring(err))
        local _, claims = jwt(t)
        assert.are.equal(USER_MI, claims.appid)
      end)
      assert.are.same({ 1, 1, 2, 0 }, { bad_secret.calls, no_file.calls, imds.calls, never.calls })
      assert.are.equal(1, count("Entra_Token"))
      assert.are.equal(2, count("IMDS_Token"))
    end)

    it("when none works: CredentialUnavailable naming each reason, no secret", function()
      local chain = azrp.credentials.chain{ secret_cred(WRONG_SECRET),
        azrp.credentials.managed_identity{ endpoint = "http://127.0.0.1:1", timeout = 0.5 } }
      local t, err = chain:get_token(SCOPE, http)
      assert.is_nil(t)
      assert.are.equal("CredentialUnavailable", err.code)
      assert.are.equal("auth", err.kind)
      assert.matches("AADSTS7000215", err.message)
      assert.matches("no managed identity endpoint answered", err.message)
      assert.matches("client secret, client " .. C.CLIENT_ID, err.message, 1, true)
      assert.is_nil(tostring(err):find(WRONG_SECRET, 1, true))
      local vm, verr = get_vm(chain)
      assert.is_nil(vm)
      assert.are.equal("auth", verr.kind)
    end)

    it("raises for a list that is empty or holds a non-credential", function()
      assert.has_error(function() azrp.credentials.chain{} end)
      assert.has_error(function() azrp.credentials.chain{ secret_cred(), {} } end,
        "credentials.chain: entry 2 is not a credential")
    end)

    it("default: environment first; IMDS is not asked when it works", function()
      local cred = azrp.credentials.default{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = C.CLIENT_ID,
        AZURE_CLIENT_SECRET = C.SECRET }, authority_host = em.url, imds_endpoint = em.http_url, exclude_cli = true }
      assert.are.same({ "client_secret", "managed_identity" }, kinds(cred))
      reset()
      assert_vm(cred)
      assert.are.equal(1, count("Entra_Token"))
      assert.are.equal(0, count("IMDS_Token"))
    end)

    it("default: workload identity from AZURE_FEDERATED_TOKEN_FILE", function()
      local file = dir .. "/default-wi"
      write(file, federated{ issuer = ISSUER, subject = SUBJECT })
      local cred = azrp.credentials.default{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = FED_APP,
        AZURE_FEDERATED_TOKEN_FILE = file }, authority_host = em.url, imds_endpoint = em.http_url, exclude_cli = true }
      assert.are.same({ "workload_identity", "managed_identity" }, kinds(cred))
      reset()
      assert_vm(cred)
      assert.are.equal(1, count("Entra_Token"))
      assert.are.equal(0, count("IMDS_Token"))
    end)

    it("default: past a failing environment and workload identity to the user-assigned managed identity", function()
      local cred = azrp.credentials.default{ env = env_of{ AZURE_TENANT_ID = C.TENANT, AZURE_CLIENT_ID = USER_MI,
        AZURE_CLIENT_SECRET = WRONG_SECRET, AZURE_FEDERATED_TOKEN_FILE = dir .. "/absent" },
        authority_host = em.url, imds_endpoint = em.http_url, exclude_cli = true }
      assert.are.same({ "client_secret", "workload_identity", "managed_identity" }, kinds(cred))
      reset()
      assert_vm(cred)
      assert.are.equal(1, count("Entra_Token"))   -- the environment's attempt (no app 6666...)
      assert.are.equal(1, count("IMDS_Token"))
      with_margin(1e6, function() assert_vm(cred) end)
      assert.are.equal(1, count("Entra_Token"))
      assert.are.equal(2, count("IMDS_Token"))
    end)

    it("default: nothing configured and no IMDS fails fast", function()
      local cred = azrp.credentials.default{ env = env_of{}, authority_host = em.url,
        imds_endpoint = "http://127.0.0.1:1", exclude_cli = true }
      assert.are.same({ "managed_identity" }, kinds(cred))
      local client = azrp.client{ endpoint = em.url, ca_file = em.ca_file, subscription_id = C.SUB, credential = cred }
      local t0 = core.now()
      local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      local took = core.now() - t0
      client:close()
      assert.is_nil(vm)
      assert.are.equal("CredentialUnavailable", err.code)
      assert.is_true(took < 3, "took " .. took .. " s")
    end)

    it("default: the Azure CLI comes last unless excluded", function()
      local cred = azrp.credentials.default{ env = env_of{}, imds_endpoint = "http://127.0.0.1:1" }
      assert.are.same({ "managed_identity", "azure_cli" }, kinds(cred))
      cred = azrp.credentials.default{ env = env_of{}, exclude_managed_identity = true }
      assert.are.same({ "azure_cli" }, kinds(cred))
    end)
  end)

  --------------------------------------------------------------------------
  describe("azure_cli with the real Azure CLI signed in to the emulator", function()
    local run = shell.ok("command -v az >/dev/null 2>&1") and it or pending
    run("gets its token from the emulator's ADFS authority through 'az login'", function()
      local conf = dir .. "/az-config"
      sh("mkdir -p " .. conf)
      write(conf .. "/versionCheck.json",
        '{"versions": {}, "update_time": "2099-01-01 00:00:00.000000", "check_time": "2099-01-01 00:00:00.000000"}')
      local env = string.format("env AZURE_CONFIG_DIR=%s REQUESTS_CA_BUNDLE=%s AZURE_CORE_COLLECT_TELEMETRY=false " ..
        "AZURE_CORE_ONLY_SHOW_ERRORS=true", conf, em.ca_file)
      local function az(args)
        assert(shell.ok(env .. " az " .. args .. " >/dev/null 2>&1"), "az " .. args:gsub(C.SECRET, "***"))
      end
      az(string.format("cloud register -n azrp-emulator --endpoint-resource-manager %s/ " ..
        "--endpoint-active-directory %s/adfs --endpoint-active-directory-resource-id https://management.azure.com/ " ..
        "--endpoint-active-directory-graph-resource-id https://graph.windows.net/", em.url, em.url))
      az("cloud set -n azrp-emulator")
      az(string.format("login --service-principal -u %s -p %s --tenant %s", C.CLIENT_ID, C.SECRET, C.TENANT))
      local cred = azrp.credentials.azure_cli{ command = env .. " az" }
      local token, exp = cred:get_token(SCOPE)
      assert.is_string(token, tostring(exp))
      assert.is_true(exp > require("azrp.core").wall())
      assert_vm(cred)
    end)
  end)

  describe("azure_cli (a fake az printing the CLI's JSON)", function()
    local function fake_az(name, body)
      local script = dir .. "/" .. name
      write(script, "#!/bin/sh\nprintf '%s\\n' \"$@\" > " .. script .. ".args\n" .. body)
      sh("chmod +x " .. script)
      return script
    end

    it("runs 'az account get-access-token' and the client reads the VM with its token", function()
      local token = mint()
      local exp = math.floor(core.wall()) + 3000
      local script = fake_az("az-ok", string.format([[
cat <<'EOF'
{
  "accessToken": "%s",
  "expiresOn": "2030-01-01 00:00:00.000000",
  "expires_on": %d,
  "subscription": "%s",
  "tenant": "%s",
  "tokenType": "Bearer"
}
EOF
]], token, exp, C.SUB, C.TENANT))
      local cred = azrp.credentials.azure_cli{ command = script }
      assert.are.equal("azure_cli", cred.kind)
      local t, e = cred:get_token(SCOPE)
      assert.are.equal(token, t)
      assert.are.equal(exp, e)
      assert.are.equal("account\nget-access-token\n--output\njson\n--resource\nhttps://management.azure.com/\n",
        read(script .. ".args"))
      assert_vm(cred)
      -- The tenant is passed as one shell word, quotes and all.
      t = azrp.credentials.azure_cli{ command = script, tenant_id = "it's a $(tenant)" }:get_token(SCOPE)
      assert.are.equal(token, t)
      assert.matches("\n%-%-tenant\nit's a %$%(tenant%)\n$", read(script .. ".args"))
    end)

    it("without expires_on (older CLIs) assumes a token good for 50 minutes", function()
      local script = fake_az("az-old", "echo '{\"accessToken\": \"abc.def.ghi\", \"expiresOn\": \"2030-01-01 00:00:00\"}'\n")
      local t, e = azrp.credentials.azure_cli{ command = script }:get_token(SCOPE)
      assert.are.equal("abc.def.ghi", t)
      assert.is_true(math.abs(e - (core.wall() + 3000)) < 10)
    end)

    it("az printing nothing or no token (not logged in) is CredentialUnavailable", function()
      for _, body in ipairs({ "echo 'ERROR: Please run az login to setup account.' >&2\nexit 1\n",
        "echo 'not json'\n", "echo '{\"tokenType\": \"Bearer\"}'\n" }) do
        local script = fake_az("az-fail", body)
        local cred = azrp.credentials.azure_cli{ command = script }
        local t, err = cred:get_token(SCOPE)
        assert.is_nil(t)
        assert.are.equal("CredentialUnavailable", err.code)
        assert.are.equal("auth", err.kind)
        assert.matches("az login", err.message)
        local vm, verr = get_vm(cred)
        assert.is_nil(vm)
        assert.are.equal("auth", verr.kind)
      end
      local t, err = azrp.credentials.azure_cli{ command = dir .. "/no-such-az" }:get_token(SCOPE)
      assert.is_nil(t)
      assert.are.equal("CredentialUnavailable", err.code)
    end)
  end)

  --------------------------------------------------------------------------
  describe("token cache and refresh", function()
    local function counting(inner, expires_on)
      local c = { n = 0 }
      c.credential = { get_token = function(_, scope, h)
        c.n = c.n + 1
        local t, e = inner:get_token(scope, h)
        if t and expires_on then e = expires_on() end
        return t, e
      end }
      return c
    end

    it("two clients sharing a credential fetch one token", function()
      local cred = secret_cred()
      reset()
      assert_vm(cred)
      assert_vm(cred)
      local c3 = C.client(em, { credential = cred })
      local list, err = c3:list("VirtualMachines_List", { resource_group_name = C.RG })
      c3:close()
      assert.is_table(list, tostring(err))
      assert.are.equal(1, count("Entra_Token"))
      assert.are.equal(2, count("VirtualMachines_Get"))
    end)

    it("one client: concurrent operations wait for one token", function()
      local c = counting(secret_cred())
      reset()
      local client = C.client(em, { credential = c.credential })
      local ops = {}
      for i = 1, 5 do
        ops[i] = assert(client:virtual_machines_get{ resource_group_name = C.RG, vm_name = "vm-app-01" })
      end
      local results = azrp.wait_all(ops, 30)
      client:close()
      for i = 1, 5 do assert.is_table(results[i][1], tostring(results[i][2])) end
      assert.are.equal(1, c.n)
      assert.are.equal(1, count("Entra_Token"))
      assert.are.equal(5, count("VirtualMachines_Get"))
    end)

    it("a token within the refresh margin (300 s) is renewed: the client asks the credential again", function()
      local token = mint()
      local soon = counting(azrp.credentials.static{ token = token, expires_on = math.floor(core.wall()) + 100 })
      local client = C.client(em, { credential = soon.credential })
      for i = 1, 3 do
        local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
        assert.is_table(vm, tostring(err))
        assert.is_true(soon.n >= i + 1, "asked " .. soon.n .. " times after " .. i .. " requests")
      end
      client:close()
      -- A token far from expiry is asked for once.
      local later = counting(azrp.credentials.static{ token = token, expires_on = math.floor(core.wall()) + 3600 })
      client = C.client(em, { credential = later.credential })
      for _ = 1, 3 do assert(client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })) end
      client:close()
      assert.are.equal(1, later.n)
      -- refresh_margin is the client's option.
      local narrow = counting(azrp.credentials.static{ token = token, expires_on = math.floor(core.wall()) + 100 })
      client = C.client(em, { credential = narrow.credential, refresh_margin = 30 })
      for _ = 1, 3 do assert(client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })) end
      client:close()
      assert.are.equal(1, narrow.n)
    end)

    it("the client's renewals go through the credential's own cache", function()
      local c = counting(secret_cred(), function() return math.floor(core.wall()) + 100 end)
      reset()
      local client = C.client(em, { credential = c.credential })
      for _ = 1, 3 do assert(client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })) end
      client:close()
      assert.is_true(c.n >= 3)
      assert.are.equal(1, count("Entra_Token"))
    end)

    it("a credential that raises fails the waiting operations with an auth error", function()
      local client = C.client(em, { credential = { get_token = function() error("boom from the credential") end } })
      local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      client:close()
      assert.is_nil(vm)
      assert.are.equal("auth", err.kind)
      assert.matches("boom from the credential", err.message)
    end)
  end)
end)
