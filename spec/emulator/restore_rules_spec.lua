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

-- A restore point of vm (in collection rpc-<vm>); returns its document.
local function restore_point(t, vm, name, props)
  local coll = RPC .. "rpc-" .. vm
  if t.call("GET", coll) ~= 200 then
    answer(201, t.call("PUT", coll, { location = "westeurope", properties = { source = { id = VMS .. vm } } }))
  end
  local _, h = answer(201, t.call("PUT", coll .. "/restorePoints/" .. name, { properties = props or {} }))
  assert.are.equal("Succeeded", t.wait(h).status)
  return ok(t.call("GET", coll .. "/restorePoints/" .. name))
end

-- Creates disk name (PUT body) and waits; returns the disk's document.
local function make_disk(t, name, body)
  local _, h = answer(202, t.call("PUT", DISKS .. name, body))
  assert.are.equal("Succeeded", t.wait(h).status)
  return ok(t.call("GET", DISKS .. name))
end

local function restore_body(drp_id, extra)
  local b = { location = "westeurope", sku = { name = "Premium_LRS" },
    properties = { creationData = { createOption = "Restore", sourceResourceId = drp_id } } }
  for k, v in pairs(extra or {}) do
    if k == "properties" then for pk, pv in pairs(v) do b.properties[pk] = pv end else b[k] = v end
  end
  return b
end

describe("restore rules: disk restore points", function()
  local t
  before_each(function() t = H.app{ seed = fleet() } end)

  it("expose what the source disk was, on platform keys, and the restore point keeps the VM's shape", function()
    -- the data disk may not be exported: its restore point says so
    answer(200, t.call("PATCH", DISKS .. "vm-z1-data1", { properties = { networkAccessPolicy = "DenyAll" } }))
    local rp = restore_point(t, "vm-z1", "rp1")
    local meta = rp.properties.sourceMetadata
    assert.are.equal("Standard_D2s_v3", meta.hardwareProfile.vmSize)
    assert.are.equal("TrustedLaunch", meta.securityProfile.securityType)
    assert.is_true(meta.securityProfile.uefiSettings.vTpmEnabled)
    assert.are.equal("V2", meta.hyperVGeneration)
    local osd = meta.storageProfile.osDisk
    assert.are.equal("Linux", osd.osType)
    assert.are.equal("Premium_LRS", osd.managedDisk.storageAccountType)
    assert.are.equal(DES .. "des-prod", osd.managedDisk.diskEncryptionSet.id)
    assert.are.equal("ReadWrite", osd.caching)
    assert.are.equal(1, osd.diskSizeGB)
    assert.is_false(osd.writeAcceleratorEnabled)
    assert.are.equal("EncryptionAtRestWithPlatformKey", osd.diskRestorePoint.encryption.type)
    local d1 = meta.storageProfile.dataDisks[2]
    assert.are.equal(1, d1.lun)
    assert.are.equal("StandardSSD_LRS", d1.managedDisk.storageAccountType)
    assert.are.equal("ReadWrite", d1.caching)

    local drp = ok(t.call("GET", osd.diskRestorePoint.id))
    local p = drp.properties
    assert.are.equal(DISKS .. "vm-z1-osdisk", p.sourceResourceId)
    assert.are.equal("Linux", p.osType)
    assert.are.equal("V2", p.hyperVGeneration)
    assert.are.equal("TrustedLaunch", p.securityProfile.securityType)
    assert.are.equal("x64", p.supportedCapabilities.architecture)
    -- the disk is on des-prod; its restore point is not
    assert.are.same({ type = "EncryptionAtRestWithPlatformKey" }, p.encryption)
    assert.are.equal("AllowAll", p.networkAccessPolicy)
    local data_drp = ok(t.call("GET", d1.diskRestorePoint.id))
    assert.are.equal("DenyAll", data_drp.properties.networkAccessPolicy)
    assert.is_nil(data_drp.properties.hyperVGeneration)
    assert.is_nil(data_drp.properties.securityProfile)
    -- a generation 1 VM's
    local gen1 = restore_point(t, "vm-gen1", "rp1").properties.sourceMetadata
    assert.are.equal("V1", gen1.hyperVGeneration)
    assert.are.equal("V1", ok(t.call("GET", gen1.storageProfile.osDisk.diskRestorePoint.id)).properties.hyperVGeneration)
  end)

  it("are encrypted with a set only when the restore point is created with one", function()
    local rp = restore_point(t, "vm-z1", "rp-cmk", { sourceMetadata = { storageProfile = {
      osDisk = { diskRestorePoint = { encryption = { type = "EncryptionAtRestWithCustomerKey",
        diskEncryptionSet = { id = DES .. "des-prod" } } } },
      dataDisks = { { lun = 1, diskRestorePoint = { encryption = { diskEncryptionSet = { id = DES .. "des-other" } } } } } } } })
    local sp = rp.properties.sourceMetadata.storageProfile
    assert.are.equal(DES .. "des-prod", sp.osDisk.diskRestorePoint.encryption.diskEncryptionSet.id)
    local os_drp = ok(t.call("GET", sp.osDisk.diskRestorePoint.id))
    assert.are.same({ type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = DES .. "des-prod" },
      os_drp.properties.encryption)
    assert.are.equal(DES .. "des-other", ok(t.call("GET", sp.dataDisks[2].diskRestorePoint.id)).properties.encryption.diskEncryptionSetId)
    assert.are.equal("EncryptionAtRestWithPlatformKey", ok(t.call("GET", sp.dataDisks[1].diskRestorePoint.id)).properties.encryption.type)
    -- a set in another region is refused, and nothing is made
    local st, body = t.call("PUT", RPC .. "rpc-vm-z1/restorePoints/rp-bad", { properties = { sourceMetadata = {
      storageProfile = { osDisk = { diskRestorePoint = { encryption = { diskEncryptionSet = { id = C:gsub("rg%-prod", "rg-dr") ..
        "/diskEncryptionSets/des-dr" } } } } } } } })
    assert.are.equal(400, st)
    assert.matches("northeurope", body.error.message)
    assert.are.equal(404, (t.call("GET", RPC .. "rpc-vm-z1/restorePoints/rp-bad")))
  end)
end)

describe("restore rules: disks restored from a disk restore point", function()
  local t, meta
  before_each(function()
    t = H.app{ seed = fleet() }
    meta = restore_point(t, "vm-z1", "rp1").properties.sourceMetadata
  end)

  it("carry the point's osType, generation and security type, and take the sku, zones, set and tags given", function()
    local d = make_disk(t, "r-os", restore_body(meta.storageProfile.osDisk.diskRestorePoint.id, {
      sku = { name = "Premium_ZRS" }, zones = json.null, tags = { restored = "yes" },
      properties = { encryption = { diskEncryptionSetId = DES .. "des-prod" } } }))
    assert.are.equal("Linux", d.properties.osType)
    assert.are.equal("V2", d.properties.hyperVGeneration)
    assert.are.equal("TrustedLaunch", d.properties.securityProfile.securityType)
    assert.are.equal("Premium_ZRS", d.sku.name)
    assert.are.same({ restored = "yes" }, d.tags)
    assert.are.same({ type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = DES .. "des-prod" }, d.properties.encryption)
    assert.is_nil(d.zones)
    local z = make_disk(t, "r-data", restore_body(meta.storageProfile.dataDisks[1].diskRestorePoint.id, { zones = { "1" } }))
    assert.are.same({ "1" }, z.zones)
    assert.is_nil(z.properties.osType)
    -- no set given: the point's platform keys, not the source disk's set
    assert.are.same({ type = "EncryptionAtRestWithPlatformKey" }, z.properties.encryption)
    assert.are.equal(t.sha(DISKS .. "vm-z1-data0"), t.sha(DISKS .. "r-data"))
  end)

  it("refuse a generation, OS type or security type other than the point's, and a set that does not resolve", function()
    local drp = meta.storageProfile.osDisk.diskRestorePoint.id
    local function refused(extra, target, pattern)
      local st, body = t.call("PUT", DISKS .. "r-bad", restore_body(drp, extra))
      assert.are.equal(400, st, json.encode(body))
      assert.are.equal(target, body.error.target)
      if pattern then assert.matches(pattern, body.error.message) end
    end
    refused({ properties = { hyperVGeneration = "V1" } }, "properties.hyperVGeneration", "source's 'V2'")
    refused({ properties = { osType = "Windows" } }, "properties.osType")
    refused({ properties = { securityProfile = { securityType = "ConfidentialVM_NonPersistedTPM" } } },
      "properties.securityProfile.securityType")
    refused({ zones = { "4" } }, "zones")
    refused({ properties = { encryption = { diskEncryptionSetId = H.DR .. H.COMPUTE .. "/diskEncryptionSets/des-dr" } } },
      "properties.encryption.diskEncryptionSetId", "northeurope")
    local st = t.call("PUT", DISKS .. "r-bad", restore_body(drp, { properties = { encryption = {
      diskEncryptionSetId = DES .. "nope" } } }))
    assert.are.equal(404, st)
    assert.are.equal(404, (t.call("GET", DISKS .. "r-bad")))
    -- the same values as the point's are fine
    make_disk(t, "r-same", restore_body(drp, { properties = { hyperVGeneration = "V2", osType = "Linux",
      securityProfile = { securityType = "TrustedLaunch" } } }))
    -- a copy of a disk without a security type cannot be given one (Azure's rule for Copy)
    local st2, body2 = t.call("PUT", DISKS .. "c-tl", { location = "westeurope", properties = {
      creationData = { createOption = "Copy", sourceResourceId = DISKS .. "vm-plain-osdisk" },
      securityProfile = { securityType = "TrustedLaunch" } } })
    assert.are.equal(400, st2)
    assert.are.equal("Security Type 'TrustedLaunch' is not supported for CreateOption 'Copy'.", body2.error.message)
  end)
end)

local function deallocate(t, vm)
  local _, h = answer(202, t.call("POST", VMS .. vm .. "/deallocate"))
  assert.are.equal("Succeeded", t.wait(h).status)
end

-- An empty disk shaped like an OS disk: o = { zones, sku, hyper_v, security, des }.
local function os_like(t, name, o)
  return make_disk(t, name, { location = "westeurope", sku = { name = o.sku or "Premium_LRS" }, zones = o.zones,
    properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1, osType = "Linux",
      hyperVGeneration = o.hyper_v or "V2", securityProfile = o.security and { securityType = o.security } or nil,
      encryption = o.des and { diskEncryptionSetId = DES .. o.des } or nil } })
end

-- GET-modify-PUT of vm with disk_id as its OS disk; returns the PUT's answer.
local function swap_os(t, vm, disk_id)
  local doc = ok(t.call("GET", VMS .. vm))
  doc.properties.storageProfile.osDisk.managedDisk = { id = disk_id }
  doc.properties.storageProfile.osDisk.name = disk_id:match("[^/]+$")
  return t.call("PUT", VMS .. vm, doc)
end

local function refused(status, code, st, body)
  assert.are.equal(status, st, json.encode(body))
  assert.are.equal(code, body.error.code)
  return body.error
end

local function attach(t, vm, disk_id, lun)
  return t.call("POST", VMS .. vm .. "/attachDetachDataDisks", { dataDisksToAttach = { { diskId = disk_id, lun = lun } } })
end

describe("restore rules: VM create, update and swap", function()
  local t
  before_each(function() t = H.app{ seed = fleet() } end)

  it("refuse an OS disk of another Hyper-V generation (409 PropertyChangeNotAllowed)", function()
    local v1 = os_like(t, "os-v1", { hyper_v = "V1" })
    deallocate(t, "vm-plain")
    local err = refused(409, "PropertyChangeNotAllowed", swap_os(t, "vm-plain", v1.id))
    assert.are.equal("Swapping OS Disk is not supported since HyperVisor property on the OSDisk and VM do not match. " ..
      "Please make sure the HyperVisor property on the OSDisk is HyperVisor Generation 'V2'", err.message)
    assert.are.equal("properties.storageProfile.osDisk.managedDisk.id", err.target)
    local v2 = os_like(t, "os-v2", { sku = "StandardSSD_LRS" })
    deallocate(t, "vm-gen1")
    err = refused(409, "PropertyChangeNotAllowed", swap_os(t, "vm-gen1", v2.id))
    assert.matches("Generation 'V1'$", err.message)
    -- nothing changed
    local vm = ok(t.call("GET", VMS .. "vm-plain"))
    assert.are.equal(DISKS .. "vm-plain-osdisk", vm.properties.storageProfile.osDisk.managedDisk.id)
    assert.are.equal("Unattached", ok(t.call("GET", v1.id)).properties.diskState)
  end)

  it("refuse a disk in another zone, a regional disk on a zonal VM and a zonal disk on a regional one (400)", function()
    deallocate(t, "vm-z1")
    local z2 = os_like(t, "os-z2", { zones = { "2" }, security = "TrustedLaunch", des = "des-prod" })
    local err = refused(400, "BadRequest", swap_os(t, "vm-z1", z2.id))
    assert.are.equal("Disk " .. z2.id .. " cannot be attached to the VM because it is not in zone '1'.", err.message)
    local regional = os_like(t, "os-regional", { security = "TrustedLaunch", des = "des-prod" })
    err = refused(400, "BadRequest", swap_os(t, "vm-z1", regional.id))
    assert.matches("not in zone '1'", err.message)
    err = refused(400, "BadRequest", attach(t, "vm-z1", z2.id, 5))
    assert.matches("not in zone '1'", err.message)
    err = refused(400, "BadRequest", attach(t, "vm-plain", z2.id, 5))
    assert.matches("is in zone '2' and the VM is not in any zone", err.message)
    -- a zone-redundant disk goes anywhere, and a data disk may have another set than the VM's
    local zrs = make_disk(t, "data-zrs", { location = "westeurope", sku = { name = "Premium_ZRS" },
      properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1,
        encryption = { diskEncryptionSetId = DES .. "des-other" } } })
    local _, h = answer(202, attach(t, "vm-z1", zrs.id, 5))
    t.wait(h)
    local vm = ok(t.call("GET", VMS .. "vm-z1"))
    assert.are.equal(DES .. "des-other", vm.properties.storageProfile.dataDisks[3].managedDisk.diskEncryptionSet.id)
    -- and a VM stays in its zone
    vm.zones = { "2" }
    refused(409, "PropertyChangeNotAllowed", t.call("PUT", VMS .. "vm-z1", vm))
  end)

  it("refuse an OS disk whose security type does not go with the VM's (400)", function()
    local tl = os_like(t, "os-tl", { security = "TrustedLaunch" })
    deallocate(t, "vm-plain")
    local err = refused(400, "BadRequest", swap_os(t, "vm-plain", tl.id))
    assert.are.equal("Security type of VM is not compatible with the security type of attached OS Disk.", err.message)
    local standard = os_like(t, "os-std", { zones = { "1" }, des = "des-prod" })
    deallocate(t, "vm-z1")
    refused(400, "BadRequest", swap_os(t, "vm-z1", standard.id))
    -- a new VM on a restored Trusted Launch OS disk needs the security profile the restore point kept
    local meta = restore_point(t, "vm-z1", "rp1").properties.sourceMetadata
    local osd = make_disk(t, "r-os", restore_body(meta.storageProfile.osDisk.diskRestorePoint.id, { zones = { "1" },
      properties = { encryption = { diskEncryptionSetId = DES .. "des-prod" } } }))
    local body = { location = "westeurope", zones = { "1" }, properties = {
      hardwareProfile = { vmSize = meta.hardwareProfile.vmSize },
      storageProfile = { osDisk = { createOption = "Attach", osType = "Linux", managedDisk = { id = osd.id } } } } }
    refused(400, "BadRequest", t.call("PUT", VMS .. "vm-new", body))
    body.properties.securityProfile = meta.securityProfile
    local _, h = answer(201, t.call("PUT", VMS .. "vm-new", body))
    assert.are.equal("Succeeded", t.wait(h).status)
    -- Trusted Launch needs generation 2
    err = refused(400, "InvalidParameter", t.call("PUT", VMS .. "vm-tl-gen1", { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v3" }, securityProfile = { securityType = "TrustedLaunch" },
      storageProfile = { imageReference = { publisher = "Canonical", offer = "0001-com-ubuntu-server-jammy",
        sku = "22_04-lts", version = "latest" }, osDisk = { createOption = "FromImage" } },
      osProfile = { adminUsername = "azureuser" } } }))
    assert.are.equal("properties.securityProfile.securityType", err.target)
  end)

  it("refuse an OS disk swap on a VM using Azure Disk Encryption (409)", function()
    local d = os_like(t, "os-ade", {})
    deallocate(t, "vm-ade")
    local err = refused(409, "OSDiskSwapNotSupportedForVMsUsingDiskEncryption", swap_os(t, "vm-ade", d.id))
    assert.are.equal("properties.storageProfile.osDisk.managedDisk.id", err.target)
  end)

  it("refuse an OS disk in another disk encryption set than the VM's OS disk", function()
    local other = os_like(t, "os-other", { zones = { "1" }, security = "TrustedLaunch", des = "des-other" })
    local pmk = os_like(t, "os-pmk", { zones = { "1" }, security = "TrustedLaunch" })
    deallocate(t, "vm-z1")
    local err = refused(409, "OperationNotAllowed", swap_os(t, "vm-z1", other.id))
    assert.matches("not in the same disk encryption set", err.message)
    refused(409, "OperationNotAllowed", swap_os(t, "vm-z1", pmk.id))
    local same = os_like(t, "os-same", { zones = { "1" }, security = "TrustedLaunch", des = "des-prod" })
    answer(200, swap_os(t, "vm-z1", same.id))
  end)

  it("refuse a Premium disk on a VM size without premium storage (400 InvalidParameter)", function()
    local premium = make_disk(t, "data-premium", { location = "westeurope", sku = { name = "Premium_LRS" },
      properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } })
    local err = refused(400, "InvalidParameter", attach(t, "vm-gen1", premium.id, 3))
    assert.are.equal("Requested operation cannot be performed because the VM size Standard_D2_v3 does not support the " ..
      "storage account type Premium_LRS of disk 'data-premium'. Consider updating the VM to a size that supports " ..
      "Premium storage.", err.message)
    refused(400, "InvalidParameter", t.call("PATCH", VMS .. "vm-plain",
      { properties = { hardwareProfile = { vmSize = "Standard_D2_v3" } } }))
    assert.are.equal("Standard_D2s_v3", ok(t.call("GET", VMS .. "vm-plain")).properties.hardwareProfile.vmSize)
    err = refused(400, "InvalidParameter", t.call("PUT", VMS .. "vm-small", { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2_v3" },
      storageProfile = { imageReference = { publisher = "Canonical", offer = "o", sku = "s" },
        osDisk = { createOption = "FromImage", managedDisk = { storageAccountType = "Premium_LRS" } } },
      osProfile = { adminUsername = "azureuser" } } }))
    assert.are.equal("properties.storageProfile.osDisk.managedDisk.storageAccountType", err.target)
    -- Standard SSD is fine there
    local ssd = make_disk(t, "data-ssd", { location = "westeurope", sku = { name = "StandardSSD_LRS" },
      properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } })
    answer(202, attach(t, "vm-gen1", ssd.id, 3))
  end)

  it("take restored disks in one update: OS and data disks at their LUNs, in zone and set, then start", function()
    local meta = restore_point(t, "vm-z1", "rp1").properties.sourceMetadata
    local sp = meta.storageProfile
    local function restored(name, d)
      return make_disk(t, name, restore_body(d.diskRestorePoint.id, { zones = { "1" },
        sku = { name = d.managedDisk.storageAccountType },
        properties = { encryption = { diskEncryptionSetId = d.managedDisk.diskEncryptionSet.id } } })).id
    end
    local os_id = restored("r-os", sp.osDisk)
    local data = {}
    for _, d in ipairs(sp.dataDisks) do
      data[#data + 1] = { lun = d.lun, createOption = "Attach", caching = d.caching,
        managedDisk = { id = restored("r-lun" .. d.lun, d) } }
    end
    local vm = ok(t.call("GET", VMS .. "vm-z1"))
    vm.properties.storageProfile.osDisk.managedDisk = { id = os_id }
    vm.properties.storageProfile.osDisk.name = "r-os"
    vm.properties.storageProfile.dataDisks = data
    -- only while deallocated; and createOption stays
    refused(409, "OperationNotAllowed", t.call("PUT", VMS .. "vm-z1", vm))
    deallocate(t, "vm-z1")
    local _, h = answer(200, t.call("PUT", VMS .. "vm-z1", vm))
    assert.are.equal("Succeeded", t.wait(h).status)
    local got = ok(t.call("GET", VMS .. "vm-z1")).properties.storageProfile
    assert.are.equal(os_id, got.osDisk.managedDisk.id)
    assert.are.equal("FromImage", got.osDisk.createOption)
    assert.are.equal(DISKS .. "r-lun1", got.dataDisks[2].managedDisk.id)
    assert.are.equal("ReadWrite", got.dataDisks[2].caching)
    assert.are.equal("StandardSSD_LRS", got.dataDisks[2].managedDisk.storageAccountType)
    assert.are.equal("Unattached", ok(t.call("GET", DISKS .. "vm-z1-osdisk")).properties.diskState)
    _, h = answer(202, t.call("POST", VMS .. "vm-z1/start"))
    assert.are.equal("Succeeded", t.wait(h).status)
    vm = ok(t.call("GET", VMS .. "vm-z1"))
    vm.properties.storageProfile.osDisk.createOption = "Attach"
    refused(409, "PropertyChangeNotAllowed", t.call("PUT", VMS .. "vm-z1", vm))
  end)
end)

describe("restore rules: starting a VM", function()
  local t
  before_each(function() t = H.app{ seed = fleet() } end)

  it("is refused while one of its disks has an active SAS, and works once it is revoked", function()
    deallocate(t, "vm-plain")
    local _, h = answer(202, t.call("POST", DISKS .. "vm-plain-data0/beginGetAccess",
      { access = "Read", durationInSeconds = 3600 }))
    assert.are.equal("Succeeded", t.wait(h).status)
    local err = refused(409, "OperationNotAllowed", t.call("POST", VMS .. "vm-plain/start"))
    assert.are.equal("There is an active shared access signature outstanding for disk vm-plain-data0. " ..
      "Call EndGetAccess on the disk before starting the VM.", err.message)
    local iv = ok(t.call("GET", VMS .. "vm-plain/instanceView"))
    assert.are.equal("PowerState/deallocated", iv.statuses[2].code)
    _, h = answer(202, t.call("POST", DISKS .. "vm-plain-data0/endGetAccess"))
    t.wait(h)
    _, h = answer(202, t.call("POST", VMS .. "vm-plain/start"))
    assert.are.equal("Succeeded", t.wait(h).status)
    assert.are.equal("PowerState/running", ok(t.call("GET", VMS .. "vm-plain/instanceView")).statuses[2].code)
  end)
end)

describe("restore rules: a failed VM update", function()
  local t
  before_each(function() t = H.app{ seed = fleet() } end)

  it("is injected once (failed@VirtualMachines_CreateOrUpdate=1x1), so that a rollback's update succeeds", function()
    local swap = os_like(t, "os-new", {})
    deallocate(t, "vm-plain")
    local original = ok(t.call("GET", VMS .. "vm-plain"))
    answer(200, t.call("POST", "/_emulator/faults", { spec = "failed@VirtualMachines_CreateOrUpdate=1x1" }))
    -- the swap is accepted, then its operation fails and the VM is Failed on the new disk
    local _, h = answer(200, swap_os(t, "vm-plain", swap.id))
    local op = t.wait(h)
    assert.are.equal("Failed", op.status)
    assert.are.equal("InternalOperationError", op.error.code)
    local vm = ok(t.call("GET", VMS .. "vm-plain"))
    assert.are.equal("Failed", vm.properties.provisioningState)
    assert.are.equal(swap.id, vm.properties.storageProfile.osDisk.managedDisk.id)
    -- the rollback: the original disks back, then start
    local _, h2 = answer(200, t.call("PUT", VMS .. "vm-plain", original))
    assert.are.equal("Succeeded", t.wait(h2).status)
    vm = ok(t.call("GET", VMS .. "vm-plain"))
    assert.are.equal("Succeeded", vm.properties.provisioningState)
    assert.are.equal(DISKS .. "vm-plain-osdisk", vm.properties.storageProfile.osDisk.managedDisk.id)
    assert.are.equal("Unattached", ok(t.call("GET", swap.id)).properties.diskState)
    local _, h3 = answer(202, t.call("POST", VMS .. "vm-plain/start"))
    assert.are.equal("Succeeded", t.wait(h3).status)
    -- the rule is spent; a bad count is refused
    answer(200, swap_os(t, "vm-plain", DISKS .. "vm-plain-osdisk"))
    local st, body = t.call("POST", "/_emulator/faults", { spec = "failed@VirtualMachines_CreateOrUpdate=1xmany" })
    assert.are.equal(400, st)
    assert.matches("xTIMES", body.error.message)
  end)
end)

describe("restore rules: disk SKUs", function()
  local t, meta
  before_each(function()
    t = H.app{ seed = fleet() }
    meta = restore_point(t, "vm-z1", "rp1").properties.sourceMetadata
  end)

  it("refuse a zone-redundant disk in a zone, and an Ultra or Premium v2 OS disk, creating nothing (400)", function()
    local os_drp = meta.storageProfile.osDisk.diskRestorePoint.id
    local data_drp = meta.storageProfile.dataDisks[1].diskRestorePoint.id
    for _, sku in ipairs({ "Premium_ZRS", "StandardSSD_ZRS" }) do
      local err = refused(400, "InvalidParameter", t.call("PUT", DISKS .. "r-zrs", restore_body(data_drp,
        { sku = { name = sku }, zones = { "1" } })))
      assert.are.equal("zones", err.target)
      assert.matches(sku, err.message, 1, true)
      assert.matches("zone-redundant", err.message, 1, true)
      err = refused(400, "InvalidParameter", t.call("PUT", DISKS .. "e-zrs", { location = "westeurope",
        sku = { name = sku }, zones = { "2" }, properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } }))
      assert.matches("zone '2'", err.message, 1, true)
    end
    assert.are.equal(404, (t.call("GET", DISKS .. "r-zrs")))
    assert.are.equal(404, (t.call("GET", DISKS .. "e-zrs")))
    -- the OS disk's restore point makes an OS disk: osType need not be given
    for _, sku in ipairs({ "UltraSSD_LRS", "PremiumV2_LRS" }) do
      local err = refused(400, "InvalidParameter", t.call("PUT", DISKS .. "r-os", restore_body(os_drp,
        { sku = { name = sku }, zones = { "1" } })))
      assert.are.equal(sku .. " can only be used with data disks.", err.message)
      assert.are.equal("sku.name", err.target)
    end
    assert.are.equal(404, (t.call("GET", DISKS .. "r-os")))
    -- what they can take: a ZRS disk in no zone, a Premium v2 data disk in a zone
    local zrs = make_disk(t, "r-zrs", restore_body(data_drp, { sku = { name = "Premium_ZRS" } }))
    assert.is_nil(zrs.zones)
    assert.are.equal(t.sha(DISKS .. "vm-z1-data0"), t.sha(zrs.id))
    local v2 = make_disk(t, "r-v2", restore_body(data_drp, { sku = { name = "PremiumV2_LRS" }, zones = { "1" } }))
    assert.are.equal("PremiumV2_LRS", v2.sku.name)
  end)

  it("leave a zone-redundant disk a zonal VM creates in no zone, and let the VM take it", function()
    local s = fleet()
    s.vms[#s.vms + 1] = { resource_group = "rg-prod", name = "vm-zrs", location = "westeurope", os_type = "Linux",
      subnet = "vnet-prod/default", size = "Standard_D2s_v3", zones = { "2" }, os_disk = { size_gb = 1, sku = "Premium_LRS" },
      data_disks = { { lun = 0, size_gb = 1, sku = "StandardSSD_ZRS" } } }
    local t2 = H.app{ seed = s }
    local vm = ok(t2.call("GET", VMS .. "vm-zrs"))
    local zrs = ok(t2.call("GET", vm.properties.storageProfile.dataDisks[1].managedDisk.id))
    assert.are.equal("StandardSSD_ZRS", zrs.sku.name)
    assert.is_nil(zrs.zones)
    assert.are.same({ "2" }, ok(t2.call("GET", vm.properties.storageProfile.osDisk.managedDisk.id)).zones)
  end)
end)
