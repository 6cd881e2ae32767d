-- The DR drill end to end against the emulator: the restored disks hold the
-- restore point's bytes, and cleanup leaves rg-dr as it was, also when a
-- step fails.
local C = require "support.client"
local drill = require "azrp.workflows.dr_drill"
local small_seed = require "support.small_seed"
local I = require "support.inventory"

local function dr_inventory(em, client) return I.dr(em, client) end

local state_dir = require("support.tmp").name

local function opts(extra)
  local o = { vm_id = C.VM_ID, dr_location = "northeurope", dr_resource_group = "rg-dr" }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The admin API takes bytes as base64.
local base64 = require("support.base64").encode

local sha = C.disk_digest

local function assert_steps_ok(report)
  local names = {}
  for _, s in ipairs(report.steps) do
    assert.is_true(s.ok, s.name .. ": " .. tostring(s.error))
    assert.is_number(s.seconds)
    names[#names + 1] = s.name
  end
  assert.are.same(drill.STEPS, names)
end

-- The drill's copy replicates for 240 s nominal: 0.48 s at --time-scale 0.002;
-- the fleet's disks are 1 GiB (support.small_seed), as the test hashes them.
describe("the DR drill", function()
  local em, client
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file())
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  it("restores vm-app-01 in rg-dr byte for byte, boots it, and cleans up", function()
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local data0 = vm.properties.storageProfile.dataDisks[1]
    assert.are.equal(0, data0.lun)
    local marker = "azrp dr drill marker " .. os.time()
    local unmarked = sha(em, data0.managedDisk.id)
    C.disk_write(em, data0.managedDisk.id, 0, marker)
    assert.are_not.equal(unmarked, sha(em, data0.managedDisk.id))
    -- Nothing writes to the source during the drill: its hashes now are the restore point's.
    local want = { os = sha(em, vm.properties.storageProfile.osDisk.managedDisk.id) }
    for _, d in ipairs(vm.properties.storageProfile.dataDisks) do want[d.lun] = sha(em, d.managedDisk.id) end
    local before = dr_inventory(em, client)

    local checked = 0
    local report, err = drill.run(client, opts(), { state_dir = state_dir(), time_scale = 0.002, progress = function(e)
      if e.type ~= "step" or e.name ~= "health" or e.state ~= "done" then return end
      -- The test VM is up and its disks still exist: compare bytes now.
      local stem = "vm-app-01-" .. e.run_id:match("^drill%-(.+)$")
      for _, r in ipairs(assert(client:list("Disks_ListByResourceGroup", { resource_group_name = "rg-dr" }))) do
        local which = r.name:sub(1, #stem) == stem and r.name:sub(#stem + 2)
        if which then
          r.lun = tonumber(which:match("^lun(%d+)$"))
          assert.are.equal(want[r.lun or "os"], sha(em, r.id), r.name)
          checked = checked + 1
          if r.lun == 0 then
            -- No "&" in the query: C.admin runs curl through a shell.
            local st, got = C.admin(em, "GET", "/_emulator/disks/" .. C.enc(r.id) .. "/read?length=" .. #marker)
            assert.are.equal(200, st)
            assert.are.equal(base64(marker), got.data or got)
          end
        end
      end
    end })
    assert.is_table(report, tostring(err))
    assert.is_true(report.ok)
    assert_steps_ok(report)
    assert.are.equal(3, checked)
    assert.matches("^drill%-%d+T%d+%-%x%x%x%x%x%x$", report.run_id)
    assert.are.equal(0, report.exit_code)
    assert.is_true(report.figures.rpo_seconds >= 0)
    assert.is_true(report.figures.rto_seconds > 0)
    -- Azure seconds are wall seconds over the emulator's time scale.
    assert.is_true(math.abs(report.figures.rto_seconds - report.figures.rto_wall_seconds / 0.002) < 1)
    local by_state, copy_id, rp_id = {}, nil, nil
    for _, r in ipairs(report.resources) do
      by_state[r.state] = (by_state[r.state] or 0) + 1
      if r.kind == "restore_point" and r.step == "copy" then copy_id = r.id end
      if r.kind == "restore_point" and r.step == "restore_point" then rp_id = r.id end
    end
    -- copy, 3 disks, NSG, vnet, NIC, VM deleted; the source restore point kept
    -- (and the two collections, when this run made them).
    assert.are.equal(8, by_state.deleted)
    assert.is_nil(by_state.left)
    assert.is_nil(by_state.unverified)
    assert.are.same(before, dr_inventory(em, client))
    local gone, gerr = client:call("RestorePoints_Get", { id = copy_id })
    assert.is_nil(gone)
    assert.are.equal(404, gerr.status)
    assert.is_table(client:call("RestorePoints_Get", { id = rp_id }))
  end)

  it("drills a VM without its Ultra and shared disks when told to exclude them", function()
    local before = dr_inventory(em, client)
    local r, err = drill.run(client, opts{ vm_id = C.VM_ID:gsub("vm%-app%-01$", "vm-sql-01"), unsupported_disks = "exclude" },
      { state_dir = state_dir(), time_scale = 0.002, trap = false })
    assert.is_table(r, tostring(err))
    local disks = {}
    for _, res in ipairs(r.resources) do if res.kind == "disk" then disks[#disks + 1] = res.name:match("%-(%w+)$") end end
    table.sort(disks)
    assert.are.same({ "lun2", "os" }, disks)
    assert.are.same(before, dr_inventory(em, client))
  end)

  it("reports a test VM that fails a health check as a failed check (exit 3), cleaned up", function()
    local before = dr_inventory(em, client)
    local r, err, partial = drill.run(client, opts(), { state_dir = state_dir(), time_scale = 0.002, trap = false,
      health_checks = { function() return nil, "port 443 does not answer" end } })
    assert.is_nil(r)
    assert.are.equal("check", err.kind)
    assert.are.equal(3, partial.exit_code)
    assert.matches("port 443 does not answer", err.message)
    assert.are.same(before, dr_inventory(em, client))
  end)
end)

describe("a DR drill whose test VM fails to provision", function()
  local em, client
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file() .. " --faults 'failed@VirtualMachines_CreateOrUpdate=1'")
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  it("refuses a bad config naming the field, before any request", function()
    local n0 = C.counters(em)
    local r, err = drill.run(client, { vm_id = "not-an-id", dr_location = "northeurope", dr_resource_group = "rg-dr" },
      { state_dir = state_dir() })
    assert.is_nil(r)
    assert.are.equal("vm_id", err.target)
    assert.matches("vm_id", err.message)
    r, err = drill.run(client, opts{ dr_locaton = "x" }, { state_dir = state_dir() })
    assert.is_nil(r)
    assert.matches("dr_locaton: unknown setting %(did you mean dr_location%?%)", err.message)
    -- Nothing reached the emulator but the counters request itself.
    assert.are.equal(n0.total + 1, C.counters(em).total)
  end)

  -- Preflight refusals: config errors (exit 2) with nothing created.
  local function writes(em)
    local n = 0
    for op, count in pairs(C.counters(em).operations or {}) do
      if op:match("Create") or op:match("Delete") or op:match("Update") then n = n + count end
    end
    return n
  end
  for _, case in ipairs({
    { "a VM that does not exist", { vm_id = C.VM_ID:gsub("vm%-app%-01$", "vm-nope") }, "vm_id", "no VM" },
    { "a DR resource group that does not exist", { dr_resource_group = "rg-nope" }, "dr_resource_group", "does not exist" },
    { "a VM with an Ultra disk (unless told to exclude it)", { vm_id = C.VM_ID:gsub("vm%-app%-01$", "vm-sql-01") },
      "vm_id", "is an Ultra disk, which restore points do not support" },
    { "a VM with an ephemeral OS disk", { vm_id = C.VM_ID:gsub("vm%-app%-01$", "vm-eph-01"), unsupported_disks = "exclude" },
      "vm_id", "is an ephemeral OS disk" },
  }) do
    it("refuses " .. case[1] .. " in preflight (exit 2), creating nothing", function()
      C.admin(em, "POST", "/_emulator/counters/reset")
      local r, err, partial = drill.run(client, opts(case[2]), { state_dir = state_dir(), trap = false })
      assert.is_nil(r)
      assert.are.equal(2, partial.exit_code)
      assert.are.equal("preflight", partial.failed_step)
      assert.matches(case[3] .. ": .*" .. case[4], err.message)
      assert.are.same({}, partial.resources)
      assert.are.equal(0, writes(em))
    end)
  end

  it("names the failing step and still cleans up everything", function()
    local before = dr_inventory(em, client)
    local report, err, partial = drill.run(client, opts(), { state_dir = state_dir(), time_scale = 0.002 })
    assert.is_nil(report)
    assert.are.equal("lro", err.kind)
    assert.is_false(partial.ok)
    assert.are.equal(1, partial.exit_code)
    assert.are.equal("failed", partial.state)
    assert.are.equal("create_vm", partial.failed_step)
    local by_name = {}
    for _, s in ipairs(partial.steps) do by_name[s.name] = s end
    assert.is_false(by_name.create_vm.ok)
    assert.is_string(by_name.create_vm.error)
    assert.is_nil(by_name.health)               -- not attempted after the failure
    assert.is_true(by_name.cleanup.ok)
    for _, r in ipairs(partial.resources) do
      assert.is_true(r.state == "deleted" or r.state == "kept", r.id .. " " .. r.state)
    end
    assert.are.same(before, dr_inventory(em, client))
  end)
end)
