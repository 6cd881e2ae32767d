--- The default chain, in the order of the Azure SDKs' DefaultAzureCredential:
-- environment (secret or certificate), workload identity, managed identity,
-- Azure CLI.  Reads the environment when made; fetches nothing until a
-- token is needed.
local M = {}

--- The default credential chain.
-- @tparam[opt] table opts env, exclude_cli, exclude_managed_identity, imds_endpoint, managed_identity_timeout, authority_host, allow_http
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  opts = opts or {}
  local env = opts.env or os.getenv
  local list = {}
  local e = require("azrp.credentials.environment").new{ env = env, authority_host = opts.authority_host, allow_http = opts.allow_http }
  if e then list[#list + 1] = e end
  if env("AZURE_FEDERATED_TOKEN_FILE") and env("AZURE_TENANT_ID") and env("AZURE_CLIENT_ID") then
    list[#list + 1] = require("azrp.credentials.workload_identity").new{ tenant_id = env("AZURE_TENANT_ID"),
      client_id = env("AZURE_CLIENT_ID"), token_file = env("AZURE_FEDERATED_TOKEN_FILE"),
      authority_host = opts.authority_host, allow_http = opts.allow_http }
  end
  if not opts.exclude_managed_identity then
    list[#list + 1] = require("azrp.credentials.managed_identity").new{ client_id = env("AZURE_CLIENT_ID"),
      endpoint = opts.imds_endpoint, timeout = opts.managed_identity_timeout or 1 }
  end
  if not opts.exclude_cli then
    list[#list + 1] = require("azrp.credentials.azure_cli").new{}
  end
  return require("azrp.credentials.chain").new(list)
end

return M
