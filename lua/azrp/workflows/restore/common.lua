--- azrp.workflows.restore.common: what every part of a VM restore shares:
-- its errors, VM ids, case-insensitive id comparison, a VM's power state,
-- and the name suffix of each restored disk.
local azrp = require "azrp"

local M = {}

M.PREMIUM = { Premium_LRS = true, Premium_ZRS = true, PremiumV2_LRS = true, UltraSSD_LRS = true }
M.ZRS = { Premium_ZRS = true, StandardSSD_ZRS = true }

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
function M.parse_vm_id(id)
  return id:match("^/subscriptions/([^/]+)/resource[Gg]roups/([^/]+)/providers/Microsoft%.Compute/virtualMachines/([^/]+)$")
end

function M.round(x) return math.floor(x * 1000 + 0.5) / 1000 end

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
function M.suffix(d) return d.lun and string.format("lun%d", d.lun) or "os" end

return M
