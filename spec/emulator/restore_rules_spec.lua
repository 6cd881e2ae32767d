-- What Azure refuses when a VM is restored from restore points, in
-- process: the seed options a restore must match (zones, Hyper-V
-- generation, security type, disk encryption sets, Azure Disk Encryption,
-- disk SKUs, VM sizes), what disk restore points and restored disks carry,
-- the refusals of VM create, swap and start, and one injected failure of
-- a VM update for rollbacks.
local H = require "support.emu"
local json = require "azrp.emulator.json"
local seed_mod = require "azrp.emulator.seed"

local C = H.RG .. H.COMPUTE
local DISKS = C .. "/disks/"
local VMS = C .. "/virtualMachines/"
local DES = C .. "/diskEncryptionSets/"
local RPC = C .. "/restorePointCollections/"

-- The demo fleet (1 GiB disks) plus VMs with what a restore must match.
local function fleet()
  local s = require("support.small_seed").shrink(seed_mod.default())
  s.disk_encryption_sets = {
    { resource_group = "rg-prod", name = "des-prod", location = "westeurope" },
    { resource_group = "rg-prod", name = "des-other", location = "westeurope" },
    { resource_group = "rg-dr", name = "des-dr", location = "northeurope" },
  }
  local function vm(t)
    t.resource_group, t.location, t.os_type = "rg-prod", "westeurope", "Linux"
    t.subnet = "vnet-prod/default"
    s.vms[#s.vms + 1] = t
  end
  vm{ name = "vm-z1", size = "Standard_D2s_v3", zones = { "1" }, hyper_v = "V2", security_type = "TrustedLaunch",
    disk_encryption_set = "des-prod", os_disk = { size_gb = 1, sku = "Premium_LRS" },
    data_disks = { { lun = 0, size_gb = 1, sku = "Premium_LRS" },
      { lun = 1, size_gb = 1, sku = "StandardSSD_LRS", caching = "ReadWrite" } }, tags = { app = "zonal" } }
  vm{ name = "vm-gen1", size = "Standard_D2_v3", hyper_v = "V1",
    os_disk = { size_gb = 1, sku = "StandardSSD_LRS" }, data_disks = { { lun = 0, size_gb = 1, sku = "Standard_LRS" } } }
  vm{ name = "vm-plain", size = "Standard_D2s_v3", os_disk = { size_gb = 1, sku = "Premium_LRS" },
    data_disks = { { lun = 0, size_gb = 1, sku = "Premium_LRS" } } }
  vm{ name = "vm-ade", size = "Standard_D2s_v3", ade = true, os_disk = { size_gb = 1, sku = "Premium_LRS" } }
  vm{ name = "vm-cvm", size = "Standard_DC2as_v5", security_type = "ConfidentialVM",
    os_disk = { size_gb = 1, sku = "Premium_LRS" } }
  return s
end

-- The body of a 200 answer (call's other returns ignored).
local function ok(st, body)
  assert.are.equal(200, st, json.encode(body))
  return body
end

-- The body and headers of an answer that must have status want.
local function answer(want, st, body, headers)
  assert.are.equal(want, st, json.encode(body))
  return body, headers
end

describe("restore rules: seed options", function()
  local t
  before_each(function() t = H.app{ seed = fleet() } end)

  it("put the VM and the disks it creates in a zone, with the VM's security type and disk encryption set", function()
    local vm = ok(t.call("GET", VMS .. "vm-z1"))
    assert.are.same({ "1" }, vm.zones)
    assert.are.equal("Standard_D2s_v3", vm.properties.hardwareProfile.vmSize)
    assert.are.same({ securityType = "TrustedLaunch", uefiSettings = { secureBootEnabled = true, vTpmEnabled = true } },
      vm.properties.securityProfile)
    local sp = vm.properties.storageProfile
    assert.are.equal(DES .. "des-prod", sp.osDisk.managedDisk.diskEncryptionSet.id)
    assert.are.equal("Premium_LRS", sp.osDisk.managedDisk.storageAccountType)
    assert.are.equal("StandardSSD_LRS", sp.dataDisks[2].managedDisk.storageAccountType)
    assert.are.equal("ReadWrite", sp.dataDisks[2].caching)
    local os_disk = ok(t.call("GET", sp.osDisk.managedDisk.id))
    assert.are.same({ "1" }, os_disk.zones)
    assert.are.equal("V2", os_disk.properties.hyperVGeneration)
    assert.are.equal("TrustedLaunch", os_disk.properties.securityProfile.securityType)
    assert.are.same({ type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = DES .. "des-prod" },
      os_disk.properties.encryption)
    assert.are.equal("x64", os_disk.properties.supportedCapabilities.architecture)
    local data1 = ok(t.call("GET", sp.dataDisks[2].managedDisk.id))
    assert.are.same({ "1" }, data1.zones)
    assert.are.equal("StandardSSD_LRS", data1.sku.name)
    assert.are.equal(DES .. "des-prod", data1.properties.encryption.diskEncryptionSetId)
    local set = ok(t.call("GET", DES .. "des-prod"))
    assert.are.equal("EncryptionAtRestWithCustomerKey", set.properties.encryptionType)
    assert.are.equal("Succeeded", set.properties.provisioningState)
    -- a set in use stays
    local st, body = t.call("DELETE", DES .. "des-prod")
    assert.are.equal(409, st)
    assert.matches("in use by disk", body.error.message)
  end)

  it("give a generation 1 VM through the image, seen on its OS disk and instance view", function()
    local vm = ok(t.call("GET", VMS .. "vm-gen1?$expand=instanceView"))
    assert.are.equal("22_04-lts", vm.properties.storageProfile.imageReference.sku)
    assert.are.equal("V1", vm.properties.instanceView.hyperVGeneration)
    local os_disk = ok(t.call("GET", vm.properties.storageProfile.osDisk.managedDisk.id))
    assert.are.equal("V1", os_disk.properties.hyperVGeneration)
    assert.is_nil(os_disk.properties.securityProfile)
    assert.are.equal("V2", ok(t.call("GET", VMS .. "vm-z1/instanceView")).hyperVGeneration)
  end)

  it("give a confidential VM an OS disk of a confidential security type", function()
    local vm = ok(t.call("GET", VMS .. "vm-cvm"))
    assert.are.equal("ConfidentialVM", vm.properties.securityProfile.securityType)
    local os_disk = ok(t.call("GET", vm.properties.storageProfile.osDisk.managedDisk.id))
    assert.are.equal("ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey", os_disk.properties.securityProfile.securityType)
  end)

  it("install Azure Disk Encryption as the extension, which marks the VM's disks", function()
    local vm = ok(t.call("GET", VMS .. "vm-ade"))
    assert.are.equal(1, #vm.resources)
    local ext = vm.resources[1]
    assert.are.equal("AzureDiskEncryptionForLinux", ext.properties.type)
    assert.are.equal("Microsoft.Azure.Security", ext.properties.publisher)
    assert.are.equal("EnableEncryption", ext.properties.settings.EncryptionOperation)
    assert.are.equal(ext.id, ok(t.call("GET", VMS .. "vm-ade/extensions/AzureDiskEncryptionForLinux")).id)
    local os_disk = ok(t.call("GET", vm.properties.storageProfile.osDisk.managedDisk.id))
    assert.is_true(os_disk.properties.encryptionSettingsCollection.enabled)
    -- extensions need a running VM
    answer(202, t.call("POST", VMS .. "vm-plain/deallocate"))
    t.advance(60)
    local st, body = t.call("PUT", VMS .. "vm-plain/extensions/AzureDiskEncryptionForLinux", { location = "westeurope",
      properties = { publisher = "Microsoft.Azure.Security", type = "AzureDiskEncryptionForLinux", typeHandlerVersion = "1.1" } })
    assert.are.equal(409, st)
    assert.matches("not running", body.error.message)
  end)

  it("are checked before anything is made", function()
    local bad = fleet()
    bad.vms[#bad.vms].hyper_v = "V1"   -- vm-cvm: confidential needs generation 2
    local okay, err = seed_mod.check(bad)
    assert.is_nil(okay)
    assert.matches("needs hyper_v \"V2\"", err)
    bad = fleet()
    bad.vms[#bad.vms].zones = { "1", "2" }
    okay, err = seed_mod.check(bad)
    assert.is_nil(okay)
    assert.matches("zones must be a list of one zone", err)
    bad = fleet()
    bad.vms[#bad.vms].disk_encryption_set = "des-missing"
    assert.has_error(function() H.app{ seed = bad } end, "seed vms[8] (vm-cvm): NotFound: The disk encryption set '" ..
      DES .. "des-missing' was not found.")
  end)
end)
