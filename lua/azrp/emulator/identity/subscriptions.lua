-- ARM's tenant-level lists: /subscriptions, /subscriptions/{id} and
-- /tenants, from the seed.
--
-- Handlers take ctx, the facade's private parts: { directory }.
local json = require "azrp.emulator.json"
local reply = require "azrp.emulator.reply"
local lower = require("azrp.emulator.identity.common").lower

local M = {}

local function need_api_version(req)
  if req.query["api-version"] then return nil end
  return reply.error(400, "MissingApiVersionParameter",
    "The api-version query parameter (?api-version=) is required for all requests.")
end

local function subscription_doc(s)
  return {
    id = "/subscriptions/" .. s.id, subscriptionId = s.id, tenantId = s.tenant,
    displayName = s.name, state = "Enabled",
    subscriptionPolicies = { locationPlacementId = "Public_2014-09-01",
      quotaId = "PayAsYouGo_2014-09-01", spendingLimit = "Off" },
    authorizationSource = "RoleBased",
  }
end

-- A caller sees the subscriptions of the tenant its token was issued in
-- (the app puts the verified principal in req.principal).
local function visible(req, s)
  local who = req.principal
  return not who or not who.tid or lower(s.tenant) == lower(who.tid)
end

function M.list(ctx, req)
  local bad = need_api_version(req)
  if bad then return bad end
  local out = json.array()
  for _, s in ipairs(ctx.directory.subs) do
    if visible(req, s) then out[#out + 1] = subscription_doc(s) end
  end
  return reply.json(200, { value = out, count = { type = "Total", value = #out } })
end

function M.get(ctx, req)
  local bad = need_api_version(req)
  if bad then return bad end
  local want = req.params.subscriptionId:lower()
  for _, s in ipairs(ctx.directory.subs) do
    if s.id:lower() == want and visible(req, s) then
      return reply.json(200, subscription_doc(s))
    end
  end
  return reply.error(404, "SubscriptionNotFound",
    string.format("The subscription '%s' could not be found.", req.params.subscriptionId))
end

function M.list_tenants(ctx, req)
  local bad = need_api_version(req)
  if bad then return bad end
  local out = json.array()
  for _, t in ipairs(ctx.directory.tenants) do
    out[#out + 1] = { id = "/tenants/" .. t.id, tenantId = t.id, tenantCategory = "Home",
      countryCode = "US", displayName = t.name, domains = json.array{ t.name },
      defaultDomain = t.name, tenantType = "AAD" }
  end
  return reply.json(200, { value = out })
end

return M
