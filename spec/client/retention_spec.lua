-- azrp.retention: grandfather-father-son retention of restore points,
-- checked against a computation of this spec's own (os.date's calendar,
-- not the module's), on a year of daily points and on the edge cases.
local retention = require "azrp.retention"

local DAY = 86400
-- 2026-01-01T00:00:00Z
local T0 = 1767225600

-- The spec's own calendar: os.date("!*t") on whole seconds (Lua 5.3+
-- refuses a float), and the ISO week from the day of the year and the
-- weekday (ISO 8601's rule: the week of a day is the week of its Thursday).
local function fields(t) return os.date("!*t", math.floor(t)) end
local function is_leap(y) return (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0 end
local function iso_week_key(t)
  local f = fields(t)
  local wday = (f.wday + 5) % 7 + 1           -- Monday 1 .. Sunday 7
  local week = math.floor((f.yday - wday + 10) / 7)
  local year = f.year
  if week < 1 then
    year = year - 1
    local dec31 = fields(t - f.yday * DAY)     -- the last day of the year before
    local w31 = (dec31.wday + 5) % 7 + 1
    week = math.floor((dec31.yday - w31 + 10) / 7)
  elseif week == 53 then
    local days = is_leap(year) and 366 or 365
    if f.yday - wday + 4 > days then year, week = year + 1, 1 end   -- that Thursday is next year's
  end
  return string.format("%04d-W%02d", year, week)
end
local KEY = {
  daily = function(t) local f = fields(t); return string.format("%04d-%02d-%02d", f.year, f.month, f.day) end,
  weekly = iso_week_key,
  monthly = function(t) local f = fields(t); return string.format("%04d-%02d", f.year, f.month) end,
  yearly = function(t) return tostring(fields(t).year) end,
}

-- The expected survivors: { name = { rule = true } }.
local function expected(points, policy)
  local good = {}
  for _, p in ipairs(points) do
    if p.state == "Succeeded" and p.replicated ~= false then good[#good + 1] = p end
  end
  table.sort(good, function(a, b) return a.time > b.time end)
  local keep = {}
  local function mark(p, rule) keep[p.name] = keep[p.name] or {}; keep[p.name][rule] = true end
  if good[1] then mark(good[1], "newest_good") end
  for i = 1, math.min(policy.keep_last or 0, #good) do mark(good[i], "keep_last") end
  for rule, key in pairs(KEY) do
    local groups, order = {}, {}
    for _, p in ipairs(good) do
      local k = key(p.time)
      if not groups[k] then groups[k] = p; order[#order + 1] = k end   -- newest first: the first is the newest
    end
    table.sort(order, function(a, b) return a > b end)
    for i = 1, math.min(policy[rule] or 0, #order) do mark(groups[order[i]], rule) end
  end
  for _, p in ipairs(points) do
    if p.in_use then mark(p, "in_use") end
    if p.state ~= "Succeeded" and p.state ~= "Failed" and p.state ~= "Canceled" then mark(p, "in_flight") end
    if p.state == "Succeeded" and p.replicated == false then mark(p, "in_flight") end
  end
  return keep
end

local function got(r)
  local out = {}
  for _, k in ipairs(r.keep) do
    out[k.point.name] = {}
    for _, rule in ipairs(k.rules) do out[k.point.name][rule] = true end
  end
  return out
end

-- A year of daily points, at a different hour each day.
local function year_of_points(days, start)
  local pts = {}
  for i = 0, days - 1 do
    local t = (start or T0) + i * DAY + (i * 7919) % DAY
    pts[#pts + 1] = { name = string.format("rp-%03d", i), time = t, state = "Succeeded", replicated = true }
  end
  return pts
end

describe("azrp.retention", function()
  it("computes the calendar as os.date does, without os.date", function()
    for i = -800, 4000, 7 do
      local t = T0 + i * DAY + 3600 * (i % 24)
      local z = math.floor(t / DAY)
      local y, m, d = retention.civil_from_days(z)
      local f = fields(t)
      assert.are.same({ f.year, f.month, f.day }, { y, m, d })
      assert.are.equal(z, retention.days_from_civil(y, m, d))
      local iy, iw = retention.iso_week(z)
      assert.are.equal(iso_week_key(t), string.format("%04d-W%02d", iy, iw), os.date("!%Y-%m-%d", math.floor(t)))
    end
    -- Known ISO weeks: 2020-12-31 is 2020-W53, 2021-01-03 is 2020-W53, 2024-12-30 is 2025-W01.
    assert.are.same({ 2020, 53 }, { retention.iso_week(retention.days_from_civil(2020, 12, 31)) })
    assert.are.same({ 2020, 53 }, { retention.iso_week(retention.days_from_civil(2021, 1, 3)) })
    assert.are.same({ 2025, 1 }, { retention.iso_week(retention.days_from_civil(2024, 12, 30)) })
  end)

  it("reads Azure's times: fractions, Z, offsets, no zone; and writes them back", function()
    assert.are.equal(T0, retention.epoch("2026-01-01T00:00:00Z"))
    assert.are.equal(T0, retention.epoch("2026-01-01T00:00:00+00:00"))
    assert.are.equal(T0, retention.epoch("2026-01-01T01:00:00+01:00"))
    assert.are.equal(T0, retention.epoch("2025-12-31T19:00:00-05:00"))
    assert.are.equal(T0 + 0.5, retention.epoch("2026-01-01T00:00:00.5000000+00:00"))
    assert.are.equal(T0 + 61, retention.epoch("2026-01-01T00:01:01"))
    assert.are.equal("2026-01-01T00:00:00Z", retention.iso(T0))
    assert.are.equal(T0 + 12345, retention.epoch(retention.iso(T0 + 12345)))
    assert.is_nil((retention.epoch("yesterday")))
    assert.is_nil((retention.epoch("2026-01-01T00:00:00 CET")))
  end)

  it("keeps a year of daily points as an independent computation does", function()
    local pts = year_of_points(365)
    for _, policy in ipairs({ { keep_last = 3, daily = 7, weekly = 4, monthly = 12, yearly = 2 },
        { daily = 30 }, { weekly = 52 }, { monthly = 6, yearly = 1 }, { keep_last = 1 }, { keep_last = 400 },
        { keep_last = 2, weekly = 3 } }) do
      local r = retention.apply(pts, policy)
      local want = expected(pts, policy)
      assert.are.same(want, got(r))
      local n = 0
      for _ in pairs(want) do n = n + 1 end
      assert.are.equal(#pts, #r.keep + #r.delete)
      assert.are.equal(n, #r.keep)
    end
    -- The full policy: 3 last ones (inside the 7 days), 7 days, 4 weeks (3 new
    -- beyond the days), 12 months (the newest of each), a year.
    local r = retention.apply(pts, { keep_last = 3, daily = 7, weekly = 4, monthly = 12, yearly = 2 })
    assert.are.same({ "newest_good", "keep_last", "daily", "weekly", "monthly", "yearly" }, r.keep[1].rules)
    assert.are.equal("rp-364", r.newest_good.name)
    assert.is_true(#r.keep >= 7 + 3 + 11 - 2 and #r.keep <= 7 + 3 + 11, #r.keep .. " kept")
  end)

  it("treats times as UTC whatever the offset they are written with", function()
    -- 23:30 UTC on Jan 1 written as 00:30+01:00 on Jan 2: still Jan 1.
    local pts = { { name = "a", time = "2026-01-02T00:30:00+01:00", state = "Succeeded" },
      { name = "b", time = "2026-01-01T10:00:00Z", state = "Succeeded" },
      { name = "c", time = "2026-01-02T08:00:00Z", state = "Succeeded" } }
    local r = retention.apply(pts, { daily = 2 })
    assert.are.same({ c = { newest_good = true, daily = true }, a = { daily = true } }, got(r))
    assert.are.equal("b", r.delete[1].name)
  end)

  it("does not age points out when the runs pause: the newest N days that hold points count", function()
    local pts = year_of_points(5)
    local r = retention.apply(pts, { daily = 3 })
    assert.are.same({ "rp-004", "rp-003", "rp-002" }, { r.keep[1].point.name, r.keep[2].point.name, r.keep[3].point.name })
  end)

  it("never deletes the newest good point; a Failed or replicating newer one is not good", function()
    local pts = year_of_points(3)
    pts[#pts + 1] = { name = "rp-failed", time = T0 + 10 * DAY, state = "Failed" }
    pts[#pts + 1] = { name = "rp-repl", time = T0 + 11 * DAY, state = "Succeeded", replicated = false }
    local r = retention.apply(pts, { keep_last = 1 })
    assert.are.same({ ["rp-repl"] = { in_flight = true }, ["rp-002"] = { newest_good = true, keep_last = true } }, got(r))
    local deleted = {}
    for _, p in ipairs(r.delete) do deleted[#deleted + 1] = p.name end
    assert.are.same({ "rp-failed", "rp-001", "rp-000" }, deleted)
    -- Only failed points: nothing good, the failed ones go.
    r = retention.apply({ { name = "x", time = T0, state = "Failed" } }, { keep_last = 5 })
    assert.are.equal(0, #r.keep)
    assert.is_nil(r.newest_good)
  end)

  it("keeps a point in use as a copy's source, and one being created", function()
    local pts = year_of_points(4)
    pts[1].in_use = true
    pts[#pts + 1] = { name = "rp-new", time = T0 + 9 * DAY, state = "Creating" }
    local r = retention.apply(pts, { keep_last = 1 })
    assert.are.same({ ["rp-000"] = { in_use = true }, ["rp-new"] = { in_flight = true },
      ["rp-003"] = { newest_good = true, keep_last = true } }, got(r))
    assert.are.equal(2, #r.delete)
  end)

  it("keep_last 1 keeps exactly one good point", function()
    local r = retention.apply(year_of_points(30), { keep_last = 1 })
    assert.are.equal(1, #r.keep)
    assert.are.equal(29, #r.delete)
    assert.are.equal("rp-029", r.keep[1].point.name)
  end)

  it("refuses a policy that keeps nothing, or a bad rule, naming the field", function()
    for _, case in ipairs({
      { {}, "retention.keep_last", "keeps nothing" },
      { { keep_last = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0 }, "retention.keep_last", "keeps nothing" },
      { { daily = -1 }, "retention.daily", "whole number" },
      { { weekly = 1.5 }, "retention.weekly", "whole number" },
      { { monthly = "3" }, "retention.monthly", "whole number" },
      { { hourly = 3 }, "retention.hourly", "unknown rule" },
    }) do
      local p, err = retention.check(case[1])
      assert.is_nil(p)
      assert.are.equal("invalid", err.kind)
      assert.are.equal(case[2], err.target)
      assert.matches(case[3], err.message, 1, true)
      assert.matches("^" .. case[2]:gsub("%.", "%%."), tostring(err.message))
    end
    assert.are.same({ keep_last = 0, daily = 7, weekly = 0, monthly = 0, yearly = 0 }, retention.check{ daily = 7 })
    assert.has_error(function() retention.apply({}, {}) end)
    assert.has_error(function() retention.apply({ { name = "x", time = "soon", state = "Succeeded" } }, { daily = 1 }) end)
  end)

  it("orders equal times by name, so that every run decides the same", function()
    local pts = { { name = "b", time = T0, state = "Succeeded" }, { name = "a", time = T0, state = "Succeeded" } }
    local r1 = retention.apply(pts, { keep_last = 1 })
    local r2 = retention.apply({ pts[2], pts[1] }, { keep_last = 1 })
    assert.are.equal("b", r1.keep[1].point.name)
    assert.are.equal("b", r2.keep[1].point.name)
  end)
end)
