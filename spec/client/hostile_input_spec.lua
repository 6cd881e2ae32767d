-- Hostile and mistaken input, as an attacker or a new user writes it:
-- every case gets a clear error naming the field, raised at the caller's
-- line for a programmer's mistake (wrong type, unknown name) or returned
-- as nil, err for a value Azure would take for something else or refuse,
-- and the emulator's counters prove that no request was sent for any.
local C = require "support.client"
local azrp = require "azrp"

local RG, SUB = C.RG, C.SUB
local VM_ID = C.VM_ID
local CP = "/subscriptions/" .. SUB .. "/resourceGroups/" .. RG .. "/providers/Microsoft.Compute"

-- One operation per placeholder, with valid values for the others.
local BY_FIELD = {
  resource_group_name = { "VirtualMachines_Get", { vm_name = "vm-app-01" } },
  vm_name = { "VirtualMachines_Get", { resource_group_name = RG } },
  disk_name = { "Disks_Delete", { resource_group_name = RG } },
  snapshot_name = { "Snapshots_Get", { resource_group_name = RG } },
  restore_point_collection_name = { "RestorePointCollections_Get", { resource_group_name = RG } },
  restore_point_name = { "RestorePoints_Get", { resource_group_name = RG, restore_point_collection_name = "rpc" } },
  disk_restore_point_name = { "DiskRestorePoint_Get", { resource_group_name = RG,
    restore_point_collection_name = "rpc", restore_point_name = "rp" } },
  gallery_name = { "Galleries_Get", { resource_group_name = RG } },
  gallery_image_version_name = { "GalleryImageVersions_Get", { resource_group_name = RG, gallery_name = "gal",
    gallery_image_name = "img" } },
  subscription_id = { "ResourceGroups_List", {} },
}

-- Values no Azure name takes (or that would name another resource).
local BAD_NAMES = {
  { "slash", "a/b" }, { "query", "a?b" }, { "fragment", "a#b" }, { "dot-dot", ".." },
  { "encoded slash", "a%2Fb" }, { "NUL", "a\0b", "NUL" }, { "NUL then path", "vm-app-01\0/../../disks/x", "NUL" },
  { "newline", "a\nb" }, { "CRLF header injection", "a\r\nX-Injected: 1" }, { "tab", "a\tb" },
  { "empty", "" }, { "over-long", string.rep("a", 300) }, { "unicode", "d\195\173sk" }, { "space", "a b" },
  { "backslash", "a\\b" },
}

local cases = {}
local function add(c) cases[#cases + 1] = c end

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

for field, spec in pairs(BY_FIELD) do
  for _, bad in ipairs(BAD_NAMES) do
    add{ name = field .. ": " .. bad[1], op = spec[1], params = with(spec[2], { [field] = bad[2] }),
      invalid = field, says = bad[3] }
  end
  -- wrong types are a programmer's mistake: raised, naming the field
  for _, v in ipairs{ 42, true, {}, print } do
    add{ name = field .. ": a " .. type(v), op = spec[1], params = with(spec[2], { [field] = v }),
      raises = "parameter '" .. field .. "' must be a string" }
  end
end

-- ids
local ID_CASES = {
  { "a table", {}, raises = "parameter 'id' must be a string, not table" },
  { "a boolean", true, raises = "parameter 'id' must be a string, not boolean" },
  { "a number", 5, raises = "parameter 'id' must be a string, not number" },
  { "with a NUL", VM_ID .. "\0/../disks/x", invalid = "id", says = "NUL" },
  { "not starting with /", "subscriptions/" .. SUB, invalid = "id" },
  { "of another type", CP .. "/disks/scratch", invalid = "id", says = "segment 'disks'" },
  { "too long", VM_ID .. "/extensions/x/y/z", invalid = "id", says = "more segments" },
  { "with ..", CP .. "/virtualMachines/..", invalid = "vm_name" },
  { "with %2F", CP .. "/virtualMachines/a%2Fb", invalid = "vm_name" },
  { "with ?", CP .. "/virtualMachines/a?b", invalid = "vm_name" },
  { "with #", CP .. "/virtualMachines/a#b", invalid = "vm_name" },
  { "with an empty segment", "/subscriptions/" .. SUB .. "/resourceGroups//providers/Microsoft.Compute/virtualMachines/v",
    invalid = "resource_group_name" },
  { "with a bad subscription", "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/v",
    invalid = "subscription_id" },
  { "over-long", "/" .. string.rep("a", 3000), invalid = "id" },
}
for _, c in ipairs(ID_CASES) do
  add{ name = "id " .. c[1], op = "VirtualMachines_Get", params = { id = c[2] }, raises = c.raises,
    invalid = c.invalid, says = c.says }
end

-- conflicts between an id and a name
add{ name = "id names vm-app-01, vm_name vm-sql-01", op = "VirtualMachines_Get",
  params = { id = VM_ID, vm_name = "vm-sql-01" }, invalid = "vm_name", says = "conflicts with id" }
add{ name = "id names rg-prod, resource_group_name rg-dr", op = "VirtualMachines_Get",
  params = { id = VM_ID, resource_group_name = "rg-dr" }, invalid = "resource_group_name", says = "conflicts with id" }
add{ name = "id names one subscription, subscription_id another", op = "VirtualMachines_Get",
  params = { id = VM_ID, subscription_id = "00000000-0000-4000-8000-000000000009" }, invalid = "subscription_id",
  says = "conflicts with id" }

-- unknown parameters, with suggestions
local UNKNOWN = {
  { "vmName", "VirtualMachines_Get", "did you mean 'vm_name'" },
  { "resourceGroupName", "VirtualMachines_Get", "did you mean 'resource_group_name'" },
  { "diskName", "Disks_Delete", "did you mean 'disk_name'" },
  { "vm_nmae", "VirtualMachines_Get", "did you mean 'vm_name'" },
  { "api-version", "VirtualMachines_Get", "did you mean 'api_version'" },
  { "wait_replication", "Disks_Get", "unknown parameter 'wait_replication'" },
  { "wait_replication", "RestorePoints_Get", "unknown parameter 'wait_replication'" },
  { "expand", "Disks_Get", "unknown parameter 'expand'" },
  { "$expand", "VirtualMachines_Get", "did you mean 'expand'" },
  { "force_deletion", "Disks_Delete", "unknown parameter 'force_deletion'" },
  { "nope", "VirtualMachines_Get", "unknown parameter 'nope'" },
  { "body", "VirtualMachines_Get", "takes no body" },
}
for _, u in ipairs(UNKNOWN) do
  local base = with(BY_FIELD.vm_name[2], { vm_name = "vm-app-01", disk_name = "d" })
  if u[2] == "Disks_Get" or u[2] == "Disks_Delete" then base = { resource_group_name = RG, disk_name = "d" } end
  if u[2] == "RestorePoints_Get" then base = with(BY_FIELD.restore_point_name[2], { restore_point_name = "rp" }) end
  if u[2] == "VirtualMachines_Get" then base = { resource_group_name = RG, vm_name = "vm-app-01" } end
  add{ name = "unknown " .. u[1] .. " on " .. u[2], op = u[2], params = with(base, { [u[1]] = u[1] == "body" and {} or "x" }),
    raises = u[3] }
end
add{ name = "a parameter name that is not a string", op = "VirtualMachines_Get",
  params = { resource_group_name = RG, vm_name = "v", [1] = "x" }, raises = "parameter names must be strings" }
add{ name = "a parameter name with a NUL", op = "VirtualMachines_Get",
  params = { resource_group_name = RG, vm_name = "v", ["vm_name\0x"] = "x" }, raises = "NUL" }

-- query values
local VMGET = { resource_group_name = RG, vm_name = "vm-app-01" }
add{ name = "expand a number", op = "VirtualMachines_Get", params = with(VMGET, { expand = 5 }),
  raises = "parameter 'expand' must be a string" }
add{ name = "expand a table", op = "VirtualMachines_Get", params = with(VMGET, { expand = {} }),
  raises = "parameter 'expand' must be a string" }
add{ name = "expand with a NUL", op = "VirtualMachines_Get", params = with(VMGET, { expand = "instanceView\0&x=1" }),
  invalid = "expand" }
add{ name = "force_deletion a table", op = "VirtualMachines_Delete",
  params = with(VMGET, { force_deletion = {} }), raises = "parameter 'force_deletion' must be a string" }

-- api-versions
for _, a in ipairs{ { "older than 2021-03-01", "2020-12-01" }, { "not a date", "latest" },
  { "short", "2021-3-1" }, { "empty", "" }, { "with a NUL", "2025-11-01\0junk", says = "NUL" },
  { "with a query", "2025-11-01&x=1" }, { "a preview typo", "2025-11-01-previwe" } } do
  add{ name = "api_version " .. a[1], op = "VirtualMachines_Get", params = with(VMGET, { api_version = a[2] }),
    invalid = "api_version", says = a.says }
end
add{ name = "api_version a number", op = "VirtualMachines_Get", params = with(VMGET, { api_version = 20251101 }),
  raises = "parameter 'api_version' must be a string" }

-- bodies and options
local RPC = { resource_group_name = RG, restore_point_collection_name = "rpc" }
local cyclic = { location = "eastus", tags = {} }   -- tags: a free-form map, not checked by key
cyclic.tags.self = cyclic.tags
for _, b in ipairs{
  { "a number", 5, raises = "body must be a table or a JSON string, not number" },
  { "a boolean", true, raises = "body must be a table or a JSON string, not boolean" },
  { "a function", print, raises = "body must be a table or a JSON string, not function" },
  { "cyclic", cyclic, raises = "body cannot be encoded as JSON" },
  { "with a table key", { location = "eastus", [{}] = 1 }, invalid = "body" },
  { "with a table key in tags", { location = "eastus", tags = { [{}] = 1 } }, invalid = "body.tags" },
  { "with location = 5", { location = 5 }, invalid = "body.location" },
  { "with location missing", { properties = {} }, invalid = "body.location" },
} do
  add{ name = "body " .. b[1], op = "RestorePointCollections_CreateOrUpdate", params = with(RPC, { body = b[2] }),
    raises = b.raises, invalid = b.invalid }
end
local RP = { resource_group_name = RG, restore_point_collection_name = "rpc", restore_point_name = "rp" }
add{ name = "nested junk: excludeDisks of strings", op = "RestorePoints_Create",
  params = with(RP, { body = { properties = { excludeDisks = { "x" } } } }), invalid = "body.properties.excludeDisks[1]" }
add{ name = "nested junk: sourceRestorePoint.id a table", op = "RestorePoints_Create",
  params = with(RP, { body = { properties = { sourceRestorePoint = { id = {} } } } }),
  invalid = "body.properties.sourceRestorePoint.id" }
add{ name = "nested junk: consistencyMode unknown", op = "RestorePoints_Create",
  params = with(RP, { body = { properties = { consistencyMode = "Consistent" } } }),
  invalid = "body.properties.consistencyMode" }
-- typos the schema (from Microsoft's specs) catches, with a suggestion
add{ name = "body key typo sourceRestorPoint (would make an ordinary restore point, not a copy)",
  op = "RestorePoints_Create", params = with(RP, { body = { properties = { sourceRestorPoint = { id = VM_ID } } } }),
  invalid = "body.properties.sourceRestorPoint", says = "did you mean 'sourceRestorePoint'" }
add{ name = "body key in the wrong case", op = "RestorePoints_Create",
  params = with(RP, { body = { properties = { ExcludeDisks = {} } } }), invalid = "body.properties.ExcludeDisks",
  says = "did you mean 'excludeDisks'" }
add{ name = "body key typo at the top", op = "Disks_CreateOrUpdate", params = { resource_group_name = RG,
  disk_name = "d", body = { location = "eastus", locaton = "x", properties = { creationData = { createOption = "Empty" } } } },
  invalid = "body.locaton", says = "did you mean 'location'" }
add{ name = "body.properties a string", op = "RestorePoints_Create", params = with(RP, { body = { properties = "x" } }),
  invalid = "body.properties" }
add{ name = "expand typo instanceVeiw", op = "VirtualMachines_Get", params = with(VMGET, { expand = "instanceVeiw" }),
  invalid = "expand", says = "did you mean 'instanceView'" }
add{ name = "expand typo on a restore point", op = "RestorePoints_Get",
  params = with(RP, { expand = "instanceveiw" }), invalid = "expand", says = "instanceView" }
add{ name = "wait_replication a string", op = "RestorePoints_Create",
  params = with(RP, { body = { properties = {} }, wait_replication = "yes" }),
  raises = "parameter 'wait_replication' must be a boolean" }
add{ name = "body missing", op = "RestorePoints_Create", params = RP, raises = "missing parameter 'body'" }
for _, t in ipairs{ { "negative", -1 }, { "zero", 0 }, { "a string", "5" }, { "NaN", 0 / 0 } } do
  add{ name = "timeout " .. t[1], op = "VirtualMachines_Get", params = with(VMGET, { timeout = t[2] }),
    raises = "parameter 'timeout' must be a positive number" }
end
add{ name = "missing name", op = "VirtualMachines_Get", params = { resource_group_name = RG },
  raises = "missing parameter 'vm_name'" }
add{ name = "params a string", op = "VirtualMachines_Get", params = "vm-app-01", raises = "parameters must be a table" }
add{ name = "operation id with a NUL", op = "VirtualMachines_Get\0x", params = VMGET, raises = "unknown operation" }
add{ name = "operation id unknown", op = "VirtualMachines_Frob", params = VMGET, raises = "unknown operation" }

describe("hostile input", function()
  local em, client
  setup(function()
    em = C.start()
    client = C.client(em)
  end)
  teardown(function()
    if client then client:close() end
    if em then em:stop() end
  end)

  local function arm_requests()
    local n = 0
    for op, count in pairs(C.counters(em).operations or {}) do
      if not op:match("^Admin_") then n = n + count end
    end
    return n
  end

  it("has at least 150 cases", function()
    assert.is_true(#cases >= 150, "only " .. #cases .. " cases")
  end)

  it("refuses every case with an error naming the field, and sends nothing", function()
    C.admin(em, "POST", "/_emulator/counters/reset")
    local failures = {}
    for _, c in ipairs(cases) do
      local ok, op, err = pcall(function()
        local o, e = client:begin(c.op, c.params)   -- this line is the caller's line
        return o, e
      end)
      local problem
      if c.raises then
        if ok then problem = "did not raise (returned " .. tostring(op) .. ", " .. tostring(err) .. ")"
        elseif not tostring(op):find(c.raises, 1, true) then problem = "raised " .. tostring(op)
        elseif not tostring(op):find("hostile_input_spec.lua:", 1, true) then
          problem = "raised without the caller's line: " .. tostring(op)
        end
      else
        if not ok then problem = "raised " .. tostring(op)
        elseif op ~= nil then problem = "was accepted"; op:cancel()
        elseif type(err) ~= "table" or err.kind ~= "invalid" then problem = "returned " .. tostring(err)
        elseif err.target ~= c.invalid then problem = "named " .. tostring(err.target) .. ": " .. tostring(err.message)
        elseif not tostring(err.message):find(c.invalid:match("[^.]+$"), 1, true) then
          problem = "message does not name the field: " .. tostring(err.message)
        elseif c.says and not tostring(err.message):find(c.says, 1, true) then
          problem = "message lacks '" .. c.says .. "': " .. tostring(err.message)
        end
      end
      if problem then failures[#failures + 1] = c.name .. ": " .. problem end
    end
    assert.are.same({}, failures)
    assert.are.equal(0, client:stats().requests)
    assert.are.equal(0, arm_requests())
  end)

  it("a NUL in disk_name does not delete the disk before it (scratch\\0-other-disk)", function()
    local disk = { resource_group_name = RG, disk_name = "scratch" }
    assert(client:call("Disks_CreateOrUpdate", with(disk, { body = { location = "eastus",
      sku = { name = "Standard_LRS" }, properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } } })))
    local v, err = client:call("Disks_Delete", { resource_group_name = RG, disk_name = "scratch\0-other-disk" })
    assert.is_nil(v)
    assert.are.equal("disk_name", err.target)
    assert(client:call("Disks_Get", disk), "the disk scratch was deleted")
    local vm
    vm, err = client:call("VirtualMachines_Get", { resource_group_name = RG, vm_name = "vm-app-01\0/../../disks/x" })
    assert.is_nil(vm)
    assert.are.equal("vm_name", err.target)
    assert(client:call("Disks_Delete", disk))
  end)

  it("the core itself refuses NUL bytes in every string it takes", function()
    local core = client.core
    local _, err = core:begin("Disks_Delete", { resource_group_name = RG, disk_name = "scratch\0x" })
    assert.are.equal("disk_name", err.target)
    assert.has_error(function() core:set_token("tok\0en") end)
    assert.has_error(function() core:request{ url = "https://127.0.0.1/\0x" } end)
    assert.has_error(function() core:request{ url = "https://127.0.0.1/", method = "GET\0" } end)
    assert.has_error(function() core:request{ url = "https://127.0.0.1/", headers = { ["X-A"] = "v\r\nX-B: 1" } } end)
    assert.has_error(function() core:request{ url = "https://127.0.0.1/", headers = { ["X-A\0"] = "v" } } end)
    assert.has_error(function() azrp.client{ endpoint = "https://127.0.0.1\0.evil" } end)
    assert.has_error(function() azrp.client{ endpoint = "https://127.0.0.1", user_agent = "a\0b" } end)
  end)
end)
