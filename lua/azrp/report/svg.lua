--- azrp.report.svg: a cleaned report (azrp.report.clean) as a standalone
-- SVG Gantt chart: one row per step and substep, bars in proportion to
-- time on a common axis in seconds, coloured by state; hovering a bar
-- shows its name, state, seconds and error.
local M = {}

M.WIDTH = 960

local PAD = 16
local LABEL_W = 250          -- the names' column
local RIGHT = 64             -- room for the seconds after the last bar
local TOP = 64               -- title and subtitle
local STEP_H, SUB_H = 24, 20
local INDENT = 14
local AXIS_H, LEGEND_H = 44, 28
local CHAR_W = 6.6           -- a 12px sans-serif character, about

local COLOURS = {
  done = "#2e7d32",
  failed = "#c62828",
  skipped = "#9e9e9e",
  interrupted = "#ef6c00",
}
local OTHER = "#1565c0"
local LEGEND = { "done", "failed", "interrupted", "skipped" }

-- XML 1.0 text: no control characters (not even escaped), no U+FFFE/FFFF,
-- markup characters as entities.  Strings are valid UTF-8 already.
local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }

local function xml(s)
  s = tostring(s):gsub("%c", function(c)
    if c == "\t" or c == "\n" or c == "\r" then return " " end
    return "\239\191\189"
  end)
  s = s:gsub("\239\191[\190\191]", "\239\191\189")
  return (s:gsub("[&<>\"']", ENTITIES))
end

-- s cut to n characters (not bytes: UTF-8 sequences stay whole).
local function truncate(s, n)
  s = tostring(s)
  local count, cut = 0, nil
  for pos in s:gmatch("()[^\128-\191][\128-\191]*") do
    count = count + 1
    if count == n then cut = pos end
    if count > n then return s:sub(1, cut - 1) .. "…" end
  end
  return s
end

local function f1(x) return string.format("%.1f", x) end

local function secs(s)
  if s == math.floor(s) and s < 1e15 then return string.format("%.0f s", s) end
  if s >= 100 then return string.format("%.0f s", s) end
  if s >= 10 then return string.format("%.1f s", s) end
  if s >= 1 then return string.format("%.2f s", s) end
  return string.format("%.3f s", s)
end

local function duration(s)
  if s < 60 then return secs(s) end
  local whole = math.floor(s + 0.5)
  local h, m, sec = math.floor(whole / 3600), math.floor(whole % 3600 / 60), whole % 60
  if h > 0 then return string.format("%dh %02dm %02ds", h, m, sec) end
  return string.format("%dm %02ds", m, sec)
end

local function num(x) return type(x) == "number" and x == x and x > -math.huge and x < math.huge end

local function state_of(s)
  if type(s.state) == "string" then return s.state end
  if s.ok == true then return "done" end
  if s.ok == false then return "failed" end
  return "?"
end

-- The rows, depth first, each with its bar's start and end where known:
-- a step without timestamps but with seconds follows the previous one.
local function layout(list, depth, cursor, rows, group)
  for _, s in ipairs(list) do
    if type(s) == "table" then
      local start, stop = s.started, s.ended
      if not num(start) then start = nil end
      if not num(stop) then stop = nil end
      local seconds = num(s.seconds) and s.seconds or nil
      if not start and stop and seconds then start = stop - seconds end
      if not start and cursor and seconds and s.state ~= "skipped" then start = cursor end
      if start and not stop and seconds then stop = start + seconds end
      if start and stop and stop < start then stop = start end
      if depth == 0 then
        rows.steps = (rows.steps or 0) + 1
        group = rows.steps
      end
      rows[#rows + 1] = { step = s, depth = depth, start = start, stop = stop, group = group,
        seconds = seconds or (start and stop and stop - start) or nil }
      if type(s.substeps) == "table" then layout(s.substeps, depth + 1, start, rows, group) end
      cursor = stop or cursor
    end
  end
  return rows
end

local function span_of(r, rows)
  local t0, t1 = num(r.started_at) and r.started_at or nil, num(r.ended_at) and r.ended_at or nil
  for _, row in ipairs(rows) do
    if row.start and (not t0 or row.start < t0) then t0 = row.start end
    if row.stop and (not t1 or row.stop > t1) then t1 = row.stop end
  end
  if not t0 then return 0, 1 end
  if not t1 or t1 <= t0 then
    t1 = t0 + (num(r.seconds) and r.seconds > 0 and r.seconds or 1)
  end
  return t0, t1 - t0
end

-- A 1, 2 or 5 times a power of ten that cuts span into at most 10 parts.
local function tick_step(span)
  local raw = span / 10
  local p = 10 ^ math.floor(math.log(raw) / math.log(10))
  for _, m in ipairs{ 1, 2, 5, 10 } do
    if m * p >= raw then return m * p end
  end
  return 10 * p
end

local function tick_label(v, step)
  -- Decimals for the step; %d, not concatenation: LuaJIT's math.max(0, -0)
  -- is -0, which would make the format "%.-0f".
  local d = -math.floor(math.log(step) / math.log(10) + 1e-9)
  if d < 1 then d = 0 end
  return string.format(string.format("%%.%df s", d), v)
end

--- render(r) -> r's timeline as SVG text, ending in a newline.
function M.render(r)
  local rows = layout(type(r.steps) == "table" and r.steps or {}, 0, num(r.started_at) and r.started_at or nil, {})
  local t0, span = span_of(r, rows)
  local x0, x1 = PAD + LABEL_W, M.WIDTH - PAD - RIGHT
  local cw = x1 - x0
  local function x(t) return x0 + (t - t0) / span * cw end

  local rows_h = 0
  for _, row in ipairs(rows) do
    row.y = TOP + rows_h
    row.h = row.depth == 0 and STEP_H or SUB_H
    rows_h = rows_h + row.h
  end
  if #rows == 0 then rows_h = STEP_H end
  local axis_y = TOP + rows_h + 4
  local height = math.floor(axis_y + AXIS_H + LEGEND_H + PAD + 0.5)

  local out = {}
  local function add(s) out[#out + 1] = s end
  add('<?xml version="1.0" encoding="UTF-8"?>')
  add(string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" ' ..
    'font-family="sans-serif" font-size="12">', M.WIDTH, height, M.WIDTH, height))
  local title = tostring(r.workflow or "workflow") .. " · " .. tostring(r.run_id or "?")
  add("<title>" .. xml(title) .. "</title>")
  add(string.format('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', M.WIDTH, height))

  -- Title and subtitle.
  local state = type(r.state) == "string" and r.state or (r.ok and "succeeded" or "failed")
  local sub = { state }
  if num(r.seconds) and r.seconds >= 0 then
    local d = duration(r.seconds)
    if num(r.time_scale) and r.time_scale > 0 and r.time_scale ~= 1 then
      d = d .. " (" .. duration(r.seconds / r.time_scale) .. " emulated)"
    end
    sub[#sub + 1] = d
  end
  if num(r.started_at) and math.abs(r.started_at) < 1e12 then
    sub[#sub + 1] = "started " .. os.date("!%Y-%m-%d %H:%M:%S UTC", math.floor(r.started_at))
  end
  add(string.format('<text x="%d" y="26" font-size="16" font-weight="bold">%s</text>', PAD, xml(truncate(title, 110))))
  add(string.format('<text x="%d" y="46" fill="%s">%s</text>', PAD,
    COLOURS[state == "succeeded" and "done" or state] or "#424242", xml(table.concat(sub, " · "))))

  -- Bands for every other step with its substeps, so groups read as one.
  for _, row in ipairs(rows) do
    if row.group % 2 == 0 then
      add(string.format('<rect x="0" y="%s" width="%d" height="%d" fill="#f4f6f8"/>', f1(row.y), M.WIDTH, row.h))
    end
  end

  -- Grid and axis.
  local step = tick_step(span)
  add('<g stroke="#dddddd" stroke-width="1">')
  local ticks = {}
  for k = 0, math.floor(span / step + 1e-9) do
    local v = k * step
    ticks[#ticks + 1] = v
    add(string.format('<line x1="%s" y1="%d" x2="%s" y2="%s"/>', f1(x(t0 + v)), TOP, f1(x(t0 + v)), f1(axis_y)))
  end
  add("</g>")
  add(string.format('<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#616161" stroke-width="1"/>',
    x0, f1(axis_y), x1, f1(axis_y)))
  add(string.format('<g fill="#424242" font-size="11" text-anchor="middle">'))
  for _, v in ipairs(ticks) do
    add(string.format('<text x="%s" y="%s">%s</text>', f1(x(t0 + v)), f1(axis_y + 15), xml(tick_label(v, step))))
  end
  add("</g>")
  local caption = "seconds since start"
  if num(r.time_scale) and r.time_scale > 0 and r.time_scale ~= 1 then
    caption = caption .. string.format(" (wall; emulated = wall / %g)", r.time_scale)
  end
  add(string.format('<text x="%s" y="%s" fill="#616161" font-size="11" text-anchor="middle">%s</text>',
    f1(x0 + cw / 2), f1(axis_y + 32), xml(caption)))

  -- The rows.
  for _, row in ipairs(rows) do
    local s = row.step
    local st = state_of(s)
    local colour = COLOURS[st] or OTHER
    local tip = { tostring(s.name or "?"), st }
    if row.seconds then tip[#tip + 1] = secs(row.seconds) end
    if s.error ~= nil then tip[#tip + 1] = tostring(s.error) end
    local lx = PAD + row.depth * INDENT
    local max_chars = math.floor((LABEL_W - row.depth * INDENT - 8) / CHAR_W)
    local mid = row.y + row.h / 2 + 4
    add("<g>")
    add("<title>" .. xml(table.concat(tip, " · ")) .. "</title>")
    add(string.format('<text x="%d" y="%s"%s>%s</text>', lx, f1(mid),
      row.depth == 0 and ' font-weight="bold"' or ' fill="#424242"',
      xml(truncate((row.depth > 0 and "↳ " or "") .. tostring(s.name or "?"), max_chars))))
    if row.start and row.stop then
      local bx = x(row.start)
      local bw = math.max(2, x(row.stop) - bx)
      local bh = row.h - 8
      add(string.format('<rect x="%s" y="%s" width="%s" height="%d" rx="2" fill="%s"%s/>', f1(bx), f1(row.y + 4),
        f1(bw), bh, colour, row.depth > 0 and ' fill-opacity="0.7"' or ""))
      if row.seconds then
        local label = secs(row.seconds)
        if bx + bw + 4 + #label * CHAR_W <= M.WIDTH - PAD then
          add(string.format('<text x="%s" y="%s" fill="#424242" font-size="11">%s</text>', f1(bx + bw + 4), f1(mid),
            xml(label)))
        else
          add(string.format('<text x="%s" y="%s" fill="#ffffff" font-size="11" text-anchor="end">%s</text>',
            f1(bx + bw - 4), f1(mid), xml(label)))
        end
      end
    else
      add(string.format('<text x="%d" y="%s" fill="%s" font-style="italic">%s</text>', x0 + 4, f1(mid), colour, xml(st)))
    end
    add("</g>")
  end
  if #rows == 0 then
    add(string.format('<text x="%d" y="%d" fill="#616161" font-style="italic">no steps ran</text>', x0 + 4, TOP + 16))
  end

  -- Legend.
  local ly = axis_y + AXIS_H + 8
  local lx = x0
  for _, name in ipairs(LEGEND) do
    add(string.format('<rect x="%d" y="%s" width="12" height="12" rx="2" fill="%s"/>', lx, f1(ly), COLOURS[name]))
    add(string.format('<text x="%d" y="%s">%s</text>', lx + 18, f1(ly + 10), name))
    lx = lx + 18 + math.floor(#name * CHAR_W) + 24
  end
  add("</svg>")
  return table.concat(out, "\n") .. "\n"
end

return M
