-- Golden images end to end against the emulator: a gallery image version
-- published to two regions and a managed image, each proved byte for byte
-- (a disk created from the image holds exactly the VM's OS disk as it was
-- at the restore point's moment, SHA-256, though the VM wrote more after
-- it); the next version number; every preflight mismatch refused naming
-- both values before anything is made; a failure mid-way cleaned up.
local C = require "support.client"
local azrp_cmd = require "support.azrp_cmd"
local json = require "cjson.safe"
local golden = require "azrp.workflows.golden_image"
local compat = require "azrp.workflows.golden.compat"
local golden_seed = require "support.golden_seed"
local tmp = require "support.tmp"
local shell = require "support.shell"
local files = require "support.files"

local SCALE = 0.002
local SUB = "/subscriptions/" .. C.SUB
local RG = SUB .. "/resourceGroups/rg-prod"
local CP = RG .. "/providers/Microsoft.Compute"
local GALLERY = CP .. "/galleries/golden"
local VM_STD = CP .. "/virtualMachines/vm-std-01"
local VM_GEN1 = CP .. "/virtualMachines/vm-gen1-01"
local TL = { { name = "SecurityType", value = "TrustedLaunchSupported" } }

local state_dir = tmp.name

local sha = C.disk_digest
local write = C.disk_write

local function disks_of(client, vm_id)
  local vm = assert(client:call("VirtualMachines_Get", { id = vm_id }))
  local sp = vm.properties.storageProfile
  local out = { os = sp.osDisk.managedDisk.id }
  for _, d in ipairs(sp.dataDisks or {}) do out[math.floor(d.lun)] = d.managedDisk.id end
  return out
end

-- A progress hook that, when the run's restore point exists, notes the
-- SHA-256 of each of the VM's disks (their content at the restore
-- point's moment: nothing wrote since) and then writes to them, so that
-- the live disks no longer hold it.
local hooks = 0
local function moment_hook(em, client, vm_id, seen)
  local disks = disks_of(client, vm_id)
  hooks = hooks + 1
  local mark = hooks
  return function(e)
    if e.type == "resource" and e.kind == "restore_point" and e.state == "created" and not seen.at_rp then
      seen.at_rp = {}
      for k, id in pairs(disks) do seen.at_rp[k] = sha(em, id) end
      for k, id in pairs(disks) do write(em, id, 8192, "written after restore point " .. mark .. " " .. tostring(k)) end
      seen.after = {}
      for k, id in pairs(disks) do
        seen.after[k] = sha(em, id)
        assert(seen.after[k] ~= seen.at_rp[k], "the write after the restore point changed nothing")
      end
    end
    seen.events = (seen.events or 0) + 1
  end
end

-- Every resource of rg-prod stamped by the run, by kind: { "disk name", ... }.
local function of_run(client, run_id)
  local out = {}
  for _, x in ipairs({ { "vm", "VirtualMachines_List" }, { "disk", "Disks_ListByResourceGroup" },
    { "image", "Images_ListByResourceGroup" } }) do
    for _, r in ipairs(assert(client:list(x[2], { resource_group_name = "rg-prod" }))) do
      if r.tags and r.tags["azrp-run"] == run_id then out[#out + 1] = x[1] .. " " .. r.name end
    end
  end
  table.sort(out)
  return out
end

local function versions(client, image)
  local out = {}
  for _, v in ipairs(assert(client:list("GalleryImageVersions_ListByGalleryImage", { resource_group_name = "rg-prod",
    gallery_name = "golden", gallery_image_name = image }))) do
    out[v.name] = v.properties.provisioningState
  end
  return out
end

local function restore_points(client, coll)
  local body = client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
    restore_point_collection_name = coll, expand = "restorePoints" })
  local out = {}
  for _, rp in ipairs(body and body.properties.restorePoints or {}) do out[rp.name] = rp end
  return out
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- A VM in region made from image (a managed image or a gallery version):
-- its disks' ids by LUN ("os" for the OS disk).
local function vm_from(client, name, location, rg, image, nic_subnet)
  local nic = assert(client:call("NetworkInterfaces_CreateOrUpdate", { resource_group_name = rg,
    network_interface_name = name .. "-nic", body = { location = location, properties = { ipConfigurations = {
      { name = "ip", properties = { subnet = { id = nic_subnet } } } } } } }))
  assert(client:call("VirtualMachines_CreateOrUpdate", { resource_group_name = rg, vm_name = name, body = {
    location = location, properties = { hardwareProfile = { vmSize = "Standard_D2s_v5" },
      storageProfile = { imageReference = { id = image },
        osDisk = { createOption = "FromImage", managedDisk = { storageAccountType = "Premium_LRS" } } },
      osProfile = { computerName = name, adminUsername = "azureuser" },
      networkProfile = { networkInterfaces = { { id = nic.id } } } } } }))
  return disks_of(client, SUB .. "/resourceGroups/" .. rg .. "/providers/Microsoft.Compute/virtualMachines/" .. name)
end

local SUBNET_WE = RG .. "/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"
local SUBNET_NE = SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Network/virtualNetworks/vnet-dr/subnets/default"

describe("golden_image", function()
  local em, client
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. golden_seed.file())
    client = C.client(em)
    assert(client:call("Galleries_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "golden",
      body = { location = "westeurope" } }))
    -- One definition per way a VM can fit it or not.
    local defs = {
      app = { osType = "Linux", osState = "Specialized", hyperVGeneration = "V2", features = TL },
      std = { osType = "Linux", osState = "Specialized", hyperVGeneration = "V2" },
      win = { osType = "Windows", osState = "Specialized", hyperVGeneration = "V2", features = TL },
      generalized = { osType = "Linux", osState = "Generalized", hyperVGeneration = "V2", features = TL },
      arm = { osType = "Linux", osState = "Specialized", hyperVGeneration = "V2", features = TL, architecture = "Arm64" },
    }
    for name, p in pairs(defs) do
      p.identifier = { publisher = "azrp", offer = "golden", sku = name }
      assert(client:call("GalleryImages_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "golden",
        gallery_image_name = name, body = { location = "westeurope", properties = p } }))
    end
  end)
  teardown(function() client:close(); em.stop() end)

  describe("check", function()
    local function refused(cfg, field)
      local ok, err = golden.check(cfg)
      assert.is_nil(ok)
      assert.are.equal("invalid", err.kind)
      assert.are.equal(field, err.target, err.message)
      assert.matches(field, err.message, 1, true)
    end
    it("names the field of every bad setting, before any request", function()
      local G = GALLERY .. "/images/app"
      refused({}, "vm_id")
      refused({ vm_id = "vm-app-01", gallery_image_id = G }, "vm_id")
      refused({ vm_id = C.VM_ID }, "gallery_image_id")
      refused({ vm_id = C.VM_ID, gallery_image_id = GALLERY }, "gallery_image_id")
      refused({ vm_id = C.VM_ID, image_id = G }, "image_id")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, image_id = CP .. "/images/x" }, "image_id")
      refused({ vm_id = C.VM_ID, image_id = CP .. "/images/x", version = "1.0.0" }, "version")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, version = "1.0" }, "version")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, consistency_mode = "Consistent" }, "consistency_mode")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, os_state = "generalised" }, "os_state")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, replica_count = 0 }, "replica_count")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, storage_account_type = "Premium_ZRS" }, "storage_account_type")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, target_regions = { "north europe!" } }, "target_regions[1].name")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, target_regions = { "northeurope", "North Europe" } }, "target_regions[2].name")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, target_regions = { { name = "northeurope", regional_replica_count = 101 } } },
        "target_regions[1].regional_replica_count")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, target_regions = { { name = "northeurope", storage_account_type = "Hot" } } },
        "target_regions[1].storage_account_type")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, target_regions = { { name = "northeurope", replicas = 2 } } },
        "target_regions[1].replicas")
      refused({ vm_id = C.VM_ID, gallery_image_id = G, keep_disk = true }, "keep_disk")
      local _, err = golden.check({ vm_id = C.VM_ID, gallery_image_id = G, keep_disk = true })
      assert.matches("did you mean keep_disks", err.message, 1, true)
      local cfg = assert(golden.check({ vm_id = C.VM_ID, gallery_image_id = G, replica_count = 2,
        target_regions = { "North Europe", { name = "westeurope", storage_account_type = "Premium_LRS" } } }))
      assert.are.same({ { name = "northeurope", regional_replica_count = 2, storage_account_type = "Standard_LRS" },
        { name = "westeurope", regional_replica_count = 2, storage_account_type = "Premium_LRS" } }, cfg.target_regions)
      assert.are.equal("ApplicationConsistent", cfg.consistency_mode)
      assert.are.equal("Specialized", cfg.os_state)
    end)
    it("numbers the next version after the highest, numerically", function()
      assert.are.equal("1.0.0", compat.next_version({}))
      assert.are.equal("1.9.10", compat.next_version({ "1.9.9", "1.10.0-rc", "1.2.30", "0.99.99" }))
      assert.are.equal("2.0.1", compat.next_version({ "1.9.9", "2.0.0", "1.10.5" }))
    end)
  end)

  it("publishes a gallery version to two regions whose disks hold the OS disk at the restore point's moment", function()
    local seen = {}
    local cfg = { vm_id = C.VM_ID, gallery_image_id = GALLERY .. "/images/app",
      target_regions = { { name = "westeurope", regional_replica_count = 1 },
        { name = "northeurope", regional_replica_count = 2, storage_account_type = "Standard_ZRS" } } }
    local report, err = golden.run(client, cfg, { state_dir = state_dir(), time_scale = SCALE,
      progress = moment_hook(em, client, C.VM_ID, seen) })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, json.encode(report.error))
    assert.is_table(seen.at_rp, "the hook saw the restore point made")
    assert.are_not.equal(seen.at_rp.os, seen.after.os)

    local id = GALLERY .. "/images/app/versions/1.0.0"
    assert.are.equal(id, report.details.image)
    assert.are.equal("1.0.0", report.details.version)
    local regions = {}
    for _, r in ipairs(report.details.regions) do regions[r.region] = r end
    assert.are.equal(2, count(regions))
    assert.are.equal(2, regions.northeurope.replicas)
    assert.are.equal("Standard_ZRS", regions.northeurope.storage_account_type)
    for name, r in pairs(regions) do
      assert.are.equal("Completed", r.state, name)
      assert.is_true(r.seconds > 0 and r.wall_seconds > 0, name)
    end
    -- The remote copy carries bytes over: it takes longer than the home one.
    assert.is_true(regions.northeurope.seconds > regions.westeurope.seconds)
    assert.is_true(report.figures.replication_seconds >= regions.northeurope.seconds)

    local v = assert(client:call("GalleryImageVersions_Get", { id = id, expand = "ReplicationStatus" }))
    assert.are.equal("Succeeded", v.properties.provisioningState)
    assert.are.equal("Completed", v.properties.replicationStatus.aggregatedState)
    for _, t in ipairs(v.properties.publishingProfile.targetRegions) do
      local want = regions[t.name:lower():gsub("%s", "")]
      assert.are.equal(want.replicas, t.regionalReplicaCount)
      assert.are.equal(want.storage_account_type, t.storageAccountType)
    end
    -- Its source was a restored disk, never a disk restore point.
    assert.matches("/disks/vm-app-01-", v.properties.storageProfile.osDiskImage.source.id, 1, true)

    -- The data proof, in both regions.
    local we = vm_from(client, "vm-golden-we", "westeurope", "rg-prod", id, SUBNET_WE)
    local ne = vm_from(client, "vm-golden-ne", "northeurope", "rg-dr", id, SUBNET_NE)
    assert.are.equal(seen.at_rp.os, sha(em, we.os))
    assert.are.equal(seen.at_rp.os, sha(em, ne.os))
    assert.are_not.equal(seen.at_rp.os, sha(em, disks_of(client, C.VM_ID).os))
    assert.is_nil(we[0])   -- data disks were not asked for

    -- The intermediate disks and the restore point are gone, the
    -- collection stays, and the version is the only thing kept.
    assert.are.same({}, of_run(client, report.run_id))
    local kept = {}
    for _, r in ipairs(report.resources) do
      if r.state == "kept" then kept[#kept + 1] = r.kind end
      assert.is_truthy(r.state == "kept" or r.state == "deleted", r.kind .. " " .. r.state)
    end
    table.sort(kept)
    assert.are.same({ "collection", "image_version" }, kept)
    local stamp = report.run_id:match("^golden%-(.+)$")
    for name in pairs(restore_points(client, "rpc-vm-app-01")) do assert.is_nil(name:find(stamp, 1, true), name) end
    assert.are.equal("ApplicationConsistent", report.details.consistency_mode)
  end)

  it("takes the version after the highest, and a crash-consistent restore point when asked", function()
    local dir = state_dir()
    local report = assert(golden.run(client, { vm_id = C.VM_ID, gallery_image_id = GALLERY .. "/images/app",
      version = "1.9.9", consistency_mode = "CrashConsistent", keep_restore_point = true },
      { state_dir = dir, time_scale = SCALE }))
    assert.are.equal(0, report.exit_code)
    assert.are.equal("1.9.9", report.details.version)
    local rp = assert(client:call("RestorePoints_Get", { id = report.details.restore_point }))
    assert.are.equal("CrashConsistent", rp.properties.consistencyMode)
    report = assert(golden.run(client, { vm_id = C.VM_ID, gallery_image_id = GALLERY .. "/images/app" },
      { state_dir = dir, time_scale = SCALE }))
    assert.are.equal("1.9.10", report.details.version)
    -- The default: application-consistent, and not kept.
    assert.is_nil(client:call("RestorePoints_Get", { id = report.details.restore_point }))
    local vs = versions(client, "app")
    for _, n in ipairs({ "1.0.0", "1.9.9", "1.9.10" }) do assert.are.equal("Succeeded", vs[n], n) end
    assert(client:call("RestorePoints_Delete", { id = rp.id }))
  end)

  it("makes a managed image of the OS and data disks, each holding the restore point's bytes", function()
    local seen = {}
    local image = CP .. "/images/golden-std"
    local report, err = golden.run(client, { vm_id = VM_STD, image_id = image, data_disks = true, os_state = "Generalized" },
      { state_dir = state_dir(), time_scale = SCALE, progress = moment_hook(em, client, VM_STD, seen) })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, json.encode(report.error))
    assert.are.equal(image, report.details.image)
    local img = assert(client:call("Images_Get", { id = image }))
    assert.are.equal("Succeeded", img.properties.provisioningState)
    assert.are.equal("Generalized", img.properties.storageProfile.osDisk.osState)
    assert.are.equal("V2", img.properties.hyperVGeneration)
    assert.are.equal(1, #img.properties.storageProfile.dataDisks)
    local made = vm_from(client, "vm-from-std", "westeurope", "rg-prod", image, SUBNET_WE)
    assert.are.equal(seen.at_rp.os, sha(em, made.os))
    assert.are.equal(seen.at_rp[0], sha(em, made[0]))
    local live = disks_of(client, VM_STD)
    assert.are_not.equal(seen.at_rp.os, sha(em, live.os))
    assert.are_not.equal(seen.at_rp[0], sha(em, live[0]))
    -- Only the image is left of the run (its disks and restore point are gone).
    assert.are.same({ "image golden-std" }, of_run(client, report.run_id))
  end)

  it("puts the data disks in a gallery version when asked, at their LUNs", function()
    local seen = {}
    local report, err = golden.run(client, { vm_id = VM_STD, gallery_image_id = GALLERY .. "/images/std", data_disks = true },
      { state_dir = state_dir(), time_scale = SCALE, progress = moment_hook(em, client, VM_STD, seen) })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, json.encode(report.error))
    local v = assert(client:call("GalleryImageVersions_Get", { id = report.details.image }))
    assert.are.equal(1, #v.properties.storageProfile.dataDiskImages)
    assert.are.equal(0, v.properties.storageProfile.dataDiskImages[1].lun)
    local made = vm_from(client, "vm-from-std-gallery", "westeurope", "rg-prod", report.details.image, SUBNET_WE)
    assert.are.equal(seen.at_rp.os, sha(em, made.os))
    assert.are.equal(seen.at_rp[0], sha(em, made[0]))
    assert.are_not.equal(seen.at_rp[0], sha(em, disks_of(client, VM_STD)[0]))
  end)

  describe("preflight", function()
    -- A refused run: exit 2, the error names the field and both values,
    -- and nothing was created (no resource in the report, none stamped).
    local function refused(cfg, field, ...)
      local before = restore_points(client, "rpc-" .. cfg.vm_id:match("[^/]+$"))
      local report, err, rep = golden.run(client, cfg, { state_dir = state_dir(), time_scale = SCALE })
      assert.is_nil(report)
      assert.are.equal("invalid", err.kind, tostring(err))
      assert.are.equal(field, err.target, err.message)
      for _, s in ipairs({ ... }) do assert.matches(s, err.message, 1, true) end
      assert.are.equal(2, rep.exit_code)
      assert.are.equal("preflight", rep.failed_step)
      assert.are.same({}, rep.resources)
      assert.are.same({}, of_run(client, rep.run_id))
      assert.are.equal(count(before), count(restore_points(client, "rpc-" .. cfg.vm_id:match("[^/]+$"))))
    end
    local function def(name) return GALLERY .. "/images/" .. name end
    it("refuses another OS type", function()
      refused({ vm_id = C.VM_ID, gallery_image_id = def("win") }, "gallery_image_id", "OS type", "Windows", "Linux")
    end)
    it("refuses a generalized definition for a specialized VM", function()
      refused({ vm_id = C.VM_ID, gallery_image_id = def("generalized") }, "os_state", "Generalized", "Specialized")
    end)
    it("refuses a Gen1 VM for a V2 definition", function()
      refused({ vm_id = VM_GEN1, gallery_image_id = def("app") }, "gallery_image_id", "hyperVGeneration", "V2", "V1")
    end)
    it("refuses a Trusted Launch VM for a definition without the SecurityType feature", function()
      refused({ vm_id = C.VM_ID, gallery_image_id = def("std") }, "gallery_image_id", "TrustedLaunch", "none",
        "TrustedLaunchSupported")
    end)
    it("refuses another architecture", function()
      refused({ vm_id = C.VM_ID, gallery_image_id = def("arm") }, "gallery_image_id", "architecture", "Arm64", "x64")
    end)
    it("refuses a managed image of a Trusted Launch VM", function()
      refused({ vm_id = C.VM_ID, image_id = CP .. "/images/tl" }, "image_id", "TrustedLaunch", "managed images")
    end)
    it("refuses a version that exists, a missing definition, a missing VM", function()
      refused({ vm_id = C.VM_ID, gallery_image_id = def("app"), version = "1.0.0" }, "version", "1.0.0", "already exists")
      refused({ vm_id = C.VM_ID, gallery_image_id = def("nope") }, "gallery_image_id", "nope")
      refused({ vm_id = CP .. "/virtualMachines/vm-nope", gallery_image_id = def("app") }, "vm_id", "vm-nope")
    end)
    it("refuses a gallery in another region than the VM", function()
      assert(client:call("Galleries_CreateOrUpdate", { resource_group_name = "rg-dr", gallery_name = "faraway",
        body = { location = "northeurope" } }))
      assert(client:call("GalleryImages_CreateOrUpdate", { resource_group_name = "rg-dr", gallery_name = "faraway",
        gallery_image_name = "app", body = { location = "northeurope", properties = { osType = "Linux",
          osState = "Specialized", hyperVGeneration = "V2", features = TL,
          identifier = { publisher = "azrp", offer = "faraway", sku = "app" } } } }))
      refused({ vm_id = C.VM_ID, gallery_image_id = SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Compute/galleries/faraway/images/app" },
        "gallery_image_id", "northeurope", "westeurope")
    end)
    it("plans what it would make, making nothing", function()
      local plan = assert(golden.plan(client, { vm_id = C.VM_ID, gallery_image_id = def("app"),
        target_regions = { "northeurope" } }))
      local last = plan[#plan]
      assert.are.equal("image_version", last.kind)
      assert.are.equal("1.9.11", last.name)
      assert.matches("westeurope x1 Standard_LRS, northeurope x1 Standard_LRS", last.change, 1, true)
      local _, err = golden.plan(client, { vm_id = C.VM_ID, gallery_image_id = def("win") })
      assert.are.equal("gallery_image_id", err.target)
    end)
  end)

  describe("azrp golden-image", function()
    -- azrp(args...) -> exit code, stdout, stderr (bin/azrp on this Lua's interpreter)
    local function azrp(...)
      local r = azrp_cmd.run(em, { ... })
      return r.code, r.out, r.err
    end
    it("plans, refuses a bad config naming the field (exit 2), and publishes", function()
      local code, out, err = azrp("golden-image", "--vm", C.VM_ID, "--gallery-image", GALLERY .. "/images/app",
        "--target-regions", "northeurope", "--plan", "-o", "json")
      assert.are.equal(0, code, err)
      local plan = assert(json.decode(out), out)
      assert.are.equal("image_version", plan[#plan].kind)
      code, _, err = azrp("golden-image", "--vm", C.VM_ID, "--gallery-image", GALLERY .. "/images/app", "--version", "2")
      assert.are.equal(2, code)
      assert.matches("version", err, 1, true)
      code, _, err = azrp("golden-image", "--vm", C.VM_ID, "--gallery-image", GALLERY .. "/images/std")
      assert.are.equal(2, code)
      assert.matches("TrustedLaunch", err, 1, true)
      code, out, err = azrp("golden-image", "--vm", C.VM_ID, "--gallery-image", GALLERY .. "/images/app",
        "--version", "3.0.0", "-o", "json")
      assert.are.equal(0, code, err)
      local report = assert(json.decode(out), out)
      assert.are.equal(GALLERY .. "/images/app/versions/3.0.0", report.details.image)
      assert.are.equal("Succeeded", versions(client, "app")["3.0.0"])
    end)
  end)

  it("cleans up everything it made when replication fails mid-way", function()
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "failed@GalleryImageVersions_CreateOrUpdate=1x1" })))
    local before = versions(client, "app")
    local report, err, rep = golden.run(client, { vm_id = C.VM_ID, gallery_image_id = GALLERY .. "/images/app",
      target_regions = { "westeurope", "northeurope" }, keep_disks = true, keep_restore_point = true },
      { state_dir = state_dir(), time_scale = SCALE })
    C.admin(em, "POST", "/_emulator/faults", { spec = "" })
    assert.is_nil(report)
    assert.is_table(rep, tostring(err))
    assert.are.equal(1, rep.exit_code, json.encode(rep.error))
    assert.are.equal("publish", rep.failed_step)
    -- Kept by option, but the run failed: nothing of it is kept.
    for _, r in ipairs(rep.resources) do
      if r.kind ~= "collection" then assert.are.equal("deleted", r.state, r.kind .. " " .. tostring(r.id)) end
    end
    assert.are.same({}, of_run(client, rep.run_id))
    assert.are.same(before, versions(client, "app"))
    local stamp = rep.run_id:match("^golden%-(.+)$")
    for name in pairs(restore_points(client, "rpc-vm-app-01")) do assert.is_nil(name:find(stamp, 1, true), name) end
  end)
end)
