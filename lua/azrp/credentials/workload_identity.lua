--- Workload identity federation (AKS and others): the platform writes a
-- token to a file (rotated, so it is read at every request) that Entra ID
-- exchanges for an access token.
local entra = require "azrp.credentials.entra"

local M = {}

--- A workload identity federation credential.
-- @tparam table opts tenant_id, client_id, token_file (default: the AZURE_* variables), authority_host, allow_http
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  local who = "credentials.workload_identity"
  opts = opts or {}
  local tenant = opts.tenant_id or os.getenv("AZURE_TENANT_ID")
  local client_id = opts.client_id or os.getenv("AZURE_CLIENT_ID")
  local file = opts.token_file or os.getenv("AZURE_FEDERATED_TOKEN_FILE")
  if not (tenant and client_id and file) then
    error(who .. ": tenant_id, client_id and token_file (or AZURE_TENANT_ID, AZURE_CLIENT_ID, " ..
      "AZURE_FEDERATED_TOKEN_FILE) are required", 2)
  end
  local url = entra.token_url(entra.authority(opts.authority_host, who, opts.allow_http, 2), tenant)
  local cache = entra.cache()
  return setmetatable({ kind = "workload_identity", tenant_id = tenant, client_id = client_id }, {
    __index = {
      get_token = function(_, scope, http, opts)
        local t, e = cache.get(scope, opts)
        if t then return t, e end
        local f, ferr = io.open(file, "rb")
        if not f then return nil, entra.error("CredentialUnavailable", who .. ": cannot read the token file: " .. tostring(ferr)) end
        local assertion = (f:read("*a") or ""):gsub("%s+$", "")
        f:close()
        if assertion == "" then return nil, entra.error("CredentialUnavailable", who .. ": the token file is empty") end
        return entra.request(http, url, client_id, entra.assertion(assertion), scope, who, cache)
      end,
    },
    __tostring = function() return "azrp credential (workload identity, client " .. client_id .. ")" end,
  })
end

return M
