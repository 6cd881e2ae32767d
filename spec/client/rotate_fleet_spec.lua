-- A fleet rotation: 50 VMs chosen by tag (azrp-rotate=daily), two target
-- regions, ARM's throttling on in the emulator.  The client's token bucket
-- paces the run: no request is answered 429, and the run sends fewer
-- requests than a loop polling every operation once a second would.
local C = require "support.client"
local json = require "cjson"
local rotate = require "azrp.workflows.rotate"

local N = 50
local SCALE = 0.002

local function vm_name(i) return string.format("vm-f%02d", i) end

-- The demo fleet's identity, groups and networks, with N small tagged VMs
-- and two untagged ones instead of its VMs.
local function write_seed()
  local p = io.popen([[lua5.4 -e 'package.path="./lua/?.lua;"..package.path; ]] ..
    [[print(require("cjson").encode(require("azrp.emulator.seed").default()))']])
  local seed = json.decode(p:read("*a"))
  p:close()
  seed.vms, seed.disks, seed.resources = {}, {}, {}
  for i = 1, N + 2 do
    seed.vms[i] = { resource_group = C.RG, name = vm_name(i), location = "westeurope", size = "Standard_B1s",
      os_type = "Linux", subnet = "vnet-prod/default", os_disk = { size_gb = 1, sku = "Standard_LRS" },
      tags = i <= N and { ["azrp-rotate"] = "daily" } or { ["azrp-rotate"] = "weekly" } }
  end
  local base = os.tmpname()
  os.remove(base)
  local path = base .. ".json"
  local f = assert(io.open(path, "w"))
  f:write(json.encode(seed))
  f:close()
  return path
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  return d
end

-- Polls a naive loop would send: one a second (Azure time) for as long as
-- each of the run's long-running operations took (throttled waits
-- included: an upper figure, printed)...
local function measured_polls(report)
  local n = 0
  for _, s in ipairs(report.steps) do
    if s.name == "restore_points" or s.name == "copy" then
      for _, sub in ipairs(s.substeps or {}) do n = n + math.ceil((sub.seconds or 0) / SCALE) end
    end
  end
  return n
end

-- ...and for as long as they take at the least: the emulator's nominal
-- durations (restore_points.lua: a restore point of a one-disk VM 20 + 5 s,
-- a copy 15 s to start and 240 s to replicate), the figure asserted.
local function naive_polls(vms, regions)
  return vms * ((20 + 5) + regions * (15 + 240))
end

describe("a fleet rotation of " .. N .. " VMs under ARM's throttling #crash", function()
  local em, client, seed, dir
  setup(function()
    seed = write_seed()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. seed)   -- throttling on (the default)
    client = C.client(em)
    dir = tmpdir()
  end)
  teardown(function() client:close(); em.stop(); os.remove(seed); os.execute("rm -rf " .. dir) end)

  it("rotates every tagged VM in both regions, with no 429 answered and fewer requests than polling each second", function()
    local cfg = { tag = "azrp-rotate=daily", targets = { { location = "northeurope", resource_group = "rg-dr" },
      { location = "francecentral", resource_group = "rg-dr" } }, retention = { keep_last = 1 } }
    local totals, naive = 0, 0
    local names = {}
    -- Two days (the second prunes) on Lua 5.4 and LuaJIT; one on the
    -- older Luas, whose runs exercise the bindings (the pacing is ARM's
    -- wall-clock rate: a day is ~40 s whatever the Lua).
    local days = (_VERSION == "Lua 5.4" or jit) and 2 or 1
    for day = 1, days do
      C.admin(em, "POST", "/_emulator/counters/reset")
      local report, err, partial = rotate.run(client, cfg, { state_dir = dir, time_scale = SCALE, trap = false })
      report = report or partial
      assert.are.equal(0, report.exit_code, tostring(err))
      local counters = C.counters(em)
      assert.is_nil(counters.statuses["429"], json.encode(counters.statuses))
      assert.are.equal(N * 3, #report.details.rows)
      for _, r in ipairs(report.details.rows) do
        assert.are.equal("ok", r.state, r.name)
        assert.are.equal(day == 1 and 0 or 1, r.deleted, r.name)
        names[day] = r.restore_point
      end
      local polls = naive_polls(N, 2)
      print(string.format("\n  day %d: %d requests (%d RestorePoints_Create, %d polls of operations), %d s wall; " ..
        "a poll-every-second loop: at least %d polls (%d for the time the operations took); client %s", day, counters.total,
        counters.operations.RestorePoints_Create or 0, counters.operations.Operations_Get or 0,
        math.floor(report.seconds + 0.5), polls, measured_polls(report), json.encode(client:stats())))
      assert.is_true(counters.total < polls, counters.total .. " requests, naive " .. polls)
      totals, naive = totals + counters.total, naive + polls
      C.admin(em, "POST", "/_emulator/clock/advance", { seconds = 86400 })
    end
    -- Each tagged VM has exactly today's point in each region; the others none.
    local colls = assert(client:list("RestorePointCollections_ListAll", {}))
    local by = {}
    for _, c in ipairs(colls) do by[c.name] = c end
    for i = 1, N + 2 do
      for _, suffix in ipairs({ "", "-northeurope", "-francecentral" }) do
        local cname = "rpc-" .. vm_name(i) .. "-rotate" .. suffix
        if i > N then
          assert.is_nil(by[cname], cname)
        else
          local c = assert(client:call("RestorePointCollections_Get", { id = by[cname].id, expand = "restorePoints" }))
          assert.are.equal(1, #c.properties.restorePoints, cname)
          assert.are.equal(names[days], c.properties.restorePoints[1].name)
        end
      end
    end
    assert.is_true(totals < naive)
  end)
end)
