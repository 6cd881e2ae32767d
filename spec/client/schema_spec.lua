-- Request bodies and $expand values checked against azrp.schema (generated
-- from Microsoft's specs by tools/gen_schema.py) before anything is sent:
-- a misspelt key is an error naming its path with a suggestion, and the
-- emulator's counters show that no request went out.  Valid bodies, a
-- GET body sent back, and free-form maps still pass.
local C = require "support.client"
local azrp = require "azrp"
local validate = require "azrp.validate"
local schema = require "azrp.schema"
local core = require "azrp.core"

local RPC = "rpc-schema"

local function rp(name, props)
  return { resource_group_name = C.RG, restore_point_collection_name = RPC, restore_point_name = name,
    body = { properties = props } }
end

-- The operations the emulator counted, but for its own admin API.
local function sent(em)
  local n, ops = 0, {}
  for op, count in pairs(C.counters(em).operations or {}) do
    if not op:match("^Admin_") then
      n = n + count
      ops[#ops + 1] = op
    end
  end
  return n, table.concat(ops, ", ")
end

local function refused(err, target, message)
  assert.is_true(azrp.is_error(err), tostring(err))
  assert.are.equal("invalid", err.kind)
  assert.are.equal("InvalidParameter", err.code)
  assert.are.equal(target, err.target)
  if message then assert.matches(message, err.message, 1, true) end
end

describe("the generated schema", function()
  it("covers the restore point, disk, VM and image writes and the $expand of the Gets", function()
    for _, id in ipairs{ "RestorePointCollections_CreateOrUpdate", "RestorePointCollections_Update",
      "RestorePoints_Create", "Disks_CreateOrUpdate", "Disks_Update", "Snapshots_CreateOrUpdate",
      "DiskRestorePoint_GrantAccess", "Disks_GrantAccess", "Snapshots_GrantAccess",
      "VirtualMachines_CreateOrUpdate", "VirtualMachines_AttachDetachDataDisks", "Images_CreateOrUpdate",
      "VirtualMachines_Update", "Galleries_CreateOrUpdate", "GalleryImages_CreateOrUpdate",
      "GalleryImageVersions_CreateOrUpdate", "ResourceGroups_CreateOrUpdate", "VirtualNetworks_CreateOrUpdate",
      "Subnets_CreateOrUpdate", "NetworkInterfaces_CreateOrUpdate", "NetworkSecurityGroups_CreateOrUpdate" } do
      assert.is_table(schema[id] and schema[id].body, id)
    end
    assert.are.same({ "instanceView" }, schema.RestorePoints_Get.expand)
    assert.are.same({ "restorePoints" }, schema.RestorePointCollections_Get.expand)
    assert.are.same({ "ReplicationStatus", "UefiSettings" }, schema.GalleryImageVersions_Get.expand)
    -- ComputeRP declares Images_Get's $expand a free string, with no values to check against
    assert.is_nil(schema.Images_Get)
    -- the gallery, network and resource group trees are the specs' whole types: closed
    assert.is_nil(schema.Galleries_CreateOrUpdate.body["*"])
    assert.is_nil(schema.GalleryImageVersions_CreateOrUpdate.body.properties["*"])
    assert.is_nil(schema.VirtualNetworks_CreateOrUpdate.body.properties["*"])
    -- every entry names a registry operation
    local known = {}
    for _, d in ipairs(azrp.operations()) do known[d.id] = true end
    for id in pairs(schema) do assert.is_true(known[id], id) end
  end)

  it("holds each repeated subtree once, shared by every place it occurs", function()
    -- the same table, not a copy
    assert.are.equal(schema.Disks_CreateOrUpdate.body.sku, schema.Disks_Update.body.sku)
    assert.are.equal(schema.VirtualMachines_CreateOrUpdate.body.properties, schema.VirtualMachines_Update.body.properties)
    assert.are.equal(schema.DiskRestorePoint_GrantAccess.body, schema.Snapshots_GrantAccess.body)
    assert.are.equal(schema.VirtualNetworks_CreateOrUpdate.body.properties.subnets["[]"],
      schema.Subnets_CreateOrUpdate.body)
    -- and no two distinct tables anywhere with the same shape
    local seen, count = {}, 0
    local function shape(node)
      if node == true then return "T" end
      local keys = {}
      for k in pairs(node) do keys[#keys + 1] = k end
      table.sort(keys)
      local parts = {}
      for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. shape(node[k]) end
      local c = "{" .. table.concat(parts, ",") .. "}"
      -- one-line shapes ({ ["[]"] = true }, { ["*"] = true }) are written out where they occur
      local multi = false
      for _, k in ipairs(keys) do
        if (k ~= "*" and k ~= "[]") or (k == "[]" and node[k] ~= true) then multi = true end
      end
      if multi then
        if seen[c] == nil then seen[c] = node; count = count + 1
        else assert.are.equal(seen[c], node, "a repeated subtree that is not shared: " .. c:sub(1, 200)) end
      end
      return c
    end
    for _, entry in pairs(schema) do
      if entry.body then shape(entry.body) end
    end
    assert.is_true(count > 100)
    -- the file says so: locals, each used from more than one place
    local f = assert(io.open("lua/azrp/schema.lua"))
    local text = f:read("*a")
    f:close()
    local n = 0
    for name in text:gmatch("\nlocal ([%w_]+) = ") do
      n = n + 1
      local uses = select(2, text:gsub("= " .. name .. "[,\n ]", ""))
      assert.is_true(uses >= 2, name .. " is used " .. uses .. " time(s)")
    end
    assert.is_true(n >= 20, n .. " shared subtrees")
  end)

  it("suggests by case or by up to two edits, never a far word (core.suggest, one for every caller)", function()
    assert.are.equal("sourceRestorePoint", core.suggest("sourceRestorPoint", { "excludeDisks", "sourceRestorePoint" }))
    assert.are.equal("sourceRestorePoint", core.suggest("SourceRestorePoint", { "sourceRestorePoint" }))
    assert.are.equal("location", core.suggest("loaction", { "location", "tags" }))   -- a transposition is one edit
    assert.are.equal("tags", core.suggest("tgas", { "location", "tags" }))
    assert.are.equal("ab", core.suggest("ba", { "ab" }))
    assert.is_nil(core.suggest("zzz", { "location", "tags" }))
    assert.is_nil(core.suggest("ab", { "id" }))                -- two edits on a short word: too far
    assert.is_nil(core.suggest("kitten", { "sitting" }))        -- three edits
    assert.are.equal("vm_name", core.suggest("vm_nmae", { "vm_name", "vmname2" }))
    -- a case-only difference beats a closer-looking word; ties go to byte order, not the table's
    assert.are.equal("Tags", core.suggest("tags", { "tag", "Tags" }))
    assert.are.equal("abcd", core.suggest("abce", { "abcf", "abcd" }))
    assert.are.equal("abcd", core.suggest("abce", { "abcd", "abcf" }))
    -- no candidates, a NUL in the word or a candidate, a word too long to compare
    assert.is_nil(core.suggest("tags", {}))
    assert.is_nil(core.suggest("tags\0", { "tags" }))
    assert.are.equal("tags", core.suggest("tagz", { "tag\0s", "tags" }))
    assert.is_nil(core.suggest(("a"):rep(200), { ("a"):rep(199) }))
    -- programmer mistakes raise
    assert.has_error(function() core.suggest("x", { 1 }) end)
    assert.has_error(function() core.suggest("x") end)
    assert.has_error(function() core.suggest(nil, {}) end)
    assert.is_nil(package.searchpath("azrp.suggest", package.path), "one did-you-mean, in the core")
  end)

end)

describe("bodies and $expand checked before sending", function()
  local em, client

  setup(function()
    em = C.start("--time-scale 0.01")
    client = C.client(em)
    local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
      restore_point_collection_name = RPC, body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } })
    assert.is_table(coll, tostring(err))
  end)
  teardown(function()
    if client then client:close() end
    if em then em.stop() end
  end)

  before_each(function()
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/counters/reset")))
  end)

  it("refuses a misspelt key at any depth with the path and a suggestion, sending nothing", function()
    local op, err = client:begin("RestorePoints_Create", rp("rp-typo", { sourceRestorPoint = { id = "x" } }))
    assert.is_nil(op)
    refused(err, "body.properties.sourceRestorPoint",
      "unknown key 'sourceRestorPoint' in body.properties (did you mean 'sourceRestorePoint'?)")
    assert.are.equal("RestorePoints_Create", err.operation)
    assert.matches("field body.properties.sourceRestorPoint", tostring(err), 1, true)

    op, err = client:restore_points_create(rp("rp-typo", { SourceRestorePoint = { id = "x" } }))
    assert.is_nil(op)
    refused(err, "body.properties.SourceRestorePoint", "(did you mean 'sourceRestorePoint'?)")

    -- in an array's items, and deep in a disk
    op, err = client:begin("RestorePoints_Create", rp("rp-typo", { excludeDisks = { { id = "/subscriptions/x" },
      { ids = "/subscriptions/y" } } }))
    refused(err, "body.properties.excludeDisks[2].ids", "unknown key 'ids' in body.properties.excludeDisks[2]")
    op, err = client:begin("Disks_CreateOrUpdate", { resource_group_name = C.RG, disk_name = "d-typo",
      body = { location = "westeurope", properties = { creationData = { createOption = "Copy", sourceResourceID = "x" } } } })
    refused(err, "body.properties.creationData.sourceResourceID", "(did you mean 'sourceResourceId'?)")
    -- at the top, and with no near name: no suggestion
    op, err = client:begin("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
      restore_point_collection_name = "rpc-typo", body = { locaton = "westeurope" } })
    refused(err, "body.locaton", "unknown key 'locaton' in body (did you mean 'location'?)")
    op, err = client:begin("VirtualMachines_AttachDetachDataDisks", { resource_group_name = C.RG, vm_name = "vm-app-01",
      body = { somethingElse = true } })
    refused(err, "body.somethingElse")
    assert.is_nil(err.message:find("did you mean", 1, true))

    local n, ops = sent(em)
    assert.are.equal(0, n, "requests sent: " .. ops)
  end)

  it("gives parameter names and body keys the same suggestion", function()
    local c = client
    -- a parameter name (src/request.c) ...
    local ok, msg = pcall(c.begin, c, "Disks_Get", { resource_group_name = C.RG, disk_name = "d", dsik_name = "x" })
    assert.is_false(ok)
    assert.matches("unknown parameter 'dsik_name' (did you mean 'disk_name'?)", msg, 1, true)
    ok, msg = pcall(c.begin, c, "Disks_Get", { resource_group_name = C.RG, disk_name = "d", DISK_NAME = "x" })
    assert.matches("unknown parameter 'DISK_NAME' (did you mean 'disk_name'?)", msg, 1, true)
    ok, msg = pcall(c.begin, c, "Disks_Get", { resource_group_name = C.RG, disk_name = "d", diskNmae = "x" })
    assert.matches("unknown parameter 'diskNmae' (did you mean 'disk_name'?)", msg, 1, true)
    ok, msg = pcall(c.begin, c, "Disks_Get", { resource_group_name = C.RG, disk_name = "d", ib = "x" })
    assert.matches("unknown parameter 'ib' (did you mean 'id'?)", msg, 1, true)
    ok, msg = pcall(c.begin, c, "Disks_Get", { resource_group_name = C.RG, disk_name = "d", xy = "x" })
    assert.matches("unknown parameter 'xy'$", msg)
    -- ... and a body key (lua/azrp/validate.lua) agree with core.suggest
    local vok, err = validate.check("Disks_CreateOrUpdate", { body = { locaiton = "x" } })
    assert.is_nil(vok)
    assert.matches("(did you mean 'location'?)", err.message, 1, true)
    assert.are.equal("location", core.suggest("locaiton", { "location", "tags", "sku" }))
    assert.are.equal(0, (sent(em)))
  end)

  it("refuses misspelt keys in gallery, network, resource group and VM update bodies, sending nothing", function()
    local LOC = "westeurope"
    local cases = {
      { "Galleries_CreateOrUpdate", { gallery_name = "g1", body = { location = LOC,
        properties = { descripton = "x" } } }, "body.properties.descripton", "description" },
      { "Galleries_CreateOrUpdate", { gallery_name = "g1", body = { location = LOC,
        properties = { softDeletePolicy = { isSoftDeleteEnable = true } } } },
        "body.properties.softDeletePolicy.isSoftDeleteEnable", "isSoftDeleteEnabled" },
      { "GalleryImages_CreateOrUpdate", { gallery_name = "g1", gallery_image_name = "i1", body = { location = LOC,
        properties = { osType = "Linux", osState = "Generalized",
          identifier = { publsher = "p", offer = "o", sku = "s" } } } },
        "body.properties.identifier.publsher", "publisher" },
      { "GalleryImageVersions_CreateOrUpdate", { gallery_name = "g1", gallery_image_name = "i1",
        gallery_image_version_name = "1.0.0", body = { location = LOC, properties = {
          publishingProfile = { targetRegions = { { name = LOC, regionalReplicaCont = 1 } } },
          storageProfile = { osDiskImage = { source = { id = "/subscriptions/x" } } } } } },
        "body.properties.publishingProfile.targetRegions[1].regionalReplicaCont", "regionalReplicaCount" },
      { "GalleryImageVersions_CreateOrUpdate", { gallery_name = "g1", gallery_image_name = "i1",
        gallery_image_version_name = "1.0.0", body = { location = LOC, properties = {
          storageProfile = { osDiskImage = { sorce = { id = "/subscriptions/x" } } } } } },
        "body.properties.storageProfile.osDiskImage.sorce", "source" },
      { "ResourceGroups_CreateOrUpdate", { resource_group_name = "rg-typo", body = { location = LOC, tag = {} } },
        "body.tag", "tags" },
      { "ResourceGroups_CreateOrUpdate", { resource_group_name = "rg-typo", body = { location = LOC, managedby = "x" } },
        "body.managedby", "managedBy" },
      { "VirtualNetworks_CreateOrUpdate", { virtual_network_name = "v1", body = { location = LOC,
        properties = { adressSpace = { addressPrefixes = { "10.0.0.0/16" } } } } },
        "body.properties.adressSpace", "addressSpace" },
      { "VirtualNetworks_CreateOrUpdate", { virtual_network_name = "v1", body = { location = LOC, properties = {
        addressSpace = { addressPrefixes = { "10.0.0.0/16" } },
        subnets = { { name = "s", properties = { adressPrefix = "10.0.1.0/24" } } } } } },
        "body.properties.subnets[1].properties.adressPrefix", "addressPrefix" },
      { "Subnets_CreateOrUpdate", { virtual_network_name = "v1", subnet_name = "s", body = { properties = {
        addressPrefix = "10.0.1.0/24", networkSecurityGroups = { id = "/subscriptions/x" } } } },
        "body.properties.networkSecurityGroups", "networkSecurityGroup" },
      { "NetworkInterfaces_CreateOrUpdate", { network_interface_name = "n1", body = { location = LOC, properties = {
        ipConfigurations = { { name = "ip", properties = { privateIpAddress = "10.0.1.4" } } } } } },
        "body.properties.ipConfigurations[1].properties.privateIpAddress", "privateIPAddress" },
      { "NetworkSecurityGroups_CreateOrUpdate", { network_security_group_name = "n1", body = { location = LOC,
        properties = { securityRules = { { name = "ssh", properties = { protocol = "Tcp", access = "Allow",
          priority = 100, direction = "Inbound", destinationPortRnage = "22" } } } } } },
        "body.properties.securityRules[1].properties.destinationPortRnage", "destinationPortRange" },
      { "VirtualMachines_Update", { vm_name = "vm-app-01", body = { properties = {
        hardwareProfile = { vmSzie = "Standard_D4s_v5" } } } },
        "body.properties.hardwareProfile.vmSzie", "vmSize" },
      -- VirtualMachineUpdate has no location: a VM never moves
      { "VirtualMachines_Update", { vm_name = "vm-app-01", body = { location = LOC, tags = {} } },
        "body.location" },
    }
    for _, c in ipairs(cases) do
      local params = c[2]
      if not params.resource_group_name then params.resource_group_name = C.RG end
      local op, err = client:begin(c[1], params)
      assert.is_nil(op, c[1])
      refused(err, c[3], c[4] and string.format("(did you mean '%s'?)", c[4]) or "unknown key")
      assert.are.equal(c[1], err.operation)
      if not c[4] then assert.is_nil(err.message:find("did you mean", 1, true)) end
    end
    local n, ops = sent(em)
    assert.are.equal(0, n, "requests sent: " .. ops)
  end)

  it("sends the correctly spelt network, gallery and resource group bodies, and takes their GET bodies back", function()
    local LOC = "westeurope"
    local function put_get(put, get, params, body)
      local p = {}
      for k, v in pairs(params) do p[k] = v end
      p.body = body
      local made, err = client:call(put, p, { timeout = 120 })
      assert.is_table(made, put .. ": " .. tostring(err))
      local got, gerr = client:call(get, params)
      assert.is_table(got, get .. ": " .. tostring(gerr))
      local ok, verr = validate.check(put, { body = got })
      assert.is_true(ok, put .. " with the GET body: " .. tostring(verr))
      return got
    end
    put_get("ResourceGroups_CreateOrUpdate", "ResourceGroups_Get", { resource_group_name = "rg-schema" },
      { location = LOC, tags = { purpose = "schema" } })
    local rg = { resource_group_name = "rg-schema" }
    local function in_rg(t) for k, v in pairs(rg) do t[k] = v end return t end
    local nsg = put_get("NetworkSecurityGroups_CreateOrUpdate", "NetworkSecurityGroups_Get",
      in_rg{ network_security_group_name = "nsg-schema" }, { location = LOC, properties = { securityRules = {
        { name = "ssh", properties = { protocol = "Tcp", access = "Allow", priority = 100, direction = "Inbound",
          sourceAddressPrefix = "*", sourcePortRange = "*", destinationAddressPrefix = "*",
          destinationPortRange = "22" } } } } })
    put_get("VirtualNetworks_CreateOrUpdate", "VirtualNetworks_Get", in_rg{ virtual_network_name = "vnet-schema" },
      { location = LOC, properties = { addressSpace = { addressPrefixes = { "10.40.0.0/16" } },
        subnets = { { name = "a", properties = { addressPrefix = "10.40.1.0/24" } } } } })
    local subnet = put_get("Subnets_CreateOrUpdate", "Subnets_Get",
      in_rg{ virtual_network_name = "vnet-schema", subnet_name = "b" },
      { properties = { addressPrefix = "10.40.2.0/24", networkSecurityGroup = { id = nsg.id } } })
    put_get("NetworkInterfaces_CreateOrUpdate", "NetworkInterfaces_Get", in_rg{ network_interface_name = "nic-schema" },
      { location = LOC, properties = { networkSecurityGroup = { id = nsg.id },
        ipConfigurations = { { name = "ipconfig1", properties = { subnet = { id = subnet.id },
          privateIPAllocationMethod = "Dynamic" } } } } })
    put_get("Galleries_CreateOrUpdate", "Galleries_Get", in_rg{ gallery_name = "gal_schema" },
      { location = LOC, properties = { description = "schema spec" } })
    put_get("GalleryImages_CreateOrUpdate", "GalleryImages_Get",
      in_rg{ gallery_name = "gal_schema", gallery_image_name = "linux" },
      { location = LOC, properties = { osType = "Linux", osState = "Generalized", hyperVGeneration = "V2",
        identifier = { publisher = "contoso", offer = "schema", sku = "spec" } } })
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local snap = assert(client:call("Snapshots_CreateOrUpdate", in_rg{ snapshot_name = "snap-schema", body = {
      location = vm.location, properties = { creationData = { createOption = "Copy",
        sourceResourceId = vm.properties.storageProfile.osDisk.managedDisk.id } } } }, { timeout = 120 }))
    local ver = in_rg{ gallery_name = "gal_schema", gallery_image_name = "linux", gallery_image_version_name = "1.0.0" }
    put_get("GalleryImageVersions_CreateOrUpdate", "GalleryImageVersions_Get", ver,
      { location = LOC, properties = { publishingProfile = { targetRegions = { { name = LOC, regionalReplicaCount = 1,
        storageAccountType = "Standard_LRS" } } }, storageProfile = { osDiskImage = { source = { id = snap.id },
        hostCaching = "ReadOnly" } }, safetyProfile = { allowDeletionOfReplicatedLocations = true } } })
    -- and the VM's own GET body, as a PATCH: only the keys VirtualMachineUpdate takes
    local upd = assert(client:call("VirtualMachines_Update", { id = C.VM_ID, body = { tags = vm.tags,
      properties = { hardwareProfile = vm.properties.hardwareProfile } } }))
    assert.are.equal(vm.properties.hardwareProfile.vmSize, upd.properties.hardwareProfile.vmSize)
  end)

  it("checks GalleryImageVersions_Get's expand against the spec's values, ignoring case", function()
    local ver = { resource_group_name = "rg-schema", gallery_name = "gal_schema", gallery_image_name = "linux",
      gallery_image_version_name = "1.0.0" }
    local function with(v) local p = { expand = v } for k, x in pairs(ver) do p[k] = x end return p end
    local op, err = client:begin("GalleryImageVersions_Get", with("ReplicatonStatus"))
    assert.is_nil(op)
    refused(err, "expand", "expand 'ReplicatonStatus' is not one of ReplicationStatus, UefiSettings " ..
      "(did you mean 'ReplicationStatus'?)")
    op, err = client:begin("GalleryImageVersions_Get", with("instanceView"))
    refused(err, "expand", "not one of ReplicationStatus, UefiSettings")
    assert.are.equal(0, (sent(em)))
    local got, gerr = client:call("GalleryImageVersions_Get", with("replicationstatus"))
    assert.is_table(got, tostring(gerr))
    assert.is_table(got.properties.replicationStatus)
  end)

  it("refuses a known container of the wrong type, naming its path", function()
    local op, err = client:begin("RestorePoints_Create", rp("rp-type", {}))
    assert.is_userdata(op, tostring(err))   -- an empty properties object is fine ...
    local made, merr = op:wait()
    assert.is_table(made, tostring(merr))
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/counters/reset")))
    local params = rp("rp-type2", nil)
    params.body.properties = "x"          -- ... a string where an object goes is not
    op, err = client:begin("RestorePoints_Create", params)
    assert.is_nil(op)
    refused(err, "body.properties", "body.properties must be an object")
    op, err = client:begin("RestorePoints_Create", rp("rp-type2", { excludeDisks = { id = "/subscriptions/x" } }))
    refused(err, "body.properties.excludeDisks", "must be an array")
    op, err = client:begin("RestorePoints_Create", rp("rp-type2", { sourceRestorePoint = "/subscriptions/x" }))
    refused(err, "body.properties.sourceRestorePoint", "must be an object")
    op, err = client:begin("RestorePoints_Create", rp("rp-type2", { { id = "x" } }))
    refused(err, "body.properties", "must be an object")
    assert.are.equal(0, (sent(em)))
  end)

  it("refuses an unknown expand with a suggestion, ignoring case otherwise; \"$expand\" is not a parameter name", function()
    local base = { resource_group_name = C.RG, restore_point_collection_name = RPC, restore_point_name = "rp-type" }
    local function with(k, v)
      local p = {}
      for key, val in pairs(base) do p[key] = val end
      p[k] = v
      return p
    end
    local op, err = client:begin("RestorePoints_Get", with("expand", "instanceVeiw"))
    assert.is_nil(op)
    refused(err, "expand", "expand 'instanceVeiw' is not one of instanceView (did you mean 'instanceView'?)")
    assert.has_error(function() client:begin("RestorePoints_Get", with("$expand", "instanceView")) end,
      "RestorePoints_Get: unknown parameter '$expand' (did you mean 'expand'?)")
    op, err = client:begin("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01", expand = "userdta" })
    refused(err, "expand", "(did you mean 'userData'?)")
    op, err = client:begin("RestorePointCollections_Get", { resource_group_name = C.RG,
      restore_point_collection_name = RPC, expand = "instanceView" })
    refused(err, "expand", "not one of restorePoints")
    assert.are.equal(0, (sent(em)))

    local got, gerr = client:call("RestorePoints_Get", with("expand", "INSTANCEVIEW"))
    assert.is_table(got, tostring(gerr))
    assert.is_table(got.properties.instanceView)
  end)

  it("sends the correctly spelt copy, and a GET body back with its read-only keys", function()
    local src = assert(client:call("RestorePoints_Get", { resource_group_name = C.RG,
      restore_point_collection_name = RPC, restore_point_name = "rp-type" }))
    local target, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-dr",
      restore_point_collection_name = "rpc-schema-dst", body = { location = "northeurope",
        properties = { source = { id = src.id:match("^(.*)/restorePoints/") } } } })
    assert.is_table(target, tostring(err))
    -- the collection's GET body, tags and all, sent back as is
    target.tags = { ["any key"] = "free-form", ["x.y"] = "z" }
    local again, aerr = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-dr",
      restore_point_collection_name = "rpc-schema-dst", body = target })
    assert.is_table(again, tostring(aerr))
    assert.are.equal("free-form", again.tags["any key"])

    local copy, cerr = client:call("RestorePoints_Create", { resource_group_name = "rg-dr",
      restore_point_collection_name = "rpc-schema-dst", restore_point_name = "rp-copy",
      body = { properties = { sourceRestorePoint = { id = src.id } } } }, { timeout = 120 })
    assert.is_table(copy, tostring(cerr))
    assert.are.equal(src.id:lower(), copy.properties.sourceRestorePoint.id:lower())
  end)

  it("accepts GET bodies (with instance views) as PUT bodies", function()
    local function round_trip(get, put, params)
      local got, err = client:call(get, params)
      assert.is_table(got, tostring(err))
      local ok, verr = validate.check(put, { body = got })
      assert.is_true(ok, put .. ": " .. tostring(verr))
      return got
    end
    local vm = round_trip("VirtualMachines_Get", "VirtualMachines_CreateOrUpdate", { id = C.VM_ID, expand = "instanceView" })
    round_trip("Disks_Get", "Disks_CreateOrUpdate", { id = vm.properties.storageProfile.osDisk.managedDisk.id })
    local rp_id = "/subscriptions/" .. C.SUB .. "/resourceGroups/" .. C.RG ..
      "/providers/Microsoft.Compute/restorePointCollections/" .. RPC .. "/restorePoints/rp-type"
    round_trip("RestorePoints_Get", "RestorePoints_Create", { id = rp_id, expand = "instanceView" })
    round_trip("RestorePointCollections_Get", "RestorePointCollections_CreateOrUpdate",
      { id = rp_id:match("^(.*)/restorePoints/"), expand = "restorePoints" })
  end)

  it("leaves what the specs do not describe unchecked", function()
    assert.is_true(validate.check("Images_Get", { expand = "anything" }))
    -- a reference to another resource: its id is what ARM reads, the rest is not checked
    assert.is_true(validate.check("NetworkInterfaces_CreateOrUpdate", { body = { location = "x", properties = {
      ipConfigurations = { { name = "ip", properties = { subnet = { id = "/subscriptions/s", etag = "e", x = 1 } } } } } } }))
    -- free-form maps take any key
    assert.is_true(validate.check("ResourceGroups_CreateOrUpdate", { body = { location = "x", tags = { ["a b"] = "c" } } }))
    -- open objects take any key, their known keys are still checked
    local vm = { location = "x", properties = { hardwareProfile = { vmSize = "Standard_D2s_v5" },
      osProfile = { linuxConfiguration = { disablePasswordAuthentication = true } }, futureProperty = 1,
      storageProfile = { osDisk = { createOption = "Attach", osType = "Linux", managedDisk = { id = "d" } } } } }
    assert.is_true(validate.check("VirtualMachines_CreateOrUpdate", { body = vm }))
    vm.properties.storageProfile.osDisk.creatOption = "Attach"
    local ok, err = validate.check("VirtualMachines_CreateOrUpdate", { body = vm })
    assert.is_nil(ok)
    refused(err, "body.properties.storageProfile.osDisk.creatOption", "(did you mean 'createOption'?)")
  end)
end)
