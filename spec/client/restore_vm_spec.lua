-- A VM restored from a restore point, as a new VM and in place, end to
-- end against the emulator: every disk's bytes are the restore point's
-- (SHA-256), the VM's shape is the source's, and a failure leaves nothing
-- behind (in place: the VM back on its original disks, running).
local C = require "support.client"
local json = require "cjson.safe"
local restore = require "azrp.workflows.restore_vm"
local small_seed = require "support.small_seed"

local SCALE = 0.002
local SUBNET = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"

local state_dir = require("support.tmp").name

local sha = C.disk_digest
local write = C.disk_write

local function vm_disks(vm)
  local sp = vm.properties.storageProfile
  local out = { os = sp.osDisk }
  for _, d in ipairs(sp.dataDisks or {}) do out[math.floor(d.lun)] = d end
  return out
end

-- Marks every disk of the VM, takes a restore point (through the client,
-- as a user would), notes each disk's SHA-256 at that moment, then writes
-- again so that the live disks differ from it.
local function restore_point_of(em, client, coll, name)
  local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
  local disks = vm_disks(vm)
  for k, d in pairs(disks) do write(em, d.managedDisk.id, 4096, "before " .. tostring(k) .. " " .. name) end
  assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
    restore_point_collection_name = coll, body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
  assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = coll,
    restore_point_name = name, body = {} }))
  local want = {}
  for k, d in pairs(disks) do want[k] = sha(em, d.managedDisk.id) end
  for k, d in pairs(disks) do write(em, d.managedDisk.id, 8192, "after " .. tostring(k) .. " " .. name) end
  for k, d in pairs(disks) do assert.are_not.equal(want[k], sha(em, d.managedDisk.id)) end
  return want, vm
end

local function names_in(client, rg, op)
  local out = {}
  for _, r in ipairs(assert(client:list(op, { resource_group_name = rg }))) do out[r.name] = r end
  return out
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

local function power(vm)
  for _, s in ipairs(vm.properties.instanceView and vm.properties.instanceView.statuses or {}) do
    if s.code:match("^PowerState/") then return s.code end
  end
end

describe("restore_vm", function()
  local em, client
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. small_seed.file())
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  describe("check", function()
    local function refused(cfg, field)
      local ok, err = restore.check(cfg)
      assert.is_nil(ok)
      assert.are.equal("invalid", err.kind)
      assert.are.equal(field, err.target, err.message)
      assert.matches(field, err.message, 1, true)
    end
    it("names the field of every bad setting, before any request", function()
      refused({}, "vm_id")
      refused({ vm_id = "vm-app-01" }, "vm_id")
      refused({ vm_id = C.VM_ID, mode = "inplace" }, "mode")
      refused({ vm_id = C.VM_ID }, "subnet_id")
      refused({ vm_id = C.VM_ID, subnet_id = "default" }, "subnet_id")
      refused({ vm_id = C.VM_ID, mode = "in_place", subnet_id = SUBNET }, "subnet_id")
      refused({ vm_id = C.VM_ID, mode = "in_place", vm_name = "x" }, "vm_name")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, delete_originals = true }, "delete_originals")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, restore_point = "a", restore_point_id = "b" }, "restore_point")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, restore_point_id = "rp1" }, "restore_point_id")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, location = "" }, "location")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, zone = "4" }, "zone")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, disk_sku = "Fast" }, "disk_sku")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, timeout = -1 }, "timeout")
      refused({ vm_id = C.VM_ID, subnet_id = SUBNET, vm_nmae = "x" }, "vm_nmae")
      local _, err = restore.check({ vm_id = C.VM_ID, subnet_id = SUBNET, vm_nmae = "x" })
      assert.matches("did you mean vm_name", err.message, 1, true)
      assert.is_table(restore.check({ vm_id = C.VM_ID, subnet_id = SUBNET, location = "West Europe" }))
      assert.are.equal("westeurope", restore.check({ vm_id = C.VM_ID, subnet_id = SUBNET, location = "West Europe" }).location)
    end)
    it("knows which VM sizes take premium disks", function()
      for _, s in ipairs({ "Standard_D2s_v5", "Standard_E4as_v4", "Standard_B2ms", "Standard_DS2_v2", "Standard_GS5",
        "Standard_F4s_v2", "Standard_D4ds_v5" }) do
        assert.is_true(restore.premium_capable(s), s)
      end
      for _, s in ipairs({ "Standard_D2_v3", "Standard_A2_v2", "Standard_D4d_v5", "Standard_F4", "Basic_A1" }) do
        assert.is_false(restore.premium_capable(s), s)
      end
    end)
  end)

  it("restores vm-app-01 as a new VM: every disk byte for byte, at its LUN, with the source's shape", function()
    local want, src = restore_point_of(em, client, "rpc-restore-new", "rp-new-1")
    local before_vms = names_in(client, "rg-prod", "VirtualMachines_List")
    local events = {}
    local report, err = restore.run(client, { vm_id = C.VM_ID, subnet_id = SUBNET, vm_name = "vm-app-01-restored" },
      { state_dir = state_dir(), time_scale = SCALE, progress = function(e) events[#events + 1] = e end })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code)
    local names = {}
    for _, s in ipairs(report.steps) do names[#names + 1] = s.name; assert.is_true(s.ok, s.name) end
    assert.are.same({ "preflight", "restore_disks", "network", "create_vm", "verify", "cleanup" }, names)
    assert.matches("^restore%-", report.run_id)
    local vm = assert(client:call("VirtualMachines_Get", { resource_group_name = "rg-prod", vm_name = "vm-app-01-restored",
      expand = "instanceView" }))
    assert.are.equal("PowerState/running", power(vm))
    assert.are.equal(src.properties.hardwareProfile.vmSize, vm.properties.hardwareProfile.vmSize)
    assert.are.same(src.properties.securityProfile, vm.properties.securityProfile)
    assert.are.equal("shop", vm.tags.app)
    assert.are.equal(report.run_id, vm.tags["azrp-run"])
    local got, srcd = vm_disks(vm), vm_disks(src)
    assert.are.equal(count(srcd), count(got))
    for k, d in pairs(got) do
      assert.are.equal(want[k], sha(em, d.managedDisk.id), "disk " .. tostring(k))
      assert.are.equal(srcd[k].caching, d.caching, "caching of " .. tostring(k))
      local disk = assert(client:call("Disks_Get", { id = d.managedDisk.id }))
      local orig = assert(client:call("Disks_Get", { id = srcd[k].managedDisk.id }))
      assert.are.equal(orig.sku.name, disk.sku.name, "sku of " .. tostring(k))
      assert.are.equal(orig.properties.diskSizeGB, disk.properties.diskSizeGB, "size of " .. tostring(k))
    end
    assert.are.equal("TrustedLaunch", assert(client:call("Disks_Get", { id = got.os.managedDisk.id })).properties.securityProfile.securityType)
    -- Everything made is kept (it is the restore), and the report lists it.
    local kept = 0
    for _, r in ipairs(report.resources) do assert.are.equal("kept", r.state, r.name); kept = kept + 1 end
    assert.are.equal(5, kept)  -- 3 disks, NIC, VM
    assert.are.equal(count(before_vms) + 1, count(names_in(client, "rg-prod", "VirtualMachines_List")))
    assert.is_true(report.figures.rto_seconds > 0)
    -- Clean up for the next specs: the whole VM.
    local cleaned = assert(require("azrp.workflow").cleanup(client, report.run_id, { state_dir = report.journal:match("^(.*)/runs/") , all = true }))
    assert.are.equal(0, cleaned.exit_code)
    assert.is_nil(names_in(client, "rg-prod", "VirtualMachines_List")["vm-app-01-restored"])
  end)

  it("restores vm-app-01 in place: the VM runs on disks holding the restore point's bytes; originals kept", function()
    local want, src = restore_point_of(em, client, "rpc-restore-inplace", "rp-inplace-1")
    local orig = vm_disks(src)
    local report, err = restore.run(client, { vm_id = C.VM_ID, mode = "in_place" },
      { state_dir = state_dir(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, json.encode(report.error))
    local names = {}
    for _, s in ipairs(report.steps) do names[#names + 1] = s.name end
    assert.are.same({ "preflight", "restore_disks", "deallocate", "swap", "start", "verify", "originals", "cleanup" }, names)
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID, expand = "instanceView" }))
    assert.are.equal("PowerState/running", power(vm))
    local got = vm_disks(vm)
    for k, d in pairs(got) do
      assert.are_not.equal(orig[k].managedDisk.id, d.managedDisk.id, "disk " .. tostring(k) .. " was swapped")
      assert.are.equal(want[k], sha(em, d.managedDisk.id), "disk " .. tostring(k))
      assert.are.equal(orig[k].caching, d.caching)
    end
    -- The originals are still there, unattached.
    for _, d in pairs(orig) do assert(client:call("Disks_Get", { id = d.managedDisk.id })) end
  end)

  it("rolls an in-place restore back when the VM update fails: original disks, running, nothing left", function()
    restore_point_of(em, client, "rpc-restore-fail", "rp-fail-1")
    local vm0 = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local orig = vm_disks(vm0)
    local before = {}
    for k, d in pairs(orig) do before[k] = sha(em, d.managedDisk.id) end
    local disks0 = names_in(client, "rg-prod", "Disks_ListByResourceGroup")
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "failed@VirtualMachines_CreateOrUpdate=1", seed = 1 })))
    local _, _, report = restore.run(client, { vm_id = C.VM_ID, mode = "in_place" }, { state_dir = state_dir(), time_scale = SCALE,
      progress = function(e)
        -- The swap failed: let the rollback's own update through.
        if e.type == "step" and e.name == "swap" and e.state == "failed" then C.admin(em, "POST", "/_emulator/faults", { spec = "" }) end
      end })
    C.admin(em, "POST", "/_emulator/faults", { spec = "" })
    assert.is_table(report)
    assert.are.equal(1, report.exit_code)
    assert.are.equal("swap", report.failed_step)
    local by = {}
    for _, s in ipairs(report.steps) do by[s.name] = s end
    assert.is_true(by.rollback.ok, tostring(by.rollback.error))
    assert.is_true(by.cleanup.ok, tostring(by.cleanup.error))
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID, expand = "instanceView" }))
    assert.are.equal("PowerState/running", power(vm))
    assert.are.equal("Succeeded", vm.properties.provisioningState)
    for k, d in pairs(vm_disks(vm)) do
      assert.are.equal(orig[k].managedDisk.id:lower(), d.managedDisk.id:lower(), "disk " .. tostring(k))
      assert.are.equal(before[k], sha(em, d.managedDisk.id))
    end
    for _, r in ipairs(report.resources) do assert.are.equal("deleted", r.state, r.name) end
    assert.are.same(disks0, names_in(client, "rg-prod", "Disks_ListByResourceGroup"))
  end)

  it("refuses, before creating anything, a restore point of another VM, one still replicating, and a VM size without premium storage", function()
    local _, err = restore.run(client, { vm_id = C.VM_ID, mode = "in_place", restore_point = "no-such-rp" },
      { state_dir = state_dir(), time_scale = SCALE })
    assert.are.equal("invalid", err.kind)
    assert.matches("no restore point named", err.message, 1, true)
    local rp_id = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-restore-new/restorePoints/rp-new-1"
    local report
    _, err, report = restore.run(client, { vm_id = C.VM_ID, subnet_id = SUBNET, restore_point_id = rp_id, vm_size = "Standard_D2_v3" },
      { state_dir = state_dir(), time_scale = SCALE })
    assert.are.equal("invalid", err.kind)
    assert.are.equal("vm_size", err.target)
    assert.matches("Standard_D2_v3", err.message, 1, true)
    assert.matches("Premium_LRS", err.message, 1, true)
    assert.are.equal(2, report.exit_code)
    assert.are.equal(0, #report.resources)
  end)
end)
