--- Managed identity: Azure's instance metadata service (IMDS) on a VM, or
-- the App Service / Functions identity endpoint.  Nothing is probed until
-- a token is asked for, and then with a short timeout, so a script off
-- Azure fails fast instead of hanging.
local entra = require "azrp.credentials.entra"

local M = {}

M.IMDS = "http://169.254.169.254"

local function q(k, v) return k .. "=" .. entra.urlencode(v) end

--- A managed identity credential.
-- @tparam[opt] table opts client_id, object_id or resource_id (a user-assigned identity), endpoint, identity_endpoint, identity_header, timeout
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  local who = "credentials.managed_identity"
  opts = opts or {}
  -- A user-assigned identity is chosen by one of three ids, which IMDS and
  -- App Service (2019-08-01) name differently.
  local imds_q, app_q
  if opts.client_id then imds_q, app_q = q("client_id", opts.client_id), q("client_id", opts.client_id)
  elseif opts.object_id then imds_q, app_q = q("object_id", opts.object_id), q("principal_id", opts.object_id)
  elseif opts.resource_id then imds_q, app_q = q("msi_res_id", opts.resource_id), q("mi_res_id", opts.resource_id) end
  local app_endpoint = opts.identity_endpoint or os.getenv("IDENTITY_ENDPOINT")
  local app_header = opts.identity_header or os.getenv("IDENTITY_HEADER")
  local imds = (opts.endpoint or os.getenv("IMDS_ENDPOINT") or M.IMDS):gsub("/+$", "")
  local timeout = opts.timeout or 2
  local cache = entra.cache()
  return setmetatable({ kind = "managed_identity", client_id = opts.client_id }, {
    __index = {
      get_token = function(_, scope, http, opts)
        local t, e = cache.get(scope, opts)
        if t then return t, e end
        local resource = entra.resource(scope)
        local req
        if app_endpoint and app_header then
          req = { method = "GET", timeout = timeout, retry = true,
            url = app_endpoint .. "?" .. q("resource", resource) .. "&api-version=2019-08-01" ..
              (app_q and ("&" .. app_q) or ""),
            headers = { ["X-IDENTITY-HEADER"] = app_header } }
        else
          -- One try within the timeout: off Azure nothing answers, and the
          -- chain must move on quickly with the real reason.
          req = { method = "GET", timeout = timeout, attempts = 1,
            url = imds .. "/metadata/identity/oauth2/token?api-version=2018-02-01&" .. q("resource", resource) ..
              (imds_q and ("&" .. imds_q) or ""),
            headers = { Metadata = "true" } }
        end
        local res, err = http(req)
        if not res then
          return nil, entra.error("CredentialUnavailable", who .. ": no managed identity endpoint answered (" ..
            tostring(err and err.message or err) .. ")")
        end
        local token, exp = entra.parse(res, who)
        if token then cache.put(scope, token, exp) end
        return token, exp
      end,
    },
    __tostring = function() return "azrp credential (managed identity)" end,
  })
end

return M
