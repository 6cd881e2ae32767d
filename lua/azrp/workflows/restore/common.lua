--- azrp.workflows.restore.common: what every part of a VM restore shares:
-- its errors, VM ids, case-insensitive id comparison, a VM's power state,
-- and the name suffix of each restored disk.
local azrp = require "azrp"

local M = {}

M.PREMIUM = { Premium_LRS = true, Premium_ZRS = true, PremiumV2_LRS = true, UltraSSD_LRS = true }
M.ZRS = { Premium_ZRS = true, StandardSSD_ZRS = true }
-- Every managed disk SKU Azure has, and those it takes for data disks only.
M.SKU_LIST = "Standard_LRS, StandardSSD_LRS, StandardSSD_ZRS, Premium_LRS, Premium_ZRS, PremiumV2_LRS, UltraSSD_LRS"
M.SKUS = {}
for name in M.SKU_LIST:gmatch("[%w_]+") do M.SKUS[name] = true end
M.DATA_ONLY = { UltraSSD_LRS = true, PremiumV2_LRS = true }

--- preflight_error(field, fmt, ...) -> a mismatch found before anything is
-- created: kind "invalid" (exit 2), naming the field.
function M.preflight_error(field, fmt, ...)
  return azrp.error{ kind = "invalid", code = "PreflightFailed", target = field,
    message = field .. ": " .. string.format(fmt, ...), retryable = false }
end

--- restore_error(code, fmt, ...) -> a restore that went wrong on the way.
function M.restore_error(code, fmt, ...)
  return azrp.error{ kind = "restore", code = code, message = string.format(fmt, ...), retryable = false }
end

--- parse_vm_id(id) -> subscription, resource group, name (nil if not a VM id).
M.parse_vm_id = require("azrp.workflow").parse_vm_id

M.round = require("azrp.workflow.run").round

--- same(a, b): two ARM ids (or names) equal as Azure compares them.
function M.same(a, b) return type(a) == "string" and type(b) == "string" and a:lower() == b:lower() end

--- power_state(vm) -> "running", "deallocated", ... from its instance view.
function M.power_state(vm)
  local iv = vm.properties and vm.properties.instanceView
  for _, s in ipairs(iv and iv.statuses or {}) do
    if type(s.code) == "string" and s.code:match("^PowerState/") then return s.code:sub(12) end
  end
end

--- suffix(d) -> the name suffix of a restored disk: "os" or "lun<N>".
M.suffix = require("azrp.workflow.disks").suffix

return M
