--- azrp.journal: the on-disk record of a workflow run, for resume and cleanup.
--
--     local journal = require "azrp.journal"
--     local j = assert(journal.create(journal.state_dir(), run_id, meta))
--     j:append{ type = "intent", key = "disk:os", kind = "disk", id = ID }  -- on disk when it returns
--     j:close()
--     local j2 = assert(journal.open(journal.state_dir(), run_id))        -- j2.records, j2.meta
--
-- A run lives in <state_dir>/runs/<run-id>/: meta.json (the workflow, its
-- config, the state, written whole by rename) and journal.jsonl (one JSON
-- record a line, appended and fsync'ed before the caller goes on, so that
-- an intent is on disk before the request it announces is sent).  A crash
-- can cut the last line short: open() drops it and rewrites the file.
-- A lock file (lfs.lock, an fcntl lock the kernel releases when the
-- process dies) keeps two processes from driving one run.
local lfs = require "lfs"
local json = require "cjson.safe"
local azrp = require "azrp"

local M = {}
local Journal = {}
Journal.__index = Journal

local function err(code, fmt, ...)
  return azrp.error{ kind = "journal", code = code, message = string.format(fmt, ...), retryable = false }
end

--- The state folder: opts.state_dir, else $XDG_STATE_HOME/azrp, else
-- ~/.local/state/azrp.  getenv defaults to os.getenv.
function M.state_dir(dir, getenv)
  if dir and dir ~= "" then return dir end
  getenv = getenv or os.getenv
  local xdg = getenv("XDG_STATE_HOME")
  if xdg and xdg ~= "" then return xdg .. "/azrp" end
  local home = getenv("HOME")
  if not home or home == "" then return nil, err("NoStateDir", "neither --state-dir, XDG_STATE_HOME nor HOME is set") end
  return home .. "/.local/state/azrp"
end

-- mkdir -p.  (A journal holds resource ids and the config, never a
-- secret: the workflow's config is checked for those before it is saved.)
local function mkdirs(path)
  local sofar = path:sub(1, 1) == "/" and "" or "."
  for part in path:gmatch("[^/]+") do
    sofar = sofar .. "/" .. part
    if lfs.attributes(sofar, "mode") ~= "directory" then
      local ok, e = lfs.mkdir(sofar)
      if not ok and lfs.attributes(sofar, "mode") ~= "directory" then
        return nil, err("StateDir", "cannot create %s: %s", sofar, tostring(e))
      end
    end
  end
  return true
end

--- Is s a valid run id (letters, digits, '-', '_', '.'; no path)?
function M.valid_id(s)
  return type(s) == "string" and #s > 0 and #s <= 100 and s:match("^[%w][%w%-_%.]*$") ~= nil
end

local function run_dir(state_dir, run_id)
  return state_dir .. "/runs/" .. run_id
end

-- Writes path whole: to path.tmp, fsync, rename.
local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, e = io.open(tmp, "wb")
  if not f then return nil, err("Write", "cannot write %s: %s", tmp, tostring(e)) end
  f:write(text)
  local ok, ferr = azrp.host.fsync(f)
  f:close()
  if not ok then os.remove(tmp); return nil, err("Write", "%s: %s", tmp, tostring(ferr)) end
  local rok, rerr = os.rename(tmp, path)
  if not rok then return nil, err("Write", "cannot rename %s: %s", tmp, tostring(rerr)) end
  return true
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- Takes the run's lock, or says who holds it.
local function lock(dir)
  local path = dir .. "/lock"
  local f, e = io.open(path, "a+")
  if not f then return nil, err("Lock", "cannot open %s: %s", path, tostring(e)) end
  local ok = lfs.lock(f, "w")
  if not ok then
    f:close()
    return nil, err("RunInProgress", "the run in %s is being driven by another process", dir)
  end
  return f
end

--- create(state_dir, run_id, meta) -> journal | nil, err.  The run's folder
-- must not exist yet (run ids are unique).
function M.create(state_dir, run_id, meta)
  if not M.valid_id(run_id) then error("journal.create: invalid run id " .. tostring(run_id), 2) end
  local dir = run_dir(state_dir, run_id)
  if lfs.attributes(dir, "mode") then return nil, err("RunExists", "a run %s already exists in %s", run_id, dir) end
  local ok, e = mkdirs(dir)
  if not ok then return nil, e end
  local self = setmetatable({ dir = dir, run_id = run_id, state_dir = state_dir, records = {}, seq = 0 }, Journal)
  self.lockf, e = lock(dir)
  if not self.lockf then return nil, e end
  self.meta = meta or {}
  self.meta.run_id = run_id
  ok, e = self:save_meta()
  if not ok then self:close(); return nil, e end
  self.file, e = io.open(dir .. "/journal.jsonl", "ab")
  if not self.file then self:close(); return nil, err("Write", "cannot open the journal: %s", tostring(e)) end
  return self
end

--- open(state_dir, run_id [, opts]) -> journal | nil, err: reads meta and
-- every record; takes the lock unless opts.read_only.
function M.open(state_dir, run_id, opts)
  opts = opts or {}
  if not M.valid_id(run_id) then
    return nil, err("InvalidRunId", "run id %q is not a run id (letters, digits, -, _ and .)", tostring(run_id))
  end
  local dir = run_dir(state_dir, run_id)
  local meta_text = read_file(dir .. "/meta.json")
  if not meta_text then return nil, err("NoSuchRun", "no run %s in %s", run_id, state_dir .. "/runs") end
  local meta = json.decode(meta_text)
  if type(meta) ~= "table" then return nil, err("Corrupt", "%s/meta.json is not JSON", dir) end
  local self = setmetatable({ dir = dir, run_id = run_id, state_dir = state_dir, meta = meta, records = {}, seq = 0 }, Journal)
  if not opts.read_only then
    local e
    self.lockf, e = lock(dir)
    if not self.lockf then return nil, e end
  end
  local text = read_file(dir .. "/journal.jsonl") or ""
  local good, cut = 0, false
  for line, nl in text:gmatch("([^\n]*)(\n?)") do
    if line == "" and nl == "" then break end
    local rec = nl == "\n" and json.decode(line)
    if type(rec) ~= "table" then cut = true; break end
    self.records[#self.records + 1] = rec
    good = good + #line + 1
  end
  self.seq = #self.records
  if cut and not opts.read_only then
    -- The last write was cut short: keep the records before it.
    local ok, e = write_file(dir .. "/journal.jsonl", text:sub(1, good))
    if not ok then self:close(); return nil, e end
    self.dropped = true
  end
  if not opts.read_only then
    local e
    self.file, e = io.open(dir .. "/journal.jsonl", "ab")
    if not self.file then self:close(); return nil, err("Write", "cannot open the journal: %s", tostring(e)) end
  end
  return self
end

--- append(record) -> true | nil, err: one line, on disk when it returns.
function Journal:append(rec)
  if not self.file then error("journal:append: the journal is read-only or closed", 2) end
  self.seq = self.seq + 1
  rec.seq = self.seq
  rec.t = rec.t or azrp.wall()
  local line, e = json.encode(rec)
  if not line then error("journal:append: " .. tostring(e), 2) end
  local ok, werr = self.file:write(line, "\n")
  if ok then ok, werr = azrp.host.fsync(self.file) end
  if not ok then return nil, err("Write", "cannot write the journal: %s", tostring(werr)) end
  self.records[#self.records + 1] = rec
  return true
end

--- save_meta() -> true | nil, err: meta.json written whole.
function Journal:save_meta()
  local text = json.encode(self.meta)
  return write_file(self.dir .. "/meta.json", text .. "\n")
end

--- A file path inside the run's folder (the report goes there).
function Journal:path(name) return self.dir .. "/" .. name end

function Journal:close()
  if self.file then self.file:close(); self.file = nil end
  if self.lockf then lfs.unlock(self.lockf); self.lockf:close(); self.lockf = nil end
end
Journal.__close = Journal.close

--- list(state_dir) -> { meta, ... } of every run, newest first.
function M.list(state_dir)
  local runs = state_dir .. "/runs"
  local out = {}
  if lfs.attributes(runs, "mode") ~= "directory" then return out end
  for name in lfs.dir(runs) do
    if M.valid_id(name) then
      local meta = json.decode(read_file(runs .. "/" .. name .. "/meta.json") or "")
      if type(meta) == "table" then out[#out + 1] = meta end
    end
  end
  table.sort(out, function(a, b)
    local ta, tb = tonumber(a.created_at) or 0, tonumber(b.created_at) or 0
    if ta ~= tb then return ta > tb end
    return tostring(a.run_id) > tostring(b.run_id)
  end)
  return out
end

--- A short random hex string (n bytes from /dev/urandom), for run ids and
-- resource names that must not collide across runs started in one second.
function M.random_hex(n)
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(n or 3)
  if f then f:close() end
  if not bytes or #bytes < (n or 3) then
    -- No /dev/urandom: the clock and the pid, still distinct per process.
    bytes = tostring(azrp.wall()) .. tostring(azrp.host.pid())
    local h = 0
    for i = 1, #bytes do h = (h * 31 + bytes:byte(i)) % 4294967296 end
    return string.format("%0" .. (2 * (n or 3)) .. "x", h % (256 ^ (n or 3)))
  end
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

--- new_id(prefix) -> "drill-20261206T192000-a1b2c3"
function M.new_id(prefix)
  return prefix .. "-" .. os.date("!%Y%m%dT%H%M%S") .. "-" .. M.random_hex(3)
end

M.Journal = Journal
return M
