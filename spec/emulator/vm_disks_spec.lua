-- Disks and VMs in process: creation options, attachment rules, power
-- actions, OS disk swap, deletion, and SAS on disks.
local H = require "support.emu"
local json = require "azrp.emulator.json"

local DISKS = H.RG .. H.COMPUTE .. "/disks/"
local VMS = H.RG .. H.COMPUTE .. "/virtualMachines/"
local NICS = H.RG .. "/providers/Microsoft.Network/networkInterfaces/"

local function disk(t, name, props, location)
  local st, body, h = t.call("PUT", DISKS .. name, { location = location or "westeurope",
    sku = { name = "Premium_LRS" }, properties = props })
  if st == 202 then assert.are.equal("Succeeded", t.wait(h).status) end
  return st, body
end

describe("disks", function()
  local t
  before_each(function() t = H.app() end)

  it("are created Empty or as a Copy holding the source's bytes", function()
    local st, body = disk(t, "d1", { creationData = { createOption = "Empty" }, diskSizeGB = 1 })
    assert.are.equal(202, st)
    assert.are.equal("Updating", body.properties.provisioningState)
    local _, got = t.call("GET", DISKS .. "d1")
    assert.are.equal("Succeeded", got.properties.provisioningState)
    assert.are.equal(1073741824, got.properties.diskSizeBytes)
    assert.are.equal("Unattached", got.properties.diskState)
    t.write(DISKS .. "d1", 12345, "copied bytes")
    st = disk(t, "d2", { creationData = { createOption = "Copy", sourceResourceId = DISKS .. "d1" } })
    assert.are.equal(202, st)
    assert.are.equal(t.sha(DISKS .. "d1"), t.sha(DISKS .. "d2"))
  end)

  it("name the field of bad input", function()
    local st, body = disk(t, "d1", { creationData = { createOption = "Empty" } })
    assert.are.equal(400, st)
    assert.are.equal("properties.diskSizeGB", body.error.target)
    st, body = disk(t, "d1", { diskSizeGB = 1 })
    assert.are.equal(400, st)
    assert.are.equal("properties.creationData.createOption", body.error.target)
    st, body = disk(t, "d1", { creationData = { createOption = "Copy" } })
    assert.are.equal(400, st)
    assert.are.equal("properties.creationData.sourceResourceId", body.error.target)
    st, body = t.call("PUT", DISKS .. "d1", { location = "westeurope", sku = { name = "Gold_LRS" },
      properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } })
    assert.are.equal(400, st)
    assert.are.equal("sku.name", body.error.target)
    st, body = disk(t, ("x"):rep(81), { creationData = { createOption = "Empty" }, diskSizeGB = 1 })
    assert.are.equal(400, st)
    assert.are.equal("diskName", body.error.target)
    st, body = t.call("PUT", DISKS .. "d1", "{ not json")
    assert.are.equal(400, st)
    assert.are.equal("InvalidRequestContent", body.error.code)
  end)

  it("are refused without a location, new or existing, as ARM refuses a PUT (LocationRequired)", function()
    local function refused(st, body)
      assert.are.equal(400, st)
      assert.are.equal("LocationRequired", body.error.code)
      assert.are.equal("The location property is required for this definition.", body.error.message)
      assert.is_nil(body.error.target)
    end
    local empty = { creationData = { createOption = "Empty" }, diskSizeGB = 1 }
    for _, loc in ipairs{ json.null, "" } do
      refused(t.call("PUT", DISKS .. "d-new", { location = loc, properties = empty }))
    end
    refused(t.call("PUT", DISKS .. "d-new", { properties = empty }))
    local st = t.call("GET", DISKS .. "d-new")
    assert.are.equal(404, st)
    -- an existing disk: a PUT is the whole resource, not a PATCH
    disk(t, "d1", empty)
    local body
    st, body = t.call("PUT", DISKS .. "d1", { tags = { k = "v" }, properties = { diskSizeGB = 2 } })
    refused(st, body)
    local _, got = t.call("GET", DISKS .. "d1")
    assert.are.equal(1, got.properties.diskSizeGB)
    assert.is_nil(got.tags and got.tags.k)
    st, body = t.call("PUT", DISKS .. "d1", { location = "westeurope", tags = { k = "v" }, properties = { diskSizeGB = 2 } })
    assert.are.equal(200, st, body and body.error and body.error.message)
    assert.are.equal(2, body.properties.diskSizeGB)
    assert.are.equal("v", body.tags.k)
    -- the same for a snapshot of it
    st = t.call("PUT", H.RG .. H.COMPUTE .. "/snapshots/s1", { location = "westeurope",
      properties = { creationData = { createOption = "Copy", sourceResourceId = DISKS .. "d1" } } })
    assert.are.equal(202, st)
    refused(t.call("PUT", H.RG .. H.COMPUTE .. "/snapshots/s1", { tags = { k = "v" } }))
  end)

  it("grow but never shrink, and cannot be deleted while attached", function()
    disk(t, "d1", { creationData = { createOption = "Empty" }, diskSizeGB = 1 })
    local st, body = t.call("PATCH", DISKS .. "d1", { properties = { diskSizeGB = 2 } })
    assert.are.equal(200, st)
    assert.are.equal(2, body.properties.diskSizeGB)
    st, body = t.call("PATCH", DISKS .. "d1", { properties = { diskSizeGB = 1 } })
    assert.are.equal(400, st)
    st, body = t.call("DELETE", DISKS .. "vm-app-01-data0")
    assert.are.equal(409, st)
    assert.matches("attached", body.error.message)
  end)

  it("grant a SAS only when not attached to a running VM", function()
    local st, body = t.call("POST", DISKS .. "vm-app-01-data0/beginGetAccess", { access = "Read", durationInSeconds = 60 })
    assert.are.equal(409, st)
    assert.matches("running", body.error.message)
    disk(t, "d1", { creationData = { createOption = "Empty" }, diskSizeGB = 1 })
    t.write(DISKS .. "d1", 0, "disk sas")
    local h
    st, _, h = t.call("POST", DISKS .. "d1/beginGetAccess", { access = "Read", durationInSeconds = 60 })
    assert.are.equal(202, st)
    t.wait(h)
    local _, grant = t.call("GET", h.location:gsub("^https://[^/]+", ""), nil, { api = false })
    local _, d = t.call("GET", DISKS .. "d1")
    assert.are.equal("ActiveSAS", d.properties.diskState)
    local bst, bytes = t.call("GET", grant.accessSAS:gsub("^https://[^/]+", ""), nil,
      { api = false, headers = { ["x-ms-range"] = "bytes=0-7" } })
    assert.are.equal(206, bst)
    assert.are.equal("disk sas", bytes)
    st, body = t.call("DELETE", DISKS .. "d1")
    assert.are.equal(409, st)
    -- the SAS expires on its own
    t.advance(61)
    assert.are.equal(403, (t.call("GET", grant.accessSAS:gsub("^https://[^/]+", ""), nil, { api = false })))
  end)
end)

describe("virtual machines", function()
  local t
  before_each(function() t = H.app() end)

  local function nic(name)
    local st = t.call("PUT", NICS .. name, { location = "westeurope", properties = { ipConfigurations = {
      { name = "ip", properties = { subnet = { id = H.RG .. "/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default" } } } } } },
      { api = "2024-05-01" })
    assert.are.equal(201, st)
    return NICS .. name
  end

  it("are created from an image with new and restored data disks by LUN", function()
    local nic_id = nic("nic-new")
    local st, body, h = t.call("PUT", VMS .. "vm-new", { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = {
        imageReference = { publisher = "Canonical", offer = "ubuntu", sku = "22_04", version = "latest" },
        osDisk = { createOption = "FromImage", managedDisk = { storageAccountType = "Premium_LRS" } },
        dataDisks = { { lun = 3, createOption = "Empty", diskSizeGB = 1 } } },
      osProfile = { computerName = "vm-new", adminUsername = "azureuser", adminPassword = "S3cret!pass" },
      networkProfile = { networkInterfaces = { { id = nic_id } } } } })
    assert.are.equal(201, st, json.encode(body))
    assert.are.equal("Creating", body.properties.provisioningState)
    assert.is_nil(body.properties.osProfile.adminPassword)
    assert.are.equal("Succeeded", t.wait(h).status)
    local _, vm = t.call("GET", VMS .. "vm-new?$expand=instanceView")
    assert.are.equal("PowerState/running", vm.properties.instanceView.statuses[2].code)
    assert.are.equal(3, vm.properties.storageProfile.dataDisks[1].lun)
    local os_id = vm.properties.storageProfile.osDisk.managedDisk.id
    local _, osd = t.call("GET", os_id)
    assert.are.equal("Attached", osd.properties.diskState)
    assert.are.equal(vm.id, osd.managedBy)
    assert.is_nil(json.encode(vm):find("S3cret", 1, true))
  end)

  it("are rebuilt by attaching restored disks, and refuse disks in use", function()
    local nic_id = nic("nic-r")
    disk(t, "os-copy", { creationData = { createOption = "Copy", sourceResourceId = DISKS .. "vm-app-01-osdisk" }, osType = "Linux" })
    disk(t, "data-copy", { creationData = { createOption = "Copy", sourceResourceId = DISKS .. "vm-app-01-data0" } })
    -- the copy keeps vm-app-01's Trusted Launch, so the VM must have it too
    local body = { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v5" }, securityProfile = { securityType = "TrustedLaunch" },
      storageProfile = { osDisk = { createOption = "Attach", osType = "Linux", managedDisk = { id = DISKS .. "os-copy" } },
        dataDisks = { { lun = 0, createOption = "Attach", managedDisk = { id = DISKS .. "data-copy" } } } },
      networkProfile = { networkInterfaces = { { id = nic_id } } } } }
    local st, got, h = t.call("PUT", VMS .. "vm-restored", body)
    assert.are.equal(201, st, json.encode(got))
    t.wait(h)
    assert.is_nil(got.properties.osProfile)
    -- the same disks cannot go to a second VM
    st, got = t.call("PUT", VMS .. "vm-restored-2", body)
    assert.are.equal(409, st)
    assert.matches("already attached", got.error.message)
    -- an osProfile with an attached OS disk is refused
    body.properties.osProfile = { adminUsername = "x" }
    st, got = t.call("PUT", VMS .. "vm-restored-3", body)
    assert.are.equal(400, st)
    assert.are.equal("properties.osProfile", got.error.target)
  end)

  it("name missing fields and unknown NICs", function()
    local st, body = t.call("PUT", VMS .. "vm-x", { location = "westeurope", properties = {
      storageProfile = { osDisk = { createOption = "FromImage" } } } })
    assert.are.equal(400, st)
    assert.are.equal("properties.hardwareProfile.vmSize", body.error.target)
    st, body = t.call("PUT", VMS .. "vm-x", { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = { osDisk = { createOption = "FromImage" } }, osProfile = { adminUsername = "a" } } })
    assert.are.equal(400, st)
    assert.are.equal("properties.storageProfile.imageReference", body.error.target)
    st, body = t.call("PUT", VMS .. "vm-x", { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = { imageReference = { publisher = "a", offer = "b", sku = "c" }, osDisk = { createOption = "FromImage" },
        dataDisks = { { lun = 0, createOption = "Empty", diskSizeGB = 1 }, { lun = 0, createOption = "Empty", diskSizeGB = 1 } } },
      osProfile = { adminUsername = "a" } } })
    assert.are.equal(400, st)
    assert.matches("LUN 0", body.error.message)
    st, body = t.call("PUT", VMS .. "vm-x", { location = "westeurope", properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = { imageReference = { publisher = "a", offer = "b", sku = "c" }, osDisk = { createOption = "FromImage" } },
      osProfile = { adminUsername = "a" }, networkProfile = { networkInterfaces = { { id = NICS .. "nope" } } } } })
    assert.are.equal(404, st)
    assert.are.equal("properties.networkProfile.networkInterfaces[0].id", body.error.target)
  end)

  it("deallocate, swap the OS disk in place, and start again", function()
    disk(t, "os-swap", { creationData = { createOption = "Copy", sourceResourceId = DISKS .. "vm-app-01-osdisk" }, osType = "Linux" })
    local _, vm = t.call("GET", VMS .. "vm-app-01")
    local old_os = vm.properties.storageProfile.osDisk.managedDisk.id
    vm.properties.storageProfile.osDisk.managedDisk = { id = DISKS .. "os-swap" }
    local st, body = t.call("PUT", VMS .. "vm-app-01", vm)
    assert.are.equal(409, st)
    assert.matches("deallocated", body.error.message)
    local h
    st, _, h = t.call("POST", VMS .. "vm-app-01/deallocate")
    assert.are.equal(202, st)
    t.wait(h)
    st, body, h = t.call("PUT", VMS .. "vm-app-01", vm)
    assert.are.equal(200, st, json.encode(body))
    t.wait(h)
    local _, old = t.call("GET", old_os)
    assert.are.equal("Unattached", old.properties.diskState)
    local _, new = t.call("GET", DISKS .. "os-swap")
    assert.are.equal("Attached", new.properties.diskState)
    st, _, h = t.call("POST", VMS .. "vm-app-01/start")
    t.wait(h)
    local _, iv = t.call("GET", VMS .. "vm-app-01/instanceView")
    assert.are.equal("PowerState/running", iv.statuses[2].code)
  end)

  it("attach and detach data disks, and release disks on delete", function()
    disk(t, "extra", { creationData = { createOption = "Empty" }, diskSizeGB = 1 })
    local st, _, h = t.call("POST", VMS .. "vm-app-01/attachDetachDataDisks", {
      dataDisksToAttach = { { diskId = DISKS .. "extra", lun = 5 } },
      dataDisksToDetach = { { diskId = DISKS .. "vm-app-01-data1" } } })
    assert.are.equal(202, st)
    t.wait(h)
    local _, final = t.call("GET", h.location:gsub("^https://[^/]+", ""), nil, { api = false })
    assert.are.equal(2, #final.dataDisks)
    local _, d1 = t.call("GET", DISKS .. "vm-app-01-data1")
    assert.are.equal("Unattached", d1.properties.diskState)
    st, _, h = t.call("DELETE", VMS .. "vm-app-01")
    assert.are.equal(202, st)
    t.wait(h)
    assert.are.equal(404, (t.call("GET", VMS .. "vm-app-01")))
    local _, extra = t.call("GET", DISKS .. "extra")
    assert.are.equal("Unattached", extra.properties.diskState)
    -- the NIC was made with deleteOption Delete in the seed; disks default to Detach
    assert.are.equal(200, (t.call("GET", DISKS .. "vm-app-01-data0")))
    assert.are.equal(404, (t.call("GET", NICS .. "vm-app-01-nic", nil, { api = "2024-05-01" })))
  end)
end)
