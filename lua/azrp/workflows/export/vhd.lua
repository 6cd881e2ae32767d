--- azrp.workflows.export.vhd: the 512-byte footer of a fixed VHD, the
-- format of the blob behind a managed disk's SAS (the disk's bytes, then
-- the footer; diskSizeBytes leaves the footer out).
--
-- Layout (Microsoft's "Virtual Hard Disk Image Format Specification",
-- all numbers big-endian): cookie "conectix" (0), features (8), format
-- version 0x00010000 (12), data offset, all ones for a fixed disk (16),
-- timestamp, seconds since 2000-01-01 (24), creator application (28),
-- creator version (32), creator host OS (36), original size (40), current
-- size (48), disk geometry cylinders/heads/sectors (56), disk type, 2 =
-- fixed (60), checksum, the ones' complement of the sum of every other
-- byte (64), unique id (68), saved state (84), zeros to 512.
local M = {}

M.SIZE = 512
M.COOKIE = "conectix"

local function be(s, i, n)
  local v = 0
  for k = i, i + n - 1 do v = v * 256 + s:byte(k) end
  return v
end

local function put(v, n)
  local t = {}
  for k = n, 1, -1 do
    t[k] = string.char(v % 256)
    v = math.floor(v / 256)
  end
  return table.concat(t)
end

local function checksum(s)
  local sum = 0
  for i = 1, #s do
    if i < 65 or i > 68 then sum = sum + s:byte(i) end
  end
  return 0xFFFFFFFF - (sum % 0x100000000)
end

--- parse(bytes) -> { size, type, checksum_ok } | nil, why: a footer, or
-- nil when these 512 bytes are not one.
function M.parse(s)
  if type(s) ~= "string" or #s ~= M.SIZE then return nil, "not 512 bytes" end
  if s:sub(1, 8) ~= M.COOKIE then return nil, "no conectix cookie" end
  return { size = be(s, 49, 8), original_size = be(s, 41, 8), type = be(s, 61, 4),
    checksum_ok = be(s, 65, 4) == checksum(s) }
end

-- CHS geometry of a disk of total_sectors, as the specification's
-- appendix computes it.
local function geometry(total)
  local spt, heads, cyl_heads
  if total > 65535 * 16 * 255 then total = 65535 * 16 * 255 end
  if total >= 65535 * 16 * 63 then
    spt, heads = 255, 16
    cyl_heads = math.floor(total / spt)
  else
    spt = 17
    cyl_heads = math.floor(total / spt)
    heads = math.floor((cyl_heads + 1023) / 1024)
    if heads < 4 then heads = 4 end
    if cyl_heads >= heads * 1024 or heads > 16 then
      spt, heads = 31, 16
      cyl_heads = math.floor(total / spt)
    end
    if cyl_heads >= heads * 1024 then
      spt, heads = 63, 16
      cyl_heads = math.floor(total / spt)
    end
  end
  return math.floor(cyl_heads / heads), heads, spt
end

--- footer(size [, uuid16, now]) -> the 512 bytes of a fixed VHD footer for
-- a disk of size bytes (a multiple of 512).
function M.footer(size, uuid, now)
  local c, h, s = geometry(math.floor(size / 512))
  local stamp = math.max(0, math.floor((now or os.time()) - 946684800))
  local parts = { M.COOKIE, put(2, 4), put(0x00010000, 4), string.rep("\255", 8), put(stamp, 4), "azrp",
    put(0x00010000, 4), "Wi2k", put(size, 8), put(size, 8), put(c, 2), string.char(h, s), put(2, 4),
    put(0, 4), uuid or string.rep("\0", 16), "\0" }
  local f = table.concat(parts)
  f = f .. string.rep("\0", M.SIZE - #f)
  return f:sub(1, 64) .. put(checksum(f), 4) .. f:sub(69)
end

return M
