--- The Azure CLI's signed-in account: `az account get-access-token`.
-- It runs a process, so it blocks while az runs (about a second): use it
-- for scripts on a developer's machine, not inside an event loop.
local json = require "cjson.safe"
local entra = require "azrp.credentials.entra"

local M = {}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- A credential from the Azure CLI's signed-in account.
-- @tparam[opt] table opts command (the az command), tenant_id
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  opts = opts or {}
  local az = opts.command or "az"
  local tenant = opts.tenant_id
  return setmetatable({ kind = "azure_cli" }, {
    __index = {
      get_token = function(_, scope)
        local cmd = string.format("%s account get-access-token --output json --resource %s%s 2>/dev/null",
          az, shell_quote(entra.resource(scope)), tenant and (" --tenant " .. shell_quote(tenant)) or "")
        local p = io.popen(cmd)
        if not p then return nil, entra.error("CredentialUnavailable", "credentials.azure_cli: cannot run az") end
        local out = p:read("*a") or ""
        p:close()
        local v = json.decode(out)
        if type(v) ~= "table" or type(v.accessToken) ~= "string" then
          return nil, entra.error("CredentialUnavailable",
            "credentials.azure_cli: 'az account get-access-token' gave no token (run 'az login')")
        end
        local exp = tonumber(v.expires_on)
        if not exp then exp = require("azrp.core").wall() + 3000 end
        return v.accessToken, exp
      end,
    },
    __tostring = function() return "azrp credential (Azure CLI)" end,
  })
end

return M
