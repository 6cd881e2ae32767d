--- azrp.report.markdown: a cleaned report (azrp.report.clean) as Markdown
-- for a ticket or a pull request: title, summary, steps, resources, and a
-- warning naming what was left behind.
local M = {}

local NBSP = "\194\160"

-- One line of text: line breaks become spaces, other control characters
-- U+FFFD (a terminal or a renderer would act on them).
local function line(s)
  return (tostring(s):gsub("[\r\n]+", " "):gsub("%c", function(c)
    return c == "\t" and " " or "\239\191\189"
  end))
end

-- Text safe in a paragraph and in a table cell: one line, Markdown's
-- punctuation escaped.  '_' only where it could open emphasis, so that
-- step names like restore_disks stay readable in the raw text.
local function esc(s)
  s = line(s)
  s = s:gsub("[\\`*%[%]<>|~]", "\\%0")
  -- '&' only where it would start an entity reference (&amp; &#38;)
  s = s:gsub("&(#?%w+;)", "\\&%1")
  local out, n = {}, #s
  for i = 1, n do
    local c = s:sub(i, i)
    if c == "_" and not (s:sub(i - 1, i - 1):find("^%w") and s:sub(i + 1, i + 1):find("^%w")) then
      c = "\\_"
    end
    out[i] = c
  end
  return table.concat(out)
end

-- A code span that holds s whatever backticks s holds (CommonMark 6.1).
local function code(s)
  s = line(s)
  local longest = 0
  for run in s:gmatch("`+") do
    if #run > longest then longest = #run end
  end
  local fence = string.rep("`", longest + 1)
  if longest > 0 or s:find("^ ") then s = " " .. s .. " " end
  return fence .. s .. fence
end

local function secs(s)
  if type(s) ~= "number" or s ~= s then return "–" end
  if s == math.floor(s) and s < 1e15 then return string.format("%.0f", s) end
  if s >= 100 then return string.format("%.0f", s) end
  if s >= 10 then return string.format("%.1f", s) end
  if s >= 1 then return string.format("%.2f", s) end
  return string.format("%.3f", s)
end

local function duration(s)
  if type(s) ~= "number" or s ~= s then return "?" end
  if s < 60 then return secs(s) .. " s" end
  local whole = math.floor(s + 0.5)
  local h, m, sec = math.floor(whole / 3600), math.floor(whole % 3600 / 60), whole % 60
  if h > 0 then return string.format("%dh %02dm %02ds", h, m, sec) end
  return string.format("%dm %02ds", m, sec)
end

local function number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "?" end
  if x == math.floor(x) and math.abs(x) < 1e15 then return string.format("%.0f", x) end
  return string.format("%.4g", x)
end

local function utc(t)
  if type(t) ~= "number" or t ~= t or math.abs(t) > 1e12 then return nil end
  return os.date("!%Y-%m-%d %H:%M:%S", math.floor(t)) .. " UTC"
end

-- "rpo_seconds" -> "RPO", "copy_wait_seconds" -> "copy wait".
local function figure(name, value)
  local label, is_time = name:gsub("_seconds$", "")
  if #label <= 3 then label = label:upper() else label = label:gsub("_", " ") end
  if type(value) ~= "number" then return esc(label) .. " " .. esc(tostring(value)) end
  return esc(label) .. " " .. (is_time > 0 and duration(value) or number(value))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

-- The figures a drill is run for first, then the others by name.
local HEADLINE = { rpo_seconds = 1, rto_seconds = 2 }

local function figure_keys(t)
  local keys = sorted_keys(t)
  table.sort(keys, function(a, b)
    local ha, hb = HEADLINE[a] or 3, HEADLINE[b] or 3
    if ha ~= hb then return ha < hb end
    return a < b
  end)
  return keys
end

local function scale_of(r)
  local s = r.time_scale
  if type(s) == "number" and s > 0 and s ~= 1 then return s end
  return nil
end

local function step_state(s)
  if type(s.state) == "string" then return s.state end
  if s.ok == true then return "done" end
  if s.ok == false then return "failed" end
  return "?"
end

local function summary(r, out)
  local state = type(r.state) == "string" and r.state or (r.ok and "succeeded" or "failed")
  local parts = { "**" .. esc(state) .. "**" }
  if type(r.seconds) == "number" then
    local d = duration(r.seconds)
    local scale = scale_of(r)
    if scale then d = d .. " (" .. duration(r.seconds / scale) .. " emulated)" end
    parts[#parts + 1] = "in " .. d
  end
  if type(r.exit_code) == "number" then parts[#parts + 1] = "exit code " .. number(r.exit_code) end
  if type(r.figures) == "table" then
    for _, k in ipairs(figure_keys(r.figures)) do parts[#parts + 1] = figure(k, r.figures[k]) end
  end
  out[#out + 1] = table.concat(parts, " · ")
  out[#out + 1] = ""
  local started, ended = utc(r.started_at), utc(r.ended_at)
  if started then
    out[#out + 1] = "Started " .. started .. (ended and ", ended " .. ended or "") .. "."
    out[#out + 1] = ""
  end
  local scale = scale_of(r)
  if scale then
    out[#out + 1] = "Run against the emulator at time scale " .. number(scale) ..
      ": seconds are wall seconds; emulated seconds = wall / " .. number(scale) .. "."
    out[#out + 1] = ""
  end
  local e = r.error
  if type(e) == "table" then
    local head = {}
    if e.kind then head[#head + 1] = code(e.kind) end
    if e.code then head[#head + 1] = code(e.code) end
    if type(e.status) == "number" then head[#head + 1] = "(HTTP " .. number(e.status) .. ")" end
    out[#out + 1] = "**Error:** " .. table.concat(head, " ") .. (e.message and ": " .. esc(e.message) or "")
    out[#out + 1] = ""
  elseif e ~= nil then
    out[#out + 1] = "**Error:** " .. esc(e)
    out[#out + 1] = ""
  end
  if type(r.target) == "table" and next(r.target) then
    out[#out + 1] = "Target:"
    out[#out + 1] = ""
    for _, k in ipairs(sorted_keys(r.target)) do
      local v = r.target[k]
      if type(v) ~= "table" then out[#out + 1] = "- " .. esc(k) .. ": " .. code(v) end
    end
    out[#out + 1] = ""
  end
end

local function step_rows(list, depth, scale, out)
  for _, s in ipairs(list) do
    if type(s) == "table" then
      local name = esc(s.name or "?")
      if depth > 0 then name = string.rep(NBSP .. NBSP, depth - 1) .. "↳ " .. name end
      local state = step_state(s)
      -- a step that never ran has no time to show, whatever zero it carries
      local seconds = state ~= "skipped" and s.seconds or nil
      local row = { name, esc(state), secs(seconds) }
      if scale then
        row[#row + 1] = type(seconds) == "number" and duration(seconds / scale) or "–"
      end
      row[#row + 1] = s.error ~= nil and esc(s.error) or ""
      out[#out + 1] = "| " .. table.concat(row, " | ") .. " |"
      if type(s.substeps) == "table" then step_rows(s.substeps, depth + 1, scale, out) end
    end
  end
end

local function steps(r, out)
  out[#out + 1] = "## Steps"
  out[#out + 1] = ""
  if type(r.steps) ~= "table" or #r.steps == 0 then
    out[#out + 1] = "No steps ran."
    out[#out + 1] = ""
    return
  end
  local scale = scale_of(r)
  if scale then
    out[#out + 1] = "| Step | State | Seconds | Emulated | Error |"
    out[#out + 1] = "|---|---|---:|---:|---|"
  else
    out[#out + 1] = "| Step | State | Seconds | Error |"
    out[#out + 1] = "|---|---|---:|---|"
  end
  step_rows(r.steps, 0, scale, out)
  out[#out + 1] = ""
end

local function resource_name(res)
  if res.name ~= nil then return res.name end
  if type(res.id) == "string" then return res.id:match("([^/]+)/*$") or res.id end
  return "?"
end

local function resources(r, out)
  out[#out + 1] = "## Resources"
  out[#out + 1] = ""
  if type(r.resources) ~= "table" or #r.resources == 0 then
    out[#out + 1] = "No resources were created."
    out[#out + 1] = ""
    return
  end
  out[#out + 1] = "| Kind | Name | State |"
  out[#out + 1] = "|---|---|---|"
  for _, res in ipairs(r.resources) do
    if type(res) == "table" then
      out[#out + 1] = "| " .. esc(res.kind or "?") .. " | " .. esc(resource_name(res)) .. " | " ..
        esc(res.state or "?") .. " |"
    end
  end
  out[#out + 1] = ""
end

-- What may still exist in the subscription, and cost money, after the run.
local function left_behind(r, out)
  local left = {}
  for _, res in ipairs(type(r.resources) == "table" and r.resources or {}) do
    if type(res) == "table" and (res.state == "left" or res.state == "unverified") then left[#left + 1] = res end
  end
  if #left == 0 then return end
  out[#out + 1] = "## ⚠ Left behind"
  out[#out + 1] = ""
  out[#out + 1] = "> **Warning:** " .. #left .. (#left == 1 and " resource" or " resources") ..
    " may still exist and cost money. Delete " .. (#left == 1 and "it" or "them") ..
    " by hand, or run the workflow's cleanup again."
  out[#out + 1] = ""
  for _, res in ipairs(left) do
    local line = "- " .. esc(res.kind or "resource") .. " " .. code(resource_name(res)) .. " — " .. esc(res.state)
    if res.step ~= nil then line = line .. " (step " .. esc(res.step) .. ")" end
    if res.error ~= nil then line = line .. ": " .. esc(res.error) end
    out[#out + 1] = line
    if res.id ~= nil then out[#out + 1] = "  " .. code(res.id) end
  end
  out[#out + 1] = ""
end

--- render(r) -> r as Markdown text, ending in a newline.
-- What a workflow reports besides figures (report.<name> in its data):
-- a value, or a list of resources ({ name, id }).
local function details(r, out)
  if type(r.details) ~= "table" or next(r.details) == nil then return end
  out[#out + 1] = "## Details"
  out[#out + 1] = ""
  for _, k in ipairs(sorted_keys(r.details)) do
    local v = r.details[k]
    if type(v) ~= "table" then
      out[#out + 1] = "- " .. esc(k) .. ": " .. code(v)
    else
      out[#out + 1] = "- " .. esc(k) .. ":"
      for _, x in ipairs(v) do
        if type(x) == "table" then
          out[#out + 1] = "  - " .. esc(x.name or x.id or "?") .. (x.id and x.name and (" " .. code(x.id)) or "")
        else
          out[#out + 1] = "  - " .. code(x)
        end
      end
    end
  end
  out[#out + 1] = ""
end

function M.render(r)
  local out = {}
  out[#out + 1] = "# " .. esc(r.workflow or "workflow") .. " run " .. esc(r.run_id or "?")
  out[#out + 1] = ""
  summary(r, out)
  steps(r, out)
  resources(r, out)
  details(r, out)
  left_behind(r, out)
  return table.concat(out, "\n")
end

return M
