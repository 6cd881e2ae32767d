-- The emulator as a process: command line, TLS with its private CA,
-- keep-alive, transport faults, throttling, and clean shutdown.
local H = require "support.emu"
local json = require "azrp.emulator.json"

local function run(args)
  local p = io.popen("lua5.4 bin/azrp emulator " .. args .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("rc=(%d+)%s*$"))
end

describe("azrp emulator command line", function()
  it("rejects bad options with a message naming them", function()
    local out, rc = run("--port 70000")
    assert.are.equal(2, rc)
    assert.matches("%-%-port must be an integer from 0 to 65535", out)
    out, rc = run("--time-scale -1")
    assert.are.equal(2, rc)
    assert.matches("%-%-time%-scale", out)
    out, rc = run("--frobnicate")
    assert.are.equal(2, rc)
    assert.matches("unknown option %-%-frobnicate", out)
    out, rc = run("--seed")
    assert.are.equal(2, rc)
    assert.matches("option %-%-seed needs a value", out)
    out, rc = run("--faults 'teapot=0.5'")
    assert.are.equal(2, rc)
    assert.matches("unknown fault 'teapot'", out)
    out, rc = run("--throttle read=250")
    assert.are.equal(2, rc)
    assert.matches("%-%-throttle: 'read=250' is not KIND=SIZE/RATE", out)
    out, rc = run("--throttle reads=250/25")
    assert.are.equal(2, rc)
    assert.matches("unknown kind 'reads'", out)
    out, rc = run("--throttle write=200/0")
    assert.are.equal(2, rc)
    assert.matches("write's rate must be above 0", out)
    out, rc = run("--no-throttle --throttle read=5/1")
    assert.are.equal(2, rc)
    assert.matches("%-%-throttle and %-%-no%-throttle", out)
    out, rc = run("--help")
    assert.are.equal(0, rc)
    assert.matches("usage: azrp emulator", out)
    assert.matches("%-%-throttle SPEC", out)
  end)

  it("takes ARM's limits from --throttle, the kinds not named at ARM's defaults", function()
    local main = require "azrp.emulator.main"
    local o = assert(main.parse{ "--throttle", "read=5/0.5, delete=7/2e-3" })
    assert.are.same({ read = { size = 5, rate = 0.5 }, delete = { size = 7, rate = 0.002 } }, o.throttle)
    local limits = require("azrp.emulator.throttle").new{ limits = o.throttle }.limits
    assert.are.same({ size = 200, rate = 10 }, limits.write)
    assert.are.same({ size = 5, rate = 0.5 }, limits.read)
    assert.is_false(assert(main.parse{ "--no-throttle" }).throttle)
    assert.is_nil(assert(main.parse{}).throttle)
  end)

  it("rejects bad seed files naming the file and the field", function()
    local dir = os.tmpname()
    local f = io.open(dir .. ".lua", "w")
    f:write("return { tenants = { { id = 't' } }, subscriptions = { { id = 's' } }, vms = { { name = 'x' } } }")
    f:close()
    local out, rc = run("--seed " .. dir .. ".lua")
    assert.are.equal(2, rc)
    assert.matches("seed file .*%.lua: vms%[1%]%.resource_group must be a string", out)
    f = io.open(dir .. ".json", "w")
    f:write("{ not json")
    f:close()
    out, rc = run("--seed " .. dir .. ".json")
    assert.are.equal(2, rc)
    assert.matches("invalid JSON", out)
    f = io.open(dir .. ".lua", "w")
    f:write([[return { tenants = { { id = 't' } }, subscriptions = { { id = 's' } },
      resource_groups = { { name = 'rg', location = 'westeurope' } },
      disks = { { resource_group = 'rg', name = 'bad name!', location = 'westeurope', size_gb = 1 } } }]])
    f:close()
    out, rc = run("--seed " .. dir .. ".lua")
    assert.are.equal(2, rc)
    assert.matches("seed disks%[1%]: InvalidParameter", out)
    out, rc = run("--seed /nonexistent/seed.lua")
    assert.are.equal(2, rc)
    assert.matches("seed file", out)
    os.remove(dir .. ".lua"); os.remove(dir .. ".json")
  end)
end)

describe("azrp emulator state directory", function()
  -- An emulator process on state directory dir until stop() (not through
  -- support.process, which hands every spec emulator one shared key).
  local function start(dir)
    local ready = dir .. "/ready.json"
    os.remove(ready)
    local p = io.popen(string.format("lua5.4 bin/azrp emulator --port 0 --time-scale 0.01 --state-dir %s/state " ..
      "--ready-file %s > %s/out.log 2>&1 & echo $!", dir, ready, dir))
    local pid = tonumber(p:read("*l"))
    p:close()
    local em
    for _ = 1, 300 do
      local f = io.open(ready)
      if f then em = json.decode(f:read("a")); f:close(); break end
      os.execute("sleep 0.05")
    end
    assert(em, "the emulator did not start")
    function em.stop() os.execute("kill " .. pid .. "; while kill -0 " .. pid .. " 2>/dev/null; do sleep 0.05; done") end
    return em
  end
  local function kid(em)
    local st, body = H.http(em, "GET", "/" .. H.TENANT .. "/discovery/v2.0/keys")
    assert.are.equal(200, st, body)
    return json.decode(body).keys[1].kid
  end

  it("keeps its token signing key (mode 0600): tokens minted before a restart still verify; a new directory has its own", function()
    local a, b = os.tmpname(), os.tmpname()
    os.remove(a); os.remove(b)
    assert(os.execute("mkdir -p " .. a .. " " .. b))
    local em = start(a)
    local k1 = kid(em)
    local _, minted = H.http(em, "POST", "/_emulator/tokens", { expires_in = 3600 })
    local tok = json.decode(minted).access_token
    em.stop()
    local p = io.popen("stat -c %a " .. a .. "/state/signing.key")
    assert.are.equal("600", p:read("a"):match("%d+"))
    p:close()
    em = start(a)
    assert.are.equal(k1, kid(em))
    assert.are.equal(200, (H.http(em, "GET", H.VM .. "?api-version=2025-11-01", nil, { authorization = "Bearer " .. tok })))
    em.stop()
    local other = start(b)
    assert.are_not.equal(k1, kid(other))
    local st = H.http(other, "GET", H.VM .. "?api-version=2025-11-01", nil, { authorization = "Bearer " .. tok })
    assert.are.equal(401, st)
    other.stop()
    os.execute("rm -rf " .. a .. " " .. b)
  end)
end)

describe("azrp emulator over HTTPS", function()
  local em
  setup(function() em = H.start("--time-scale 0.01") end)
  teardown(function() if em then em.stop() end end)

  local function token()
    local st, body = H.http(em, "POST", "/" .. H.TENANT .. "/oauth2/v2.0/token",
      "grant_type=client_credentials&client_id=" .. H.CLIENT_ID .. "&client_secret=" .. H.SECRET ..
      "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
      { ["content-type"] = "application/x-www-form-urlencoded" })
    assert.are.equal(200, st, body)
    return json.decode(body).access_token
  end

  it("serves HTTPS that verifies against its CA, and refuses clients that don't trust it", function()
    local st = H.http(em, "GET", "/_emulator/health")
    assert.are.equal(200, st)
    local p = io.popen("curl -sS -o /dev/null -w '%{http_code}' " .. em.url .. "/_emulator/health 2>&1")
    local out = p:read("a")
    p:close()
    assert.matches("certificate", out)
    p = io.popen("curl -sS -o /dev/null -w '%{http_code}' --cacert " .. em.ca_file .. " " ..
      em.url:gsub("127%.0%.0%.1", "localhost") .. "/_emulator/health")
    assert.are.equal("200", p:read("a"))
    p:close()
  end)

  it("keeps connections alive across requests", function()
    local tok = token()
    local url = em.url .. H.VM .. "?api-version=2025-11-01"
    local p = io.popen(string.format(
      "curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%%{num_connects}\\n' --cacert %s -H 'Authorization: Bearer %s' %s %s %s",
      em.ca_file, tok, url, url, url))
    local out = p:read("a")
    p:close()
    assert.are.same({ "1", "0", "0" }, (function() local t = {} for l in out:gmatch("%d+") do t[#t + 1] = l end return t end)())
  end)

  it("answers 401 without a token and with an expired one", function()
    local st, body = H.http(em, "GET", H.VM .. "?api-version=2025-11-01")
    assert.are.equal(401, st)
    assert.are.equal("AuthenticationFailed", json.decode(body).error.code)
    local _, minted = H.http(em, "POST", "/_emulator/tokens", { expires_in = 60 })
    local short = json.decode(minted).access_token
    assert.are.equal(200, (H.http(em, "GET", H.VM .. "?api-version=2025-11-01", nil, { authorization = "Bearer " .. short })))
    assert.are.equal(200, (H.http(em, "POST", "/_emulator/clock/advance", { seconds = 120 })))
    st, body = H.http(em, "GET", H.VM .. "?api-version=2025-11-01", nil, { authorization = "Bearer " .. short })
    assert.are.equal(401, st)
    assert.are.equal("ExpiredAuthenticationToken", json.decode(body).error.code)
  end)

  it("drops the connection, truncates and slows bodies on request", function()
    local tok = token()
    local path = H.VM .. "?api-version=2025-11-01"
    local function curl(fault, extra)
      local p = io.popen(string.format(
        "curl -sS -o /dev/null -w '%%{http_code} %%{size_download} %%{time_total}' --cacert %s -H 'Authorization: Bearer %s' -H 'x-azrp-fault: %s' %s %s%s 2>&1; echo \" rc=$?\"",
        em.ca_file, tok, fault, extra or "", em.url, path))
      local out = p:read("a")
      p:close()
      return out
    end
    local reset = curl("reset")
    assert.matches("rc=52", reset)          -- CURLE_GOT_NOTHING
    local truncated = curl("truncate")
    assert.matches("rc=18", truncated)      -- CURLE_PARTIAL_FILE
    local slow = curl("slow", "-H 'x-azrp-fault-seconds: 1'")
    assert.matches("^200 ", slow)
    assert.is_true(tonumber(slow:match("^200 %d+ ([%d%.]+)")) >= 0.8)
    local st, body, h = H.http(em, "GET", path, nil, { authorization = "Bearer " .. tok, ["x-azrp-fault"] = "429" })
    assert.are.equal(429, st)
    assert.are.equal("1", h["retry-after"])
    assert.are.equal("10", h["retry-after-ms"])   -- 1 s nominal at --time-scale 0.01
    assert.are.equal("TooManyRequests", json.decode(body).error.code)
    st, _, h = H.http(em, "GET", path, nil, { authorization = "Bearer " .. tok, ["x-azrp-fault"] = "503" })
    assert.are.equal(503, st)
    assert.is_string(h["retry-after"])
    assert.are.equal("10", h["retry-after-ms"])
    st = H.http(em, "GET", path, nil, { authorization = "Bearer " .. tok, ["x-azrp-fault"] = "500" })
    assert.are.equal(500, st)
    st, body = H.http(em, "GET", path, nil, { authorization = "Bearer " .. tok, ["x-azrp-fault"] = "expired" })
    assert.are.equal(401, st)
    assert.are.equal("ExpiredAuthenticationToken", json.decode(body).error.code)
    local _, counters = H.http(em, "GET", "/_emulator/counters")
    counters = json.decode(counters)
    assert.is_true(counters.faults.reset >= 1 and counters.faults.truncate >= 1 and counters.faults["429"] >= 1)
  end)

  it("logs requests without tokens, secrets or SAS signatures", function()
    local _, body = H.http(em, "GET", "/_emulator/requests?n=500")
    local text = body
    assert.is_nil(text:find("Bearer", 1, true))
    assert.is_nil(text:find(H.SECRET, 1, true))
    assert.is_nil(text:find("sig=", 1, true))
    assert.matches("VirtualMachines_Get", text)
  end)

  it("runs its own smoke scenario (azrp smoke) end to end", function()
    local p = io.popen("lua5.4 bin/azrp smoke 0.002 2>&1; echo \"rc=$?\"")
    local out = p:read("a")
    p:close()
    assert.matches("azrp smoke: OK", out)
    assert.matches("rc=0", out)
  end)

  it("stops cleanly on SIGTERM", function()
    local other = H.start("")
    other.stop()
    -- Gone, or a zombie: it has exited, and reaping it is up to whoever
    -- inherited it (some init processes take a second or two).
    local function exited(pid)
      local f = io.open("/proc/" .. pid .. "/stat")
      if not f then return not os.execute("kill -0 " .. pid .. " 2>/dev/null") end
      local state = f:read("a"):match("^%d+ %b() (%a)")
      f:close()
      return state == nil or state == "Z"
    end
    local gone = false
    for _ = 1, 250 do
      if exited(other.pid) then gone = true; break end
      require("cqueues").sleep(0.02)
    end
    assert.is_true(gone)
  end)
end)

describe("fault injection and throttling", function()
  it("is reproducible for the same spec and seed", function()
    local function sequence()
      local t = H.app{ faults = "429=0.3,500=0.1,seed=42" }
      local out = {}
      for i = 1, 40 do out[i] = (t.call("GET", H.VM)) end
      return out
    end
    local a, b = sequence(), sequence()
    assert.are.same(a, b)
    local counts = {}
    for _, s in ipairs(a) do counts[s] = (counts[s] or 0) + 1 end
    assert.is_true((counts[429] or 0) > 3 and (counts[500] or 0) >= 1 and (counts[200] or 0) > 10)
  end)

  it("throttles per subscription and kind with ARM's headers", function()
    local t = H.app{ throttle = { read = { size = 5, rate = 0.001 } } }
    local st, _, h
    for i = 1, 5 do
      st, _, h = t.call("GET", H.VM)
      assert.are.equal(200, st)
      assert.are.equal(tostring(5 - i), h["x-ms-ratelimit-remaining-subscription-reads"])
    end
    local body
    st, body, h = t.call("GET", H.VM)
    assert.are.equal(429, st)
    assert.are.equal("SubscriptionRequestsThrottled", body.error.code)
    assert.is_true(tonumber(h["retry-after"]) >= 1)
    assert.is_nil(h["retry-after-ms"])   -- time is not scaled here
    -- writes have their own bucket
    st = t.call("PUT", H.RG .. H.COMPUTE .. "/restorePointCollections/c1",
      { location = "westeurope", properties = { source = { id = H.VM } } })
    assert.are.equal(201, st)
  end)
end)
