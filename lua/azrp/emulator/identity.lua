-- Stand-ins for the identity services Azure clients talk to before ARM:
-- Entra ID's token endpoints (v1, v2.0), an ADFS-style authority for the
-- Azure CLI, the VM metadata service (IMDS) and App Service identity
-- endpoints, plus ARM's tenant-level /subscriptions and /tenants lists.
--
--   local idp = identity.new{ clock = clock, seed = seed [, signing_key = pkey] }
--   idp:routes()              route tables for the app's router
--   idp:verify(authorization) principal | nil, code, message (ARM's 401s)
--   idp:mint{ client_id, tenant, expires_in }            an access token
--   idp:mint_federated{ issuer, subject, audience, expires_in }
--   idp:signing_public_pem()  the key access tokens are signed with
--   idp.identity_header       the App Service X-IDENTITY-HEADER secret
--
-- This file is the facade; the parts are under identity/:
--   directory      the seed: tenants, apps, managed identities, subscriptions
--   tokens         the signing key, minting, ARM's token check (token_cache)
--   assertions     client assertions and federated tokens
--   entra          the token endpoints and Entra's error documents
--   managed        IMDS and App Service
--   discovery      OpenID configuration, instance discovery, keys
--   subscriptions  ARM's /subscriptions and /tenants
--   settings, resources, common   what several parts share
--
-- Secrets (client secrets, private keys, replay state) live in the parts,
-- kept in a table outside the object, so that dumping or printing idp shows
-- none of them; no error the parts write contains a secret, an assertion or
-- a token.
local rand = require "openssl.rand"
local util = require "azrp.emulator.util"
local settings = require "azrp.emulator.identity.settings"
local directory_mod = require "azrp.emulator.identity.directory"
local tokens_mod = require "azrp.emulator.identity.tokens"
local assertions_mod = require "azrp.emulator.identity.assertions"
local entra = require "azrp.emulator.identity.entra"
local managed = require "azrp.emulator.identity.managed"
local discovery = require "azrp.emulator.identity.discovery"
local subscriptions = require "azrp.emulator.identity.subscriptions"

local M = {}
M.__index = M

-- object -> its parts { clock, directory, tokens, assertions, identity_header }
local private = setmetatable({}, { __mode = "k" })

function M.new(opts)
  if type(opts) ~= "table" or not opts.clock then error("identity.new needs { clock = ... }", 2) end
  local self = setmetatable({ clock = opts.clock }, M)
  -- App Service hands this to the workload in IDENTITY_HEADER.
  self.identity_header = util.hex(rand.bytes(16))
  local directory, err = directory_mod.new(opts.seed or {})
  if not directory then error(err, 2) end
  local tokens = tokens_mod.new(opts.clock, directory, opts.signing_key)
  private[self] = {
    clock = opts.clock, directory = directory, tokens = tokens,
    assertions = assertions_mod.new(opts.clock, tokens),
    identity_header = self.identity_header,
  }
  return self
end

function M:__tostring()
  return "azrp.emulator.identity"
end

function M:signing_public_pem() return private[self].tokens.public_pem end

-- An access token for a seeded app or managed identity, or for any client
-- id (the admin API and fault injection use it for "expired token" cases:
-- expires_in may be 0 or negative).  args.audience overrides the ARM one.
-- Returns the token, or nil and a message when args.tenant is unknown.
function M:mint(args)
  if type(args) ~= "table" or type(args.client_id) ~= "string" then
    error("identity:mint needs { client_id = ... }", 2)
  end
  local p = private[self]
  local tenant
  if args.tenant then
    tenant = p.directory:tenant(args.tenant)
    if not tenant then return nil, "unknown tenant '" .. tostring(args.tenant) .. "'" end
  else
    tenant = p.directory:home_tenant(args.client_id)
  end
  if not tenant then error("identity:mint: the seed has no tenant", 2) end
  return (p.tokens:issue({ tid = tenant.id, appid = args.client_id,
    oid = p.directory:object_id(args.client_id, tenant.id),
    aud = args.audience }, args.expires_in or settings.APP_TOKEN_LIFETIME))
end

-- A token as an external OIDC issuer (GitHub, Kubernetes ...) would write to
-- AZURE_FEDERATED_TOKEN_FILE; signed with the emulator's key.
function M:mint_federated(args)
  if type(args) ~= "table" or not args.issuer or not args.subject then
    error("identity:mint_federated needs { issuer = ..., subject = ... }", 2)
  end
  return private[self].tokens:federated(args)
end

-- authorization: the Authorization header value, or nil.  The principal
-- returned is shared with the cache: treat it as read-only.
function M:verify(authorization)
  return private[self].tokens:verify(authorization)
end

-- Literal paths come before templates of the same length ("/adfs/oauth2/token"
-- before "/{tenant}/oauth2/token"): the router takes the first match.
function M:routes()
  local parts = private[self]
  local function bind(fn, ...)
    local extra = table.pack(...)
    return function(_, req) return fn(parts, req, table.unpack(extra, 1, extra.n)) end
  end
  return {
    { method = "GET", path = "/adfs/.well-known/openid-configuration", op = "ADFS_OpenIdConfiguration",
      handler = bind(discovery.adfs_configuration) },
    { method = "GET", path = "/adfs/discovery/keys", op = "ADFS_Keys", handler = bind(discovery.keys) },
    { method = "POST", path = "/adfs/oauth2/token", op = "ADFS_Token", handler = bind(entra.token, "adfs") },
    { method = "GET", path = "/common/discovery/instance", op = "Entra_InstanceDiscovery",
      handler = bind(discovery.instance_discovery) },
    { method = "POST", path = "/{tenant}/oauth2/v2.0/token", op = "Entra_Token", handler = bind(entra.token, "v2") },
    { method = "POST", path = "/{tenant}/oauth2/token", op = "Entra_TokenV1", handler = bind(entra.token, "v1") },
    { method = "GET", path = "/{tenant}/v2.0/.well-known/openid-configuration", op = "Entra_OpenIdConfiguration",
      handler = bind(discovery.tenant_configuration, true) },
    { method = "GET", path = "/{tenant}/.well-known/openid-configuration", op = "Entra_OpenIdConfigurationV1",
      handler = bind(discovery.tenant_configuration, false) },
    { method = "GET", path = "/{tenant}/discovery/v2.0/keys", op = "Entra_Keys", handler = bind(discovery.keys) },
    { method = "GET", path = "/{tenant}/discovery/keys", op = "Entra_KeysV1", handler = bind(discovery.keys) },
    { method = "GET", path = "/metadata/identity/oauth2/token", op = "IMDS_Token", handler = bind(managed.imds) },
    { method = "GET", path = "/msi/token", op = "AppService_Token", handler = bind(managed.app_service) },
    { method = "GET", path = "/subscriptions", op = "Subscriptions_List", arm = true, kind = "read",
      handler = bind(subscriptions.list) },
    { method = "GET", path = "/subscriptions/{subscriptionId}", op = "Subscriptions_Get", arm = true,
      kind = "read", handler = bind(subscriptions.get) },
    { method = "GET", path = "/tenants", op = "Tenants_List", arm = true, kind = "read",
      handler = bind(subscriptions.list_tenants) },
  }
end

-- identity.ARM_RESOURCE, identity.CACHE_GENERATION ... are settings.lua's:
-- reading one reads that table, and setting one (the specs shrink the
-- cache) changes what the parts use.  Set last, so that the functions
-- above are stored here.
setmetatable(M, {
  __index = settings,
  __newindex = function(t, k, v)
    if settings[k] ~= nil then settings[k] = v else rawset(t, k, v) end
  end,
})

return M
