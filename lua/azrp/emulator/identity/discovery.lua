-- Discovery documents: the ADFS authority's and each tenant's OpenID
-- configuration (v1, v2.0), MSAL's instance discovery and the signing keys.
--
-- Handlers take ctx, the facade's private parts: { clock, directory, tokens }.
local json = require "azrp.emulator.json"
local reply = require "azrp.emulator.reply"
local entra = require "azrp.emulator.identity.entra"

local M = {}

local AUTH_METHODS = { "client_secret_post", "private_key_jwt", "client_secret_basic" }

local function base(req) return req.base_url or "https://127.0.0.1" end

function M.adfs_configuration(_, req)
  local b = base(req) .. "/adfs"
  return reply.json(200, {
    issuer = b,
    authorization_endpoint = b .. "/oauth2/authorize",
    token_endpoint = b .. "/oauth2/token",
    jwks_uri = b .. "/discovery/keys",
    userinfo_endpoint = b .. "/userinfo",
    end_session_endpoint = b .. "/oauth2/logout",
    response_types_supported = json.array{ "code", "id_token", "code id_token", "token" },
    response_modes_supported = json.array{ "query", "fragment", "form_post" },
    grant_types_supported = json.array{ "authorization_code", "refresh_token", "client_credentials" },
    subject_types_supported = json.array{ "pairwise" },
    scopes_supported = json.array{ "openid", "profile", "email", "offline_access" },
    id_token_signing_alg_values_supported = json.array{ "RS256" },
    token_endpoint_auth_methods_supported = json.array(AUTH_METHODS),
    access_token_issuer = b .. "/services/trust",
  })
end

-- v2: the v2.0 document (issuer and endpoints under v2.0).  "common" and
-- "organizations" are answered with the {tenantid} placeholder.
function M.tenant_configuration(ctx, req, v2)
  local name = req.params.tenant
  local tenant = ctx.directory:tenant(name)
  local multi = name:lower() == "common" or name:lower() == "organizations"
  if not tenant and not multi then return entra.unknown_tenant(ctx, req, "invalid_tenant") end
  local b, seg = base(req), tenant and tenant.id or name
  local tid = tenant and tenant.id or "{tenantid}"
  local v = v2 and "/v2.0" or ""
  return reply.json(200, {
    issuer = v2 and string.format("%s/%s/v2.0", b, tid)
      or string.format("https://sts.windows.net/%s/", tid),
    token_endpoint = string.format("%s/%s/oauth2%s/token", b, seg, v),
    authorization_endpoint = string.format("%s/%s/oauth2%s/authorize", b, seg, v),
    device_authorization_endpoint = string.format("%s/%s/oauth2%s/devicecode", b, seg, v),
    end_session_endpoint = string.format("%s/%s/oauth2%s/logout", b, seg, v),
    jwks_uri = string.format("%s/%s/discovery%s/keys", b, seg, v),
    token_endpoint_auth_methods_supported = json.array(AUTH_METHODS),
    response_modes_supported = json.array{ "query", "fragment", "form_post" },
    response_types_supported = json.array{ "code", "id_token", "code id_token", "id_token token" },
    subject_types_supported = json.array{ "pairwise" },
    scopes_supported = json.array{ "openid", "profile", "email", "offline_access" },
    id_token_signing_alg_values_supported = json.array{ "RS256" },
    tenant_region_scope = "NA", cloud_instance_name = "microsoftonline.com",
    request_uri_parameter_supported = false,
  })
end

-- MSAL's instance discovery: the authority is known and is its own alias.
function M.instance_discovery(_, req)
  local b = base(req)
  local host = b:match("^%a+://([^/]+)") or b
  local tenant = (req.query.authorization_endpoint or ""):match("^%a+://[^/]+/([^/]+)/") or "common"
  return reply.json(200, {
    tenant_discovery_endpoint = string.format("%s/%s/v2.0/.well-known/openid-configuration", b, tenant),
    ["api-version"] = "1.1",
    metadata = json.array{ { preferred_network = host, preferred_cache = host,
      aliases = json.array{ host } } },
  })
end

function M.keys(ctx)
  return reply.json(200, { keys = json.array{ ctx.tokens:jwk() } })
end

return M
