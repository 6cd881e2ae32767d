--- A service principal with a client secret (OAuth 2.0 client credentials).
local entra = require "azrp.credentials.entra"

local M = {}

local function need(opts, k, who)
  if type(opts[k]) ~= "string" or opts[k] == "" then error(who .. ": option '" .. k .. "' is required", 3) end
  return opts[k]
end

--- A service principal credential with a client secret.
-- @tparam table opts tenant_id, client_id, client_secret (required), authority_host, allow_http
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  local who = "credentials.client_secret"
  if type(opts) ~= "table" then error(who .. ": options table expected", 2) end
  local tenant, client_id = need(opts, "tenant_id", who), need(opts, "client_id", who)
  local secret = need(opts, "client_secret", who)
  local url = entra.token_url(entra.authority(opts.authority_host, who, opts.allow_http, 2), tenant)
  local cache = entra.cache()
  return setmetatable({ kind = "client_secret", tenant_id = tenant, client_id = client_id }, {
    __index = {
      get_token = function(_, scope, http, opts)
        local t, e = cache.get(scope, opts)
        if t then return t, e end
        return entra.request(http, url, client_id, { { "client_secret", secret } }, scope, who, cache)
      end,
    },
    __tostring = function() return "azrp credential (client secret, client " .. client_id .. ")" end,
  })
end

return M
