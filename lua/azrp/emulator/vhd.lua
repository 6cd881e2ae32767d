-- The 512-byte footer of a fixed VHD: what Azure appends to a managed
-- disk's bytes in the page blob behind its SAS (the blob is diskSizeBytes
-- + 512 bytes long; diskSizeBytes leaves the footer out).
--
-- Written from Microsoft's "Virtual Hard Disk Image Format Specification"
-- (all numbers big-endian), independently of the client's parser
-- (azrp.workflows.export.vhd): the emulator shares no code with the client.
--
--   offset size field
--        0    8 cookie "conectix"
--        8    4 features (2: reserved, always set)
--       12    4 file format version 0x00010000
--       16    8 data offset, all ones for a fixed disk
--       24    4 time stamp, seconds since 2000-01-01 00:00:00 UTC
--       28    4 creator application ("wa": Windows Azure)
--       32    4 creator version
--       36    4 creator host OS ("Wi2k")
--       40    8 original size
--       48    8 current size
--       56    4 disk geometry: cylinders (2), heads (1), sectors/track (1)
--       60    4 disk type (2: fixed)
--       64    4 checksum: ones' complement of the sum of all other bytes
--       68   16 unique id
--       84    1 saved state
--       85  427 zeros
local M = {}

M.SIZE = 512
M.COOKIE = "conectix"
M.CREATOR_APP = "wa\0\0"
M.CREATOR_VERSION = 0x00070000
M.CREATOR_OS = "Wi2k"
M.FIXED = 2
local EPOCH_2000 = 946684800

local function u32(v) return string.pack(">I4", v) end
local function u64(v) return string.pack(">I8", v) end

-- CHS geometry of a disk of `sectors` 512-byte sectors, by the algorithm
-- of the specification's appendix.
function M.geometry(sectors)
  sectors = math.min(sectors, 65535 * 16 * 255)
  local spt, heads, cth
  if sectors >= 65535 * 16 * 63 then
    spt, heads = 255, 16
    cth = sectors // spt
  else
    spt = 17
    cth = sectors // spt
    heads = math.max((cth + 1023) // 1024, 4)
    if cth >= heads * 1024 or heads > 16 then
      spt, heads = 31, 16
      cth = sectors // spt
    end
    if cth >= heads * 1024 then
      spt, heads = 63, 16
      cth = sectors // spt
    end
  end
  return cth // heads, heads, spt
end

-- Ones' complement of the byte sum, the checksum field counted as zeros.
function M.checksum(footer)
  local sum = 0
  for i = 1, #footer do
    if i < 65 or i > 68 then sum = sum + footer:byte(i) end
  end
  return ~sum & 0xFFFFFFFF
end

-- The 16 bytes of a GUID string ("xxxxxxxx-xxxx-..."), in its text order;
-- nil when s is not one.
function M.guid_bytes(s)
  if type(s) ~= "string" then return nil end
  local hex = s:gsub("[{}%-]", "")
  if #hex ~= 32 or hex:find("%X") then return nil end
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- Seconds since 1970 of an ISO 8601 UTC time as ARM writes them
-- ("2026-12-07T09:33:05.1234567+00:00" or "...Z"); nil when s is not one.
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- Days from civil (Howard Hinnant's algorithm), no os.time: that one
  -- reads local time.
  y = mo <= 2 and y - 1 or y
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (mo > 2 and mo - 3 or mo + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
end

-- footer{ size, unique_id (16 bytes), time (seconds since 1970) } -> the
-- 512 bytes of a fixed VHD footer for a disk of size bytes.
function M.footer(o)
  if type(o) ~= "table" then error("vhd.footer needs a table", 2) end
  local size = o.size
  if math.type(size) ~= "integer" or size <= 0 or size % 512 ~= 0 then
    error("vhd.footer: size must be a positive multiple of 512", 2)
  end
  local uid = o.unique_id or string.rep("\0", 16)
  if type(uid) ~= "string" or #uid ~= 16 then error("vhd.footer: unique_id must be 16 bytes", 2) end
  local c, h, s = M.geometry(size // 512)
  local stamp = math.max(0, math.floor((o.time or EPOCH_2000) - EPOCH_2000)) & 0xFFFFFFFF
  local f = table.concat{
    M.COOKIE, u32(2), u32(0x00010000), string.rep("\255", 8), u32(stamp),
    M.CREATOR_APP, u32(M.CREATOR_VERSION), M.CREATOR_OS, u64(size), u64(size),
    string.pack(">I2BB", c, h, s), u32(M.FIXED), u32(0), uid, "\0",
  }
  f = f .. string.rep("\0", M.SIZE - #f)
  return f:sub(1, 64) .. u32(M.checksum(f)) .. f:sub(69)
end

-- parse(bytes) -> { size, original_size, type, unique_id, creator, time,
-- checksum_ok } or nil, why: reads a footer back (specs; the admin API).
function M.parse(s)
  if type(s) ~= "string" or #s ~= M.SIZE then return nil, "not 512 bytes" end
  if s:sub(1, 8) ~= M.COOKIE then return nil, "no conectix cookie" end
  local stamp = string.unpack(">I4", s, 25)
  return {
    original_size = string.unpack(">I8", s, 41), size = string.unpack(">I8", s, 49),
    type = string.unpack(">I4", s, 61), unique_id = s:sub(69, 84), creator = s:sub(29, 32),
    time = stamp + EPOCH_2000, checksum_ok = string.unpack(">I4", s, 65) == M.checksum(s),
  }
end

return M
