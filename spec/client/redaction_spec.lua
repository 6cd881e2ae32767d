-- Secrets never show: not in tostring() of credentials, clients, operations
-- and errors, not in stats() or op:info(), not in any error a fault or an
-- auth failure produces, not in the emulator's request log.  Every secret
-- here is a marker made for this run, so that a find() cannot pass by
-- accident: the client secret of an app seeded for this spec, a static
-- token, a certificate key's password, a made-up SAS signature; and the
-- real access token and SAS URL the emulator hands out.
local C = require "support.client"
local azrp = require "azrp"
local core = azrp.core
local json = require "cjson.safe"

local SCOPE = "https://management.azure.com/.default"
local RUN = core.uuid():gsub("%-", "")
local SECRET = "Sec-" .. RUN .. "-client-secret"          -- the seeded app's secret
local WRONG_SECRET = "Wrong-" .. RUN .. "-secret"
local STATIC_TOKEN = "Tok-" .. RUN .. "-static-token"
local PASSWORD = "Pw-" .. RUN .. "-key-password"
local FAKE_SIG = "Sig" .. RUN .. "FakeSignature"
local APP = "dddddddd-dddd-4ddd-8ddd-" .. RUN:sub(1, 12)
local CERT_APP = "eeeeeeee-eeee-4eee-8eee-" .. RUN:sub(13, 24)   -- not in the directory

local shell = require "support.shell"
local sh = shell.sh

local files = require "support.files"
local tmp = require "support.tmp"
local write = files.write
local function read(path) return files.read(path) or "" end

-- Every string reachable from v (tables walked, keys too, metatables'
-- __tostring honoured, userdata by tostring), as "path = text" lines.
local function texts(v, out, path, seen)
  out, path, seen = out or {}, path or "", seen or {}
  local t = type(v)
  if t == "string" then
    out[#out + 1] = path .. " = " .. v
  elseif t == "table" then
    if seen[v] then return out end
    seen[v] = true
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = path .. " (tostring) = " .. tostring(v) end
    for k, x in pairs(v) do
      texts(k, out, path .. "[key]", seen)
      texts(x, out, path .. "." .. tostring(k), seen)
    end
  elseif t == "userdata" or t == "number" or t == "boolean" then
    out[#out + 1] = path .. " = " .. tostring(v)
  end
  return out
end

-- Asserts that no text reachable from v contains any of needles.
local function clean(v, needles, what)
  for _, line in ipairs(texts(v)) do
    for _, n in ipairs(needles) do
      assert.is_nil(line:find(n, 1, true), string.format("%s shows a secret (%s...): %s", what,
        n:sub(1, 6), line))
    end
  end
end

local function faults(em, spec)
  assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = spec })))
end

describe("secrets", function()
  local dir, em, cred, client, token
  local secrets   -- everything that must never show

  -- A blocking http function for calling a credential directly.
  local function http_of(c)
    return function(req) return c:request(req):wait(30) end
  end

  setup(function()
    dir = tmp.dir()
    -- The default fleet plus an app whose secret is this run's marker.
    local seed = require("support.seed").demo()
    assert.is_table(seed)
    table.insert(seed.apps, { client_id = APP, tenant = C.TENANT, secret = SECRET,
      object_id = "dddddddd-0000-4000-8000-" .. RUN:sub(1, 12) })
    write(dir .. "/seed.json", json.encode(seed))
    em = C.start("--time-scale 0.01 --seed " .. dir .. "/seed.json --log " .. dir .. "/requests.log")
    cred = azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = APP, client_secret = SECRET,
      authority_host = em.url }
    client = C.client(em, { credential = cred, retry = { max_attempts = 1 } })
    local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
    assert.is_table(vm, tostring(err))
    -- The access token the client sends: the credential's cached one.
    token = cred:get_token(SCOPE, http_of(client))
    assert.is_string(token)
    assert.matches("^eyJ", token)
    secrets = { SECRET, WRONG_SECRET, STATIC_TOKEN, PASSWORD, FAKE_SIG, token, token:sub(-40), C.SECRET }
  end)

  teardown(function()
    if client then client:close() end
    if em then em.stop() end
    tmp.remove(dir)
  end)

  describe("in tostring() and fields", function()
    it("of a client secret credential, a static one, the client and its operations", function()
      clean(cred, secrets, "client_secret credential")
      assert.matches(APP, tostring(cred), 1, true)
      local static = azrp.credentials.static{ token = STATIC_TOKEN, expires_on = core.wall() + 3600 }
      clean(static, secrets, "static credential")
      assert.matches("static", tostring(static))
      clean(client, secrets, "client")
      clean(client.core, secrets, "core client")
      clean(client:stats(), secrets, "stats")
      local op = client:virtual_machines_get{ resource_group_name = C.RG, vm_name = "vm-app-01" }
      clean(op, secrets, "running operation")
      clean(op:info(), secrets, "op:info()")
      local vm = op:wait(10)
      assert.is_table(vm)
      clean(op, secrets, "finished operation")
      clean(op:info(), secrets, "op:info()")
    end)

    it("of a client certificate credential: no key, no password, no assertion", function()
      local key, cert, enc = dir .. "/key.pem", dir .. "/cert.pem", dir .. "/key.enc.pem"
      sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 " ..
        "-subj /CN=azrp-redaction >/dev/null 2>&1", key, cert))
      write(dir .. "/pw", PASSWORD)
      sh(string.format("openssl pkey -in %s -aes-256-cbc -passout file:%s/pw -out %s 2>/dev/null", key, dir, enc))
      -- a line from the middle of each PEM body: key material
      local key_line = read(key):match("\n([%w+/]+)\n[%w+/]+\n[%w+/]+\n")
      local enc_line = read(enc):match("\n([%w+/]+)\n[%w+/]+\n[%w+/]+\n")
      assert.is_string(key_line)
      local needles = { PASSWORD, key_line, enc_line, "PRIVATE KEY" }
      for _, s in ipairs(secrets) do needles[#needles + 1] = s end
      local cc = azrp.credentials.client_certificate{ tenant_id = C.TENANT, client_id = CERT_APP,
        certificate_path = cert, private_key_path = enc, password = PASSWORD, authority_host = em.url }
      clean(cc, needles, "client_certificate credential")
      -- Entra does not know this app: the error names Entra's code, not the assertion.
      local t, err = cc:get_token(SCOPE, http_of(client))
      assert.is_nil(t)
      assert.is_true(azrp.is_error(err))
      assert.are.equal("auth", err.kind)
      clean(err, needles, "certificate auth error")
      assert.is_nil(tostring(err):find("eyJ", 1, true))   -- no JWT (assertion) in it
      -- through a client, too
      local cclient = C.client(em, { credential = cc })
      local vm, verr = cclient:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      assert.is_nil(vm)
      clean(verr, needles, "operation error of a certificate client")
      assert.is_nil(tostring(verr):find("eyJ", 1, true))
      clean(cclient, needles, "certificate client")
      cclient:close()
      -- a wrong password fails at construction without echoing it
      local ok, cerr = pcall(azrp.credentials.client_certificate, { tenant_id = C.TENANT, client_id = CERT_APP,
        certificate_path = cert, private_key_path = enc, password = WRONG_SECRET, authority_host = em.url })
      assert.is_false(ok)
      assert.is_nil(tostring(cerr):find(WRONG_SECRET, 1, true))
    end)
  end)

  describe("in errors", function()
    it("of a wrong client secret: Entra's code, never the secret", function()
      local wrong = azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = APP,
        client_secret = WRONG_SECRET, authority_host = em.url }
      local t, err = wrong:get_token(SCOPE, http_of(client))
      assert.is_nil(t)
      assert.are.equal("invalid_client", err.code)
      assert.matches("invalid_client", tostring(err))
      clean(err, secrets, "credential error")
      local wclient = C.client(em, { credential = wrong })
      local vm, verr = wclient:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      assert.is_nil(vm)
      assert.are.equal("auth", verr.kind)
      assert.matches("invalid_client", tostring(verr))
      clean(verr, secrets, "operation error of a wrong secret")
      clean(wclient, secrets, "client with a wrong secret")
      wclient:close()
    end)

    it("of a token ARM refuses (a static one), and of one it calls expired", function()
      local sclient = C.client(em, { credential = azrp.credentials.static{ token = STATIC_TOKEN } })
      local vm, err = sclient:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      assert.is_nil(vm)
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
      clean(err, secrets, "error for a refused static token")
      sclient:close()
      faults(em, "expired@VirtualMachines_Get=1")
      vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
      faults(em, "")
      assert.is_nil(vm)
      assert.are.equal("ExpiredAuthenticationToken", err.code)
      clean(err, secrets, "error for an expired token")
      -- the client fetched a new token after the 401s: that one must not show either
      local fresh = cred:get_token(SCOPE, http_of(client))
      clean(err, { fresh }, "error for an expired token")
      secrets[#secrets + 1] = fresh
    end)

    it("of every injected fault", function()
      local errs = {}
      for _, f in ipairs({ "429", "500", "503", "reset", "truncate" }) do
        faults(em, f .. "@VirtualMachines_Get=1," .. f .. "@RestorePointCollections_CreateOrUpdate=1")
        local vm, err = client:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
        assert.is_nil(vm, f)
        errs[#errs + 1] = err
        local coll, perr = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
          restore_point_collection_name = "rpc-red", body = { location = "westeurope",
            properties = { source = { id = C.VM_ID } } } })
        assert.is_nil(coll, f)
        errs[#errs + 1] = perr
      end
      faults(em, "")
      assert.are.equal(10, #errs)
      for _, err in ipairs(errs) do
        assert.is_true(azrp.is_error(err))
        clean(err, secrets, "error " .. tostring(err))
      end
      clean(client:stats(), secrets, "stats after faults")
    end)
  end)

  describe("SAS URLs", function()
    local sas, drp, grant_op

    setup(function()
      local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
        restore_point_collection_name = "rpc-sas", body = { location = "westeurope",
          properties = { source = { id = C.VM_ID } } } })
      assert.is_table(coll, tostring(err))
      local rp, rerr = client:call("RestorePoints_Create", { resource_group_name = C.RG,
        restore_point_collection_name = "rpc-sas", restore_point_name = "rp1", body = { properties = {} } })
      assert.is_table(rp, tostring(rerr))
      drp = rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id
      grant_op = client:disk_restore_point_grant_access{ id = drp, body = { access = "Read", durationInSeconds = 600 } }
      local grant, gerr = grant_op:wait(30)
      assert.is_table(grant, tostring(gerr))
      sas = grant.accessSAS
      assert.matches("[?&]sig=[^&]+", sas)
    end)

    local function sig_of(url) return url:match("[?&]sig=([^&]+)") end

    it("stay out of the grant operation, op:info() and stats()", function()
      local needles = { "sig=", sig_of(sas), token }
      assert.matches("DiskRestorePoint_GrantAccess", tostring(grant_op))
      clean(tostring(grant_op), needles, "tostring(grant op)")
      clean(grant_op:info(), needles, "op:info() of the grant")
      clean(client:stats(), needles, "stats")
      clean(client, needles, "client")
    end)

    it("are redacted in the transport errors of requests to them", function()
      local sig = sig_of(sas)
      local cases = {}
      -- the real SAS URL, its connection dropped by the server
      cases[#cases + 1] = { "reset", client:request{ method = "GET", url = sas,
        headers = { ["x-azrp-fault"] = "reset", ["x-ms-range"] = "bytes=0-511" } } }
      -- its body cut short
      cases[#cases + 1] = { "truncate", client:request{ method = "GET", url = sas,
        headers = { ["x-azrp-fault"] = "truncate", ["x-ms-range"] = "bytes=0-4095" } } }
      -- a closed port, with a made-up signature
      local closed = sas:gsub("^https://[^/]+", "https://127.0.0.1:1"):gsub("sig=[^&]+", "sig=" .. FAKE_SIG)
      cases[#cases + 1] = { "closed port", client:request{ method = "GET", url = closed } }
      -- too slow for its deadline
      cases[#cases + 1] = { "timeout", client:request{ method = "GET", url = sas, timeout = 0.5,
        headers = { ["x-azrp-fault"] = "slow", ["x-azrp-fault-seconds"] = "3", ["x-ms-range"] = "bytes=0-4095" } } }
      for _, case in ipairs(cases) do
        local res, err = case[2]:wait(10)
        assert.is_nil(res, case[1])
        assert.is_true(azrp.is_error(err), case[1])
        local text = tostring(err)
        clean(err, { sig, FAKE_SIG, token }, case[1] .. " error")
        clean(case[2]:info(), { sig, FAKE_SIG, "sig=" .. sig:sub(1, 4) }, case[1] .. " op:info()")
        if case[1] ~= "timeout" then
          -- the URL is named, every query value but api-version REDACTED
          assert.matches("sig=REDACTED", text, 1, true)
          assert.matches("se=REDACTED", text, 1, true)
          assert.matches("/_blob/", text, 1, true)
        end
      end
    end)

    it("core.redact shows one the way the core's own errors do", function()
      local closed = sas:gsub("^https://[^/]+", "https://127.0.0.1:1")
      local res, err = client:request{ method = "GET", url = closed }:wait(10)
      assert.is_nil(res)
      local shown = core.redact(closed)
      assert.matches(shown, tostring(err), 1, true)
      assert.is_nil(shown:find(sig_of(sas), 1, true))
      assert.matches("/_blob/", shown, 1, true)
      assert.matches("sig=REDACTED", shown, 1, true)
      assert.are.equal(shown, azrp.redact(closed))
    end)

    it("are still readable, and after revocation refused without an error that shows them", function()
      local op = client:request{ method = "GET", url = sas, headers = { ["x-ms-range"] = "bytes=0-511" } }
      local res, err = op:wait(10)
      assert.is_table(res, tostring(err))
      assert.are.equal(206, res.status)
      assert.are.equal(512, #res.body)
      clean(op:info(), { "sig=" }, "op:info() of a SAS read")
      assert.is_true(client:call("DiskRestorePoint_RevokeAccess", { id = drp }))
      op = client:request{ method = "GET", url = sas, headers = { ["x-ms-range"] = "bytes=0-511" } }
      res, err = op:wait(10)
      assert.is_table(res, tostring(err))
      assert.are.equal(403, res.status)
      clean(res.headers, { sig_of(sas) }, "headers of the refusal")
      assert.is_nil(res.body:find(sig_of(sas), 1, true))
      clean(op:info(), { "sig=" }, "op:info() of a refused SAS read")
    end)
  end)

  describe("the emulator's request log", function()
    it("holds no token, secret or signature (admin API, --log file, output)", function()
      local status, body = C.admin(em, "GET", "/_emulator/requests?n=2000")
      assert.are.equal(200, status)
      assert.is_table(body.value)
      assert.is_true(#body.value > 20, #body.value .. " entries")
      local seen = {}
      for _, e in ipairs(body.value) do seen[e.op] = true end
      assert.is_true(seen.Entra_Token)
      assert.is_true(seen.DiskRestorePoint_GrantAccess)
      local needles = { "sig=", "Bearer", "eyJ", "client_secret", "client_assertion" }
      for _, s in ipairs(secrets) do needles[#needles + 1] = s end
      clean(body, needles, "/_emulator/requests")
      local file = read(dir .. "/requests.log")
      assert.is_true(#file > 0)
      clean(file, needles, "--log file")
      clean(em.log(), needles, "emulator output")
    end)
  end)
end)

describe("core.redact", function()
  local redact = core.redact

  it("redacts every query value of a URL but api-version, and its user-info", function()
    assert.are.equal("https://acct.blob.core.windows.net/c/b?sv=REDACTED&sr=REDACTED&sig=REDACTED&se=REDACTED",
      redact("https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sr=b&sig=" .. FAKE_SIG .. "&se=2030-01-01"))
    assert.are.equal("https://REDACTED@h/p?api-version=2024-03-01&x=REDACTED",
      redact("https://user:" .. PASSWORD .. "@h/p?api-version=2024-03-01&x=1"))
    assert.are.equal("https://management.azure.com/subscriptions/s/resourceGroups/rg",
      redact("https://management.azure.com/subscriptions/s/resourceGroups/rg"))
  end)

  it("finds the URLs in a text and keeps the rest of it byte for byte", function()
    assert.are.equal("GET https://h/b?sig=REDACTED failed: reset; then \"http://REDACTED@127.0.0.1:1/x?token=REDACTED\"",
      redact("GET https://h/b?sig=" .. FAKE_SIG .. " failed: reset; then \"http://u:" .. PASSWORD ..
        "@127.0.0.1:1/x?token=" .. STATIC_TOKEN .. "\""))
    -- a URL in another URL's query is part of its value
    assert.are.equal("https://h/p?next=REDACTED&b=REDACTED", redact("https://h/p?next=https://h2/q?sig=S&b=1"))
    for _, text in ipairs{ "", "no URL: a=b sig=c", "a\0b\255 <x>", "mailto:x@y", "://h/?sig=s" } do
      assert.are.equal(text, redact(text))
    end
    assert.are.equal("a\0b https://h/?sig=REDACTED\0c", redact("a\0b https://h/?sig=z\0c"))
  end)

  it("is the facade's azrp.redact, and raises for what is not a string", function()
    assert.are.equal(core.redact, azrp.redact)
    assert.has_error(function() redact() end)
    assert.has_error(function() redact({}) end)
  end)
end)
