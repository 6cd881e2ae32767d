--- azrp.report: a workflow run's report as report.json, report.md and
-- timeline.svg.
--
--     local report = require "azrp.report"
--     local paths, err = report.write("runs/" .. r.run_id, r)
--     io.write(report.render(r, "markdown"))
--
-- r is a table:
--   workflow, run_id     "dr_drill", "drill-20261206T192000-a1b2c3"
--   state, ok, exit_code "succeeded" | "failed" | "interrupted" | "cleaned", bool, int
--   error                nil | { kind, code, message, status } (an azrp error will do)
--   started_at, ended_at epoch seconds; seconds: the run's duration
--   time_scale           the emulator's (emulated seconds = wall / time_scale); 1 on Azure
--   figures              { rpo_seconds = n, rto_seconds = n, <name> = n ... }
--   steps                { { name, started, ended, seconds, ok, error,
--                            state = "done" | "failed" | "skipped" | "interrupted",
--                            substeps = { same shape } } }
--   resources            { { kind, id, name, step, error,
--                            state = "created" | "deleted" | "kept" | "left" | "unverified" } }
--   target               { vm_id = ..., ... }
-- Other fields are kept (in the JSON).  Every format renders a cleaned
-- copy of r (clean() below): a report is meant to be attached to a
-- ticket, so nothing in it may look like a secret.
local core = require "azrp.core"

local M = {}

local RENDERERS = {
  json = "azrp.report.json",
  markdown = "azrp.report.markdown",
  svg = "azrp.report.svg",
}

-- In the order write() writes them.
local FILES = { { "json", "report.json" }, { "markdown", "report.md" }, { "svg", "timeline.svg" } }

-- A field whose key holds one of these words is dropped, whatever its
-- value.  Over-eager on purpose ("assignment" holds "sig"): a field lost
-- from a report costs less than a secret in one.
local SECRET_WORDS = { "secret", "token", "assertion", "password", "sig" }

local function secret_key(k)
  if type(k) ~= "string" then return false end
  k = k:lower()
  for _, w in ipairs(SECRET_WORDS) do
    if k:find(w, 1, true) then return true end
  end
  return false
end

--- secret_key(k) -> true when a field named k is dropped from reports.
M.secret_key = secret_key

-- Valid UTF-8 only (each invalid byte becomes U+FFFD), so that neither an
-- SVG parser nor a JSON reader refuses the report for one odd byte in an
-- error message.
local REPLACEMENT = "\239\191\189"

local function valid_utf8(s)
  if not s:find("[\128-\255]") then return s end
  local out, i, n = {}, 1, #s
  while i <= n do
    local c = s:byte(i)
    local len, lo, hi = 0, 0x80, 0xBF
    if c < 0x80 then
      len = 1
    elseif c >= 0xC2 and c <= 0xDF then
      len = 2
    elseif c >= 0xE0 and c <= 0xEF then
      len = 3
      -- no overlong forms, no UTF-16 surrogates
      if c == 0xE0 then lo = 0xA0 elseif c == 0xED then hi = 0x9F end
    elseif c >= 0xF0 and c <= 0xF4 then
      len = 4
      -- no overlong forms, nothing past U+10FFFF
      if c == 0xF0 then lo = 0x90 elseif c == 0xF4 then hi = 0x8F end
    end
    local ok = len > 0 and i + len - 1 <= n
    if ok and len > 1 then
      local c2 = s:byte(i + 1)
      ok = c2 >= lo and c2 <= hi
      for j = i + 2, i + len - 1 do
        if not ok then break end
        local cj = s:byte(j)
        ok = cj >= 0x80 and cj <= 0xBF
      end
    end
    if ok then
      out[#out + 1] = s:sub(i, i + len - 1)
      i = i + len
    else
      out[#out + 1] = REPLACEMENT
      i = i + 1
    end
  end
  return table.concat(out)
end

-- key=value and key%3Dvalue (a URL inside a URL) pairs whose key looks
-- like a secret get their value replaced: a client_secret in a form body
-- quoted by an error, a SAS URL's sig= URL-encoded into another.  (A URL
-- itself is the core's to redact: core.redact.)  The scan goes on right
-- after each '=' so that a pair hidden in another pair's value is found
-- too.
local function redact_pairs(s)
  local out, pos = {}, 1
  while true do
    local a1, b1, k1 = s:find("([%w_%.%-]+)=", pos)
    local a2, b2, k2 = s:find("([%w_%.%-]+)%%3[dD]", pos)
    local b, key, encoded
    if a2 and (not a1 or a2 < a1) then
      b, key, encoded = b2, k2, true
    elseif a1 then
      b, key = b1, k1
    else
      break
    end
    local vend = s:find("[&%s\"'<>#;,]", b + 1) or #s + 1
    if encoded then
      -- the inner value ends at an encoded '&' or '#'
      local e1, e2 = s:find("%%26", b + 1), s:find("%%23", b + 1)
      if e1 and e1 < vend then vend = e1 end
      if e2 and e2 < vend then vend = e2 end
    end
    out[#out + 1] = s:sub(pos, b)
    if secret_key(key) and vend > b + 1 then
      out[#out + 1] = "REDACTED"
      pos = vend
    else
      pos = b + 1
    end
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

-- A string as it may appear in a report.
local function scrub(s)
  s = valid_utf8(s)
  -- every URL: user-info, and query values but api-version (SAS sig=)
  s = core.redact(s)
  s = redact_pairs(s)
  -- Authorization: Bearer <token>
  s = s:gsub("([Bb][Ee][Aa][Rr][Ee][Rr]%s+)[%w%-%._~%+/]+=*", "%1REDACTED")
  -- a JWT (access token, client assertion) wherever it shows
  s = s:gsub("eyJ[%w_%-]+%.[%w_%-]+%.?[%w_%-]*", "REDACTED")
  return s
end

--- redact(s) -> s with secret-looking parts (URLs as core.redact leaves
-- them, secret-named pairs, bearer tokens, JWTs) replaced by REDACTED,
-- and made valid UTF-8.
M.redact = scrub

local function clean(v, state, path)
  local t = type(v)
  if t == "string" then return scrub(v) end
  if t == "number" or t == "boolean" then return v end
  if t == "table" then
    if state.open[v] then
      state.cycle = state.cycle or path
      return nil
    end
    state.open[v] = true
    local out = {}
    for k, x in pairs(v) do
      local kt = type(k)
      if (kt == "string" and not secret_key(k)) or kt == "number" then
        local key = kt == "string" and valid_utf8(k) or k
        out[key] = clean(x, state, path .. "." .. tostring(key))
      end
    end
    state.open[v] = nil
    return out
  end
  -- An error object of the core or of a library: its message, redacted.
  local mt = getmetatable(v)
  if t == "userdata" and type(mt) == "table" and mt.__tostring then return scrub(tostring(v)) end
  return nil   -- functions, threads, bare userdata: nothing to show
end

--- clean(r) -> a copy of r fit for a report: fields whose key looks like
-- a secret dropped, strings redacted and made valid UTF-8, functions and
-- bare userdata dropped.
function M.clean(r)
  if type(r) ~= "table" then error("azrp.report.clean: the report must be a table, got " .. type(r), 2) end
  local state = { open = {} }
  local out = clean(r, state, "r")
  if state.cycle then error("azrp.report: the report holds a cycle at " .. state.cycle, 2) end
  return out
end

local function renderer(fmt)
  local name = RENDERERS[fmt]
  if not name then return nil end
  return require(name)
end

--- render(r, fmt) -> the report as a string; fmt is "json", "markdown" or "svg".
function M.render(r, fmt)
  if type(r) ~= "table" then error("azrp.report.render: the report must be a table, got " .. type(r), 2) end
  local mod = renderer(fmt)
  if not mod then
    error("azrp.report.render: unknown format " .. tostring(fmt) .. " (json, markdown or svg)", 2)
  end
  local state = { open = {} }
  local c = clean(r, state, "r")
  if state.cycle then error("azrp.report.render: the report holds a cycle at " .. state.cycle, 2) end
  return mod.render(c)
end

local function quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- mkdir -p, from the standard library alone: os.execute.  Success is read
-- back by writing into dir, not from os.execute's result, which differs
-- between Lua 5.1 and 5.2+.
local function mkdir_p(dir)
  os.execute("mkdir -p -- " .. quote(dir) .. " 2>/dev/null")
end

local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then
    os.remove(tmp)
    return nil, tostring(werr or cerr)
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then
    os.remove(tmp)
    return nil, rerr
  end
  return true
end

--- write(dir, r) -> { json = path, markdown = path, svg = path } | nil, err.
-- dir is created when missing; each file is written to <file>.tmp and
-- renamed over the old one, so a reader never sees half a report.
function M.write(dir, r)
  if type(dir) ~= "string" or dir == "" then
    error("azrp.report.write: dir must be a non-empty string, got " .. type(dir), 2)
  end
  if type(r) ~= "table" then error("azrp.report.write: the report must be a table, got " .. type(r), 2) end
  local state = { open = {} }
  local c = clean(r, state, "r")
  if state.cycle then error("azrp.report.write: the report holds a cycle at " .. state.cycle, 2) end
  -- All three rendered before anything is written: a renderer's failure
  -- leaves the last good report in place.
  local texts = {}
  for _, f in ipairs(FILES) do texts[f[1]] = renderer(f[1]).render(c) end
  local base = dir:gsub("/+$", "")
  if base == "" then base = "/" end
  local sep = base == "/" and "" or "/"
  local paths = {}
  for i, f in ipairs(FILES) do
    local path = base .. sep .. f[2]
    local ok, err = write_file(path, texts[f[1]])
    if not ok and i == 1 then
      mkdir_p(base)
      ok, err = write_file(path, texts[f[1]])
    end
    if not ok then return nil, "azrp.report.write: cannot write " .. path .. ": " .. tostring(err) end
    paths[f[1]] = path
  end
  return paths
end

return M
