--- Where the azrp command's client comes from: the credential, the
-- endpoint and the subscription.
--
--   context.client(opts, env) -> client, info | nil, message
--
-- opts are the parsed global options (subscription, emulator, verbose);
-- env is { getenv = function(name) } (default os.getenv) so that specs can
-- give their own.  info = { emulator = bool, subscription, time_scale,
-- endpoint, credential = a printable description }.
--
-- With --emulator FILE (or AZRP_EMULATOR) everything points at a running
-- emulator, as its ready file describes it (url, ca_file, tenant,
-- client_id, client_secret, subscription, time_scale); otherwise ARM with
-- azrp.credentials.default().  The subscription: --subscription, then
-- AZURE_SUBSCRIPTION_ID, then the emulator's, then the Azure CLI's default
-- (azureProfile.json in AZURE_CONFIG_DIR or ~/.azure).
local azrp = require "azrp"
local json = require "cjson.safe"

local M = {}

M.ARM = "https://management.azure.com"

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

local function getenv_of(env)
  local g = env and env.getenv or os.getenv
  -- An empty variable counts as unset, as the Azure SDKs treat it.
  return function(name)
    local v = g(name)
    if v == "" then return nil end
    return v
  end
end

--- The emulator's ready file, decoded and checked; nil, message otherwise.
function M.read_ready(path)
  local text, err = read_file(path)
  if not text then return nil, "cannot read the emulator's ready file: " .. tostring(err) end
  local ready = json.decode(text)
  if type(ready) ~= "table" or type(ready.url) ~= "string" then
    return nil, "the file " .. path .. " is not an azrp emulator's ready file (no url)"
  end
  for _, k in ipairs{ "tenant", "client_id", "client_secret" } do
    if type(ready[k]) ~= "string" or ready[k] == "" then
      return nil, "the emulator's ready file " .. path .. " has no " .. k ..
        " (an emulator from before the azrp command wrote it: restart the emulator)"
    end
  end
  return ready
end

--- The Azure CLI's default subscription id, from azureProfile.json;
-- nil, reason when there is none.
function M.cli_subscription(getenv)
  getenv = getenv or os.getenv
  local dir = getenv("AZURE_CONFIG_DIR")
  if not dir then
    local home = getenv("HOME")
    if not home then return nil, "HOME is not set" end
    dir = home .. "/.azure"
  end
  local path = dir .. "/azureProfile.json"
  local text = read_file(path)
  if not text then return nil, "no " .. path end
  -- The Azure CLI writes this file with a UTF-8 byte order mark.
  text = text:gsub("^\239\187\191", "")
  local profile = json.decode(text)
  if type(profile) ~= "table" or type(profile.subscriptions) ~= "table" then
    return nil, path .. " is not an Azure CLI profile"
  end
  for _, s in ipairs(profile.subscriptions) do
    if type(s) == "table" and s.isDefault == true and type(s.id) == "string" then return s.id end
  end
  return nil, "no default subscription in " .. path
end

local function subscription_of(opts, getenv, ready)
  if opts.subscription then return opts.subscription, "--subscription" end
  local v = getenv("AZURE_SUBSCRIPTION_ID")
  if v then return v, "AZURE_SUBSCRIPTION_ID" end
  if ready and type(ready.subscription) == "string" then return ready.subscription, "the emulator's ready file" end
  local cli, why = M.cli_subscription(getenv)
  if cli then return cli, "the Azure CLI's default" end
  return nil, "no subscription: give --subscription ID, set AZURE_SUBSCRIPTION_ID, or choose a default" ..
    " with 'az account set --subscription ID' (" .. tostring(why) .. ")"
end

-- Credential constructors raise on a bad setting (an http authority, a
-- missing certificate option): here that is a configuration error.
local function protect(f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then return nil, tostring(a):gsub("^[^:]*:%d+: ", "") end
  return a, b
end

--- client(opts, env) -> azrp client, info | nil, message.
function M.client(opts, env)
  opts = opts or {}
  local getenv = getenv_of(env)
  local ready_file = opts.emulator or getenv("AZRP_EMULATOR")
  local ready, err
  if ready_file then
    ready, err = M.read_ready(ready_file)
    if not ready then return nil, err end
  end
  local sub, from = subscription_of(opts, getenv, ready)
  if not sub then return nil, from end

  local info = { emulator = ready ~= nil, subscription = sub, subscription_from = from }
  local copts = { subscription_id = sub, user_agent = "azrp-cli/" .. tostring(azrp._VERSION) }
  local cred
  if ready then
    local scale = tonumber(ready.time_scale) or 1
    info.time_scale, info.endpoint = scale, ready.url
    local plain = ready.url:match("^http://") ~= nil
    cred, err = protect(azrp.credentials.client_secret, { tenant_id = ready.tenant, authority_host = ready.url,
      client_id = ready.client_id, client_secret = ready.client_secret, allow_http = plain or nil })
    copts.endpoint, copts.ca_file, copts.allow_http = ready.url, ready.ca_file, plain or nil
    -- The emulator's time runs faster: so do the polls it gives no
    -- Retry-After for.
    copts.poll = { default = math.max(0.05, math.min(1, 10 * scale)) }
  else
    info.time_scale, info.endpoint = 1, M.ARM
    copts.endpoint = M.ARM
    cred, err = protect(azrp.credentials.default, { env = getenv })
  end
  if not cred then return nil, "credentials: " .. tostring(err) end
  copts.credential = cred
  info.credential = tostring(cred)
  local client
  client, err = protect(azrp.client, copts)
  if not client then return nil, tostring(err) end
  return client, info
end

return M
