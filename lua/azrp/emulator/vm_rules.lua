-- What Azure refuses when a VM is built on, or swapped onto, disks it did
-- not create: the rules a restore runs into (restore-export-facts.md,
-- sections 1 and 2), each returning nil or the error Azure answers.
--
--   zones        a zonal VM takes disks of its zone (or zone-redundant
--                ones); a regional VM takes no zonal disk
--   premium      Premium, Premium v2 and Ultra disks need a VM size with
--                premium storage (the "s" in Standard_D2s_v3)
--   sku          a zone-redundant disk (Premium_ZRS, StandardSSD_ZRS) is
--                in no one zone; Ultra and Premium v2 disks are data
--                disks only (no osType)
--   security     the OS disk's securityType must go with the VM's
--                securityProfile.securityType (Trusted Launch, confidential)
--   swap         an OS disk swap keeps the VM's Hyper-V generation and disk
--                encryption set, and is refused on a VM using Azure Disk
--                Encryption (ADE)
-- Codes and messages are Azure's where the facts give them.
local reply = require "azrp.emulator.reply"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"

local M = {}

M.PREMIUM_SKUS = { Premium_LRS = true, Premium_ZRS = true, PremiumV2_LRS = true, UltraSSD_LRS = true }
M.ZRS_SKUS = { Premium_ZRS = true, StandardSSD_ZRS = true }
M.ZONES = { ["1"] = true, ["2"] = true, ["3"] = true }

local ADE_PUBLISHER = "microsoft.azure.security"
local ADE_TYPES = { azurediskencryption = true, azurediskencryptionforlinux = true }

----------------------------------------------------------------------------
-- Shapes
----------------------------------------------------------------------------

-- zones as a request gives them: nil (regional) or a list of one zone;
-- returns the list (or nil) or false and a 400.
function M.check_zones(zones, field)
  if zones == nil or zones == json.null or (type(zones) == "table" and next(zones) == nil) then return nil end
  if type(zones) ~= "table" or #zones ~= 1 or not M.ZONES[zones[1]] then
    return false, reply.error(400, "InvalidParameter", string.format(
      "The value of parameter '%s' is invalid: give one availability zone, \"1\", \"2\" or \"3\".", field), field)
  end
  return zones
end

local function zone_of(zones) return type(zones) == "table" and zones[1] or nil end

-- Does VM size support premium storage?  Azure spells it in the size's
-- name: an "s" among the letters after the vCPU count (Standard_D2s_v3,
-- Standard_E4ds_v5, Standard_B2ms), or the older DS, GS and FS families
-- (Standard_DS2_v2).  A name of another shape is given the benefit of the
-- doubt.
function M.premium_size(size)
  local name = tostring(size):gsub("^%a+_", "", 1)
  name = name:gsub("^(%a+%d+)%-%d+", "%1")            -- constrained cores: E4-2s_v3
  local family, extra = name:match("^(%a+)%d+(%a*)")
  if not family then return true end
  family = family:upper()
  return extra:lower():find("s", 1, true) ~= nil or family == "DS" or family == "GS" or family == "FS"
end

-- The Hyper-V generation of a marketplace image: its SKU says so
-- ("-gen2", "-g2", "gen1"), and the classic Ubuntu and Windows Server SKUs
-- without a suffix (22_04-lts, 2022-datacenter) are generation 1.
-- Anything else is taken as generation 2, what new images are.
function M.image_generation(img)
  local sku = tostring(img and img.sku or ""):lower()
  if sku:find("gen1", 1, true) then return "V1" end
  if sku:find("gen2", 1, true) or sku:find("%-g2$") or sku:find("%-g2%-") then return "V2" end
  if sku:match("^%d+[_.]%d+%-lts$") or sku:match("^%d%d%d%d%-datacenter$") then return "V1" end
  return "V2"
end

-- The VM's security class: "TrustedLaunch", "ConfidentialVM" or nil
-- (Standard).
function M.vm_security(security_profile)
  local t = type(security_profile) == "table" and security_profile.securityType or nil
  if t == nil or tostring(t):lower() == "standard" then return nil end
  return t
end

-- The class a disk's securityProfile.securityType belongs to.
local function disk_security(disk)
  local sp = disk.body.properties.securityProfile
  local t = sp and sp.securityType
  if not t then return nil end
  if t:find("^ConfidentialVM") then return "ConfidentialVM" end
  return t
end
M.disk_security = disk_security

-- The securityType a new OS disk of a VM gets: the VM's, and for a
-- confidential VM what its managedDisk.securityProfile asks for
-- (securityEncryptionType, with a DES for customer keys).
function M.new_disk_security(security_profile, managed_disk)
  local class = M.vm_security(security_profile)
  if class ~= "ConfidentialVM" then return class end
  local msp = type(managed_disk) == "table" and managed_disk.securityProfile or {}
  local kind = tostring(msp.securityEncryptionType or "VMGuestStateOnly"):lower()
  if kind == "diskwithvmgueststate" then
    return msp.diskEncryptionSet and "ConfidentialVM_DiskEncryptedWithCustomerKey"
      or "ConfidentialVM_DiskEncryptedWithPlatformKey"
  elseif kind == "nonpersistedtpm" then
    return "ConfidentialVM_NonPersistedTPM"
  end
  return "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey"
end

-- The disk encryption set a disk is encrypted with, or nil (platform keys).
function M.disk_des(disk)
  local enc = disk.body.properties.encryption
  return enc and enc.diskEncryptionSetId or nil
end

----------------------------------------------------------------------------
-- Refusals
----------------------------------------------------------------------------

-- A disk entry attached to a VM whose zones are vm_zones.
function M.zone_refusal(disk, vm_zones, field)
  local vz, dz = zone_of(vm_zones), zone_of(disk.body.zones)
  if vz == dz then return nil end
  if vz and not dz and M.ZRS_SKUS[disk.body.sku.name] then return nil end
  if vz then
    return reply.error(400, "BadRequest", string.format(
      "Disk %s cannot be attached to the VM because it is not in zone '%s'.", disk.body.id, vz), field)
  end
  return reply.error(400, "BadRequest", string.format(
    "Disk %s cannot be attached to the VM because it is in zone '%s' and the VM is not in any zone.",
    disk.body.id, dz), field)
end

-- A disk of storage type sku (named disk_name) on a VM of size size.
function M.premium_refusal(size, sku, disk_name, field)
  if not M.PREMIUM_SKUS[sku] or M.premium_size(size) then return nil end
  return reply.error(400, "InvalidParameter", string.format(
    "Requested operation cannot be performed because the VM size %s does not support the storage account " ..
    "type %s of disk '%s'. Consider updating the VM to a size that supports Premium storage.",
    size, sku, disk_name), field)
end

-- A disk PUT of storage type sku with zones (a list or nil) and os_type.
-- (The wording of the ZRS refusal is the emulator's; the rule is Azure's.)
function M.sku_refusal(sku, zones, os_type)
  if M.ZRS_SKUS[sku] and zone_of(zones) then
    return reply.error(400, "InvalidParameter", string.format(
      "The disk SKU %s is zone-redundant: it cannot be placed in availability zone '%s'. " ..
      "Give no zones, or a locally redundant SKU.", sku, zone_of(zones)), "zones")
  end
  if (sku == "UltraSSD_LRS" or sku == "PremiumV2_LRS") and os_type then
    return reply.error(400, "InvalidParameter", string.format("%s can only be used with data disks.", sku), "sku.name")
  end
  return nil
end

-- An OS disk entry attached to a VM with this securityProfile.
function M.security_refusal(security_profile, disk, field)
  if M.vm_security(security_profile) == disk_security(disk) then return nil end
  return reply.error(400, "BadRequest",
    "Security type of VM is not compatible with the security type of attached OS Disk.", field)
end

-- Trusted Launch and confidential VMs run on generation 2 only.
function M.generation_refusal(security_profile, generation, field)
  local class = M.vm_security(security_profile)
  if not class or generation ~= "V1" then return nil end
  return reply.error(400, "InvalidParameter", string.format(
    "The security type '%s' requires a Hyper-V generation 2 (V2) OS disk or image; this one is generation 1 (V1).",
    class), field)
end

-- Does the VM use Azure Disk Encryption: the AzureDiskEncryption
-- extension enabled it, the VM model carries osDisk.encryptionSettings
-- (ADE with AAD, "dual pass"), or its OS disk carries ADE settings?
function M.uses_ade(vm, os_disk)
  if vm.x.ade then return true end
  local od = vm.body.properties.storageProfile.osDisk
  if type(od.encryptionSettings) == "table" and od.encryptionSettings.enabled == true then return true end
  local esc = os_disk and os_disk.body.properties.encryptionSettingsCollection
  return type(esc) == "table" and esc.enabled == true
end

-- Is (publisher, type) the Azure Disk Encryption extension?
function M.is_ade_extension(publisher, ext_type)
  return tostring(publisher):lower() == ADE_PUBLISHER and ADE_TYPES[tostring(ext_type):lower()] == true
end

-- The generation of a VM: what it was created with, else its OS disk's.
function M.vm_generation(vm, os_disk)
  return vm.x.hyper_v or (os_disk and os_disk.body.properties.hyperVGeneration) or "V1"
end

-- Swapping the OS disk of VM vm (entry) from old (entry or nil) to new.
function M.swap_refusal(vm, old, new)
  local field = "properties.storageProfile.osDisk.managedDisk.id"
  local new_esc = new.body.properties.encryptionSettingsCollection
  if M.uses_ade(vm, old) or (type(new_esc) == "table" and new_esc.enabled == true) then
    return reply.error(409, "OSDiskSwapNotSupportedForVMsUsingDiskEncryption",
      "OS disk swap is not supported for VMs using Azure Disk Encryption.", field)
  end
  local want = M.vm_generation(vm, old)
  local got = new.body.properties.hyperVGeneration or "V1"
  if want ~= got then
    return reply.error(409, "PropertyChangeNotAllowed", string.format(
      "Swapping OS Disk is not supported since HyperVisor property on the OSDisk and VM do not match. " ..
      "Please make sure the HyperVisor property on the OSDisk is HyperVisor Generation '%s'", want), field)
  end
  local old_des, new_des = old and M.disk_des(old), M.disk_des(new)
  if (old_des or new_des) and not (old_des and new_des and ids.same(old_des, new_des)) then
    return reply.error(409, "OperationNotAllowed", string.format(
      "Swapping OS Disk is not supported since the OS disk and the new disk '%s' are not in the same disk " ..
      "encryption set (current: %s, new: %s). Both disks must use the same disk encryption set.",
      new.body.name, old_des or "platform-managed keys", new_des or "platform-managed keys"), field)
  end
  return nil
end

return M
