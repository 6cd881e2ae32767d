--- A service principal with a certificate: a JWT client assertion signed
-- by the certificate's private key (PS256 with x5t#S256 by default; RS256
-- with x5t for older tenants), as Microsoft's identity platform describes.
local core = require "azrp.core"
local json = require "cjson.safe"
local entra = require "azrp.credentials.entra"

local M = {}

local function read(path, who)
  local f, err = io.open(path, "rb")
  if not f then error(who .. ": cannot read " .. tostring(err), 4) end
  local s = f:read("*a")
  f:close()
  return s
end

--- A service principal credential with a certificate.
-- @tparam table opts tenant_id, client_id, certificate or certificate_path, private_key or private_key_path, password, alg, send_certificate_chain, authority_host, allow_http
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  local who = "credentials.client_certificate"
  if type(opts) ~= "table" then error(who .. ": options table expected", 2) end
  for _, k in ipairs({ "tenant_id", "client_id" }) do
    if type(opts[k]) ~= "string" or opts[k] == "" then error(who .. ": option '" .. k .. "' is required", 2) end
  end
  local alg = opts.alg or "PS256"
  if alg ~= "PS256" and alg ~= "RS256" then error(who .. ": alg must be PS256 or RS256", 2) end
  local pem = opts.certificate or (opts.certificate_path and read(opts.certificate_path, who))
  if not pem then error(who .. ": certificate (PEM) or certificate_path is required", 2) end
  local key = opts.private_key or (opts.private_key_path and read(opts.private_key_path, who))
  local signer, serr = core.signer(pem, key, opts.password)
  if not signer then error(who .. ": " .. serr, 2) end
  local tenant, client_id = opts.tenant_id, opts.client_id
  local aud = entra.token_url(entra.authority(opts.authority_host, who, opts.allow_http, 2), tenant)
  local header = { alg = alg, typ = "JWT" }
  if alg == "PS256" then header["x5t#S256"] = signer:x5t_s256() else header.x5t = signer:x5t() end
  if opts.send_certificate_chain then header.x5c = { signer:x5c() } end
  local header_json = json.encode(header)
  local cache = entra.cache()

  local function assertion()
    local now = math.floor(core.wall())
    local claims = json.encode{ aud = aud, iss = client_id, sub = client_id, jti = core.uuid(),
      nbf = now, iat = now, exp = now + 600 }
    return signer:sign(alg, header_json, claims)
  end

  return setmetatable({ kind = "client_certificate", tenant_id = tenant, client_id = client_id }, {
    __index = {
      get_token = function(_, scope, http, opts)
        local t, e = cache.get(scope, opts)
        if t then return t, e end
        local jwt, jerr = assertion()
        if not jwt then return nil, entra.error("AssertionFailed", who .. ": " .. jerr) end
        return entra.request(http, aud, client_id, entra.assertion(jwt), scope, who, cache)
      end,
    },
    __tostring = function() return "azrp credential (client certificate, client " .. client_id .. ")" end,
  })
end

return M
