-- Which resource a token request names, and whether it is ARM: the token
-- endpoints, IMDS and ARM's own token check share these rules.
local settings = require "azrp.emulator.identity.settings"
local lower = require("azrp.emulator.identity.common").lower

local M = {}

-- ARM answers to tokens for either of its two resource names, with or
-- without the trailing slash (the list is the one its 401 message quotes).
local ARM_AUDIENCES = {
  ["https://management.core.windows.net/"] = true,
  ["https://management.core.windows.net"] = true,
  ["https://management.azure.com/"] = true,
  ["https://management.azure.com"] = true,
}

function M.is_arm_audience(aud) return ARM_AUDIENCES[aud] == true end

local function with_slash(s) return s:sub(-1) == "/" and s or s .. "/" end

-- The audience to put in a token for a requested resource, or nil when it
-- is not ARM.  The emulator's own URL stands for ARM too.
function M.arm_audience(resource, base_url)
  local r = lower(with_slash(resource))
  if ARM_AUDIENCES[r] then
    return r == "https://management.core.windows.net/" and r or settings.ARM_RESOURCE
  end
  if base_url and r == lower(with_slash(base_url)) then return settings.ARM_RESOURCE end
  return nil
end

-- "resource/.default" -> the resource with a trailing slash.  Azure CLI
-- sends "https://management.core.windows.net//.default" (resource + "/.default").
function M.of_scope(scope)
  local res = scope:match("^(.-)/%.default$")
  if not res or res == "" then return nil end
  if res:sub(-1) ~= "/" then res = res .. "/" end
  return res
end

return M
