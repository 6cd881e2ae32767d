-- Every operation of the registry, driven end to end against the emulator
-- in the order a user would: a resource group, a network, disks and
-- snapshots (with their bytes read back through SAS URLs), VMs and their
-- power actions, restore points and their disk restore points, managed
-- images and the Compute Gallery, and finally the group's deletion.  The
-- last test checks, from the emulator's counters, that not one registry
-- operation was left out.
--
-- The tests of this file run in order and build on each other (the VM
-- needs the NIC, the image needs a snapshot ...), as a script would.
local C = require "support.client"
local azrp = require "azrp"

local RG = "rg-azrp-ops"
local LOC = "westeurope"
local SUB_ID = "/subscriptions/" .. C.SUB
local RG_ID = SUB_ID .. "/resourceGroups/" .. RG
local COMPUTE = RG_ID .. "/providers/Microsoft.Compute"
local NETWORK = RG_ID .. "/providers/Microsoft.Network"
local PROD_COMPUTE = SUB_ID .. "/resourceGroups/rg-prod/providers/Microsoft.Compute"
local DATA0 = PROD_COMPUTE .. "/disks/vm-app-01-data0"
local GIB = 1024 * 1024 * 1024

describe("every registry operation against the emulator", function()
  local em, client

  setup(function()
    -- Every nominal duration 1000 times shorter; the client polls when
    -- retry-after-ms says (1-10 ms here), at most 0.1 s apart.
    -- The demo fleet with 1 GiB disks (support.small_seed): the tests hash them.
    em = C.start("--time-scale 0.001 --seed " .. require("support.small_seed").file())
    client = C.client(em, { poll = { default = 0.05, max = 0.1 } })
  end)
  teardown(function()
    if client then client:close() end
    if em then em.stop() end
  end)

  ---------------------------------------------------------------------------
  -- helpers
  ---------------------------------------------------------------------------

  -- call(id, params) that must succeed; returns the result.
  local function ok(id, params)
    local res, err = client:call(id, params)
    assert(res ~= nil, id .. " failed: " .. tostring(err))
    return res
  end

  -- call(id, params) that must fail with HTTP status (and code); returns err.
  local function fails(id, params, status, code)
    local res, err = client:call(id, params)
    assert(res == nil, id .. " should have failed")
    assert.are.equal(status, err.status, tostring(err))
    if code then assert.are.equal(code, err.code, tostring(err)) end
    return err
  end

  -- The names of a list's items, as a set.
  local function names(items)
    local set = {}
    for _, v in ipairs(items) do set[v.name] = true end
    return set
  end

  -- list(id, params) that must succeed, following nextLink.
  local function list(id, params)
    local items, err = client:list(id, params or {})
    assert(items ~= nil, id .. " failed: " .. tostring(err))
    return items
  end

  local function in_rg(t)
    t.resource_group_name = t.resource_group_name or RG
    return t
  end

  -- Admin API: writes a repeated pattern to a disk, as its guest would.
  local function write_disk(id, offset, pattern, length)
    local st, body = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(id) .. "/write",
      { offset = offset, pattern = pattern, length = length })
    assert.are.equal(200, st, tostring(body))
  end

  -- disk against disk: the digest of the bytes' sparse form
  local function sha256(id) return C.disk_digest(em, id) end

  -- Reads bytes through a SAS URL with a Range header: status, body.
  local function read_sas(url, first, last)
    local res, err = client:request{ method = "GET", url = url,
      headers = { Range = string.format("bytes=%d-%d", first, last) } }:wait()
    assert(res, tostring(err))
    return res.status, res.body
  end

  -- Grants read access, checks the bytes at offset, revokes: for disks,
  -- snapshots and disk restore points alike.
  local function check_sas(prefix, id, offset, expected)
    local grant = ok(prefix .. "_GrantAccess", { id = id, body = { access = "Read", durationInSeconds = 300 } })
    assert.matches("^https://", grant.accessSAS)
    local status, bytes = read_sas(grant.accessSAS, offset, offset + #expected - 1)
    assert.are.equal(206, status)
    assert.are.equal(expected, bytes)
    -- and a whole first sector
    status, bytes = read_sas(grant.accessSAS, 0, 511)
    assert.are.equal(206, status)
    assert.are.equal(512, #bytes)
    assert.is_true(ok(prefix .. "_RevokeAccess", { id = id }))
    return grant
  end

  local function vm(name) return in_rg{ vm_name = name } end

  local function power_state(name)
    local iv = ok("VirtualMachines_InstanceView", vm(name))
    for _, s in ipairs(iv.statuses) do
      if s.code:match("^PowerState/") then return s.code end
    end
  end

  ---------------------------------------------------------------------------
  -- the operations, family by family
  ---------------------------------------------------------------------------

  it("has a snake_case method for each of the registry's operations", function()
    local ops = azrp.operations()
    assert.are.equal(74, #ops)
    local snake = require("azrp.client").snake
    for _, def in ipairs(ops) do
      local method = snake(def.id)
      assert.is_function(client[method], def.id .. " -> " .. method)
    end
    assert.is_function(client.restore_point_collections_list_all)
    assert.is_function(client.disk_restore_point_grant_access)
    assert.is_function(client.virtual_machines_attach_detach_data_disks)
  end)

  it("resource groups: create, get, list", function()
    local rg = ok("ResourceGroups_CreateOrUpdate", { resource_group_name = RG,
      body = { location = LOC, tags = { purpose = "operations-spec" } } })
    assert.are.equal(RG, rg.name)
    assert.are.equal(RG_ID, rg.id)
    assert.are.equal("Succeeded", rg.properties.provisioningState)
    -- created again with the same location: an update of the tags
    rg = ok("ResourceGroups_CreateOrUpdate", { resource_group_name = RG,
      body = { location = LOC, tags = { purpose = "operations-spec", run = "1" } } })
    assert.are.equal("1", rg.tags.run)
    fails("ResourceGroups_CreateOrUpdate", { resource_group_name = RG, body = { location = "northeurope" } },
      409, "InvalidResourceGroupLocation")

    local got = ok("ResourceGroups_Get", { resource_group_name = RG })
    assert.are.equal(LOC, got.location)
    assert.are.equal("operations-spec", got.tags.purpose)
    fails("ResourceGroups_Get", { resource_group_name = "rg-nope" }, 404, "ResourceGroupNotFound")

    local all = names(list("ResourceGroups_List"))
    assert.is_true(all[RG] and all["rg-prod"] and all["rg-dr"])
  end)

  it("network: virtual network, subnet, NSG and NIC create, get and delete", function()
    local vnet = ok("VirtualNetworks_CreateOrUpdate", in_rg{ virtual_network_name = "vnet-ops",
      body = { location = LOC, properties = { addressSpace = { addressPrefixes = { "10.20.0.0/16" } } } } })
    assert.are.equal("vnet-ops", vnet.name)
    assert.are.equal("Succeeded", vnet.properties.provisioningState)

    local nsg = ok("NetworkSecurityGroups_CreateOrUpdate", in_rg{ network_security_group_name = "nsg-ops",
      body = { location = LOC, properties = { securityRules = {} } } })
    assert.are.equal("Microsoft.Network/networkSecurityGroups", nsg.type)
    assert.are.equal("Succeeded", ok("NetworkSecurityGroups_Get",
      in_rg{ network_security_group_name = "nsg-ops" }).properties.provisioningState)

    local subnet = ok("Subnets_CreateOrUpdate", in_rg{ virtual_network_name = "vnet-ops", subnet_name = "default",
      body = { properties = { addressPrefix = "10.20.1.0/24", networkSecurityGroup = { id = nsg.id } } } })
    assert.are.equal("default", subnet.name)
    assert.are.equal("10.20.1.0/24", subnet.properties.addressPrefix)
    local got = ok("Subnets_Get", in_rg{ virtual_network_name = "vnet-ops", subnet_name = "default" })
    assert.are.equal(nsg.id, got.properties.networkSecurityGroup.id)
    vnet = ok("VirtualNetworks_Get", in_rg{ virtual_network_name = "vnet-ops" })
    assert.are.equal(1, #vnet.properties.subnets)
    assert.are.equal("10.20.0.0/16", vnet.properties.addressSpace.addressPrefixes[1])

    local nic = ok("NetworkInterfaces_CreateOrUpdate", in_rg{ network_interface_name = "nic-ops",
      body = { location = LOC, properties = { networkSecurityGroup = { id = nsg.id },
        ipConfigurations = { { name = "ipconfig1", properties = { subnet = { id = subnet.id } } } } } } })
    assert.are.equal("nic-ops", nic.name)
    assert.matches("^10%.20%.1%.%d+$", nic.properties.ipConfigurations[1].properties.privateIPAddress)
    assert.are.equal(subnet.id, ok("NetworkInterfaces_Get",
      in_rg{ network_interface_name = "nic-ops" }).properties.ipConfigurations[1].properties.subnet.id)

    -- a throwaway NIC, NSG and virtual network, deleted (with the ARM id form)
    local tmp_nsg = ok("NetworkSecurityGroups_CreateOrUpdate", in_rg{ network_security_group_name = "nsg-tmp",
      body = { location = LOC } })
    local tmp_nic = ok("NetworkInterfaces_CreateOrUpdate", in_rg{ network_interface_name = "nic-tmp",
      body = { location = LOC, properties = { ipConfigurations = { { name = "ip", properties = { subnet = { id = subnet.id } } } } } } })
    local tmp_vnet = ok("VirtualNetworks_CreateOrUpdate", in_rg{ virtual_network_name = "vnet-tmp",
      body = { location = LOC, properties = { addressSpace = { addressPrefixes = { "10.30.0.0/16" } } } } })
    assert.is_true(ok("NetworkInterfaces_Delete", { id = tmp_nic.id }))
    assert.is_true(ok("NetworkSecurityGroups_Delete", { id = tmp_nsg.id }))
    assert.is_true(ok("VirtualNetworks_Delete", { id = tmp_vnet.id }))
    fails("NetworkInterfaces_Get", { id = tmp_nic.id }, 404, "ResourceNotFound")
    fails("NetworkSecurityGroups_Get", { id = tmp_nsg.id }, 404, "ResourceNotFound")
    fails("VirtualNetworks_Get", { id = tmp_vnet.id }, 404, "ResourceNotFound")
  end)

  it("disks: create Empty and Copy, get, update, list, grant and revoke access, delete", function()
    local d = ok("Disks_CreateOrUpdate", in_rg{ disk_name = "disk-empty", body = { location = LOC,
      sku = { name = "Premium_LRS" }, properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } } })
    assert.are.equal("disk-empty", d.name)
    assert.are.equal("Succeeded", d.properties.provisioningState)
    assert.are.equal(GIB, d.properties.diskSizeBytes)
    assert.are.equal("Unattached", d.properties.diskState)
    assert.are.equal("Premium_LRS", d.sku.name)

    write_disk(d.id, 4096, "azrp-disk;", 40)
    local copy = ok("Disks_CreateOrUpdate", in_rg{ disk_name = "disk-copy", body = { location = LOC,
      properties = { creationData = { createOption = "Copy", sourceResourceId = d.id } } } })
    assert.are.equal("Copy", copy.properties.creationData.createOption)
    assert.are.equal(sha256(d.id), sha256(copy.id))

    local got = ok("Disks_Get", in_rg{ disk_name = "disk-copy" })
    assert.are.equal(copy.id, got.id)
    assert.are.equal(1, got.properties.diskSizeGB)

    local upd = ok("Disks_Update", in_rg{ disk_name = "disk-copy",
      body = { tags = { role = "copy" }, properties = { diskSizeGB = 2 } } })
    assert.are.equal("copy", upd.tags.role)
    assert.are.equal(2, upd.properties.diskSizeGB)
    assert.are.equal(2 * GIB, ok("Disks_Get", { id = copy.id }).properties.diskSizeBytes)
    fails("Disks_Update", in_rg{ disk_name = "disk-copy", body = { properties = { diskSizeGB = 1 } } }, 400)

    local here = names(list("Disks_ListByResourceGroup", in_rg{}))
    assert.is_true(here["disk-empty"] and here["disk-copy"])
    assert.is_nil(here["vm-app-01-data0"])
    local everywhere = names(list("Disks_List"))
    assert.is_true(everywhere["disk-copy"] and everywhere["vm-app-01-data0"])

    check_sas("Disks", copy.id, 4096, ("azrp-disk;"):rep(4))
    assert.are.equal("Unattached", ok("Disks_Get", { id = copy.id }).properties.diskState)

    assert.is_true(ok("Disks_Delete", in_rg{ disk_name = "disk-copy" }))
    fails("Disks_Get", in_rg{ disk_name = "disk-copy" }, 404, "ResourceNotFound")
    fails("DiskEncryptionSets_Get", in_rg{ disk_encryption_set_name = "des-none" }, 404)
    -- deleting what is gone succeeds (204), as ARM does
    assert.is_true(ok("Disks_Delete", in_rg{ disk_name = "disk-copy" }))
  end)

  it("snapshots: create, get, update, list, grant and revoke access, delete", function()
    local disk_id = COMPUTE .. "/disks/disk-empty"
    local snap = ok("Snapshots_CreateOrUpdate", in_rg{ snapshot_name = "snap-ops", body = { location = LOC,
      properties = { creationData = { createOption = "Copy", sourceResourceId = disk_id } } } })
    assert.are.equal("snap-ops", snap.name)
    assert.are.equal("Succeeded", snap.properties.provisioningState)
    local at_snapshot = sha256(disk_id)
    assert.are.equal(at_snapshot, sha256(snap.id))
    -- the disk changes afterwards; the snapshot keeps its bytes
    write_disk(disk_id, 4096, "changed!", 8)
    assert.are_not.equal(at_snapshot, sha256(disk_id))
    assert.are.equal(at_snapshot, sha256(snap.id))

    local got = ok("Snapshots_Get", in_rg{ snapshot_name = "snap-ops" })
    assert.are.equal(disk_id, got.properties.creationData.sourceResourceId)
    assert.are.equal(GIB, got.properties.diskSizeBytes)

    local upd = ok("Snapshots_Update", in_rg{ snapshot_name = "snap-ops", body = { tags = { keep = "yes" } } })
    assert.are.equal("yes", upd.tags.keep)

    assert.is_true(names(list("Snapshots_ListByResourceGroup", in_rg{}))["snap-ops"])
    assert.is_true(names(list("Snapshots_List"))["snap-ops"])

    check_sas("Snapshots", snap.id, 4096, ("azrp-disk;"):rep(4))

    -- a second snapshot, of a seeded OS disk, for the managed image later
    local os_snap = ok("Snapshots_CreateOrUpdate", in_rg{ snapshot_name = "snap-os", body = { location = LOC,
      properties = { creationData = { createOption = "Copy", sourceResourceId = PROD_COMPUTE .. "/disks/vm-app-01-osdisk" } } } })
    assert.are.equal("Linux", os_snap.properties.osType)

    assert.is_true(ok("Snapshots_Delete", { id = snap.id }))
    fails("Snapshots_Get", { id = snap.id }, 404, "ResourceNotFound")
  end)

  it("virtual machines: create, get, instance view, update, power actions, data disks, list, delete", function()
    local nic_id = NETWORK .. "/networkInterfaces/nic-ops"
    local params = vm("vm-ops")
    params.body = { location = LOC, properties = {
      hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = {
        imageReference = { publisher = "Canonical", offer = "ubuntu-24_04-lts", sku = "server", version = "latest" },
        osDisk = { createOption = "FromImage", managedDisk = { storageAccountType = "Premium_LRS" } },
        dataDisks = { { lun = 0, createOption = "Empty", diskSizeGB = 1 } } },
      osProfile = { computerName = "vm-ops", adminUsername = "azureuser", adminPassword = "Not-a-real-secret-1" },
      networkProfile = { networkInterfaces = { { id = nic_id } } } } }
    local created, err = client:virtual_machines_create_or_update(params):wait()
    assert.is_table(created, tostring(err))
    assert.are.equal("vm-ops", created.name)
    assert.are.equal("Succeeded", created.properties.provisioningState)
    assert.is_nil(created.properties.osProfile.adminPassword)

    local got = ok("VirtualMachines_Get", in_rg{ vm_name = "vm-ops", expand = "instanceView" })
    assert.are.equal("PowerState/running", got.properties.instanceView.statuses[2].code)
    assert.are.equal(0, got.properties.storageProfile.dataDisks[1].lun)
    local os_disk = ok("Disks_Get", { id = got.properties.storageProfile.osDisk.managedDisk.id })
    assert.are.equal("Attached", os_disk.properties.diskState)
    assert.are.equal(got.id:lower(), os_disk.managedBy:lower())
    assert.are.equal(got.id, ok("NetworkInterfaces_Get", { id = nic_id }).properties.virtualMachine.id)
    assert.are.equal("PowerState/running", power_state("vm-ops"))

    local upd = ok("VirtualMachines_Update", in_rg{ vm_name = "vm-ops", body = { tags = { tier = "app" } } })
    assert.are.equal("app", upd.tags.tier)
    assert.are.equal("app", ok("VirtualMachines_Get", vm("vm-ops")).tags.tier)

    -- power actions, through their snake_case methods and op:wait()
    assert.is_true(client:virtual_machines_power_off(vm("vm-ops")):wait())
    assert.are.equal("PowerState/stopped", power_state("vm-ops"))
    assert.is_true(client:virtual_machines_start(vm("vm-ops")):wait())
    assert.are.equal("PowerState/running", power_state("vm-ops"))
    assert.is_true(client:virtual_machines_deallocate(vm("vm-ops")):wait())
    assert.are.equal("PowerState/deallocated", power_state("vm-ops"))
    assert.is_true(ok("VirtualMachines_Start", vm("vm-ops")))
    assert.are.equal("PowerState/running", power_state("vm-ops"))

    -- attach the Empty disk made above at LUN 3, detach the one at LUN 0
    local extra = COMPUTE .. "/disks/disk-empty"
    local lun0 = got.properties.storageProfile.dataDisks[1].managedDisk.id
    local sp = ok("VirtualMachines_AttachDetachDataDisks", in_rg{ vm_name = "vm-ops",
      body = { dataDisksToAttach = { { diskId = extra, lun = 3 } }, dataDisksToDetach = { { diskId = lun0 } } } })
    assert.are.equal(1, #sp.dataDisks)
    assert.are.equal(3, sp.dataDisks[1].lun)
    assert.are.equal("Attached", ok("Disks_Get", { id = extra }).properties.diskState)
    assert.are.equal("Unattached", ok("Disks_Get", { id = lun0 }).properties.diskState)

    assert.is_true(names(list("VirtualMachines_List", in_rg{}))["vm-ops"])
    local all = names(list("VirtualMachines_ListAll"))
    assert.is_true(all["vm-ops"] and all["vm-app-01"] and all["vm-sql-01"])

    assert.is_true(ok("VirtualMachines_Delete", in_rg{ vm_name = "vm-ops", force_deletion = false }))
    fails("VirtualMachines_Get", vm("vm-ops"), 404, "ResourceNotFound")
    -- its data disks stay (deleteOption Detach), released, and so does the NIC
    assert.are.equal("Unattached", ok("Disks_Get", { id = extra }).properties.diskState)
    assert.is_nil(ok("NetworkInterfaces_Get", { id = nic_id }).properties.virtualMachine)
    assert.is_true(ok("Disks_Delete", { id = lun0 }))
  end)

  it("restore point collections, restore points and disk restore points", function()
    local rpc = in_rg{ restore_point_collection_name = "rpc-ops" }
    local coll = ok("RestorePointCollections_CreateOrUpdate", in_rg{ restore_point_collection_name = "rpc-ops",
      body = { location = LOC, properties = { source = { id = C.VM_ID } } } })
    assert.are.equal("rpc-ops", coll.name)
    assert.are.equal("Succeeded", coll.properties.provisioningState)
    assert.are.equal(C.VM_ID:lower(), coll.properties.source.id:lower())

    local upd = ok("RestorePointCollections_Update", in_rg{ restore_point_collection_name = "rpc-ops",
      body = { tags = { retention = "7d" } } })
    assert.are.equal("7d", upd.tags.retention)

    -- the guest writes, then the restore point captures it
    write_disk(DATA0, 8192, "restore-point;", 70)
    local at_rp = sha256(DATA0)
    local rp_params = in_rg{ restore_point_collection_name = "rpc-ops", restore_point_name = "rp-ops" }
    rp_params.body = { properties = { consistencyMode = "CrashConsistent" } }
    local rp, err = client:restore_points_create(rp_params):wait()
    assert.is_table(rp, tostring(err))
    rp_params.body = nil
    assert.are.equal("rp-ops", rp.name)
    assert.are.equal("Succeeded", rp.properties.provisioningState)
    assert.are.equal(2, #rp.properties.sourceMetadata.storageProfile.dataDisks)
    write_disk(DATA0, 8192, "after the rp", 12)

    rp_params.expand = "instanceView"
    local rpv = ok("RestorePoints_Get", rp_params)
    rp_params.expand = nil
    local views = rpv.properties.instanceView.diskRestorePoints
    assert.are.equal(3, #views)
    for _, v in ipairs(views) do assert.are.equal(100, v.replicationStatus.completionPercent) end

    rpc.expand = "restorePoints"
    local got = ok("RestorePointCollections_Get", rpc)
    rpc.expand = nil
    assert.are.equal("7d", got.tags.retention)
    assert.are.equal(1, #got.properties.restorePoints)
    assert.are.equal("rp-ops", got.properties.restorePoints[1].name)

    assert.is_true(names(list("RestorePointCollections_List", in_rg{}))["rpc-ops"])
    assert.is_true(names(list("RestorePointCollections_ListAll"))["rpc-ops"])

    local drps = list("DiskRestorePoint_ListByRestorePoint", rp_params)
    assert.are.equal(3, #drps)
    local drp
    for _, d in ipairs(drps) do
      if d.properties.sourceResourceId:lower() == DATA0:lower() then drp = d end
    end
    assert.is_table(drp, "no disk restore point of " .. DATA0)
    local one = ok("DiskRestorePoint_Get", { id = drp.id })
    assert.are.equal(drp.name, one.name)
    assert.are.equal("Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints", one.type)
    -- it holds the bytes the disk had when the restore point was taken
    assert.are.equal(at_rp, sha256(drp.id))
    check_sas("DiskRestorePoint", drp.id, 8192, ("restore-point;"):rep(5))

    assert.is_true(ok("RestorePoints_Delete", rp_params))
    fails("RestorePoints_Get", rp_params, 404, "ResourceNotFound")
    assert.is_true(ok("RestorePointCollections_Delete", rpc))
    fails("RestorePointCollections_Get", rpc, 404, "ResourceNotFound")
  end)

  it("managed images: create from a snapshot, get, list, delete", function()
    local snap_id = COMPUTE .. "/snapshots/snap-os"
    local img = ok("Images_CreateOrUpdate", in_rg{ image_name = "img-ops", body = { location = LOC,
      properties = { hyperVGeneration = "V2", storageProfile = {
        osDisk = { osType = "Linux", osState = "Generalized", snapshot = { id = snap_id } } } } } })
    assert.are.equal("img-ops", img.name)
    assert.are.equal("Succeeded", img.properties.provisioningState)
    assert.are.equal(snap_id:lower(), img.properties.storageProfile.osDisk.snapshot.id:lower())

    local got = ok("Images_Get", in_rg{ image_name = "img-ops" })
    assert.are.equal("Linux", got.properties.storageProfile.osDisk.osType)
    assert.are.equal("V2", got.properties.hyperVGeneration)
    assert.is_true(names(list("Images_ListByResourceGroup", in_rg{}))["img-ops"])

    assert.is_true(ok("Images_Delete", { id = img.id }))
    fails("Images_Get", in_rg{ image_name = "img-ops" }, 404, "ResourceNotFound")
  end)

  it("Compute Gallery: galleries, image definitions and versions", function()
    local gal = in_rg{ gallery_name = "gal_ops" }
    local def = in_rg{ gallery_name = "gal_ops", gallery_image_name = "app-linux" }
    local ver = in_rg{ gallery_name = "gal_ops", gallery_image_name = "app-linux", gallery_image_version_name = "1.0.0" }

    local g = ok("Galleries_CreateOrUpdate", in_rg{ gallery_name = "gal_ops",
      body = { location = LOC, properties = { description = "operations spec" } } })
    assert.are.equal("gal_ops", g.name)
    assert.are.equal("Succeeded", g.properties.provisioningState)
    assert.are.equal("operations spec", ok("Galleries_Get", gal).properties.description)

    local d = ok("GalleryImages_CreateOrUpdate", in_rg{ gallery_name = "gal_ops", gallery_image_name = "app-linux",
      body = { location = LOC, properties = { osType = "Linux", osState = "Generalized", hyperVGeneration = "V2",
        identifier = { publisher = "contoso", offer = "app", sku = "ops" } } } })
    assert.are.equal("app-linux", d.name)
    assert.are.equal("Succeeded", d.properties.provisioningState)
    assert.are.equal("contoso", ok("GalleryImages_Get", def).properties.identifier.publisher)

    local snap_id = COMPUTE .. "/snapshots/snap-os"
    local params = in_rg{ gallery_name = "gal_ops", gallery_image_name = "app-linux", gallery_image_version_name = "1.0.0",
      body = { location = LOC, properties = {
        publishingProfile = { targetRegions = { { name = LOC, regionalReplicaCount = 1 } } },
        storageProfile = { osDiskImage = { source = { id = snap_id } } } } } }
    local v = ok("GalleryImageVersions_CreateOrUpdate", params)
    assert.are.equal("1.0.0", v.name)
    assert.are.equal("Succeeded", v.properties.provisioningState)

    ver.expand = "ReplicationStatus"
    local got = ok("GalleryImageVersions_Get", ver)
    ver.expand = nil
    assert.are.equal("Completed", got.properties.replicationStatus.aggregatedState)
    assert.are.equal(100, got.properties.replicationStatus.summary[1].progress)
    local versions = list("GalleryImageVersions_ListByGalleryImage", def)
    assert.are.equal(1, #versions)
    assert.are.equal("1.0.0", versions[1].name)

    -- children first
    fails("GalleryImages_Delete", def, 409, "CannotDeleteResource")
    assert.is_true(ok("GalleryImageVersions_Delete", ver))
    assert.is_true(ok("GalleryImages_Delete", def))
    assert.is_true(ok("Galleries_Delete", gal))
    fails("GalleryImageVersions_Get", ver, 404)
    fails("GalleryImages_Get", def, 404)
    fails("Galleries_Get", gal, 404, "ResourceNotFound")
  end)

  it("subscriptions list, and the resource group is deleted with all it holds", function()
    local subs = list("Subscriptions_List")
    local found
    for _, s in ipairs(subs) do
      if s.subscriptionId == C.SUB then found = s end
    end
    assert.is_table(found)
    assert.are.equal("Enabled", found.state)
    assert.are.equal(C.TENANT, found.tenantId)

    assert.is_true(ok("ResourceGroups_Delete", { resource_group_name = RG }))
    fails("ResourceGroups_Get", { resource_group_name = RG }, 404, "ResourceGroupNotFound")
    fails("Disks_Get", in_rg{ disk_name = "disk-empty" }, 404, "ResourceGroupNotFound")
    assert.is_nil(names(list("ResourceGroups_List"))[RG])
  end)

  it("lists the subscription's regions, a region's VM sizes and its vCPU usage", function()
    local locs = names(list("Subscriptions_ListLocations"))
    assert.is_true(locs.westeurope and locs.northeurope)
    assert.is_nil(locs.westeurope2)
    local sizes = {}
    for _, s in ipairs(list("VirtualMachineSizes_List", { location = LOC })) do sizes[s.name] = s end
    assert.are.equal(2, sizes.Standard_D2s_v5.numberOfCores)
    assert.are.equal(8192, sizes.Standard_D2s_v5.memoryInMB)
    local usage = {}
    for _, u in ipairs(list("Usage_List", { location = LOC })) do usage[u.name.value] = u end
    assert.are.equal("Total Regional vCPUs", usage.cores.name.localizedValue)
    -- the VMs of the subscription in westeurope that are not deallocated
    local want = 0
    for _, v in ipairs(list("VirtualMachines_ListAll")) do
      if v.location == LOC then
        local iv = ok("VirtualMachines_InstanceView", { resource_group_name = v.id:match("/resourceGroups/([^/]+)/"), vm_name = v.name })
        local dealloc = false
        for _, st in ipairs(iv.statuses) do if st.code == "PowerState/deallocated" then dealloc = true end end
        if not dealloc then want = want + sizes[v.properties.hardwareProfile.vmSize].numberOfCores end
      end
    end
    assert.are.equal(want, usage.cores.currentValue)
    assert.is_true(usage.cores.limit >= usage.cores.currentValue)
    assert.is_number(usage.standardDSv5Family.limit)
    fails("Usage_List", { location = "westeurope2" }, 404)
  end)

  it("called every operation of the registry at least once (emulator counters)", function()
    local counted = C.counters(em).operations
    local missing = {}
    for _, def in ipairs(azrp.operations()) do
      if (counted[def.id] or 0) < 1 then missing[#missing + 1] = def.id end
    end
    assert.are.same({}, missing)
    -- LROs were followed through the operation status endpoint
    assert.is_true((counted.Operations_Get or 0) > 0)
  end)
end)
