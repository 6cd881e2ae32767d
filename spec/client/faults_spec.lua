-- Faults, end to end against the emulator: every case runs real requests
-- through azrp.core and checks both the outcome and the way there (the
-- client's stats and the emulator's counters: what was sent, how often,
-- which faults were injected).
--
-- Fault specs whose rules all name an operation draw a random number only
-- for that operation's requests, so "NAME@Op=0.5,seed=1" faults the first
-- request of Op and lets the second through (the emulator's xorshift64*
-- draws 0.28, 0.67, 0.73 ... from seed 1).
local C = require "support.client"
local azrp = require "azrp"
local core = azrp.core

local VM = { resource_group_name = C.RG, vm_name = "vm-app-01" }

-- The emulator of the "faults" block runs at this --time-scale.  Its
-- injected 429s and 503s ask for a nominal wait (1 s unless the spec says
-- retry_after=N): Retry-After in whole seconds, and retry-after-ms scaled,
-- which azrp honours in preference.
local SCALE = 0.002

-- The nominal seconds (retry_after=, x-azrp-fault-seconds) that make a
-- wait of `real` seconds at SCALE.
local function nominal(real) return math.floor(real / SCALE + 0.5) end

local function num(t, k)
  return type(t) == "table" and tonumber(t[k]) or 0
end

local function sum(t)
  local s = 0
  if type(t) == "table" then for _, v in pairs(t) do s = s + (tonumber(v) or 0) end end
  return s
end

-- Sets the emulator's fault spec and starts its counters afresh.
local function faults(em, spec)
  local status = C.admin(em, "POST", "/_emulator/faults", { spec = spec })
  assert.are.equal(200, status)
  status = C.admin(em, "POST", "/_emulator/counters/reset")
  assert.are.equal(200, status)
end

local function advance(em, seconds)
  local status = C.admin(em, "POST", "/_emulator/clock/advance", { seconds = seconds })
  assert.are.equal(200, status)
end

-- The emulator's log entries (oldest first) for operation op.
local function logged(em, op)
  local _, body = C.admin(em, "GET", "/_emulator/requests?n=200")
  local out = {}
  for _, e in ipairs(body.value or {}) do
    if e.op == op then out[#out + 1] = e end
  end
  return out
end

local function make_collection(client, rg, name, location, source)
  local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = rg,
    restore_point_collection_name = name, body = { location = location, properties = { source = { id = source } } } })
  assert.is_table(coll, tostring(err))
  return coll
end

local function rp_params(rg, coll, name, props)
  return { resource_group_name = rg, restore_point_collection_name = coll, restore_point_name = name,
    body = { properties = props or {} } }
end

-- Drives op until its first answer arrived and it polls.
local function until_polling(client, op)
  local deadline = core.now() + 15
  while not op:done() and op:info().phase == "initial" and core.now() < deadline do
    client:step()
    client:wait(0.05)
  end
  assert.are.equal("running", op:status())
  assert.are_not.equal("initial", op:info().phase)
end

-- Drives the client for seconds (or until op is done).
local function drive(client, op, seconds)
  local deadline = core.now() + seconds
  while not op:done() and core.now() < deadline do
    client:step()
    client:wait(math.min(0.05, math.max(0, deadline - core.now())))
  end
end

local function retries(client, before)
  return client:stats().retries - before.retries
end

describe("faults", function()
  local em, client
  setup(function()
    em = C.start("--time-scale " .. SCALE)
    client = C.client(em, { retry = { max_attempts = 30, base_delay = 0.01, max_delay = 0.05 } })
    -- A token and a warm connection before any fault.
    assert.is_table(client:call("VirtualMachines_Get", VM))
  end)
  teardown(function()
    client:close()
    em.stop()
  end)
  after_each(function() faults(em, "") end)

  describe("a 429 storm", function()
    it("is ridden out, each retry waiting the Retry-After rather than the short backoff", function()
      -- each 429 asks for 0.2 s real (retry-after-ms), four times the
      -- longest backoff
      local wait = 0.2
      faults(em, "429=0.6,seed=1,retry_after=" .. nominal(wait))
      local before = client:stats()
      local t0 = core.now()
      for _ = 1, 4 do
        local vm, err = client:call("VirtualMachines_Get", VM)
        assert.is_table(vm, tostring(err))
        assert.are.equal("vm-app-01", vm.name)
      end
      local elapsed = core.now() - t0
      local n = retries(client, before)
      local counters = C.counters(em)
      assert.is_true(n > 0, "no retries")
      -- each 429 was answered by exactly one retry, and nothing else was retried
      assert.are.equal(num(counters.faults, "429"), n)
      assert.are.equal(num(counters.statuses, "429"), n)
      assert.are.equal(4 + n, num(counters.operations, "VirtualMachines_Get"))
      -- backoff here is 10-50 ms: only retry-after-ms (0.2 s) makes it this
      -- slow, and only the whole-second Retry-After (100 s) slower
      assert.is_true(elapsed >= n * wait * 0.95, string.format("%d retries in %.2f s", n, elapsed))
      assert.is_true(elapsed < n * wait + 3, string.format("%d retries in %.2f s", n, elapsed))
    end)
  end)

  describe("500 and 503", function()
    it("are retried until they pass", function()
      -- seed 1 faults requests 1, 4 and 5: three GETs meet three 500s;
      -- seed 16 faults requests 1 and 3: two GETs meet two 503s
      for _, case in ipairs({ { "500=0.5,seed=1", "500", 3, 3 }, { "503=0.5,seed=16", "503", 2, 2 } }) do
        faults(em, case[1])
        local before = client:stats()
        for _ = 1, case[3] do
          local vm, err = client:call("VirtualMachines_Get", VM)
          assert.is_table(vm, tostring(err))
          assert.are.equal("vm-app-01", vm.name)
        end
        local counters = C.counters(em)
        assert.are.equal(case[4], num(counters.faults, case[2]))
        assert.are.equal(case[4], num(counters.statuses, case[2]))
        assert.are.equal(case[4], retries(client, before))
        assert.are.equal(case[3] + case[4], num(counters.operations, "VirtualMachines_Get"))
      end
    end)

    it("surface with status, code, request id and retryable when attempts run out", function()
      local one = C.client(em, { retry = { max_attempts = 1 } })
      assert.is_table(one:call("VirtualMachines_Get", VM))   -- its token first
      for _, case in ipairs({ { "500", "InternalServerError" }, { "503", "ServiceUnavailable" } }) do
        faults(em, case[1] .. "@VirtualMachines_Get=1")
        local vm, err = one:call("VirtualMachines_Get", VM)
        assert.is_nil(vm)
        assert.is_true(azrp.is_error(err))
        assert.are.equal("azure", err.kind)            -- an Azure error document came with it
        assert.are.equal(tonumber(case[1]), err.status)
        assert.are.equal(case[2], err.code)
        assert.is_true(err.retryable)
        assert.are.equal("VirtualMachines_Get", err.operation)
        assert.matches("^%x+%-%x+%-", err.client_request_id)
        local entries = logged(em, "VirtualMachines_Get")
        assert.are.equal(1, #entries)                   -- not resent
        assert.are.equal(entries[1].request_id, err.request_id)
        assert.matches(case[1], tostring(err))
        assert.matches(err.request_id, tostring(err), 1, true)
        if case[1] == "503" then assert.are.equal(1 * SCALE, err.retry_after) end   -- 1 s nominal
      end
      one:close()
    end)
  end)

  describe("dropped connections and truncated bodies", function()
    it("are recovered for GETs and PUTs", function()
      faults(em, "reset@VirtualMachines_Get=0.3,truncate@VirtualMachines_Get=0.3," ..
        "reset@RestorePointCollections_CreateOrUpdate=0.3,truncate@RestorePointCollections_CreateOrUpdate=0.3,seed=4")
      local before = client:stats()
      for i = 1, 4 do
        local vm, err = client:call("VirtualMachines_Get", VM)
        assert.is_table(vm, tostring(err))
        assert.are.equal("vm-app-01", vm.name)
        local coll = make_collection(client, C.RG, "rpc-tr-" .. i, "westeurope", C.VM_ID)
        assert.are.equal("rpc-tr-" .. i, coll.name)
      end
      local counters = C.counters(em)
      local resets, truncates = num(counters.faults, "reset"), num(counters.faults, "truncate")
      assert.is_true(resets > 0, "no reset injected")
      assert.is_true(truncates > 0, "no truncate injected")
      -- every faulted request was sent again, once
      assert.are.equal(8 + resets + truncates, num(counters.operations, "VirtualMachines_Get") +
        num(counters.operations, "RestorePointCollections_CreateOrUpdate"))
      -- a cut body is always the client's retry; a connection that died
      -- before any answer on a reused connection is resent by libcurl itself
      local n = retries(client, before)
      assert.is_true(n >= truncates and n <= resets + truncates, n .. " retries")
    end)

    it("fail with kind 'transport' once attempts run out", function()
      local one = C.client(em, { retry = { max_attempts = 1 } })
      assert.is_table(one:call("VirtualMachines_Get", VM))
      for _, name in ipairs({ "reset", "truncate" }) do
        faults(em, name .. "@VirtualMachines_Get=1," .. name .. "@RestorePointCollections_CreateOrUpdate=1")
        local vm, err = one:call("VirtualMachines_Get", VM)
        assert.is_nil(vm)
        assert.are.equal("transport", err.kind)
        assert.is_nil(err.status)
        assert.is_true(err.retryable)
        assert.are.equal("VirtualMachines_Get", err.operation)
        assert.is_string(err.code)
        assert.matches("^GET https://127%.0%.0%.1:%d+/subscriptions/.*/virtualMachines/vm%-app%-01%?api%-version=", err.message)
        local coll, perr = one:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
          restore_point_collection_name = "rpc-x-" .. name, body = { location = "westeurope",
            properties = { source = { id = C.VM_ID } } } })
        assert.is_nil(coll)
        assert.are.equal("transport", perr.kind)
        assert.matches("^PUT https://", perr.message)
        local counters = C.counters(em)
        if name == "truncate" then
          assert.are.equal(1, num(counters.operations, "VirtualMachines_Get"))
          assert.are.equal(1, num(counters.operations, "RestorePointCollections_CreateOrUpdate"))
        else
          -- libcurl resends once by itself when a reused connection dies
          -- before any answer (harmless for GET and PUT)
          assert.is_true(num(counters.operations, "VirtualMachines_Get") <= 2)
          assert.is_true(num(counters.operations, "RestorePointCollections_CreateOrUpdate") <= 2)
        end
        assert.are.equal(num(counters.operations, "VirtualMachines_Get") +
          num(counters.operations, "RestorePointCollections_CreateOrUpdate"), num(counters.faults, name))
      end
      one:close()
    end)

    it("on a restore point PUT: it is resent, and the result is the Succeeded restore point", function()
      local fast = C.client(em, { retry = { max_attempts = 5, base_delay = 0.01, max_delay = 0.02 },
        poll = { default = 0.05, max = 0.05 } })
      make_collection(fast, C.RG, "rpc-put", "westeurope", C.VM_ID)
      faults(em, "reset@RestorePoints_Create=0.5,seed=1")   -- the first PUT's answer is lost
      finally(function()
        -- whatever happened, leave no restore point creation running on the VM
        faults(em, "")
        local deadline = core.now() + 20
        repeat
          local cur = fast:call("RestorePoints_Get", { resource_group_name = C.RG,
            restore_point_collection_name = "rpc-put", restore_point_name = "rp1" })
          if not cur or cur.properties.provisioningState ~= "Creating" then break end
          fast:wait(0.2)
        until core.now() > deadline
        fast:close()
      end)
      local rp, err = fast:call("RestorePoints_Create", rp_params(C.RG, "rpc-put", "rp1"))
      assert.is_table(rp, tostring(err))
      local counters = C.counters(em)
      assert.are.equal(2, num(counters.operations, "RestorePoints_Create"))
      assert.are.equal(1, num(counters.faults, "reset"))
      -- the LRO result is the finished restore point, not a snapshot of it mid-creation
      assert.are.equal("Succeeded", rp.properties.provisioningState)
    end)

    it("on a copy's PUT: it is resent, and the copy goes on to 100 %", function()
      local src = make_collection(client, C.RG, "rpc-csrc", "westeurope", C.VM_ID)
      assert.is_table(client:call("RestorePoints_Create", rp_params(C.RG, "rpc-csrc", "rp1")))
      make_collection(client, "rg-dr", "rpc-cdst", "northeurope", src.id)
      faults(em, "reset@RestorePoints_Create=0.5,seed=1")
      local copy, err = client:call("RestorePoints_Create", rp_params("rg-dr", "rpc-cdst", "rp1-copy",
        { sourceRestorePoint = { id = src.id .. "/restorePoints/rp1" } }), 120)
      assert.is_table(copy, tostring(err))
      assert.are.equal(2, num(C.counters(em).operations, "RestorePoints_Create"))
      for _, d in ipairs(copy.properties.instanceView.diskRestorePoints) do
        assert.are.equal(100, d.replicationStatus.completionPercent)
      end
    end)
  end)

  describe("a POST", function()
    local drp
    setup(function()
      make_collection(client, C.RG, "rpc-post", "westeurope", C.VM_ID)
      local rp = assert(client:call("RestorePoints_Create", rp_params(C.RG, "rpc-post", "rp1")))
      drp = rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id
    end)

    it("that the registry marks retry-safe (DiskRestorePoint_GrantAccess) is resent after a dropped connection", function()
      -- (src/registry.c marks the begin/endGetAccess POSTs as safe to repeat)
      faults(em, "reset@DiskRestorePoint_GrantAccess=0.5,seed=1")
      local grant, err = client:call("DiskRestorePoint_GrantAccess", { id = drp,
        body = { access = "Read", durationInSeconds = 300 } })
      assert.is_table(grant, tostring(err))
      assert.matches("^https://", grant.accessSAS)
      local counters = C.counters(em)
      assert.are.equal(2, num(counters.operations, "DiskRestorePoint_GrantAccess"))
      assert.are.equal(1, num(counters.faults, "reset"))
      faults(em, "")
      assert.is_true(client:call("DiskRestorePoint_RevokeAccess", { id = drp }))
    end)

    it("that is not retry-safe (VirtualMachines_AttachDetachDataDisks) is not sent twice", function()
      local disk, derr = client:call("Disks_CreateOrUpdate", { resource_group_name = C.RG, disk_name = "d-attach",
        body = { location = "westeurope", properties = { creationData = { createOption = "Empty" }, diskSizeGB = 4 } } })
      assert.is_table(disk, tostring(derr))
      faults(em, "reset@VirtualMachines_AttachDetachDataDisks=1")
      local before = client:stats()
      -- (src/registry.c does not mark attachDetachDataDisks safe to repeat)
      local res, err = client:call("VirtualMachines_AttachDetachDataDisks", { resource_group_name = C.RG,
        vm_name = "vm-app-01", body = { dataDisksToAttach = { { diskId = disk.id, lun = 9 } } } })
      assert.is_nil(res)
      assert.are.equal("transport", err.kind)
      assert.is_false(err.retryable)   -- the caller must look before trying again
      assert.matches("^POST https://", err.message)
      assert.are.equal(0, retries(client, before))
      local counters = C.counters(em)
      assert.are.equal(1, num(counters.operations, "VirtualMachines_AttachDetachDataDisks"))
      -- Why: the emulator did attach the disk before the connection dropped,
      -- so a second POST would not have been harmless.
      faults(em, "")
      local vm = assert(client:call("VirtualMachines_Get", VM))
      local luns = {}
      for _, d in ipairs(vm.properties.storageProfile.dataDisks) do luns[d.lun] = d.name end
      assert.are.equal("d-attach", luns[9])
    end)

    it("that is not retry-safe is still retried on 500 (the request was not carried out)", function()
      local disk = assert(client:call("Disks_Get", { resource_group_name = C.RG, disk_name = "d-attach" }))
      faults(em, "500@VirtualMachines_AttachDetachDataDisks=0.5,seed=1")
      local res, err = client:call("VirtualMachines_AttachDetachDataDisks", { resource_group_name = C.RG,
        vm_name = "vm-app-01", body = { dataDisksToDetach = { { diskId = disk.id } } } })
      assert.is_truthy(res, tostring(err))
      local counters = C.counters(em)
      assert.are.equal(2, num(counters.operations, "VirtualMachines_AttachDetachDataDisks"))
      assert.are.equal(1, num(counters.faults, "500"))
    end)
  end)

  describe("the client-side throttle", function()
    it("spaces writes to its bucket so that ARM never answers 429", function()
      local t = C.client(em, { throttle = { write = { size = 3, rate = 8 } } })
      faults(em, "")
      local t0 = core.now()
      local ops = {}
      for i = 1, 8 do
        ops[i] = t:restore_point_collections_create_or_update{ resource_group_name = C.RG,
          restore_point_collection_name = "rpc-thr-" .. i, body = { location = "westeurope",
            properties = { source = { id = C.VM_ID } } } }
      end
      local results = azrp.wait_all(ops, 30)
      local elapsed = core.now() - t0
      for i, r in ipairs(results) do
        assert.is_table(r[1], tostring(r[2]))
        assert.are.equal("rpc-thr-" .. i, r[1].name)
      end
      local stats = t:stats()
      assert.is_true(stats.throttled_waits > 0)
      assert.are.equal(0, stats.retries)
      -- 3 at once, then 5 more at 8 per second: 0.625 s (unpaced, all 8
      -- take a few ms)
      assert.is_true(elapsed >= 0.55, string.format("8 writes in %.2f s", elapsed))
      assert.is_true(elapsed < 3, string.format("8 writes in %.2f s", elapsed))
      local counters = C.counters(em)
      assert.is_nil(counters.statuses["429"])
      assert.are.equal(8, num(counters.operations, "RestorePointCollections_CreateOrUpdate"))
      t:close()
    end)
  end)

  describe("a Retry-After longer than max_retry_after", function()
    it("fails at once with retry_after set", function()
      local impatient = C.client(em, { retry = { max_attempts = 10, max_retry_after = 0.5 } })
      assert.is_table(impatient:call("VirtualMachines_Get", VM))
      for _, case in ipairs({ { "429", "throttled", "TooManyRequests" }, { "503", "azure", "ServiceUnavailable" } }) do
        -- 1 s real, over the client's 0.5 s
        faults(em, case[1] .. "@VirtualMachines_Get=1,retry_after=" .. nominal(1))
        local t0 = core.now()
        local vm, err = impatient:call("VirtualMachines_Get", VM)
        local elapsed = core.now() - t0
        assert.is_nil(vm)
        assert.are.equal(case[2], err.kind)
        assert.are.equal(tonumber(case[1]), err.status)
        assert.are.equal(case[3], err.code)
        assert.are.equal(1, err.retry_after)
        assert.is_true(err.retryable)
        assert.is_true(elapsed < 0.9, string.format("took %.2f s", elapsed))
        assert.are.equal(1, num(C.counters(em).operations, "VirtualMachines_Get"))
      end
      impatient:close()
    end)

    it("fails at once with retry_after set for raw requests too", function()
      local impatient = C.client(em, { retry = { max_attempts = 10, max_retry_after = 5 } })
      faults(em, "")
      local t0 = core.now()
      local op = impatient:request{ method = "GET", url = em.url .. "/subscriptions/" .. C.SUB ..
        "/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-app-01?api-version=2025-11-01",
        auth = true, headers = { ["x-azrp-fault"] = "429", ["x-azrp-fault-seconds"] = tostring(nominal(30)) } }
      local res, err = op:wait(10)
      assert.is_true(core.now() - t0 < 4)
      assert.is_nil(res)
      assert.are.equal("throttled", err.kind)
      assert.are.equal(429, err.status)
      assert.are.equal(30, err.retry_after)
      impatient:close()
    end)
  end)
end)

describe("an expired token", function()
  -- Time runs 100 times slower here: a restore point takes 3,500 s of
  -- emulated time, a copy's replication many hours; the tests move the clock.
  local em, client, src
  setup(function()
    em = C.start("--time-scale 100")
    client = C.client(em, { poll = { default = 0.1, max = 0.2 },
      retry = { max_attempts = 5, base_delay = 0.01, max_delay = 0.05 } })
    assert.is_table(client:call("VirtualMachines_Get", VM))
  end)
  teardown(function()
    client:close()
    em.stop()
  end)
  after_each(function() faults(em, "") end)

  it("met while polling an LRO is renewed and the poll resent", function()
    src = make_collection(client, C.RG, "rpc-tok", "westeurope", C.VM_ID)
    faults(em, "")
    local op = client:restore_points_create(rp_params(C.RG, "rpc-tok", "rp1"))
    until_polling(client, op)
    -- an hour later: the restore point is done and the token expired
    advance(em, 3700)
    local rp, err = op:wait(20)
    assert.is_table(rp, tostring(err))
    assert.are.equal("Succeeded", rp.properties.provisioningState)
    local counters = C.counters(em)
    assert.are.equal(1, num(counters.statuses, "401"))
    assert.are.equal(1, num(counters.operations, "Entra_Token"))   -- a new token, not the cached one
  end)

  it("is renewed each time during a copy followed for hours", function()
    assert.is_table(src, "needs the previous test's restore point")
    make_collection(client, "rg-dr", "rpc-tok-dst", "northeurope", src.id)
    faults(em, "")
    local op = client:restore_points_create(rp_params("rg-dr", "rpc-tok-dst", "rp1-copy",
      { sourceRestorePoint = { id = src.id .. "/restorePoints/rp1" } }))
    until_polling(client, op)
    for i = 1, 2 do
      advance(em, 3700)
      -- until the new token came (minted after this jump), then a few polls with it
      local deadline = core.now() + 10
      repeat drive(client, op, 0.2) until op:done() or core.now() > deadline or
        num(C.counters(em).operations, "Entra_Token") >= i
      drive(client, op, 0.6)
      local err = op:done() and select(2, op:result())
      assert.are.equal("running", op:status(), "after expiry " .. i .. ": " .. tostring(err))
      assert.are.equal(i, num(C.counters(em).operations, "Entra_Token"))
    end
    advance(em, 400000)   -- replication done (and the token expired a third time)
    local copy, err = op:wait(30)
    assert.is_table(copy, tostring(err))
    assert.are.equal(100, (op:progress()))
    local counters = C.counters(em)
    assert.are.equal(3, num(counters.statuses, "401"))
    assert.are.equal(3, num(counters.operations, "Entra_Token"))
  end)

  it("injected as a fault is dropped, a new one fetched and the request resent once", function()
    assert.is_table(client:call("VirtualMachines_Get", VM))   -- a valid token after the clock moves
    faults(em, "expired@VirtualMachines_Get=0.5,seed=1")
    local vm, err = client:call("VirtualMachines_Get", VM)
    assert.is_table(vm, tostring(err))
    local counters = C.counters(em)
    assert.are.equal(2, num(counters.operations, "VirtualMachines_Get"))
    assert.are.equal(1, num(counters.statuses, "401"))
    assert.are.equal(1, num(counters.operations, "Entra_Token"))
  end)

  it("rejected again after renewal fails with the 401, without looping", function()
    faults(em, "expired@VirtualMachines_Get=1")
    local vm, err = client:call("VirtualMachines_Get", VM)
    assert.is_nil(vm)
    assert.are.equal("auth", err.kind)
    assert.are.equal(401, err.status)
    assert.are.equal("ExpiredAuthenticationToken", err.code)
    assert.is_false(err.retryable)
    assert.are.equal(2, num(C.counters(em).operations, "VirtualMachines_Get"))
  end)
end)

describe("a whole restore point flow under mixed faults", function()
  -- Status faults anywhere (token endpoint and LRO status polls included);
  -- dropped and cut answers on the requests that are safe to repeat.
  local SPEC = "429=0.08,500=0.05,503=0.05," ..
    "reset@Operations_Get=0.1,truncate@Operations_Get=0.1,reset@RestorePoints_Get=0.1,truncate@RestorePoints_Get=0.1," ..
    "reset@RestorePointCollections_CreateOrUpdate=0.2,truncate@Entra_Token=0.3,reset@RestorePoints_Delete=0.2," ..
    "reset@RestorePointCollections_Delete=0.2,seed=7"
  local em
  -- (a copy replicates for 240 s nominal: 0.5 s at this scale)
  setup(function() em = C.start("--time-scale 0.002 --faults '" .. SPEC .. "'") end)
  teardown(function() em.stop() end)

  it("creates, copies to 100 % and deletes, recovering from every fault", function()
    local client = C.client(em, { retry = { max_attempts = 12, base_delay = 0.02, max_delay = 0.2 } })
    local src = make_collection(client, C.RG, "rpc-mix", "westeurope", C.VM_ID)
    local rp, err = client:call("RestorePoints_Create", rp_params(C.RG, "rpc-mix", "rp1"))
    assert.is_table(rp, tostring(err))
    assert.are.equal("Succeeded", rp.properties.provisioningState)
    local dst = make_collection(client, "rg-dr", "rpc-mix-dst", "northeurope", src.id)
    local copy, cerr = client:call("RestorePoints_Create", rp_params("rg-dr", "rpc-mix-dst", "rp1-copy",
      { sourceRestorePoint = { id = rp.id } }), 120)
    assert.is_table(copy, tostring(cerr))
    for _, d in ipairs(copy.properties.instanceView.diskRestorePoints) do
      assert.are.equal(100, d.replicationStatus.completionPercent)
    end
    local got, gerr = client:call("RestorePoints_Get", { id = copy.id })
    assert.is_table(got, tostring(gerr))
    assert.is_true(client:call("RestorePoints_Delete", { id = copy.id }))
    assert.is_true(client:call("RestorePoints_Delete", { id = rp.id }))
    assert.is_true(client:call("RestorePointCollections_Delete", { id = dst.id }))
    assert.is_true(client:call("RestorePointCollections_Delete", { id = src.id }))
    local gone, nerr = client:call("RestorePoints_Get", { id = rp.id })
    assert.is_nil(gone)
    assert.are.equal(404, nerr.status)
    local counters = C.counters(em)
    local injected = sum(counters.faults)
    assert.is_true(injected >= 5, "only " .. injected .. " faults injected")
    -- each fault (and each 429 of ARM's own throttling) cost one retry at
    -- most; only dropped connections may have been resent by libcurl itself
    local throttled = num(counters.statuses, "429") - num(counters.faults, "429")
    local n = client:stats().retries
    assert.is_true(n <= injected + throttled, n .. " retries for " .. injected .. " faults")
    assert.is_true(n >= injected - num(counters.faults, "reset"), n .. " retries for " .. injected .. " faults")
    client:close()
  end)
end)
