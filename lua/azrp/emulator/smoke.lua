-- The emulator's smoke scenario (`azrp smoke`):
-- it starts an emulator, then over HTTPS, as a client would, protects a VM
-- with a restore point, copies it to the DR region, restores a disk there,
-- proves the bytes are the same, reads them through a SAS URL and cleans
-- up everything it made.  Each step is printed with its duration.
local json = require "azrp.emulator.json"
local wire = require "azrp.emulator.wire"

local M = {}

local SUB = "00000000-0000-4000-8000-000000000001"
local TENANT = "11111111-1111-4111-8111-111111111111"
local RG = "/subscriptions/" .. SUB .. "/resourceGroups/rg-prod"
local DR = "/subscriptions/" .. SUB .. "/resourceGroups/rg-dr"
local C = "/providers/Microsoft.Compute"
local V = "?api-version=2025-11-01"
local DV = "?api-version=2026-03-02"

local function enc(id) return (id:gsub("[^%w%-_%.]", function(c) return string.format("%%%02X", c:byte()) end)) end

function M.run(argv)
  assert(require("azrp.emulator.deps").setup())
  local cqueues = require "cqueues"
  local monotime = cqueues.monotime
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir)
  local scale = argv[1] or "0.02"
  local p = io.popen(string.format(
    "exec lua5.4 %s emulator --port 0 --time-scale %s --state-dir %s/state --ready-file %s/ready.json > %s/emulator.log 2>&1 & echo $!",
    arg and arg[0] or "bin/azrp", scale, dir, dir, dir))
  local pid = p:read("l")
  p:close()
  local info
  for _ = 1, 200 do
    local f = io.open(dir .. "/ready.json")
    if f then info = json.decode(f:read("a")); f:close(); break end
    cqueues.sleep(0.1)
  end
  if not info then io.stderr:write("smoke: the emulator did not start\n"); return 1 end
  local ok, err = pcall(M.scenario, info, cqueues.sleep, monotime)
  os.execute("kill " .. pid)
  if not ok then io.stderr:write("smoke: FAILED: ", tostring(err), "\n"); return 1 end
  return 0
end

function M.scenario(info, sleep, monotime)
  local c = wire.new{ url = info.url, ca_file = info.ca_file }
  local t0 = monotime()
  local function step(name, f)
    local s = monotime()
    local r = f()
    io.stdout:write(string.format("%-58s %7.2f s\n", name, monotime() - s))
    io.stdout:flush()
    return r
  end
  local function check(cond, msg) if not cond then error(msg, 2) end end
  local function ok(st, body, want)
    check(st == want, string.format("expected %d, got %s: %s", want, tostring(st), json.encode(body or {})))
    return body
  end
  print("azrp smoke: emulator at " .. info.url)
  step("token (client credentials, Entra ID v2.0)", function()
    local st, body = c:request("POST", "/" .. TENANT .. "/oauth2/v2.0/token",
      "grant_type=client_credentials&client_id=22222222-2222-4222-8222-222222222222" ..
      "&client_secret=azrp-emulator-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default")
    ok(st, body, 200)
    c.token = body.access_token
  end)
  local vm = RG .. C .. "/virtualMachines/vm-app-01"
  local data0 = RG .. C .. "/disks/vm-app-01-data0"
  local payload = string.rep("azrp demo block ", 4096)
  step("guest writes 64 KiB to vm-app-01-data0", function()
    ok(c:request("POST", "/_emulator/disks/" .. enc(data0) .. "/write",
      { offset = 1048576, pattern = "azrp demo block ", length = #payload }), nil, 200)
  end)
  local _, want = c:request("GET", "/_emulator/disks/" .. enc(data0) .. "/sha256")
  local rpc = RG .. C .. "/restorePointCollections/rpc-demo"
  step("create restore point collection rpc-demo", function()
    ok(c:request("PUT", rpc .. V, { location = "westeurope", properties = { source = { id = vm } } }), nil, 201)
  end)
  step("create restore point rp-1 (LRO)", function()
    local st, body, h = c:request("PUT", rpc .. "/restorePoints/rp-1" .. V, { properties = {} })
    ok(st, body, 201)
    local op = assert(c:wait(h, sleep))
    check(op.status == "Succeeded", "restore point " .. op.status)
  end)
  local target = DR .. C .. "/restorePointCollections/rpc-demo-dr"
  step("create DR collection rpc-demo-dr in northeurope", function()
    ok(c:request("PUT", target .. V, { location = "northeurope", properties = { source = { id = rpc } } }), nil, 201)
  end)
  step("copy rp-1 to northeurope and wait for 100 %", function()
    local st, body, h = c:request("PUT", target .. "/restorePoints/rp-1" .. V,
      { properties = { sourceRestorePoint = { id = rpc .. "/restorePoints/rp-1" } } })
    ok(st, body, 201)
    assert(c:wait(h, sleep))
    while true do
      local _, rp = c:request("GET", target .. "/restorePoints/rp-1" .. V .. "&$expand=instanceView")
      local done, min = true, 100
      for _, d in ipairs(rp.properties.instanceView.diskRestorePoints) do
        min = math.min(min, d.replicationStatus.completionPercent)
        if d.replicationStatus.completionPercent < 100 then done = false end
      end
      if done then break end
      sleep(0.5)
    end
  end)
  local drp
  step("restore data disk from the copy in rg-dr", function()
    local _, list = c:request("GET", target .. "/restorePoints/rp-1/diskRestorePoints" .. DV)
    for _, d in ipairs(list.value) do
      if d.name:find("vm-app-01-data0", 1, true) then drp = d.id end
    end
    check(drp, "no disk restore point for vm-app-01-data0")
    local st, body, h = c:request("PUT", DR .. C .. "/disks/demo-restored-data0" .. DV, { location = "northeurope",
      sku = { name = "Premium_LRS" }, properties = { creationData = { createOption = "Restore", sourceResourceId = drp } } })
    ok(st, body, 202)
    local op = assert(c:wait(h, sleep))
    check(op.status == "Succeeded", "disk restore " .. op.status)
  end)
  step("restored bytes equal the source's (SHA-256)", function()
    local _, got = c:request("GET", "/_emulator/disks/" .. enc(DR .. C .. "/disks/demo-restored-data0") .. "/sha256")
    check(got.sha256 == want.sha256, "SHA-256 differs: restore lost bytes")
    print("  sha256 " .. got.sha256)
  end)
  step("read the data through a SAS URL, then revoke it", function()
    local st, body, h = c:request("POST", drp .. "/beginGetAccess" .. DV, { access = "Read", durationInSeconds = 600 })
    ok(st, body, 202)
    assert(c:wait(h, sleep))
    local _, grant = c:request("GET", h.location)
    local sas = wire.new{ url = info.url, ca_file = info.ca_file }
    local bst, bytes = sas:request("GET", grant.accessSAS, nil, { range = "bytes=1048576-1048591" })
    check(bst == 206 and bytes == "azrp demo block ", "SAS read returned " .. tostring(bst))
    st, body, h = c:request("POST", drp .. "/endGetAccess" .. DV)
    ok(st, body, 202)
    assert(c:wait(h, sleep))
    check((sas:request("GET", grant.accessSAS, nil, { range = "bytes=0-15" })) == 403, "SAS still valid after revoke")
  end)
  step("clean up: disk, both collections (and their restore points)", function()
    for _, id in ipairs({ DR .. C .. "/disks/demo-restored-data0" .. DV, target .. V, rpc .. V }) do
      local st, body, h = c:request("DELETE", id)
      ok(st, body, 202)
      assert(c:wait(h, sleep))
    end
    check((c:request("GET", rpc .. V)) == 404, "collection still there")
  end)
  local _, counters = c:request("GET", "/_emulator/counters")
  print(string.format("azrp smoke: OK in %.2f s, %d requests to the emulator", monotime() - t0, counters.total))
end

return M
