--- The Entra ID (Azure AD) token endpoint, shared by the credentials that
-- use it: request building, response parsing, errors without secrets, and
-- a per-scope token cache.
local json = require "cjson.safe"
local core = require "azrp.core"

local M = {}

M.AUTHORITY = "https://login.microsoftonline.com"
M.ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
M.REFRESH_MARGIN = 300

local function loopback(host)
  host = host:lower()
  return host == "localhost" or host == "[::1]" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- The authority's base URL, checked before any secret is posted to it:
-- https, or http to a loopback host when allow_http says so (the Azure
-- SDKs refuse a plain-http authority too); never with user-info.
-- Raises naming the option (or AZURE_AUTHORITY_HOST) and the credential.
function M.authority(host, who, allow_http, level)
  local field = "authority_host (or AZURE_AUTHORITY_HOST)"
  host = host or os.getenv("AZURE_AUTHORITY_HOST") or M.AUTHORITY
  who, level = who or "credentials", (level or 1) + 1
  if type(host) ~= "string" then error(who .. ": " .. field .. " must be a string", level) end
  local scheme, rest = host:match("^(%a[%w+.-]*)://(.*)$")
  local authority = rest and rest:match("^[^/?#]*")
  if not scheme or authority == "" then error(who .. ": " .. field .. " must be an https URL", level) end
  if authority:find("@", 1, true) then
    error(who .. ": " .. field .. " must not carry user-info (user:password@)", level)
  end
  scheme = scheme:lower()
  local hostname = authority:match("^(%[[^%]]*%])") or authority:match("^[^:]*")
  if scheme == "http" then
    if not (allow_http and loopback(hostname)) then
      error(who .. ": " .. field .. " is plain http: secrets and assertions are only posted over https" ..
        " (or to a loopback host with allow_http = true)", level)
    end
  elseif scheme ~= "https" then
    error(who .. ": " .. field .. " must be an https URL", level)
  end
  return (host:gsub("/+$", ""))
end

--- token_url(authority, tenant) -> the tenant's OAuth 2.0 v2 token endpoint.
function M.token_url(authority, tenant)
  return string.format("%s/%s/oauth2/v2.0/token", authority, tenant)
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
--- urlencode(s) -> s percent-encoded for a form body (RFC 3986 unreserved kept).
M.urlencode = urlencode

--- form({ { key, value }, ... }) -> an application/x-www-form-urlencoded body.
function M.form(fields)
  local parts = {}
  for _, kv in ipairs(fields) do parts[#parts + 1] = kv[1] .. "=" .. urlencode(kv[2]) end
  return table.concat(parts, "&")
end

--- error(code, message [, status]) -> an azrp error of kind "auth".
function M.error(code, message, status)
  return core.error{ kind = "auth", code = code, message = message, status = status, retryable = false }
end

--- Reads a token response (v2.0: expires_in; v1 and IMDS: expires_on).
-- -> token, expires_on | nil, err.  Never puts the body into the error:
-- only the Entra error code and description, which hold no secret.
function M.parse(res, what)
  if not res then return nil, M.error("CredentialUnavailable", what .. ": no response") end
  local body = json.decode(res.body or "")
  if res.status ~= 200 or type(body) ~= "table" or type(body.access_token) ~= "string" then
    local code = type(body) == "table" and type(body.error) == "string" and body.error or "TokenRequestFailed"
    local desc = type(body) == "table" and type(body.error_description) == "string" and body.error_description
      or ("HTTP " .. tostring(res.status))
    desc = desc:gsub("\r?\n.*", "")   -- the first line; trace ids follow
    return nil, M.error(code, what .. ": " .. desc, res.status)
  end
  local exp = tonumber(body.expires_on)
  if not exp then exp = core.wall() + (tonumber(body.expires_in) or 3599) end
  return body.access_token, exp
end

--- request(http, url, client_id, proof, scope, who, cache) -> token,
-- expires_on | nil, err: an OAuth 2.0 client-credentials request for
-- scope to the token endpoint url; proof = the form fields that prove the
-- client ({ { key, value }, ... }: a secret, or an assertion); the token
-- is put in cache (M.cache()).
function M.request(http, url, client_id, proof, scope, who, cache)
  local fields = { { "grant_type", "client_credentials" }, { "client_id", client_id } }
  for _, kv in ipairs(proof) do fields[#fields + 1] = kv end
  fields[#fields + 1] = { "scope", scope }
  local res, err = http{ method = "POST", url = url, retry = true, timeout = 30,
    headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Accept = "application/json" },
    body = M.form(fields) }
  if not res then return nil, err end
  local token, exp = M.parse(res, who)
  if token then cache.put(scope, token, exp) end
  return token, exp
end

--- assertion(jwt) -> the proof fields of a JWT client assertion (for request).
function M.assertion(jwt)
  return { { "client_assertion_type", M.ASSERTION_TYPE }, { "client_assertion", jwt } }
end

--- A cache of tokens by scope, renewed REFRESH_MARGIN before expiry.
function M.cache()
  local store = {}
  return {
    -- opts.force: the server refused the token; fetch a new one.
    get = function(scope, opts)
      if opts and opts.force then store[scope] = nil; return nil end
      local t = store[scope]
      if t and t.exp - M.REFRESH_MARGIN > core.wall() then return t.token, t.exp end
    end,
    put = function(scope, token, exp) store[scope] = { token = token, exp = exp } end,
  }
end

--- The scope's resource ("https://management.azure.com/.default" ->
-- "https://management.azure.com/"), for IMDS and the Azure CLI.
function M.resource(scope)
  return (scope:gsub("/?%.default$", "/"))
end

return M
