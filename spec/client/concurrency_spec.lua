-- 300 restore point creations in flight at once from one Lua thread.
--
-- The emulator allows one creation at a time per VM (409, as Azure), so the
-- fleet is 300 small VMs (an OS disk of 1 GiB and a NIC each).  Tagged
-- #timing (it bounds durations; too slow under valgrind).  Prints the
-- wall time and the process's memory (VmHWM is the peak resident set of the
-- whole busted process, the test framework included).
local C = require "support.client"
local seed_file = require "support.seed"
local json = require "cjson"
local core = require "azrp.core"
local azrp = require "azrp"

local N = 300

local function vm_name(i) return string.format("vm-c%03d", i) end
local function coll_name(i) return string.format("rpc-c%03d", i) end
local function vm_id(i)
  return "/subscriptions/" .. C.SUB .. "/resourceGroups/" .. C.RG .. "/providers/Microsoft.Compute/virtualMachines/" ..
    vm_name(i)
end

-- The default demo fleet (identity, resource groups, networks) with N small
-- VMs instead of its own; with_collections also seeds a collection per VM.
local function write_seed(with_collections)
  local seed = seed_file.demo()
  seed.vms, seed.disks, seed.resources = {}, {}, {}
  for i = 1, N do
    seed.vms[i] = { resource_group = C.RG, name = vm_name(i), location = "westeurope", size = "Standard_B1s",
      os_type = "Linux", subnet = "vnet-prod/default", os_disk = { size_gb = 1, sku = "Standard_LRS" } }
    if with_collections then
      seed.resources[i] = { path = "/subscriptions/" .. C.SUB .. "/resourceGroups/" .. C.RG ..
        "/providers/Microsoft.Compute/restorePointCollections/" .. coll_name(i),
        body = { location = "westeurope", properties = { source = { id = vm_id(i) } } } }
    end
  end
  return seed_file.write(seed)
end

local function proc_status(field)
  for line in io.lines("/proc/self/status") do
    local v = line:match("^" .. field .. ":%s+(%d+) kB")
    if v then return tonumber(v) end
  end
end

local function disk_restore_points(rp)
  local sp = rp.properties.sourceMetadata.storageProfile
  local n = sp.osDisk and sp.osDisk.diskRestorePoint and 1 or 0
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.diskRestorePoint then n = n + 1 end
  end
  return n
end

local function begin_all(client)
  local ops = {}
  for i = 1, N do
    ops[i] = assert(client:restore_points_create{ resource_group_name = C.RG,
      restore_point_collection_name = coll_name(i), restore_point_name = "rp-1", body = { properties = {} } })
  end
  return ops
end

local function check_all(results)
  local ok = 0
  for i, r in ipairs(results) do
    local rp, err = r[1], r[2]
    assert.is_table(rp, "restore point " .. i .. ": " .. tostring(err))
    assert.are.equal("rp-1", rp.name)
    assert.are.equal("Succeeded", rp.properties.provisioningState)
    local tail = ("/restorePointCollections/" .. coll_name(i) .. "/restorePoints/rp-1"):lower()
    assert.are.equal(tail, rp.id:lower():sub(-#tail))   -- ids compare case-insensitively
    assert.are.equal(1, disk_restore_points(rp))
    ok = ok + 1
  end
  assert.are.equal(N, ok)
end

local function report(label, seconds, rss_before, client)
  local hwm = proc_status("VmHWM")
  print(string.format("\n%s: %d restore points in %.2f s (%.1f ms each in aggregate); " ..
    "process VmRSS before %.1f MiB, VmHWM %.1f MiB; %s on %s",
    label, N, seconds, seconds * 1000 / N, rss_before / 1024, hwm / 1024,
    json.encode(client:stats()), jit and jit.version or _VERSION))
end

describe(N .. " restore point creations in flight at once #timing", function()
  it("complete correctly, unthrottled (--no-throttle, client throttle = false)", function()
    local seed = write_seed(false)
    local em = C.start("--time-scale 0.01 --no-throttle --seed " .. seed)
    finally(function() em.stop(); os.remove(seed) end)
    local client = C.client(em, { throttle = false })
    local rss = proc_status("VmRSS")

    -- The collections, concurrently as well.
    local t0 = core.now()
    local colls = {}
    for i = 1, N do
      colls[i] = assert(client:restore_point_collections_create_or_update{ resource_group_name = C.RG,
        restore_point_collection_name = coll_name(i),
        body = { location = "westeurope", properties = { source = { id = vm_id(i) } } } })
    end
    for i, r in ipairs(azrp.wait_all(colls, 120)) do
      assert.is_table(r[1], "collection " .. i .. ": " .. tostring(r[2]))
      assert.are.equal(coll_name(i), r[1].name)
    end
    local t_colls = core.now() - t0

    t0 = core.now()
    local ops = begin_all(client)
    assert.is_true(core.now() - t0 < 1, "begin() must not wait")
    local results = azrp.wait_all(ops, 120)
    local seconds = core.now() - t0
    check_all(results)
    print(string.format("\n%d collections created concurrently in %.2f s", N, t_colls))
    report("unthrottled", seconds, rss, client)

    local counters = C.counters(em)
    assert.are.equal(N, counters.operations.RestorePoints_Create)   -- one PUT each: no retry
    assert.is_nil(counters.statuses["409"])
    assert.is_nil(counters.statuses["429"])
    -- Each creation takes ~0.25 s (25 s nominal at 0.01): all at
    -- once, the batch takes a few seconds, not N.
    assert.is_true(seconds < 20, "took " .. seconds .. " s")
    client:close()
  end)

  it("stay under ARM's write limits with the client's own token bucket: no 429 reached", function()
    -- Throttling on in the emulator (writes: 200 burst, 10/s); the client's
    -- bucket paces the N PUTs and the polls, so ARM never has to refuse one.
    local seed = write_seed(true)
    local em = C.start("--time-scale 0.01 --seed " .. seed)
    finally(function() em.stop(); os.remove(seed) end)
    -- ARM's read bucket (250, then 25/s) is what bounds this run: each
    -- creation costs reads (its polls and the final GET).  A creation takes
    -- 0.25 s here; polling no sooner than 0.3 s after the PUT needs one poll
    -- each instead of the several that retry-after-ms (0.1 s) would ask for.
    local client = C.client(em, { poll = { default = 0.3, min = 0.3, max = 2 } })
    local rss = proc_status("VmRSS")
    local t0 = core.now()
    local results = azrp.wait_all(begin_all(client), 180)
    local seconds = core.now() - t0
    check_all(results)
    report("client-throttled", seconds, rss, client)
    local counters = C.counters(em)
    assert.is_nil(counters.statuses["429"], "the emulator refused requests: " .. json.encode(counters.statuses))
    assert.are.equal(N, counters.operations.RestorePoints_Create)
    -- 100 PUTs beyond the burst of 200 at 10/s: at least ~10 s.
    assert.is_true(seconds >= (N - 200) / 10 * 0.8, "faster than ARM allows: " .. seconds .. " s")
    client:close()
  end)
end)
