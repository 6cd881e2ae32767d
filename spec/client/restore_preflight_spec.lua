-- Every mismatch the restore's preflight refuses, against the emulator:
-- each error names the field and both values, and NO request that creates
-- or changes anything reaches ARM (the emulator's request log).  What the
-- preflight does not refuse but must get right is checked on a whole run:
-- the restored disks in the VM's zone, with the VM's disk encryption set
-- passed explicitly.  And --plan: the disks and the VM change as a diff.
local C = require "support.client"
local json = require "cjson.safe"
local restore = require "azrp.workflows.restore_vm"
local small_seed = require "support.small_seed"

local SCALE = 0.002
local RG = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod"
local COMPUTE = RG .. "/providers/Microsoft.Compute"
local SUBNET = RG .. "/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"
local DES = COMPUTE .. "/diskEncryptionSets/"

local function vm_id(name) return COMPUTE .. "/virtualMachines/" .. name end
local function rp_id(vm) return COMPUTE .. "/restorePointCollections/rpc-" .. vm .. "/restorePoints/rp-" .. vm end

local function state_dir()
  local d = os.tmpname()
  os.remove(d)
  return d
end

-- The small demo fleet plus VMs of every shape a restore must match.
local function seed_file()
  local f = assert(io.open(small_seed.file()))
  local seed = json.decode(f:read("*a"))
  f:close()
  seed.disk_encryption_sets = { { resource_group = "rg-prod", name = "des-prod", location = "westeurope" } }
  -- 6 vCPUs of the Esv5 family in westeurope, 4 of them vm-sql-01's: no
  -- second Standard_E4s_v5 fits.
  seed.quotas = { { location = "westeurope", name = "standardESv5Family", limit = 6 } }
  local function vm(t)
    t.resource_group, t.location, t.subnet = "rg-prod", "westeurope", "vnet-prod/default"
    t.os_type = t.os_type or "Linux"
    t.size = t.size or "Standard_D2s_v3"
    t.os_disk = t.os_disk or { size_gb = 1, sku = "Premium_LRS" }
    seed.vms[#seed.vms + 1] = t
  end
  vm{ name = "vm-plain", data_disks = { { lun = 0, size_gb = 1, sku = "Premium_LRS" } } }
  vm{ name = "vm-win", os_type = "Windows" }
  vm{ name = "vm-gen1", hyper_v = "V1" }
  vm{ name = "vm-small", size = "Standard_D2_v3", os_disk = { size_gb = 1, sku = "StandardSSD_LRS" },
    data_disks = { { lun = 0, size_gb = 1, sku = "StandardSSD_LRS" } } }
  vm{ name = "vm-ade", ade = true }
  vm{ name = "vm-z1", zones = { "1" }, security_type = "TrustedLaunch", disk_encryption_set = "des-prod",
    data_disks = { { lun = 0, size_gb = 1, sku = "Premium_LRS" }, { lun = 1, size_gb = 1, sku = "StandardSSD_LRS",
      caching = "ReadWrite" } }, tags = { app = "zonal" } }
  vm{ name = "vm-zrs", zones = { "2" }, data_disks = { { lun = 0, size_gb = 1, sku = "StandardSSD_ZRS" },
    { lun = 1, size_gb = 1, sku = "Premium_LRS" } } }
  -- A point taken before Azure recorded disks' SKUs: the OS disk's and
  -- LUN 1's are not in its sourceMetadata.
  vm{ name = "vm-nosku", data_disks = { { lun = 0, size_gb = 1, sku = "Premium_LRS" },
    { lun = 1, size_gb = 1, sku = "StandardSSD_LRS" } } }
  seed.restore_points = { { resource_group = "rg-prod", vm = "vm-nosku", collection = "rpc-vm-nosku", name = "rp-vm-nosku",
    without_sku = { "os", "lun1" } } }
  local path = os.tmpname() .. ".json"
  f = assert(io.open(path, "w"))
  f:write(json.encode(seed))
  f:close()
  return path
end

-- Requests that create or change something in ARM since the last reset
-- (token requests and the admin API are not ARM's).
local function reset(em) assert.are.equal(200, (C.admin(em, "POST", "/_emulator/counters/reset"))) end
local function writes(em)
  local _, body = C.admin(em, "GET", "/_emulator/requests?n=2000")
  local out = {}
  for _, r in ipairs(body.value) do
    if r.method ~= "GET" and r.path:match("^/subscriptions/") then out[#out + 1] = r.method .. " " .. r.path end
  end
  return out
end

describe("restore preflight", function()
  local em, client
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. seed_file())
    client = C.client(em)
    for _, name in ipairs({ "vm-app-01", "vm-plain", "vm-win", "vm-gen1", "vm-ade", "vm-z1", "vm-zrs" }) do
      assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
        restore_point_collection_name = "rpc-" .. name,
        body = { location = "westeurope", properties = { source = { id = vm_id(name) } } } }))
      assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod",
        restore_point_collection_name = "rpc-" .. name, restore_point_name = "rp-" .. name, body = {} }))
    end
  end)
  teardown(function() client:close(); em.stop() end)

  -- Runs a restore that preflight must refuse: exit 2, the field, each of
  -- the values in the message, no write, no resource.
  local function refused(cfg, field, ...)
    reset(em)
    local report, err, rep = restore.run(client, cfg, { state_dir = state_dir(), time_scale = SCALE })
    assert.is_nil(report)
    assert.are.equal("invalid", err.kind, tostring(err))
    assert.are.equal(field, err.target, err.message)
    assert.are.equal(field .. ":", err.message:sub(1, #field + 1))
    for _, v in ipairs({ ... }) do assert.matches(v, err.message, 1, true) end
    assert.are.equal(2, rep.exit_code)
    assert.are.equal(0, #rep.resources)
    assert.are.same({}, writes(em))
    -- and --plan says the same, reading only
    local rows, perr = restore.plan(client, cfg)
    assert.is_nil(rows)
    assert.are.equal(err.message, perr.message)
    assert.are.same({}, writes(em))
    return err
  end

  it("refuses an OS type other than the VM's (a Windows point onto a Linux VM)", function()
    refused({ vm_id = vm_id("vm-plain"), mode = "in_place", restore_point_id = rp_id("vm-win") },
      "restore_point", "OS type", "Windows", "Linux")
  end)

  it("refuses a generation 1 point for a generation 2 VM in place", function()
    refused({ vm_id = vm_id("vm-plain"), mode = "in_place", restore_point_id = rp_id("vm-gen1") },
      "restore_point", "hyperVGeneration", "is V1", "is V2", "PropertyChangeNotAllowed")
  end)

  it("refuses a Trusted Launch point for a Standard VM, and a Standard point for a Trusted Launch VM", function()
    refused({ vm_id = vm_id("vm-plain"), mode = "in_place", restore_point_id = rp_id("vm-app-01") },
      "restore_point", "security type", "restore point's is TrustedLaunch", "VM's is Standard")
    refused({ vm_id = C.VM_ID, mode = "in_place", restore_point_id = rp_id("vm-plain") },
      "restore_point", "security type", "restore point's is Standard", "VM's is TrustedLaunch")
  end)

  it("refuses to swap the OS disk of a VM using Azure Disk Encryption", function()
    refused({ vm_id = vm_id("vm-ade"), mode = "in_place" }, "vm_id", "Azure Disk Encryption",
      "OSDiskSwapNotSupportedForVMsUsingDiskEncryption")
  end)

  it("refuses premium disks on a VM size without premium storage, in place and as a new VM", function()
    refused({ vm_id = vm_id("vm-small"), mode = "in_place", restore_point_id = rp_id("vm-plain") },
      "vm_id", "Standard_D2_v3", "the OS disk is Premium_LRS")
    refused({ vm_id = vm_id("vm-plain"), subnet_id = SUBNET, vm_size = "Standard_D2_v3" },
      "vm_size", "Standard_D2_v3", "Premium_LRS")
  end)

  it("refuses a new VM whose vCPUs the region's quota cannot take, and a region that does not exist", function()
    refused({ vm_id = vm_id("vm-plain"), subnet_id = SUBNET, vm_size = "Standard_E4s_v5" },
      "vm_size", "standardESv5Family in westeurope", "4 vCPUs needed for 1 x Standard_E4s_v5", "2 free")
    refused({ vm_id = vm_id("vm-plain"), subnet_id = SUBNET, location = "westeurope2" },
      "location", "westeurope2 does not exist")
  end)

  it("refuses a disk encryption set that does not exist, before any disk is made", function()
    local gone = DES .. "des-gone"
    refused({ vm_id = vm_id("vm-plain"), subnet_id = SUBNET, disk_encryption_set_id = gone },
      "disk_encryption_set_id", gone, "does not exist")
    refused({ vm_id = vm_id("vm-z1"), mode = "in_place", disk_encryption_set_id = gone },
      "disk_encryption_set_id", gone)
    -- a malformed one is the config's error, before any request
    local _, err = restore.check({ vm_id = vm_id("vm-plain"), subnet_id = SUBNET, disk_encryption_set_id = "des-prod" })
    assert.are.equal("disk_encryption_set_id", err.target)
  end)

  describe("disk SKUs", function()
    local NOSKU = vm_id("vm-nosku")

    it("refuses a restore point that does not record a disk's SKU, naming the disk and the setting (no fallback)", function()
      for _, cfg in ipairs({ { vm_id = NOSKU, subnet_id = SUBNET, restore_point_id = rp_id("vm-nosku") },
          { vm_id = NOSKU, mode = "in_place" } }) do
        refused(cfg, "disk_skus.os", "does not record the SKU of the OS disk (vm-nosku-osdisk)",
          "whose source disk is Premium_LRS today", 'disk_skus = { os = "<SKU>" }', "or disk_sku")
      end
      -- one disk told, the next one still missing is named
      refused({ vm_id = NOSKU, subnet_id = SUBNET, disk_skus = { os = "Premium_LRS" } }, "disk_skus.lun1",
        "the data disk at LUN 1 (vm-nosku-data1)", "StandardSSD_LRS today", "disk_skus = { lun1 = ")
      -- an override for a disk the restore point does not hold
      refused({ vm_id = NOSKU, subnet_id = SUBNET, disk_sku = "Premium_LRS", disk_skus = { lun5 = "Premium_LRS" } },
        "disk_skus.lun5", rp_id("vm-nosku"), "holds no data disk at LUN 5")
    end)

    it("refuses an Ultra or Premium v2 OS disk: in the config before any request, from disk_sku in preflight", function()
      for _, sku in ipairs({ "UltraSSD_LRS", "PremiumV2_LRS" }) do
        reset(em)
        local cfg = { vm_id = NOSKU, subnet_id = SUBNET, disk_skus = { os = sku } }
        local _, err = restore.check(cfg)
        assert.are.equal("disk_skus.os", err.target)
        assert.matches(sku .. " can only be used with data disks", err.message, 1, true)
        local report, rerr = restore.run(client, cfg, { state_dir = state_dir(), time_scale = SCALE })
        assert.is_nil(report)
        assert.are.equal("disk_skus.os", rerr.target)
        assert.are.same({}, writes(em))
        -- disk_sku is for every disk whose SKU is not recorded: the OS disk too
        refused({ vm_id = NOSKU, subnet_id = SUBNET, disk_sku = sku }, "disk_sku",
          "the OS disk would be " .. sku, "data disks only")
      end
      -- a data disk may be Premium v2; what is no SKU is refused, naming it
      assert.is_table(restore.check({ vm_id = NOSKU, subnet_id = SUBNET, disk_skus = { lun0 = "PremiumV2_LRS" } }))
      for field, skus in pairs({ ["disk_skus.lun0"] = { lun0 = "Standard_GRS" }, ["disk_skus.data0"] = { data0 = "Premium_LRS" },
          ["disk_skus.1"] = { "Premium_LRS" }, ["disk_skus.lun01"] = { lun01 = "Premium_LRS" } }) do
        local _, err = restore.check({ vm_id = NOSKU, subnet_id = SUBNET, disk_skus = skus })
        assert.are.equal(field, err and err.target)
      end
      local _, err = restore.check({ vm_id = NOSKU, subnet_id = SUBNET, disk_sku = "Standard_Fast" })
      assert.are.equal("disk_sku", err.target)
    end)

    it("restores with the SKUs the config gives, the recorded ones kept: as a new VM, then in place", function()
      local report, err = restore.run(client, { vm_id = NOSKU, subnet_id = SUBNET, vm_name = "vm-nosku-new",
        disk_skus = { os = "StandardSSD_LRS", lun1 = "Premium_LRS" } }, { state_dir = state_dir(), time_scale = SCALE })
      assert.is_table(report, tostring(err))
      assert.are.equal(0, report.exit_code)
      local vm = assert(client:call("VirtualMachines_Get", { id = vm_id("vm-nosku-new") }))
      local function skus(v)
        local sp = v.properties.storageProfile
        local out = { assert(client:call("Disks_Get", { id = sp.osDisk.managedDisk.id })).sku.name }
        for _, d in ipairs(sp.dataDisks) do
          out[#out + 1] = assert(client:call("Disks_Get", { id = d.managedDisk.id })).sku.name
        end
        return out
      end
      assert.are.same({ "StandardSSD_LRS", "Premium_LRS", "Premium_LRS" }, skus(vm))
      -- in place, disk_sku for both unrecorded disks; the recorded one kept
      report, err = restore.run(client, { vm_id = NOSKU, mode = "in_place", disk_sku = "StandardSSD_LRS" },
        { state_dir = state_dir(), time_scale = SCALE })
      assert.is_table(report, tostring(err))
      assert.are.equal(0, report.exit_code)
      vm = assert(client:call("VirtualMachines_Get", { id = NOSKU }))
      assert.matches(report.run_id:match("^restore%-(.+)$"):lower(), vm.properties.storageProfile.osDisk.managedDisk.id:lower(), 1, true)
      assert.are.same({ "StandardSSD_LRS", "Premium_LRS", "StandardSSD_LRS" }, skus(vm))
    end)
  end)

  local function disks_of(vm)
    local sp = vm.properties.storageProfile
    local out = { assert(client:call("Disks_Get", { id = sp.osDisk.managedDisk.id })) }
    for _, d in ipairs(sp.dataDisks or {}) do out[#out + 1] = assert(client:call("Disks_Get", { id = d.managedDisk.id })) end
    return out
  end

  it("restores a zonal VM in place into its zone, every disk given the VM's disk encryption set explicitly", function()
    reset(em)
    local report, err = restore.run(client, { vm_id = vm_id("vm-z1"), mode = "in_place" },
      { state_dir = state_dir(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code)
    -- the restored disks' PUTs named the set (the restore point's disks are on platform keys)
    local puts = 0
    for _, w in ipairs(writes(em)) do if w:match("^PUT .*/disks/") then puts = puts + 1 end end
    assert.are.equal(3, puts)
    local drp = assert(client:call("DiskRestorePoint_Get", { id = assert(client:call("RestorePoints_Get",
      { id = rp_id("vm-z1") })).properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id }))
    assert.are.equal("EncryptionAtRestWithPlatformKey", drp.properties.encryption.type)
    local vm = assert(client:call("VirtualMachines_Get", { id = vm_id("vm-z1") }))
    assert.are.same({ "1" }, vm.zones)
    local stamp = report.run_id:match("^restore%-(.+)$"):lower()
    for _, d in ipairs(disks_of(vm)) do
      assert.matches(stamp, d.id:lower(), 1, true)
      assert.are.same({ "1" }, d.zones, d.name)
      assert.are.same({ type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = DES .. "des-prod" },
        d.properties.encryption, d.name)
    end
  end)

  it("restores a zonal VM as a new VM in the same zone, on the same disk encryption set", function()
    local report, err = restore.run(client, { vm_id = vm_id("vm-z1"), subnet_id = SUBNET, vm_name = "vm-z1-new",
      restore_point_id = rp_id("vm-z1") }, { state_dir = state_dir(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code)
    local vm = assert(client:call("VirtualMachines_Get", { id = vm_id("vm-z1-new") }))
    assert.are.same({ "1" }, vm.zones)
    assert.are.equal("TrustedLaunch", vm.properties.securityProfile.securityType)
    local disks = disks_of(vm)
    assert.are.equal(3, #disks)
    for _, d in ipairs(disks) do
      assert.are.same({ "1" }, d.zones, d.name)
      assert.are.equal(DES .. "des-prod", d.properties.encryption.diskEncryptionSetId, d.name)
    end
    -- the SKU of each disk is the source's, never a fallback
    assert.are.equal("Premium_LRS", disks[1].sku.name)
    assert.are.equal("StandardSSD_LRS", disks[3].sku.name)
    assert.are.equal("ReadWrite", vm.properties.storageProfile.dataDisks[2].caching)
  end)

  it("keeps every disk's SKU: a zone-redundant one restored in place stays so, in no zone, the others in the VM's", function()
    local before = assert(client:call("VirtualMachines_Get", { id = vm_id("vm-zrs") }))
    local report, err = restore.run(client, { vm_id = vm_id("vm-zrs"), mode = "in_place" },
      { state_dir = state_dir(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code)
    local vm = assert(client:call("VirtualMachines_Get", { id = vm_id("vm-zrs") }))
    local got, was = disks_of(vm), disks_of(before)
    for i, d in ipairs(got) do
      assert.are_not.equal(was[i].id, d.id)
      assert.are.equal(was[i].sku.name, d.sku.name, d.name)
    end
    assert.are.equal("StandardSSD_ZRS", got[2].sku.name)
    assert.is_nil(got[2].zones)
    assert.are.same({ "2" }, got[1].zones)
    assert.are.same({ "2" }, got[3].zones)
  end)

  describe("--plan", function()
    local function changes(rows, step)
      local out = {}
      for _, r in ipairs(rows) do if r.step == step then out[#out + 1] = r.change end end
      return out
    end

    it("shows the disks it would create and the in-place VM change as a diff, sending no write", function()
      reset(em)
      local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
      local sp = vm.properties.storageProfile
      local rows = assert(restore.plan(client, { vm_id = C.VM_ID, mode = "in_place", restore_point_id = rp_id("vm-app-01") }))
      assert.are.same({}, writes(em))
      assert.are.same({
        "+ Premium_LRS 1 GiB, TrustedLaunch, platform-managed keys, from " .. sp.osDisk.name,
        "+ Premium_LRS 1 GiB, platform-managed keys, from " .. sp.dataDisks[1].name,
        "+ StandardSSD_LRS 1 GiB, platform-managed keys, from " .. sp.dataDisks[2].name,
      }, (function()
        -- the disk restore points are named after their disks
        local out = {}
        for _, c in ipairs(changes(rows, "restore_disks")) do out[#out + 1] = (c:gsub("from (.-)_[%x%-]+$", "from %1")) end
        return out
      end)())
      assert.are.same({
        "- osDisk " .. sp.osDisk.name, "+ osDisk <run>-os",
        "- lun 0 " .. sp.dataDisks[1].name, "+ lun 0 <run>-lun0",
        "- lun 1 " .. sp.dataDisks[2].name, "+ lun 1 <run>-lun1",
      }, changes(rows, "swap"))
      assert.are.same({ "~ power: running -> deallocated" }, changes(rows, "deallocate"))
      assert.are.same({ "~ power: deallocated -> running" }, changes(rows, "start"))
      assert.are.same({ "kept" }, changes(rows, "originals"))
      local names = {}
      for _, r in ipairs(rows) do if r.step == "restore_disks" then names[#names + 1] = r.name end end
      assert.are.same({ "<run>-os", "<run>-lun0", "<run>-lun1" }, names)
    end)

    it("is what `azrp restore --plan` prints (bin/azrp on Lua 5.4), sending no write", function()
      reset(em)
      local home = os.tmpname()
      os.remove(home)
      assert(os.execute("mkdir -p " .. home))
      local p = io.popen(string.format("env -u LD_PRELOAD -u AZURE_SUBSCRIPTION_ID -u AZURE_CLIENT_SECRET HOME=%s " ..
        "AZRP_EMULATOR=%s lua5.4 bin/azrp restore --vm %s --in-place --restore-point-id %s --plan -o tsv 2>&1; echo \"rc $?\"",
        home, em.dir .. "/ready.json", C.VM_ID, rp_id("vm-app-01")))
      local out = p:read("*a")
      p:close()
      assert.matches("rc 0%s*$", out)
      assert.matches("restore_disks\tdisk\t<run>%-os\t%+ Premium_LRS 1 GiB, TrustedLaunch", out)
      assert.matches("swap\tvm\tvm%-app%-01\t%- osDisk vm%-app%-01%-osdisk", out)
      assert.matches("swap\tvm\tvm%-app%-01\t%+ lun 1 <run>%-lun1", out)
      assert.are.same({}, writes(em))
      os.execute("rm -rf " .. home)
    end)

    it("shows a new VM's disks in its zone and set, its NIC and the VM, sending no write", function()
      reset(em)
      local rows = assert(restore.plan(client, { vm_id = vm_id("vm-z1"), subnet_id = SUBNET, vm_name = "vm-z1-plan",
        restore_point_id = rp_id("vm-z1") }))
      assert.are.same({}, writes(em))
      local disks = changes(rows, "restore_disks")
      assert.are.equal(3, #disks)
      for _, c in ipairs(disks) do
        assert.matches("^%+ %S+ 1 GiB in zone 1, ", c)
        assert.matches(", encrypted with des%-prod, from ", c)
      end
      assert.matches("TrustedLaunch", disks[1], 1, true)
      assert.are.same({ "+ in " .. SUBNET }, changes(rows, "network"))
      assert.are.same({ "+ Standard_D2s_v3 in westeurope in zone 1", "+ osDisk <run>-os", "+ lun 0 <run>-lun0 (ReadOnly)",
        "+ lun 1 <run>-lun1 (ReadWrite)" }, changes(rows, "create_vm"))
      assert.is_nil(client:call("VirtualMachines_Get", { id = vm_id("vm-z1-plan") }))
    end)
  end)
end)
