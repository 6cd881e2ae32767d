-- Deterministic pseudo-random disk content, fast: what the admin API's
-- POST /_emulator/disks/{id}/fill writes, so that a test or a benchmark
-- can give a disk gigabytes of data that do not compress, dedupe or
-- repeat, and know them again from the seed alone.
--
-- The byte at disk offset X is byte X of the AES-128-CTR keystream whose
-- key is the first 16 bytes of SHA-256("azrp-fill\n" .. seed) and whose
-- counter block for bytes [16k, 16k + 16) is k (128-bit big-endian): the
-- same bytes at the same place whatever the layout of the extents.  AES
-- through OpenSSL makes about 7 GB/s of it on one core (a fill of 1 GiB
-- takes about 1.2 s, most of it storing the blocks).
local cipher = require "openssl.cipher"
local digest = require "openssl.digest"
local content = require "azrp.emulator.content"

local M = {}

local BLOCK = content.BLOCK_SIZE
local SECTOR = content.SECTOR_SIZE
M.MAX_EXTENTS = 1000000

local function key_of(seed)
  return digest.new("sha256"):final("azrp-fill\n" .. tostring(seed)):sub(1, 16)
end

local function stream_at(seed, offset)
  return cipher.new("aes-128-ctr"):encrypt(key_of(seed), string.pack(">I8I8", 0, offset // 16))
end

local zero_block
local function zeros(n)
  if n == BLOCK then
    zero_block = zero_block or string.rep("\0", BLOCK)
    return zero_block
  end
  return string.rep("\0", n)
end

-- The bytes fill writes at [offset, offset + length) for seed (offset a
-- multiple of 16): what a test expects to read back.
function M.bytes(seed, offset, length)
  if math.type(offset) ~= "integer" or offset % 16 ~= 0 then error("fill.bytes: offset must be a multiple of 16", 2) end
  return stream_at(seed, offset):update(zeros(length))
end

local function int_field(body, name, required)
  local v = body[name]
  if v == nil and not required then return true, nil end
  local n = type(v) == "number" and math.tointeger(v)
  if not n then return false, name .. " must be an integer" end
  return true, n
end

-- Checks a fill request against a disk of size bytes: returns the plan
-- { extents, length, seed, start, stride } or nil, message, field.
function M.plan(body, size)
  if type(body) ~= "table" then return nil, "the body must be a JSON object", "body" end
  local fields = {}
  for _, f in ipairs{ { "extents", true }, { "length", true }, { "start" }, { "stride" } } do
    local ok, v = int_field(body, f[1], f[2])
    if not ok then return nil, v, f[1] end
    fields[f[1]] = v
  end
  local seed = body.seed
  if type(seed) == "number" then seed = math.tointeger(seed) end
  if type(seed) ~= "string" and math.type(seed) ~= "integer" then
    return nil, "seed must be an integer or a string", "seed"
  end
  local n, length = fields.extents, fields.length
  local start = fields.start or 0
  if n < 1 or n > M.MAX_EXTENTS then return nil, "extents must be from 1 to " .. M.MAX_EXTENTS, "extents" end
  if length < SECTOR or length % SECTOR ~= 0 then
    return nil, "length must be a positive multiple of 512", "length"
  end
  if start < 0 or start % SECTOR ~= 0 then return nil, "start must be a non-negative multiple of 512", "start" end
  local stride = fields.stride
  if stride == nil then
    -- Spread evenly over what follows start.
    stride = n > 1 and ((size - start) // n) // SECTOR * SECTOR or length
    if stride < length then
      return nil, string.format("%d extents of %d bytes do not fit in the %d bytes after start", n, length,
        size - start), "extents"
    end
  elseif stride < length or stride % SECTOR ~= 0 then
    return nil, "stride must be a multiple of 512 and at least length (extents do not overlap)", "stride"
  end
  if start + (n - 1) * stride + length > size then
    return nil, string.format("the last extent would end at %d, past the disk's %d bytes",
      start + (n - 1) * stride + length, size), "extents"
  end
  return { extents = n, length = length, seed = seed, start = start, stride = stride }
end

-- Writes the plan's extents into c (a writable content); returns the list
-- of { offset, length } written.
function M.fill(c, plan)
  local out = {}
  for i = 0, plan.extents - 1 do
    local offset = plan.start + i * plan.stride
    local stop = offset + plan.length
    local ks = stream_at(plan.seed, offset)
    local pos = offset
    while pos < stop do
      local n = math.min(BLOCK - pos % BLOCK, stop - pos)
      assert(c:write(pos, ks:update(zeros(n))))
      pos = pos + n
    end
    out[#out + 1] = { offset = offset, length = plan.length }
  end
  return out
end

return M
