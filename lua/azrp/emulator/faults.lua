-- Fault injection: per run (--faults) and per request (a header).
--
-- A spec is a comma-separated list of NAME[@OPERATION]=PROBABILITY[xTIMES]
-- and an optional seed=N, e.g. "429=0.05,500@RestorePoints_Create=0.5,seed=7";
-- xTIMES makes a rule fire at most TIMES times, so that
-- "failed@VirtualMachines_CreateOrUpdate=1x1" fails the next VM PUT and no
-- other (a rollback's PUT then succeeds),
-- OPERATION~TEXT narrows a rule to the requests of that operation whose
-- path holds TEXT (case-insensitive), e.g.
-- "failed@RestorePoints_Create~/restorePointCollections/rpc-a-northeurope/=1"
-- fails the copies made in one collection and no other,
-- and an optional retry_after=SECONDS (default 1), the nominal wait that
-- injected 429s and 503s ask for; slow_seconds=SECONDS (real, default 2)
-- is how long a slow body takes.
--
-- region_down=REGION (repeatable) makes a region stop answering, as in a
-- regional outage: every request that concerns it is held unanswered for
-- region_down_seconds (real seconds, default 60), then its connection is
-- dropped, and it has no effect.  A request concerns a region when its
-- path names it (/locations/REGION/: long-running operations' status
-- URLs), when its body's location is that region (a PUT), or when the
-- resource its path names (or the nearest parent the emulator holds, up to
-- its resource group) lives there; a blob request, when its SAS grant's
-- resource does.  Subscription-wide requests (lists across resource
-- groups, the regions list), Entra ID and the admin API always answer.
-- It is not drawn at random: it is on until the spec changes.
-- The same spec and seed give the same faults for the same sequence of
-- requests.  A request can also ask for one: header
-- `x-azrp-fault: NAME` (and `x-azrp-fault-seconds` for slow/429/503).
--
-- A 429's or 503's wait is nominal, like every duration in the emulator:
-- Retry-After carries it in whole seconds and, when time is scaled down
-- (--time-scale below 1), retry-after-ms carries it scaled, which azrp,
-- Azure's SDKs and az prefer.  (slow's seconds are real: it paces bytes.)
--
-- Faults, by where they act:
--   status     429, 500, 503, expired (401 ExpiredAuthenticationToken; ARM
--              requests only, as only they carry a bearer token),
--              429bare (a 429 with neither Retry-After nor retry-after-ms:
--              the client must pick its own backoff)
--   transport  reset (connection dropped, no answer), truncate (half the
--              body, then the connection closes), slow (body dribbled)
--   provider   failed, canceled (the long-running operation ends Failed or Canceled)
local reply = require "azrp.emulator.reply"

local M = {}
M.__index = M

M.NAMES = {
  ["429"] = "status", ["429bare"] = "status", ["500"] = "status", ["503"] = "status", expired = "status",
  reset = "transport", truncate = "transport", slow = "transport", failed = "provider",
  canceled = "provider",
}

-- Parses spec; returns rules, seed or nil, message.
function M.parse(spec)
  local rules, seed = {}, 1
  if spec == nil or spec == "" then return rules, seed end
  for item in spec:gmatch("[^,]+") do
    local key, value = item:match("^%s*([^=]+)=%s*(.-)%s*$")
    if not key then return nil, string.format("fault '%s' is not NAME=PROBABILITY", item) end
    if key == "seed" then
      seed = tonumber(value)
      if not seed then return nil, "fault seed must be a number" end
    elseif key == "retry_after" then
      local s = tonumber(value)
      if not s or s < 0 then return nil, "fault retry_after must be a number of seconds, 0 or more" end
      rules.retry_after = s
    elseif key == "slow_seconds" then
      local s = tonumber(value)
      if not s or s <= 0 then return nil, "fault slow_seconds must be a positive number of seconds" end
      rules.slow_seconds = s
    elseif key == "region_down" then
      local region = M.region_key(value)
      if region == "" or not region:match("^[%w]+$") then
        return nil, string.format("fault region_down needs a region name, got '%s'", value)
      end
      rules.down = rules.down or {}
      rules.down[region] = true
    elseif key == "region_down_seconds" then
      local s = tonumber(value)
      if not s or s <= 0 then return nil, "fault region_down_seconds must be a positive number of seconds" end
      rules.down_seconds = s
    else
      local name, op = key:match("^([^@]+)@(.+)$")
      name = name or key
      local where
      if op then
        local o, w = op:match("^([^~]*)~(.+)$")
        if o then op, where = o ~= "" and o or nil, w:lower() end
      end
      if not M.NAMES[name] then
        local names = {}
        for n in pairs(M.NAMES) do names[#names + 1] = n end
        table.sort(names)
        return nil, string.format("unknown fault '%s' (known: %s)", name, table.concat(names, ", "))
      end
      local pv, times = value:match("^(.-)x(%d+)$")
      local p = tonumber(pv or value)
      if not p or p < 0 or p > 1 then
        return nil, string.format("fault '%s' needs a probability from 0 to 1 (and optionally xTIMES), got '%s'",
          key, value)
      end
      rules[#rules + 1] = { name = name, op = op, where = where, p = p, left = times and tonumber(times) }
    end
  end
  return rules, seed
end

function M.new(opts)
  local self = setmetatable({}, M)
  local ok, err = self:configure(opts and opts.spec or "", opts and opts.seed)
  if not ok then error(err, 2) end
  return self
end

function M:configure(spec, seed)
  local rules, s = M.parse(spec)
  if not rules then return nil, s end
  self.rules = rules
  self.state = math.tointeger(seed or s) or 1
  if self.state == 0 then self.state = 1 end
  return true
end

-- xorshift64*: a small generator of our own, so that nothing else in the
-- process can change the sequence.
function M:random()
  local x = self.state
  x = x ~ (x >> 12)
  x = x ~ (x << 25)
  x = x ~ (x >> 27)
  self.state = x
  return ((x * 0x2545F4914F6CDD1D) >> 11) / 9007199254740992.0
end

local function make(name, seconds)
  local where = M.NAMES[name]
  local f = { name = name, seconds = seconds }
  if where == "status" then f.status = true
  elseif where == "provider" then f.provider = true end
  return f
end

-- ARM's comparison key of a location name: lower case, no white space.
function M.region_key(name)
  return (tostring(name or ""):lower():gsub("%s+", ""))
end

local function location_in_body(req)
  if req.method ~= "PUT" and req.method ~= "PATCH" then return nil end
  local body = req.body
  if type(body) ~= "string" or not body:find('"location"', 1, true) then return nil end
  local ok, v = pcall(require("azrp.emulator.json").decode, body)
  if ok and type(v) == "table" and type(v.location) == "string" then return v.location end
  return nil
end

-- The location of the resource at path or of its nearest parent the store
-- holds, no higher than its resource group.
local function location_in_store(em, path)
  local p = path
  while p and p ~= "" do
    local e = em.store:get(p)
    if e and type(e.body) == "table" and type(e.body.location) == "string" then return e.body.location end
    if p:lower():match("^/subscriptions/[^/]+/resourcegroups/[^/]+$") then return nil end
    local up = p:match("^(.*)/[^/]+$")
    if up == p then break end
    p = up
  end
  return nil
end

-- The region a request concerns (a region key), or nil for a global one.
function M.region_of(req, route, em)
  local path = req.path or ""
  local loc = path:match("/[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn][Ss]/([^/]+)/")
  if loc then return M.region_key(loc) end
  loc = location_in_body(req)
  if loc then return M.region_key(loc) end
  if not em or not em.store then return nil end
  if route.op and route.op:find("Blob", 1, true) and em.blob and req.query then
    local g = em.blob.grants and em.blob.grants[req.query.si]
    if not g then return nil end
    path = g.resource_id
  end
  loc = location_in_store(em, path)
  return loc and M.region_key(loc) or nil
end

-- The fault for this request, or nil.  Admin routes are never faulted.
-- em (the app) lets region_down find where a resource lives.
function M:pick(req, route, em)
  if route.admin then return nil end
  if self.rules.down then
    local region = M.region_of(req, route, em)
    if region and self.rules.down[region] then
      return { name = "down", down = true, region = region, seconds = self.rules.down_seconds or 60 }
    end
  end
  local forced = req.headers["x-azrp-fault"]
  if forced then
    forced = forced:lower()
    if M.NAMES[forced] then return make(forced, tonumber(req.headers["x-azrp-fault-seconds"] or "")) end
  end
  for _, r in ipairs(self.rules) do
    -- An expired bearer token is ARM's answer: Entra ID, IMDS and SAS
    -- (blob) requests carry none.
    if (r.name ~= "expired" or route.arm) and (not r.op or r.op == route.op) and (not r.where or (req.path or ""):lower():find(r.where, 1, true))
      and (r.left == nil or r.left > 0) and self:random() < r.p then
      if r.left then r.left = r.left - 1 end
      return make(r.name, r.name == "slow" and self.rules.slow_seconds or nil)
    end
  end
  return nil
end

-- Retry-After (and retry-after-ms when time is scaled down) for a 429/503.
local function retry_headers(self, f, em, h)
  local s = f.seconds or self.rules.retry_after or 1
  h["retry-after"] = tostring(math.ceil(s))
  local factor = em and em.clock and em.clock.factor or 1
  if factor < 1 then
    local ms = math.floor(s * factor * 1000 + 0.5)
    h["retry-after-ms"] = tostring(ms < 1 and 1 or ms)
  end
end

function M:respond(f, req, em)
  if f.name == "429bare" then
    -- Throttled with no hint of how long: no Retry-After, no retry-after-ms.
    local res = reply.error(429, "TooManyRequests",
      "The request is being throttled (injected fault).")
    res.headers["x-ms-ratelimit-remaining-subscription-reads"] = "0"
    return res
  elseif f.name == "429" then
    local res = reply.error(429, "TooManyRequests",
      "The request is being throttled (injected fault). Retry after the interval in Retry-After.")
    retry_headers(self, f, em, res.headers)
    res.headers["x-ms-ratelimit-remaining-subscription-reads"] = "0"
    return res
  elseif f.name == "500" then
    return reply.error(500, "InternalServerError", "An internal server error occurred (injected fault).")
  elseif f.name == "503" then
    local res = reply.error(503, "ServiceUnavailable", "The service is temporarily unavailable (injected fault).")
    retry_headers(self, f, em, res.headers)
    return res
  elseif f.name == "expired" then
    local res = reply.error(401, "ExpiredAuthenticationToken",
      "The access token expiry UTC time is earlier than current UTC time (injected fault).")
    res.headers["www-authenticate"] = 'Bearer error="invalid_token", error_description="The access token has expired"'
    return res
  end
  error("not a status fault: " .. tostring(f.name))
end

return M
