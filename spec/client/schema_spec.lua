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
      "VirtualMachines_CreateOrUpdate", "VirtualMachines_AttachDetachDataDisks", "Images_CreateOrUpdate" } do
      assert.is_table(schema[id] and schema[id].body, id)
    end
    assert.are.same({ "instanceView" }, schema.RestorePoints_Get.expand)
    assert.are.same({ "restorePoints" }, schema.RestorePointCollections_Get.expand)
    -- every entry names a registry operation
    local known = {}
    for _, d in ipairs(azrp.operations()) do known[d.id] = true end
    for id in pairs(schema) do assert.is_true(known[id], id) end
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

  it("leaves operations the specs do not describe unchecked", function()
    assert.is_nil(schema.ResourceGroups_CreateOrUpdate)
    assert.is_true(validate.check("ResourceGroups_CreateOrUpdate", { body = { location = "x", anything = { 1 } } }))
    assert.is_true(validate.check("GalleryImageVersions_Get", { expand = "ReplicationStatus" }))
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
