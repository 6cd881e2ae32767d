-- The DR drill end to end against the emulator: the restored disks hold the
-- restore point's bytes, and cleanup leaves rg-dr as it was, also when a
-- step fails.
local C = require "support.client"
local json = require "cjson.safe"
local drill = require "azrp.workflows.dr_drill"
local small_seed = require "support.small_seed"

local function opts(extra)
  local o = { vm_id = C.VM_ID, dr_location = "northeurope", dr_resource_group = "rg-dr" }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- The admin API takes bytes as base64; no library needed for a marker.
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  return (s:gsub(".", function(ch)
    local b, bits = ch:byte(), ""
    for i = 8, 1, -1 do bits = bits .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return bits
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return B64:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1]
end

local function sha(em, id)
  local status, body = C.admin(em, "GET", "/_emulator/disks/" .. C.enc(id) .. "/sha256")
  assert.are.equal(200, status, json.encode(body))
  return body.sha256
end

-- What rg-dr holds, as a sorted list of "type/name": disks, VMs and NICs.
local function dr_inventory(em, client)
  local out = {}
  for _, op in ipairs({ "Disks_ListByResourceGroup", "VirtualMachines_List" }) do
    local items, err = client:list(op, { resource_group_name = "rg-dr" })
    assert.is_table(items, tostring(err))
    for _, it in ipairs(items) do out[#out + 1] = it.type .. "/" .. it.name end
  end
  -- The registry has no NIC list operation: ARM's path, raw.
  local res, err = client:request{ method = "GET", auth = true, url = em.url .. "/subscriptions/" .. C.SUB
    .. "/resourceGroups/rg-dr/providers/Microsoft.Network/networkInterfaces?api-version=2024-05-01" }:wait()
  assert.is_table(res, tostring(err))
  assert.are.equal(200, res.status, res.body)
  for _, it in ipairs(json.decode(res.body).value) do out[#out + 1] = it.type .. "/" .. it.name end
  table.sort(out)
  return out
end

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
    local status = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(data0.managedDisk.id) .. "/write",
      { offset = 0, data = base64(marker) })
    assert.are.equal(200, status)
    assert.are_not.equal(unmarked, sha(em, data0.managedDisk.id))
    -- Nothing writes to the source during the drill: its hashes now are the restore point's.
    local want = { os = sha(em, vm.properties.storageProfile.osDisk.managedDisk.id) }
    for _, d in ipairs(vm.properties.storageProfile.dataDisks) do want[d.lun] = sha(em, d.managedDisk.id) end
    local before = dr_inventory(em, client)

    local checked = 0
    local report, err = drill.run(client, opts{ drill_id = "spec1", progress = function(step, info)
      if step ~= "health" or info.state ~= "done" then return end
      -- The test VM is up and its disks still exist: compare bytes now.
      for _, r in ipairs(info.report.resources_created) do
        if r.kind == "disk" then
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
    assert.are.equal("spec1", report.drill_id)
    assert.matches("/restorePoints/drill%-spec1$", report.restore_point_id)
    assert.matches("rg%-dr/.*/rpc%-vm%-app%-01%-dr/restorePoints/drill%-spec1$", report.copy_id)
    assert.is_true(report.rpo_seconds >= 0)
    assert.is_true(report.rto_seconds > 0)
    assert.is_true(report.cleanup.ok)
    assert.are.same({}, report.cleanup.leftovers)
    assert.are.equal(8, #report.resources_created)  -- copy, 3 disks, NSG, vnet, NIC, VM
    for _, r in ipairs(report.resources_created) do assert.is_true(r.deleted, r.id) end
    assert.are.same(before, dr_inventory(em, client))
    local gone, gerr = client:call("RestorePoints_Get", { id = report.copy_id })
    assert.is_nil(gone)
    assert.are.equal(404, gerr.status)
  end)
end)

describe("a DR drill whose test VM fails to provision", function()
  local em, client
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file() .. " --faults 'failed@VirtualMachines_CreateOrUpdate=1'")
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  it("names the failing step and still cleans up everything", function()
    local before = dr_inventory(em, client)
    local report, err, partial = drill.run(client, opts{ drill_id = "spec2" })
    assert.is_nil(report)
    assert.are.equal("lro", err.kind)
    assert.is_false(partial.ok)
    assert.are.equal("create_vm", partial.failed_step)
    local by_name = {}
    for _, s in ipairs(partial.steps) do by_name[s.name] = s end
    assert.is_false(by_name.create_vm.ok)
    assert.is_string(by_name.create_vm.error)
    assert.is_nil(by_name.health)               -- not attempted after the failure
    assert.is_true(by_name.cleanup.ok)
    assert.is_true(partial.cleanup.ok)
    assert.are.same({}, partial.cleanup.leftovers)
    assert.are.same(before, dr_inventory(em, client))
  end)
end)
