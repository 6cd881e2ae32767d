-- Emulated time.
--
-- Every nominal duration in the emulator ("a restore point takes 30 s") goes
-- through scale(), so `--time-scale 0.01` turns a ten-minute copy into six
-- seconds without changing any other logic.  now() is wall-clock seconds
-- (fractional) and is what timestamps and token expiry use.
local M = {}
M.__index = M

local function default_now()
  local ok, cqueues = pcall(require, "cqueues")
  if ok then
    local base_wall, base_mono = os.time(), cqueues.monotime()
    return function() return base_wall + (cqueues.monotime() - base_mono) end
  end
  return os.time
end

function M.new(opts)
  opts = opts or {}
  local self = setmetatable({}, M)
  self.factor = opts.time_scale or 1
  self.source = opts.now or default_now()
  self.offset = 0
  return self
end

function M:now() return self.source() + self.offset end

-- Real seconds for a nominal duration.
function M:scale(nominal) return nominal * self.factor end

-- Moves emulated time forward (admin API; lets a test expire a SAS or a
-- token without sleeping).
function M:advance(seconds) self.offset = self.offset + seconds end

-- RFC 3339 / ISO 8601 in UTC with 7 fractional digits, as ARM writes them.
function M.iso(t)
  local whole = math.floor(t)
  local frac = math.floor((t - whole) * 1e7)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%07d+00:00", frac)
end

-- RFC 1123, for the Date header.
function M.http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(t))
end

return M
