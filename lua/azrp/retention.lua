--- azrp.retention: which restore points a retention policy keeps.  Pure:
-- no request, no clock but the points' own times.
--
--     local retention = require "azrp.retention"
--     local policy = assert(retention.check{ keep_last = 3, daily = 7, weekly = 4, monthly = 12 })
--     local r = retention.apply(points, policy)
--     -- r.keep = { { point = p, rules = { "last", "daily", ... } }, ... } newest first
--     -- r.delete = { p, ... } newest first;  r.rules[p.name] = { ... } for each survivor
--
-- points: { { name, time (UTC epoch seconds, or ISO 8601 text as Azure
-- gives timeCreated), state ("Succeeded", "Creating", "Failed", ...),
-- replicated (bool: every disk at 100 %; nil counts as true), in_use
-- (bool: the source of a copy in flight) }, ... }.
--
-- Grandfather-father-son, in UTC: keep_last keeps the newest N good points;
-- daily, weekly (ISO 8601 weeks, Monday first), monthly and yearly keep the
-- newest good point of each of the newest N days / weeks / months / years
-- that hold one (a pause in the runs does not age the set out).  A good
-- point is Succeeded and fully replicated.  Whatever the policy:
--   - the newest good point is kept ("newest_good"),
--   - a point in use as a copy's source is kept ("in_use"),
--   - a point still being made (not Succeeded, not Failed, or Succeeded and
--     replicating) is kept ("in_flight"): Azure refuses to delete it, and
--     another run may be waiting on it,
--   - a Failed or Canceled point is deleted unless one of the above keeps it.
-- No os.date: the calendar is computed here, the same on every Lua.
local M = {}

M.RULES = { "keep_last", "daily", "weekly", "monthly", "yearly" }

local floor = math.floor

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
-- days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end
--- days_from_civil(y, m, d) -> the day number of a date (days since 1970-01-01).
M.days_from_civil = days_from_civil

-- The date of a day number: y, m, d.
local function civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end
--- civil_from_days(day) -> y, m, d: the date of a day number.
M.civil_from_days = civil_from_days

-- ISO weekday of a day number: 1 Monday .. 7 Sunday (1970-01-01 was a Thursday).
local function iso_weekday(z) return (z + 3) % 7 + 1 end

--- iso_week(day) -> ISO year, ISO week of a day number.
function M.iso_week(z)
  -- The week's Thursday decides its year.
  local thursday = z - iso_weekday(z) + 4
  local y = civil_from_days(thursday)
  local first = days_from_civil(y, 1, 1)
  return y, floor((thursday - first) / 7) + 1
end

--- epoch(time) -> UTC seconds since 1970 | nil, msg.  time is a number or
-- ISO 8601 text: "2026-12-07T09:33:04.1234567+00:00", "...Z", no zone = UTC.
function M.epoch(t)
  if type(t) == "number" then return t end
  if type(t) ~= "string" then return nil, "time must be a number or an ISO 8601 string" end
  local y, mo, d, rest = t:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil, "time " .. t .. " is not ISO 8601" end
  local h, mi, s, frac, zone = 0, 0, 0, nil, ""
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil, "time " .. t .. " is not ISO 8601" end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, tail2 = tail:match("^:(%d%d)(.*)$")
    if ss then s, tail = tonumber(ss), tail2 end
    frac, tail2 = tail:match("^[%.,](%d+)(.*)$")
    if frac then tail = tail2 end
    zone = tail
  end
  local offset = 0
  if zone == "Z" or zone == "z" or zone == "" then offset = 0
  else
    local sign, zh, zm = zone:match("^([%+%-])(%d%d):?(%d%d)$")
    if not sign then return nil, "time " .. t .. " has a zone that is not Z or +hh:mm" end
    offset = (tonumber(zh) * 3600 + tonumber(zm) * 60) * (sign == "-" and -1 or 1)
  end
  local secs = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + h * 3600 + mi * 60 + s - offset
  if frac then secs = secs + tonumber("0." .. frac) end
  return secs
end

--- iso(epoch) -> "YYYY-MM-DDThh:mm:ssZ" (UTC).
function M.iso(t)
  local z = floor(t / 86400)
  local y, m, d = civil_from_days(z)
  local s = floor(t) - z * 86400
  return string.format("%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, floor(s / 3600), floor(s / 60) % 60, s % 60)
end

-- The bucket of each rule for a time.
local BUCKET = {
  daily = function(z) return z end,
  weekly = function(z) local y, w = M.iso_week(z); return y * 100 + w end,
  monthly = function(z) local y, m = civil_from_days(z); return y * 100 + m end,
  yearly = function(z) return (civil_from_days(z)) end,
}

local function bad(field, msg)
  local ok, azrp = pcall(require, "azrp")
  local e = { kind = "invalid", code = "InvalidConfig", target = field, message = field .. ": " .. msg, retryable = false }
  if ok and azrp.error then return azrp.error(e) end
  return setmetatable(e, { __tostring = function(x) return x.message end })
end

--- check(policy [, field]) -> a copy of the policy with every rule a whole
-- number (0 when not given) | nil, err (kind "invalid", naming the field:
-- field .. ".daily", ...).  A policy that keeps nothing is refused.
function M.check(policy, field)
  field = field or "retention"
  if type(policy) ~= "table" then return nil, bad(field, "expected a table { keep_last, daily, weekly, monthly, yearly }") end
  local known = {}
  for _, k in ipairs(M.RULES) do known[k] = true end
  for k in pairs(policy) do
    if not known[k] then
      return nil, bad(field .. "." .. tostring(k), "unknown rule (known: " .. table.concat(M.RULES, ", ") .. ")")
    end
  end
  local out, any = {}, false
  for _, k in ipairs(M.RULES) do
    local v = policy[k]
    if v == nil then v = 0 end
    if type(v) ~= "number" or v ~= floor(v) or v < 0 or v > 100000 then
      return nil, bad(field .. "." .. k, "must be a whole number from 0 to 100000, not " .. tostring(v))
    end
    out[k] = v
    if v > 0 then any = true end
  end
  if not any then
    return nil, bad(field .. ".keep_last", "the policy keeps nothing (every rule is 0): set keep_last, daily, weekly, monthly or yearly")
  end
  return out
end

local TERMINAL_BAD = { Failed = true, Canceled = true }

--- apply(points, policy) -> { keep = { { point, rules } }, delete = { point },
-- rules = { [name] = rules }, newest_good = point | nil }; raises on a
-- malformed point or policy (check the policy first: a programmer's
-- mistake).
function M.apply(points, policy)
  if type(points) ~= "table" then error("retention.apply: points must be a list", 2) end
  local pol, perr = M.check(policy)
  if not pol then error("retention.apply: " .. tostring(perr), 2) end
  local list = {}
  for i, p in ipairs(points) do
    if type(p) ~= "table" or type(p.name) ~= "string" then error("retention.apply: point " .. i .. " has no name", 2) end
    local t, terr = M.epoch(p.time)
    if not t then error("retention.apply: point " .. p.name .. ": " .. terr, 2) end
    list[#list + 1] = { p = p, t = t, i = i }
  end
  -- Newest first; equal times by name (the same order on every run).
  table.sort(list, function(a, b)
    if a.t ~= b.t then return a.t > b.t end
    return a.p.name > b.p.name
  end)
  local rules = {}
  local function keep(x, rule)
    local r = rules[x.p.name]
    if not r then r = {}; rules[x.p.name] = r end
    for _, have in ipairs(r) do if have == rule then return end end
    r[#r + 1] = rule
  end
  local good = {}
  for _, x in ipairs(list) do
    local p = x.p
    local ok = p.state == "Succeeded" and p.replicated ~= false
    if ok then good[#good + 1] = x end
    if p.in_use then keep(x, "in_use") end
    if not ok and not TERMINAL_BAD[p.state] then keep(x, "in_flight") end
  end
  local newest = good[1]
  if newest then keep(newest, "newest_good") end
  for i = 1, math.min(pol.keep_last, #good) do keep(good[i], "keep_last") end
  for _, rule in ipairs({ "daily", "weekly", "monthly", "yearly" }) do
    local n, seen, count = pol[rule], {}, 0
    for _, x in ipairs(good) do
      if count >= n then break end
      local b = BUCKET[rule](floor(x.t / 86400))
      if not seen[b] then
        seen[b] = true
        count = count + 1
        keep(x, rule)
      end
    end
  end
  local out = { keep = {}, delete = {}, rules = rules, newest_good = newest and newest.p or nil }
  for _, x in ipairs(list) do
    if rules[x.p.name] then out.keep[#out.keep + 1] = { point = x.p, rules = rules[x.p.name] }
    else out.delete[#out.delete + 1] = x.p end
  end
  return out
end

return M
