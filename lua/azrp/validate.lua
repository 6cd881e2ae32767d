--- Requests checked before anything is sent: the body's keys against the
-- generated azrp.schema (a misspelt key is an error, not a silently ignored
-- field), $expand against the values Azure accepts, and the fields Azure
-- requires and the enums it accepts; the error's target names the field.
local core = require "azrp.core"
local schema = require "azrp.schema"

local M = {}

-- " (did you mean 'x'?)" or "": the core's did-you-mean, the same one that
-- names a mistyped parameter.
local function hint(word, candidates)
  local c = core.suggest(word, candidates)
  return c and string.format(" (did you mean '%s'?)", c) or ""
end

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

-- Body keys against a schema tree (see azrp.schema): walk(node, value,
-- path) -> nil | message, target.
local ARRAY, OPEN = "[]", "*"
local walk

local function known_keys(node)
  local out = {}
  for k in pairs(node) do
    if k ~= ARRAY and k ~= OPEN then out[#out + 1] = k end
  end
  return out
end

local function walk_array(item, v, path)
  for k in pairs(v) do
    if type(k) ~= "number" then return path .. " must be an array", path end
  end
  for i, x in ipairs(v) do
    local msg, target = walk(item, x, path .. "[" .. i .. "]")
    if msg then return msg, target end
  end
end

local function walk_object(node, v, path)
  local keys = {}
  for k in pairs(v) do
    if type(k) ~= "string" then return path .. " must be an object", path end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local sub = node[k]
    if sub == nil and not node[OPEN] then
      return string.format("unknown key '%s' in %s%s", k, path, hint(k, known_keys(node))), path .. "." .. k
    end
    local msg, target = walk(sub or true, v[k], path .. "." .. k)
    if msg then return msg, target end
  end
end

function walk(node, v, path)
  if node == true then return nil end
  local what = node[ARRAY] and "an array" or "an object"
  if type(v) == "table" then
    if node[ARRAY] then return walk_array(node[ARRAY], v, path) end
    return walk_object(node, v, path)
  elseif type(v) ~= "userdata" then   -- cjson.null and cjson.empty_array pass
    return string.format("%s must be %s, not a %s", path, what, type(v)), path
  end
end

-- params.expand: each comma-separated value one of the allowed, ignoring
-- case as ARM does.  ("$expand" is refused by the core as an unknown name.)
local function check_expand(id, params)
  local allowed = schema[id] and schema[id].expand
  if not allowed then return true end
  do
    local v = params.expand
    if type(v) == "string" then
      for item in v:gmatch("[^,]+") do
        item = item:match("^%s*(.-)%s*$")
        if not enum(item, allowed) then
          return fail(id, "expand", string.format("expand '%s' is not one of %s%s", item,
            table.concat(allowed, ", "), hint(item, allowed)))
        end
      end
    end
  end
  return true
end

local function check_body(id, body)
  local tree = schema[id] and schema[id].body
  if not tree then return true end
  local msg, target = walk(tree, body, "body")
  if msg then return fail(id, target, msg) end
  return true
end

--- check(id, params) -> true | nil, err
function M.check(id, params)
  if type(params) ~= "table" then return true end
  local ok, err = check_expand(id, params)
  if not ok then return nil, err end
  local body = params.body
  if type(body) ~= "table" then return true end
  ok, err = check_body(id, body)
  if not ok then return nil, err end
  local rules = RULES[id] or {}
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
