--- Request bodies checked before anything is sent: the fields Azure
-- requires and the enums it accepts, named in the error's target.
local core = require "azrp.core"

local M = {}

local function fail(id, target, message)
  return nil, core.error{ kind = "invalid", code = "InvalidParameter", operation = id,
    target = target, message = message, retryable = false }
end

local function get(t, path)
  local v = t
  for part in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

local function enum(v, allowed)
  if type(v) ~= "string" then return false end
  for _, a in ipairs(allowed) do if a:lower() == v:lower() then return true end end
  return false
end

-- Each rule: { path, "required"|"string"|"integer"|"array"|enum list }.
local RULES = {
  RestorePointCollections_CreateOrUpdate = {
    { "location", "required" }, { "location", "string" },
  },
  RestorePoints_Create = {
    { "properties.consistencyMode", { "CrashConsistent", "FileSystemConsistent", "ApplicationConsistent" } },
    { "properties.excludeDisks", "array_of_ids" },
    { "properties.sourceRestorePoint.id", "string" },
    { "properties.instantAccessDurationMinutes", "integer" },
  },
  Disks_CreateOrUpdate = {
    { "location", "required" },
    { "properties.creationData.createOption", "required" },
    { "properties.creationData.createOption", { "Empty", "Attach", "FromImage", "Import", "Copy", "Restore",
      "Upload", "CopyStart", "ImportSecure", "UploadPreparedSecure", "CopyFromSanSnapshot" } },
    { "sku.name", { "Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS",
      "StandardSSD_ZRS", "PremiumV2_LRS" } },
    { "properties.diskSizeGB", "integer" },
  },
  Snapshots_CreateOrUpdate = {
    { "location", "required" },
    { "properties.creationData.createOption", "required" },
  },
  VirtualMachines_CreateOrUpdate = {
    { "location", "required" },
    { "properties.hardwareProfile.vmSize", "required" },
    { "properties.storageProfile.osDisk.createOption", "required" },
  },
  Images_CreateOrUpdate = { { "location", "required" } },
  ResourceGroups_CreateOrUpdate = { { "location", "required" } },
}

local GRANT = {
  { "access", "required" }, { "access", { "None", "Read", "Write" } },
  { "durationInSeconds", "required" }, { "durationInSeconds", "integer" },
}
RULES.DiskRestorePoint_GrantAccess = GRANT
RULES.Disks_GrantAccess = GRANT
RULES.Snapshots_GrantAccess = GRANT

--- check(id, params) -> true | nil, err
function M.check(id, params)
  local rules = RULES[id]
  if not rules or type(params) ~= "table" or type(params.body) ~= "table" then return true end
  local body = params.body
  for _, r in ipairs(rules) do
    local path, rule = r[1], r[2]
    local v = get(body, path)
    local field = "body." .. path
    if rule == "required" then
      if v == nil then return fail(id, field, field .. " is required") end
    elseif v ~= nil then
      if rule == "string" and type(v) ~= "string" then
        return fail(id, field, field .. " must be a string")
      elseif rule == "integer" and (type(v) ~= "number" or v ~= math.floor(v)) then
        return fail(id, field, field .. " must be an integer")
      elseif rule == "array_of_ids" then
        if type(v) ~= "table" then return fail(id, field, field .. " must be an array of { id = <ARM id> }") end
        for i, ref in ipairs(v) do
          if type(ref) ~= "table" or type(ref.id) ~= "string" or not ref.id:match("^/subscriptions/") then
            return fail(id, field .. "[" .. i .. "].id", field .. "[" .. i .. "].id must be an ARM resource id")
          end
        end
      elseif type(rule) == "table" and not enum(v, rule) then
        return fail(id, field, string.format("%s '%s' is not one of %s", field, tostring(v), table.concat(rule, ", ")))
      end
    end
  end
  return true
end

return M
