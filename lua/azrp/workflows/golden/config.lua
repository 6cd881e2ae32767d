--- azrp.workflows.golden.config: the golden image's settings, checked
-- before any request (each error names its field).
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local compat = require "azrp.workflows.golden.compat"

local M = {}

local config_error = workflow.config_error

M.KNOWN = { vm_id = "string", gallery_image_id = "string", image_id = "string", version = "string",
  target_regions = "table", replica_count = "number", storage_account_type = "string",
  consistency_mode = "string", data_disks = "boolean", os_state = "string", resource_group = "string",
  keep_disks = "boolean", keep_restore_point = "boolean", busy_timeout = "number" }

M.CONSISTENCY = { ApplicationConsistent = true, CrashConsistent = true, FileSystemConsistent = true }
M.STORAGE = { Standard_LRS = true, Standard_ZRS = true, Premium_LRS = true }
M.OS_STATE = { Generalized = true, Specialized = true }

local DEF_ID = "^/subscriptions/([^/]+)/resource[Gg]roups/([^/]+)/providers/Microsoft%.Compute/galleries/([^/]+)/images/([^/]+)$"
local IMAGE_ID = "^/subscriptions/([^/]+)/resource[Gg]roups/([^/]+)/providers/Microsoft%.Compute/images/([^/]+)$"

--- parse_vm_id(id) -> sub, rg, name
M.parse_vm_id = workflow.parse_vm_id
--- parse_definition_id(id) -> sub, rg, gallery, image
function M.parse_definition_id(id) return id:match(DEF_ID) end
--- parse_image_id(id) -> sub, rg, name
function M.parse_image_id(id) return id:match(IMAGE_ID) end

local function count_ok(n) return type(n) == "number" and n >= 1 and n <= 100 and n == math.floor(n) end

-- target_regions: names or { name, regional_replica_count,
-- storage_account_type } -> { { name, regional_replica_count,
-- storage_account_type } } with the defaults filled in.
local function regions(c)
  local out, seen = {}, {}
  local list = c.target_regions or {}
  if #list == 0 and next(list) ~= nil then return nil, config_error("target_regions", "must be a list") end
  for i, r in ipairs(list) do
    local f = string.format("target_regions[%d]", i)
    if type(r) == "string" then r = { name = r } end
    if type(r) ~= "table" then return nil, config_error(f, "must be a region name or { name = ..., regional_replica_count = ..., storage_account_type = ... }") end
    for k in pairs(r) do
      if k ~= "name" and k ~= "regional_replica_count" and k ~= "storage_account_type" then
        return nil, config_error(f .. "." .. tostring(k), "unknown setting (name, regional_replica_count, storage_account_type)")
      end
    end
    local name = type(r.name) == "string" and azrp.location(r.name)
    if not name then return nil, config_error(f .. ".name", "%q is not a region name", tostring(r.name)) end
    if seen[name] then return nil, config_error(f .. ".name", "region %s is listed twice", name) end
    seen[name] = true
    local n = r.regional_replica_count or c.replica_count or 1
    if not count_ok(n) then return nil, config_error(f .. ".regional_replica_count", "must be a whole number from 1 to 100") end
    local st = r.storage_account_type or c.storage_account_type or "Standard_LRS"
    if not M.STORAGE[st] then
      return nil, config_error(f .. ".storage_account_type", "%q is not Standard_LRS, Standard_ZRS or Premium_LRS", tostring(st))
    end
    out[#out + 1] = { name = name, regional_replica_count = math.floor(n), storage_account_type = st }
  end
  return out
end

--- check(config) -> config (a copy, defaults filled in) | nil, err
function M.check(config)
  local ok, kerr = workflow.check_settings(config, M.KNOWN)
  if not ok then return nil, kerr end
  if not config.vm_id or config.vm_id == "" then return nil, config_error("vm_id", "is required") end
  if not M.parse_vm_id(config.vm_id) then
    return nil, config_error("vm_id", "%q is not a virtual machine id (/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME)", config.vm_id)
  end
  local c = {}
  for k, v in pairs(config) do c[k] = v end
  if c.gallery_image_id and c.image_id then
    return nil, config_error("image_id", "give gallery_image_id (a gallery image version) or image_id (a managed image), not both")
  end
  if not c.gallery_image_id and not c.image_id then
    return nil, config_error("gallery_image_id", "is required (or image_id, for a managed image)")
  end
  if c.gallery_image_id and not M.parse_definition_id(c.gallery_image_id) then
    return nil, config_error("gallery_image_id", "%q is not an image definition id (.../providers/Microsoft.Compute/galleries/G/images/NAME)", c.gallery_image_id)
  end
  if c.image_id and not M.parse_image_id(c.image_id) then
    return nil, config_error("image_id", "%q is not a managed image id (.../providers/Microsoft.Compute/images/NAME)", c.image_id)
  end
  if c.image_id then
    for _, k in ipairs({ "version", "target_regions", "replica_count", "storage_account_type" }) do
      if c[k] ~= nil then return nil, config_error(k, "applies to a gallery image version, not to a managed image") end
    end
  end
  if c.version and not compat.version(c.version) then
    return nil, config_error("version", "%q is not Major.Minor.Patch (e.g. 1.0.0)", c.version)
  end
  if c.replica_count and not count_ok(c.replica_count) then
    return nil, config_error("replica_count", "must be a whole number from 1 to 100")
  end
  if c.storage_account_type and not M.STORAGE[c.storage_account_type] then
    return nil, config_error("storage_account_type", "%q is not Standard_LRS, Standard_ZRS or Premium_LRS", c.storage_account_type)
  end
  c.consistency_mode = c.consistency_mode or "ApplicationConsistent"
  if not M.CONSISTENCY[c.consistency_mode] then
    return nil, config_error("consistency_mode", "must be \"ApplicationConsistent\" or \"CrashConsistent\", not %q", c.consistency_mode)
  end
  c.os_state = c.os_state or "Specialized"
  if not M.OS_STATE[c.os_state] then
    return nil, config_error("os_state", "must be \"Generalized\" or \"Specialized\", not %q", c.os_state)
  end
  if c.resource_group and not c.resource_group:match("^[%w%-_%.%(%)]+$") then
    return nil, config_error("resource_group", "%q is not a resource group name", c.resource_group)
  end
  if c.busy_timeout and not (c.busy_timeout > 0) then return nil, config_error("busy_timeout", "must be a positive number of seconds") end
  if c.gallery_image_id then
    local list, rerr = regions(c)
    if not list then return nil, rerr end
    c.target_regions = list
  end
  return c
end

return M
