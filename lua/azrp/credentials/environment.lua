--- The service principal the standard AZURE_* environment variables
-- describe: AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET,
-- or with AZURE_CLIENT_CERTIFICATE_PATH (and _PASSWORD).  Returns nil and
-- a reason when they do not describe one.
local M = {}

--- The service principal credential the AZURE_* environment variables describe.
-- @tparam[opt] table opts env (a table in place of os.getenv), authority_host, allow_http
-- @return a credential (get_token(scope, http [, opts]))
-- @return or nil and the reason when the variables describe none
function M.new(opts)
  opts = opts or {}
  local env = opts.env or os.getenv
  local tenant, client_id = env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID")
  if not (tenant and client_id) then return nil, "AZURE_TENANT_ID and AZURE_CLIENT_ID are not set" end
  local authority = opts.authority_host or env("AZURE_AUTHORITY_HOST")
  local secret = env("AZURE_CLIENT_SECRET")
  if secret then
    return require("azrp.credentials.client_secret").new{ tenant_id = tenant, client_id = client_id,
      client_secret = secret, authority_host = authority, allow_http = opts.allow_http }
  end
  local cert = env("AZURE_CLIENT_CERTIFICATE_PATH")
  if cert then
    return require("azrp.credentials.client_certificate").new{ tenant_id = tenant, client_id = client_id,
      certificate_path = cert, password = env("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
      authority_host = authority, allow_http = opts.allow_http }
  end
  return nil, "neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is set"
end

return M
