-- ARM's request-rate limits: token buckets per subscription, principal and
-- operation type (reads 250 refilled at 25/s; writes and deletes 200 at
-- 10/s), as ARM's regional throttling applies them.  Each request takes
-- one token; an empty bucket answers 429 with the seconds until a token is
-- back.  Buckets refill on wall-clock time (--time-scale does not speed
-- them up: clients wait on them in real time); moving the emulator's clock
-- forward through the admin API refills them too.
local M = {}
M.__index = M

M.DEFAULTS = {
  read = { size = 250, rate = 25 },
  write = { size = 200, rate = 10 },
  delete = { size = 200, rate = 10 },
}

local KIND = { read = "reads", write = "writes", delete = "deletes", action = "writes" }

--- parse("read=250/25,write=100/0.5") -> limits for new{}, or nil and a
-- message naming the bad part: KIND=SIZE/RATE, tokens and tokens a second,
-- for read, write or delete; the kinds not named keep ARM's defaults.
function M.parse(spec)
  local limits = {}
  for part in tostring(spec):gmatch("[^,]+") do
    local kind, size, rate = part:match("^%s*(%a+)%s*=%s*([%d.]+)%s*/%s*([%d.eE+-]+)%s*$")
    size, rate = tonumber(size), tonumber(rate)
    if not kind then
      return nil, string.format("--throttle: '%s' is not KIND=SIZE/RATE (e.g. read=250/25)", part)
    elseif not M.DEFAULTS[kind] then
      return nil, string.format("--throttle: unknown kind '%s' (read, write or delete)", kind)
    elseif not size or size < 1 or size ~= math.floor(size) or size > 1e9 then
      return nil, string.format("--throttle: %s's size must be a whole number from 1, got '%s'", kind, part)
    elseif not rate or rate <= 0 or rate > 1e9 then
      return nil, string.format("--throttle: %s's rate must be above 0 tokens a second, got '%s'", kind, part)
    end
    limits[kind] = { size = size, rate = rate }
  end
  if next(limits) == nil then return nil, "--throttle: no KIND=SIZE/RATE in '" .. tostring(spec) .. "'" end
  return limits
end

function M.new(opts)
  opts = opts or {}
  local limits = {}
  for k, v in pairs(M.DEFAULTS) do
    local o = type(opts.limits) == "table" and opts.limits[k] or nil
    limits[k] = { size = o and o.size or v.size, rate = o and o.rate or v.rate }
  end
  local clock = opts.clock
  local now = opts.now or (clock and function() return clock:now() end) or os.time
  return setmetatable({ limits = limits, buckets = {}, now = now }, M)
end

-- Returns remaining tokens, or nil and the whole seconds to wait (at least
-- 1, for Retry-After); third value is the header kind ("reads", "writes",
-- "deletes"); a fourth, when refused, is the exact wait in seconds.
function M:take(sub, principal, kind)
  local k = kind == "action" and "write" or kind
  if not self.limits[k] then k = "read" end
  local key = sub:lower() .. "\0" .. principal .. "\0" .. k
  local lim = self.limits[k]
  local now = self.now()
  local b = self.buckets[key]
  if not b then
    b = { tokens = lim.size, at = now }
    self.buckets[key] = b
  end
  b.tokens = math.min(lim.size, b.tokens + (now - b.at) * lim.rate)
  b.at = now
  local label = KIND[kind] or "reads"
  if b.tokens < 1 then
    local wait = (1 - b.tokens) / lim.rate
    return nil, math.max(1, math.ceil(wait)), label, wait
  end
  b.tokens = b.tokens - 1
  return math.floor(b.tokens), nil, label
end

return M
