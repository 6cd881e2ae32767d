-- Managed identity token endpoints: the VM metadata service (IMDS) and App
-- Service's /msi/token.  Their errors are plain OAuth documents.
--
-- Handlers take ctx, the facade's private parts: { directory, tokens,
-- identity_header }.
local reply = require "azrp.emulator.reply"
local settings = require "azrp.emulator.identity.settings"
local resources = require "azrp.emulator.identity.resources"
local common = require "azrp.emulator.identity.common"

local M = {}

local function mi_error(status, err, description)
  return reply.json(status, { error = err, error_description = description })
end

local function matches(m, by_client, by_object, by_res)
  return (by_client and m.client_id:lower() == by_client:lower())
    or (by_object and m.object_id:lower() == by_object:lower())
    or (by_res and m.resource_id and m.resource_id:lower() == by_res:lower())
end

-- The identity a request selects: client_id, object_id / principal_id, or
-- msi_res_id / mi_res_id; without one, the system-assigned identity, or the
-- only user-assigned one as IMDS does.  Returns record or nil, 400.
local function select_mi(directory, q)
  local by_client = q.client_id or q.clientid
  local by_object = q.object_id or q.principal_id
  local by_res = q.msi_res_id or q.mi_res_id
  local mis = directory.mis
  if by_client or by_object or by_res then
    for _, m in ipairs(mis) do
      if matches(m, by_client, by_object, by_res) then return m end
    end
    return nil, mi_error(400, "invalid_request", "Identity not found")
  end
  if directory.system_mi then return directory.system_mi end
  if #mis == 1 then return mis[1] end
  if #mis > 1 then
    return nil, mi_error(400, "invalid_request", "Multiple user assigned identities exist, " ..
      "please specify the clientId / resourceId of the identity in the token request")
  end
  return nil, mi_error(400, "invalid_request", "Identity not found")
end

-- The query both endpoints take; returns the audience or nil, 400.
local function check_query(req)
  local q = req.query
  if not q["api-version"] then
    return nil, mi_error(400, "invalid_request", "Required api-version parameter not specified")
  end
  if not q.resource or q.resource == "" then
    return nil, mi_error(400, "invalid_request", "Required audience parameter not specified")
  end
  local aud = resources.arm_audience(q.resource, req.base_url)
  if not aud then
    return nil, mi_error(400, "invalid_resource", "AADSTS500011: The resource principal named " ..
      q.resource:sub(1, 200) .. " was not found in the tenant.")
  end
  return aud
end

-- full: IMDS's answer, which adds expires_in, ext_expires_in and not_before
-- to App Service's.
local function mi_token(ctx, req, full)
  local aud, bad = check_query(req)
  if not aud then return bad end
  local mi
  mi, bad = select_mi(ctx.directory, req.query)
  if not mi then return bad end
  local tenant = ctx.directory:tenant(mi.tenant) or ctx.directory.tenants[1]
  if not tenant then return mi_error(500, "unknown_error", "The emulator's seed has no tenant.") end
  local lifetime = settings.MI_TOKEN_LIFETIME
  local token, claims = ctx.tokens:issue({ tid = tenant.id, oid = mi.object_id, appid = mi.client_id,
    appidacr = "2", aud = aud, mirid = mi.resource_id }, lifetime)
  local body = { access_token = token, client_id = mi.client_id,
    expires_on = tostring(claims.exp), resource = req.query.resource, token_type = "Bearer" }
  if full then
    body.expires_in = tostring(lifetime)
    body.ext_expires_in = tostring(lifetime)
    body.not_before = tostring(claims.nbf)
  end
  return reply.json(200, body)
end

function M.imds(ctx, req)
  if common.lower(req.headers["metadata"]) ~= "true" then
    return mi_error(400, "invalid_request", "Required metadata header not specified")
  end
  return mi_token(ctx, req, true)
end

function M.app_service(ctx, req)
  local given = req.headers["x-identity-header"]
  if not common.same_secret(given, ctx.identity_header) then
    -- The value is a secret: never repeat it.
    return mi_error(400, "invalid_request", "The X-IDENTITY-HEADER header is missing or invalid")
  end
  return mi_token(ctx, req, false)
end

return M
