-- The two faults of the fault matrix that the others do not make: a 429
-- that says nothing of how long to wait (429bare), and a region that stops
-- answering (region_down=REGION), in process and over a real socket.
local H = require "support.emu"
local faults = require "azrp.emulator.faults"

local COLL = H.RG .. H.COMPUTE .. "/restorePointCollections/"

local function set(t, spec)
  local st, body = t.call("POST", "/_emulator/faults", { spec = spec })
  assert.are.equal(200, st, type(body) == "table" and body.error and body.error.message or nil)
end

describe("fault 429bare", function()
  it("is a 429 with neither Retry-After nor retry-after-ms, where a plain 429 has both", function()
    local t = H.app{ time_scale = 0.01 }
    set(t, "429bare=1")
    local st, body, h = t.call("GET", H.VM)
    assert.are.equal(429, st)
    assert.are.equal("TooManyRequests", body.error.code)
    assert.is_nil(h["retry-after"])
    assert.is_nil(h["retry-after-ms"])
    set(t, "429=1")
    st, _, h = t.call("GET", H.VM)
    assert.are.equal(429, st)
    assert.are.equal("1", h["retry-after"])
    assert.are.equal("10", h["retry-after-ms"])
    set(t, "")
    assert.are.equal(200, (t.call("GET", H.VM)))
    assert.are.equal(1, t.app.log:counters().faults["429bare"])
  end)
end)

describe("fault expired", function()
  it("is ARM's answer only: Entra ID's token endpoint still issues tokens", function()
    local t = H.app{ time_scale = 0.01 }
    set(t, "expired=1,slow_seconds=0.5")
    assert.are.equal(0.5, faults.parse("slow_seconds=0.5").slow_seconds)
    local st, body = t.call("GET", H.VM)
    assert.are.equal(401, st)
    assert.are.equal("ExpiredAuthenticationToken", body.error.code)
    st = t.call("POST", "/" .. H.TENANT .. "/oauth2/v2.0/token", "grant_type=client_credentials&client_id=" .. H.CLIENT_ID ..
      "&client_secret=" .. H.SECRET .. "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
      { api = false, headers = { ["content-type"] = "application/x-www-form-urlencoded" } })
    assert.are.equal(200, st)
  end)
end)

describe("fault region_down", function()
  it("refuses a spec without a region, and reads display names", function()
    assert.is_nil((faults.parse("region_down=")))
    assert.matches("region_down", select(2, faults.parse("region_down=")), 1, true)
    assert.matches("region_down_seconds", select(2, faults.parse("region_down=x,region_down_seconds=0")), 1, true)
    local rules = faults.parse("region_down=North Europe,region_down=eastus,region_down_seconds=2")
    assert.is_true(rules.down.northeurope)
    assert.is_true(rules.down.eastus)
    assert.are.equal(2, rules.down_seconds)
  end)

  it("stops every request about the region, which has no effect, and none about the others", function()
    local t = H.app{ time_scale = 0.01 }
    -- A disk in the DR region before the outage, and a collection in prod.
    local disk = H.DR .. H.COMPUTE .. "/disks/"
    local function put_disk(name)
      return (t.call("PUT", disk .. name, { location = "northeurope", sku = { name = "Standard_LRS" },
        properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } }))
    end
    assert.are.equal(202, put_disk("disk-before"))
    t.advance(60)
    local st, _, h = t.call("PUT", COLL .. "rpc-prod", { location = "westeurope", properties = { source = { id = H.VM } } })
    assert.are.equal(201, st)
    st, _, h = t.call("PUT", COLL .. "rpc-prod/restorePoints/rp1", {})
    assert.are.equal(201, st)
    local status_url = (h["azure-asyncoperation"] or h.location):gsub("^https?://[^/]+", "")
    set(t, "region_down=northeurope,seed=3")
    -- The body's location
    assert.are.equal(504, put_disk("disk-during"))
    -- The resource's own location, and its resource group's for a list
    assert.are.equal(504, (t.call("GET", disk .. "disk-before")))
    assert.are.equal(504, (t.call("DELETE", disk .. "disk-before")))
    assert.are.equal(504, (t.call("GET", H.DR .. H.COMPUTE .. "/disks")))
    -- A location in the path (long-running operations' status URLs)
    assert.are.equal(504, (t.call("GET", "/subscriptions/" .. H.SUB .. "/providers/Microsoft.Compute/locations/northeurope/operations/x",
      nil, { api = H.API.compute })))
    -- Other regions answer, and so do subscription-wide requests
    assert.are.equal(200, (t.call("GET", H.VM)))
    assert.are.equal(200, (t.call("GET", COLL .. "rpc-prod")))
    assert.are.equal(200, (t.call("GET", status_url, nil, { api = false })))
    assert.are.equal(200, (t.call("GET", "/subscriptions/" .. H.SUB .. "/resourcegroups")))
    local c = t.app.log:counters()
    assert.are.equal(5, c.faults.down)
    set(t, "")
    -- Nothing held during the outage took effect: disk-during was never
    -- made, disk-before was not deleted.
    assert.are.equal(404, (t.call("GET", disk .. "disk-during")))
    assert.are.equal(200, (t.call("GET", disk .. "disk-before")))
  end)

  it("takes a blob request for its grant's region", function()
    local t = H.app{ time_scale = 0.01 }
    local disk = H.DR .. H.COMPUTE .. "/disks/disk-blob"
    local st, _, h = t.call("PUT", disk, { location = "northeurope", sku = { name = "Standard_LRS" },
      properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } })
    assert.is_true(st == 200 or st == 201 or st == 202, tostring(st))
    if st ~= 200 then t.advance(60) end
    st, _, h = t.call("POST", disk .. "/beginGetAccess", { access = "Read", durationInSeconds = 3600 })
    assert.are.equal(202, st)
    assert.are.equal("Succeeded", t.wait(h).status)
    local _, result = t.call("GET", h.location:gsub("^https?://[^/]+", ""), nil, { api = false })
    local sas = assert(result.accessSAS, "no SAS")
    local path, q = sas:gsub("^https?://[^/]+", ""):match("^([^?]*)%?(.*)$")
    local query = require("azrp.emulator.router").parse_query(q)
    local function get_blob()
      return t.app:handle{ method = "GET", path = path, query = query, headers = { range = "bytes=0-511" },
        body = "", base_url = "https://127.0.0.1:1" }.status
    end
    assert.are.equal(206, get_blob())
    set(t, "region_down=northeurope")
    assert.are.equal(504, get_blob())
    set(t, "region_down=westeurope")
    assert.are.equal(206, get_blob())
  end)

  it("over a socket: holds the request unanswered, so only the client's timeout ends it", function()
    local em = H.start("--time-scale 0.01 --faults region_down=northeurope,region_down_seconds=30")
    local ok, err = pcall(function()
      local tok = assert(H.http(em, "POST", "/_emulator/tokens", {}))
      local _, text = H.http(em, "POST", "/_emulator/tokens", {})
      local bearer = { authorization = "Bearer " .. require("azrp.emulator.json").decode(text).access_token }
      assert.is_number(tok)
      local api = "?api-version=" .. H.API.compute
      local st = H.http(em, "GET", H.VM .. api, nil, bearer, 5)
      assert.are.equal(200, st)
      -- No status within a second: the request is held.
      local st2, e2 = H.http(em, "GET", H.DR .. "/providers/Microsoft.Network/virtualNetworks/vnet-dr?api-version=2024-05-01",
        nil, bearer, 1)
      assert.is_nil(st2)
      assert.is_truthy(e2)
      local _, counters = H.http(em, "GET", "/_emulator/counters")
      assert.are.equal(1, require("azrp.emulator.json").decode(counters).faults.down)
    end)
    em.stop()
    assert(ok, err)
  end)
end)
