-- Golden images end to end in process: snapshot -> managed image or
-- gallery image version -> new VMs whose OS disk holds the image's bytes.
local H = require "support.emu"
local json = require "azrp.emulator.json"

local C = H.COMPUTE
local NET = "/providers/Microsoft.Network"

local function vm_body(location, image_id, nic)
  return { location = location, properties = {
    hardwareProfile = { vmSize = "Standard_D2s_v5" },
    storageProfile = { imageReference = { id = image_id },
      osDisk = { createOption = "FromImage", managedDisk = { storageAccountType = "Premium_LRS" } } },
    osProfile = { computerName = "golden", adminUsername = "azureuser" },
    networkProfile = { networkInterfaces = { { id = nic } } } } }
end

describe("golden images", function()
  local t, os_disk, snap
  before_each(function()
    t = H.app()
    os_disk = H.RG .. C .. "/disks/vm-app-01-osdisk"
    t.write(os_disk, 4096, "prepared golden content")
    snap = H.RG .. C .. "/snapshots/golden-os"
    local st, body, h = t.call("PUT", snap, { location = "westeurope",
      properties = { creationData = { createOption = "Copy", sourceResourceId = os_disk }, incremental = true } })
    assert.are.equal(202, st, json.encode(body))
    t.wait(h)
  end)

  local function nic(rg, location, vnet)
    local id = rg .. NET .. "/networkInterfaces/nic-golden-" .. location
    assert.are.equal(201, (t.call("PUT", id, { location = location, properties = { ipConfigurations = {
      { name = "ip", properties = { subnet = { id = rg .. NET .. "/virtualNetworks/" .. vnet .. "/subnets/default" } } } } } },
      { api = "2024-05-01" })))
    return id
  end

  it("builds VMs from a managed image with the image's bytes", function()
    local image = H.RG .. C .. "/images/golden"
    local st, body, h = t.call("PUT", image, { location = "westeurope", properties = { storageProfile = {
      osDisk = { osType = "Linux", osState = "Generalized", snapshot = { id = snap } } } } })
    assert.are.equal(201, st, json.encode(body))
    t.wait(h)
    st, body, h = t.call("PUT", H.RG .. C .. "/virtualMachines/vm-golden",
      vm_body("westeurope", image, nic(H.RG, "westeurope", "vnet-prod")))
    assert.are.equal(201, st, json.encode(body))
    t.wait(h)
    local _, vm = t.call("GET", H.RG .. C .. "/virtualMachines/vm-golden")
    local disk = vm.properties.storageProfile.osDisk.managedDisk.id
    assert.are.equal(t.sha(snap), t.sha(disk))
    assert.are.equal("Linux", vm.properties.storageProfile.osDisk.osType)
  end)

  it("builds VMs in another region only once a gallery version has replicated there", function()
    local gallery = H.RG .. C .. "/galleries/goldengallery"
    local api = { api = "2025-03-03" }
    assert.are.equal(201, (t.call("PUT", gallery, { location = "westeurope" }, api)))
    local st, body = t.call("PUT", gallery .. "/images/ubuntu", { location = "westeurope", properties = {
      osType = "Linux", osState = "Generalized", hyperVGeneration = "V2",
      identifier = { publisher = "azrp", offer = "golden", sku = "22_04" } } }, api)
    assert.are.equal(201, st, json.encode(body))
    local version = gallery .. "/images/ubuntu/versions/1.0.0"
    local h
    st, body, h = t.call("PUT", version, { location = "westeurope", properties = {
      publishingProfile = { targetRegions = { { name = "westeurope" }, { name = "northeurope" } } },
      storageProfile = { osDiskImage = { source = { id = snap } } } } }, api)
    assert.are.equal(201, st, json.encode(body))
    local vm = H.DR .. C .. "/virtualMachines/vm-golden-dr"
    local nic_id = nic(H.DR, "northeurope", "vnet-dr")
    st, body = t.call("PUT", vm, vm_body("northeurope", version, nic_id))
    assert.are.equal(409, st, json.encode(body))
    assert.matches("replicating", body.error.message)
    t.wait(h, 7200)
    st, body, h = t.call("PUT", vm, vm_body("northeurope", version, nic_id))
    assert.are.equal(201, st, json.encode(body))
    t.wait(h)
    local gst, got = t.call("GET", vm)
    assert.are.equal(200, gst, json.encode(got))
    assert.are.equal(t.sha(snap), t.sha(got.properties.storageProfile.osDisk.managedDisk.id))
  end)

  it("refuses a managed image of a Trusted Launch VM or disk, naming the security type", function()
    local st, body = t.call("PUT", H.RG .. C .. "/images/tl", { location = "westeurope", properties = { storageProfile = {
      osDisk = { osType = "Linux", osState = "Specialized", managedDisk = { id = os_disk } } } } })
    assert.are.equal(400, st, json.encode(body))
    assert.are.equal("properties.storageProfile.osDisk.managedDisk.id", body.error.target)
    assert.matches("security type 'TrustedLaunch'", body.error.message, 1, true)
    st, body = t.call("PUT", H.RG .. C .. "/images/tl", { location = "westeurope",
      properties = { sourceVirtualMachine = { id = H.VM } } })
    assert.are.equal(400, st, json.encode(body))
    assert.are.equal("properties.sourceVirtualMachine.id", body.error.target)
    assert.matches("TrustedLaunch", body.error.message, 1, true)
    assert.are.equal(404, (t.call("GET", H.RG .. C .. "/images/tl")))
  end)

  it("refuses a gallery version whose source the image definition cannot hold, as Azure does", function()
    local gallery = H.RG .. C .. "/galleries/checks"
    local api = { api = "2025-03-03" }
    assert.are.equal(201, (t.call("PUT", gallery, { location = "westeurope" }, api)))
    local TL = { { name = "SecurityType", value = "TrustedLaunchSupported" } }
    local defs = {
      { "gen1", { osType = "Linux", hyperVGeneration = "V1" }, 409, "Conflict", "Hypervisor generation ['V2']" },
      { "standard", { osType = "Linux", hyperVGeneration = "V2" }, 400, "InvalidParameter", "security type 'TrustedLaunch'" },
      { "windows", { osType = "Windows", hyperVGeneration = "V2", features = TL }, 400, "InvalidParameter", "OS type 'Linux'" },
      { "arm", { osType = "Linux", hyperVGeneration = "V2", features = TL, architecture = "Arm64" }, 400,
        "InvalidParameter", "architecture 'x64'" },
      { "fits", { osType = "Linux", hyperVGeneration = "V2", features = TL }, 201 },
    }
    for i, d in ipairs(defs) do
      local props = d[2]
      props.osState = "Specialized"
      props.identifier = { publisher = "azrp", offer = "checks", sku = d[1] }
      local def = gallery .. "/images/" .. d[1]
      local st, body = t.call("PUT", def, { location = "westeurope", properties = props }, api)
      assert.are.equal(201, st, json.encode(body))
      st, body = t.call("PUT", def .. "/versions/1.0." .. i, { location = "westeurope", properties = {
        storageProfile = { osDiskImage = { source = { id = os_disk } } } } }, api)
      assert.are.equal(d[3], st, d[1] .. ": " .. json.encode(body))
      if d[4] then
        assert.are.equal(d[4], body.error.code, d[1])
        assert.are.equal("properties.storageProfile.osDiskImage.source.id", body.error.target, d[1])
        assert.matches(d[5], body.error.message, 1, true)
        assert.are.equal(404, (t.call("GET", def .. "/versions/1.0." .. i, nil, api)))
      end
    end
  end)

  it("refuses an image reference that is not an image", function()
    local st, body = t.call("PUT", H.RG .. C .. "/virtualMachines/vm-x",
      vm_body("westeurope", snap, nic(H.RG, "westeurope", "vnet-prod")))
    assert.are.equal(400, st)
    assert.are.equal("properties.storageProfile.imageReference.id", body.error.target)
  end)
end)
