-- The seeded directory: tenants (by id, name or default domain), apps and
-- their credentials, managed identities and subscriptions.  It holds client
-- secrets, so the facade keeps it in its private table, never on the object.
local x509_mod = require "openssl.x509"
local jwt = require "azrp.emulator.jwt"
local util = require "azrp.emulator.util"
local sha256 = require("azrp.emulator.identity.common").sha256

local M = {}
M.__index = M

-- A GUID derived from a name, so that seeds without object ids still give
-- the same oid from one run to the next.
local function derived_guid(name)
  local h = util.hex(sha256(name):sub(1, 16))
  return string.format("%s-%s-4%s-a%s-%s", h:sub(1, 8), h:sub(9, 12),
    h:sub(14, 16), h:sub(18, 20), h:sub(21, 32))
end

-- Loaders return nil, message for a bad seed entry; the facade raises it
-- at its caller.

local function load_cert(pem, client_id)
  local ok, cert = pcall(x509_mod.new, pem)
  if not ok then return nil, "identity: app " .. client_id .. " has an unreadable certificate" end
  return {
    key = cert:getPublicKey(),
    x5t = jwt.b64url_encode(cert:digest("sha1", "s")),
    x5t256 = jwt.b64url_encode(cert:digest("sha256", "s")),
  }
end

local function add_tenants(self, list)
  for _, t in ipairs(list) do
    local rec = { id = t.id, name = t.name or t.id }
    self.tenants[#self.tenants + 1] = rec
    self.tenant_by[t.id:lower()] = rec
    if t.name then self.tenant_by[t.name:lower()] = rec end
    -- Entra also knows a tenant by its default domain.
    if t.domain then self.tenant_by[t.domain:lower()] = rec end
  end
end

local function add_apps(self, list, first)
  for _, a in ipairs(list) do
    if not a.client_id then return nil, "identity: an app in the seed has no client_id" end
    local tenant = a.tenant or first
    local cert, err
    if a.certificate then
      cert, err = load_cert(a.certificate, a.client_id)
      if not cert then return nil, err end
    end
    self.apps[a.client_id:lower()] = {
      client_id = a.client_id, tenant = tenant, secret = a.secret,
      object_id = a.object_id or derived_guid("sp:" .. tostring(tenant) .. ":" .. a.client_id:lower()),
      cert = cert,
      federated = a.federated or {},
    }
  end
  return true
end

local function add_managed_identities(self, list, first)
  for _, m in ipairs(list) do
    if not m.client_id then return nil, "identity: a managed identity in the seed has no client_id" end
    local rec = { client_id = m.client_id, resource_id = m.resource_id, system = m.system,
      tenant = m.tenant or first,
      object_id = m.object_id or derived_guid("mi:" .. m.client_id:lower()) }
    self.mis[#self.mis + 1] = rec
    if m.system then self.system_mi = rec end
  end
  return true
end

local function add_subscriptions(self, list, first)
  for _, s in ipairs(list) do
    self.subs[#self.subs + 1] = { id = s.id, name = s.name or s.id, tenant = s.tenant or first }
  end
end

-- seed: { tenants, apps, managed_identities, subscriptions }; returns the
-- directory, or nil and a message naming the bad entry.
function M.new(seed)
  local self = setmetatable({ tenants = {}, tenant_by = {}, apps = {}, mis = {}, subs = {} }, M)
  add_tenants(self, seed.tenants or {})
  -- Entries that name no tenant belong to the first one.
  local first = self.tenants[1] and self.tenants[1].id
  local ok, err = add_apps(self, seed.apps or {}, first)
  if not ok then return nil, err end
  ok, err = add_managed_identities(self, seed.managed_identities or {}, first)
  if not ok then return nil, err end
  add_subscriptions(self, seed.subscriptions or {}, first)
  return self
end

-- name: a tenant id, name or domain, any case; nil when unknown.
function M:tenant(name)
  return name and self.tenant_by[name:lower()]
end

function M:app(client_id)
  return self.apps[client_id:lower()]
end

-- The tenant a client's tokens come from when none is asked for: its app's,
-- else the first.
function M:home_tenant(client_id)
  local app = self:app(client_id)
  return self:tenant(app and app.tenant) or self.tenants[1]
end

-- The oid for a client id: its app's or managed identity's, else one
-- derived from the tenant and the id (any client id can be minted for).
function M:object_id(client_id, tenant_id)
  local app = self:app(client_id)
  local oid = app and app.object_id
  if not oid then
    for _, m in ipairs(self.mis) do
      if m.client_id:lower() == client_id:lower() then oid = m.object_id end
    end
  end
  return oid or derived_guid("sp:" .. tenant_id .. ":" .. client_id:lower())
end

return M
