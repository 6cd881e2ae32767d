-- The golden image crash runs' setup and data proof, shared by
-- spec/client/golden_crash_spec.lua and tools/reliability/crash_matrix.lua:
-- a gallery "crash" with a definition "app" that vm-app-01 (Trusted
-- Launch, Gen2, Linux, specialized) fits, and a VM made from a published
-- version whose OS disk is hashed.
local C = require "support.client"

local G = {}

G.SUB = "/subscriptions/" .. C.SUB
G.RG = G.SUB .. "/resourceGroups/rg-prod"
G.DEF = G.RG .. "/providers/Microsoft.Compute/galleries/crash/images/app"
G.SUBNET = G.RG .. "/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"
G.CONFIG = { vm_id = C.VM_ID, gallery_image_id = G.DEF, target_regions = { "westeurope", "northeurope" } }

--- setup(client): the gallery and its definition (asserts each answers).
function G.setup(client)
  assert(client:call("Galleries_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "crash",
    body = { location = "westeurope" } }))
  assert(client:call("GalleryImages_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "crash",
    gallery_image_name = "app", body = { location = "westeurope", properties = { osType = "Linux",
      osState = "Specialized", hyperVGeneration = "V2", features = { { name = "SecurityType", value = "TrustedLaunchSupported" } },
      identifier = { publisher = "azrp", offer = "crash", sku = "app" } } } }))
end

--- versions(client) -> { name = { state =, run = } } of the definition.
function G.versions(client)
  local out = {}
  for _, v in ipairs(assert(client:list("GalleryImageVersions_ListByGalleryImage", { resource_group_name = "rg-prod",
    gallery_name = "crash", gallery_image_name = "app" }))) do
    out[v.name] = { state = v.properties.provisioningState, run = v.tags and v.tags["azrp-run"] }
  end
  return out
end

--- os_disk(client [, vm_id]) -> the id of the VM's OS disk.
function G.os_disk(client, vm_id)
  local vm = assert(client:call("VirtualMachines_Get", { id = vm_id or C.VM_ID }))
  return vm.properties.storageProfile.osDisk.managedDisk.id
end

--- mark(em, client, text) -> the SHA-256 (of the sparse form: C.disk_digest)
-- of vm-app-01's OS disk once text is written into it (so that each run's
-- image has its own content).
function G.mark(em, client, text)
  local disk = G.os_disk(client)
  local status = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(disk) .. "/write",
    { offset = 8192, pattern = text, length = 4096 })
  assert(status == 200, "write to " .. disk .. ": " .. tostring(status))
  return C.disk_digest(em, disk)
end

--- proof(em, client, version_id, name) -> the SHA-256 (sparse form) of the
-- OS disk of a VM made from the version (in westeurope), the VM, its NIC
-- and its disk deleted after.
function G.proof(em, client, version_id, name)
  local nic = assert(client:call("NetworkInterfaces_CreateOrUpdate", { resource_group_name = "rg-prod",
    network_interface_name = name .. "-nic", body = { location = "westeurope", properties = { ipConfigurations = {
      { name = "ip", properties = { subnet = { id = G.SUBNET } } } } } } }))
  assert(client:call("VirtualMachines_CreateOrUpdate", { resource_group_name = "rg-prod", vm_name = name, body = {
    location = "westeurope", properties = { hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = { imageReference = { id = version_id },
        osDisk = { createOption = "FromImage", managedDisk = { storageAccountType = "Premium_LRS" } } },
      osProfile = { computerName = name, adminUsername = "azureuser" },
      networkProfile = { networkInterfaces = { { id = nic.id } } } } } }))
  local vm_id = G.RG .. "/providers/Microsoft.Compute/virtualMachines/" .. name
  local disk = G.os_disk(client, vm_id)
  local sha = C.disk_digest(em, disk)
  assert(client:call("VirtualMachines_Delete", { id = vm_id }))
  assert(client:call("Disks_Delete", { id = disk }))
  assert(client:call("NetworkInterfaces_Delete", { id = nic.id }))
  return sha
end

return G
