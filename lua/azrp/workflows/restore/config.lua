--- azrp.workflows.restore.config: a restore's settings, every one checked
-- before any request.
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local common = require "azrp.workflows.restore.common"

local M = {}

local config_error = workflow.config_error
local parse_vm_id = common.parse_vm_id

local RP_ID = "^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft%.Compute/restorePointCollections/[^/]+/restorePoints/[^/]+$"
local SUBNET_ID = "^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft%.Network/virtualNetworks/[^/]+/subnets/[^/]+$"
local DES_ID = "^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft%.Compute/diskEncryptionSets/[^/]+$"

local KNOWN = { vm_id = "string", mode = "string", restore_point_id = "string", restore_point = "string",
  location = "string", resource_group = "string", vm_name = "string", subnet_id = "string", zone = "string",
  vm_size = "string", disk_encryption_set_id = "string", disk_sku = "string", disk_skus = "table", delete_originals = "boolean",
  start = "boolean", timeout = "number" }

local NEW_ONLY = { "resource_group", "vm_name", "subnet_id", "zone", "vm_size" }

-- disk_skus = { os = SKU, lun0 = SKU, ... }: the SKU of each disk named,
-- whatever the restore point records (and for a disk whose SKU it does
-- not record).  Keys are the restored disks' name suffixes.
local function check_disk_skus(skus)
  local entries = {}
  for k, v in pairs(skus) do entries[#entries + 1] = { k = k, v = v } end
  table.sort(entries, function(a, b) return tostring(a.k) < tostring(b.k) end)
  for _, e in ipairs(entries) do
    local k, v = e.k, e.v
    local field = "disk_skus." .. tostring(k)
    local n = type(k) == "string" and k:match("^lun(%d+)$")
    if type(k) ~= "string" or not (k == "os" or (n and tostring(tonumber(n)) == n)) then
      return nil, config_error(field, "names no disk: the keys are \"os\" and \"lun<N>\" (the data disk at LUN N)")
    end
    if type(v) ~= "string" or not common.SKUS[v] then
      return nil, config_error(field, "%s is not a disk SKU (%s)", type(v) == "string" and string.format("%q", v) or type(v),
        common.SKU_LIST)
    end
    if k == "os" and common.DATA_ONLY[v] then
      return nil, config_error(field, "%s can only be used with data disks, not for the OS disk", v)
    end
  end
  return true
end

--- check(config) -> config | nil, err: every field, before any request.
function M.check(config)
  local known, kerr = workflow.check_settings(config, KNOWN)
  if not known then return nil, kerr end
  if not config.vm_id or config.vm_id == "" then return nil, config_error("vm_id", "is required") end
  if not parse_vm_id(config.vm_id) then
    return nil, config_error("vm_id", "%q is not a virtual machine id (/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME)", config.vm_id)
  end
  local c = {}
  for k, v in pairs(config) do c[k] = v end
  c.mode = c.mode or "new"
  if c.mode ~= "new" and c.mode ~= "in_place" then
    return nil, config_error("mode", "must be \"new\" or \"in_place\", not %q", c.mode)
  end
  if c.restore_point_id and c.restore_point then
    return nil, config_error("restore_point", "give restore_point (a name) or restore_point_id, not both")
  end
  if c.restore_point_id and not c.restore_point_id:match(RP_ID) then
    return nil, config_error("restore_point_id", "%q is not a restore point id (.../restorePointCollections/C/restorePoints/NAME)", c.restore_point_id)
  end
  if c.location then
    c.location = azrp.location(c.location)
    if not c.location then return nil, config_error("location", "is not a region name") end
  end
  if c.mode == "new" then
    if not c.subnet_id then return nil, config_error("subnet_id", "is required for a new VM (the subnet its NIC goes in)") end
    if not c.subnet_id:match(SUBNET_ID) then
      return nil, config_error("subnet_id", "%q is not a subnet id (.../virtualNetworks/V/subnets/S)", c.subnet_id)
    end
    if c.delete_originals then return nil, config_error("delete_originals", "applies to an in-place restore only") end
    if c.start ~= nil then return nil, config_error("start", "applies to an in-place restore only (a new VM starts)") end
  else
    for _, k in ipairs(NEW_ONLY) do
      if c[k] ~= nil then return nil, config_error(k, "applies to a new VM only, not to an in-place restore") end
    end
  end
  if c.resource_group and not c.resource_group:match("^[%w%-_%.%(%)]+$") then
    return nil, config_error("resource_group", "%q is not a resource group name", c.resource_group)
  end
  if c.vm_name and not c.vm_name:match("^[%w][%w%-_%.]*$") then
    return nil, config_error("vm_name", "%q is not a VM name", c.vm_name)
  end
  if c.zone and not c.zone:match("^[123]$") then return nil, config_error("zone", "must be \"1\", \"2\" or \"3\"") end
  if c.disk_sku and not common.SKUS[c.disk_sku] then
    return nil, config_error("disk_sku", "%q is not a disk SKU (%s)", c.disk_sku, common.SKU_LIST)
  end
  if c.disk_skus then
    local ok, err = check_disk_skus(c.disk_skus)
    if not ok then return nil, err end
  end
  if c.disk_encryption_set_id and not c.disk_encryption_set_id:match(DES_ID) then
    return nil, config_error("disk_encryption_set_id", "%q is not a disk encryption set id (.../diskEncryptionSets/NAME)",
      c.disk_encryption_set_id)
  end
  if c.timeout and not (c.timeout > 0) then return nil, config_error("timeout", "must be a positive number of seconds") end
  return c
end

--- base_name(config) -> the stem of the run's resource names: the VM's name.
M.base_name = workflow.vm_base_name

--- target(config) -> what the report names as the run's target.
function M.target(config)
  return { vm_id = config.vm_id, mode = config.mode, restore_point_id = config.restore_point_id,
    restore_point = config.restore_point, location = config.location }
end

return M
