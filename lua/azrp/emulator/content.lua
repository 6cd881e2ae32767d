-- The block content of an emulated managed disk.
--
-- It stands in for what a guest writes, so that tests can prove a restore is
-- byte-exact.  A disk is a sparse map from block index to a BLOCK_SIZE string;
-- a block nobody wrote reads as zeros and costs nothing.  Lua strings are
-- immutable, so a snapshot is a copy of the map alone (copy-on-write falls out
-- of replacing a block's string on write) and a restore shares every block
-- with its source.
--
-- Every stored block is a full BLOCK_SIZE string, even the last one of a disk
-- whose size is not a multiple of it: the bytes past the end are zeros nobody
-- can reach, and growing a disk then needs no padding.
local digest = require "openssl.digest"
local util = require "azrp.emulator.util"

local M = {}

M.BLOCK_SIZE = 64 * 1024
M.SECTOR_SIZE = 512

local BLOCK = M.BLOCK_SIZE
-- Zero runs are hashed in pieces of this size: big enough that the per-call
-- cost vanishes, small enough to stay in the CPU cache.
local ZERO_RUN = 1024 * 1024

local zero_block, zero_run

local function zeros_block()
  zero_block = zero_block or string.rep("\0", BLOCK)
  return zero_block
end

local function zeros_run()
  zero_run = zero_run or string.rep("\0", ZERO_RUN)
  return zero_run
end

-- Integers may arrive as floats (cjson decodes every number as one).
local function check_int(v, what, level)
  local n = type(v) == "number" and math.tointeger(v)
  if not n then
    error(string.format("%s must be an integer, got %s", what, tostring(v)), level or 3)
  end
  return n
end

local function check_size(size, level)
  size = check_int(size, "size", level)
  if size <= 0 or size % M.SECTOR_SIZE ~= 0 then
    error(string.format("size must be a positive multiple of %d, got %d",
      M.SECTOR_SIZE, size), level or 3)
  end
  return size
end

-- Bytes of block i that lie inside a disk of `size` bytes.
local function block_len(size, i)
  return math.min(BLOCK, size - i * BLOCK)
end

---------------------------------------------------------------------------
-- Reading: shared by writable contents and snapshots ("views").
-- A view has size, version, _blocks, _cell, and caches _keys (sorted block
-- indices).  _cell is a table shared by every view known to hold the same
-- bytes (a content and its snapshots until the next write, a disk made
-- from a view of the same size): the SHA-256 computed for one of them is
-- kept there, so it is computed once for all (hashing a disk reads every
-- zero of it: about 0.6 s per GiB).
---------------------------------------------------------------------------
local View = {}

-- Caches are filled in lazily, also on snapshots, whose proxies refuse
-- assignment (see new_snapshot).
local function set_cache(view, k, v)
  local mt = getmetatable(view)
  local fields = rawget(mt, "fields")
  if fields then fields[k] = v else rawset(view, k, v) end
end

-- Sorted indices of the stored blocks.  The array is rebuilt, never changed
-- in place, so a snapshot may share it with the content it came from.
local function sorted_keys(view)
  local keys = view._keys
  if keys then return keys end
  keys = {}
  for i in pairs(view._blocks) do keys[#keys + 1] = i end
  table.sort(keys)
  set_cache(view, "_keys", keys)
  return keys
end

-- Returns the bytes [offset, offset + length), clamped at the end of the
-- disk; nil, err when offset lies outside it.
function View:read(offset, length)
  offset = check_int(offset, "offset")
  length = check_int(length, "length")
  if length < 0 then error("length must not be negative", 2) end
  if offset < 0 or offset > self.size then
    return nil, string.format("offset %d is outside the disk (%d bytes)", offset, self.size)
  end
  local stop = math.min(offset + length, self.size)
  if stop == offset then return "" end
  local pieces = {}
  for i = offset // BLOCK, (stop - 1) // BLOCK do
    local base = i * BLOCK
    local from, to = math.max(offset, base) - base, math.min(stop, base + BLOCK) - base
    local b = self._blocks[i] or zeros_block()
    pieces[#pieces + 1] = (from == 0 and to == BLOCK) and b or b:sub(from + 1, to)
  end
  return table.concat(pieces)
end

local function feed_zeros(d, n)
  local run = zeros_run()
  while n >= ZERO_RUN do
    d:update(run)
    n = n - ZERO_RUN
  end
  if n > 0 then d:update(run:sub(1, n)) end
end

local function digest_view(view)
  local d = digest.new("sha256")
  local pos = 0
  for _, i in ipairs(sorted_keys(view)) do
    local base = i * BLOCK
    feed_zeros(d, base - pos)
    local len = block_len(view.size, i)
    local b = view._blocks[i]
    d:update(len == BLOCK and b or b:sub(1, len))
    pos = base + len
  end
  feed_zeros(d, view.size - pos)
  return util.hex(d:final())
end

-- Digests of all-zero views by size: fresh disks of the usual sizes are
-- hashed once per process.
local zero_sha = {}

-- Lowercase hex SHA-256 of all size bytes, zeros included; cached until the
-- next write, and shared with every view that holds the same bytes.
function View:sha256()
  local cell = self._cell
  if not cell.sha then
    if next(self._blocks) == nil then
      zero_sha[self.size] = zero_sha[self.size] or digest_view(self)
      cell.sha = zero_sha[self.size]
    else
      cell.sha = digest_view(self)
    end
  end
  return cell.sha
end

-- Byte ranges { first = a, last = b } (inclusive, 512-aligned) of the stored
-- blocks within [offset, offset + length), adjacent ones merged, as Azure's
-- Get Page Ranges lists them.  The window is widened to whole sectors and
-- the ranges are clipped to it.  nil, err when offset lies outside the disk.
function View:page_ranges(offset, length)
  offset = check_int(offset or 0, "offset")
  length = check_int(length or (self.size - offset), "length")
  if length < 0 then error("length must not be negative", 2) end
  if offset < 0 or offset > self.size then
    return nil, string.format("offset %d is outside the disk (%d bytes)", offset, self.size)
  end
  local lo = offset - offset % M.SECTOR_SIZE
  local hi = math.min(offset + length, self.size)   -- exclusive
  hi = hi + (-hi) % M.SECTOR_SIZE
  local out = {}
  if length == 0 then return out end
  for _, i in ipairs(sorted_keys(self)) do
    local first = math.max(i * BLOCK, lo)
    local stop = math.min(i * BLOCK + block_len(self.size, i), hi)
    if first < stop then
      local prev = out[#out]
      if prev and prev.last + 1 == first then
        prev.last = stop - 1
      else
        out[#out + 1] = { first = first, last = stop - 1 }
      end
    end
  end
  return out
end

-- Bytes actually held (whole blocks, the last one cut at the disk's end).
function View:stored_bytes()
  return self._stored
end

local function count_stored(blocks, size)
  local n = 0
  for i in pairs(blocks) do n = n + block_len(size, i) end
  return n
end

local function copy_blocks(blocks)
  local out = {}
  for i, b in pairs(blocks) do out[i] = b end
  return out
end

---------------------------------------------------------------------------
-- Snapshots: immutable point-in-time views.
---------------------------------------------------------------------------
local Snapshot = setmetatable({}, { __index = View })

local function immutable() error("a content snapshot is immutable", 2) end

-- A snapshot is an empty proxy, so that every assignment to it raises; its
-- fields live in its metatable, where the caches may still be filled in.
local function new_snapshot(fields)
  return setmetatable({}, {
    fields = fields,
    __index = function(_, k)
      local v = fields[k]
      if v == nil then v = Snapshot[k] end
      return v
    end,
    __newindex = immutable,
  })
end

local function is_snapshot(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__newindex == immutable
end

-- A snapshot of a snapshot is itself: nothing can change under it.
function Snapshot:snapshot() return self end

---------------------------------------------------------------------------
-- Writable contents.
---------------------------------------------------------------------------
local Content = setmetatable({}, { __index = View })
Content.__index = Content

local function new_content(size, blocks)
  return setmetatable({ size = size, version = 0, _blocks = blocks,
    _stored = count_stored(blocks, size), _cell = {} }, Content)
end

-- A zero-filled disk of size bytes (a positive multiple of 512).
function M.new(size)
  return new_content(check_size(size), {})
end

function Content:_store(i, data)
  if not self._blocks[i] then
    self._stored = self._stored + block_len(self.size, i)
    self._keys = nil
  end
  self._blocks[i] = data
end

-- The new string of block i with data placed at [from, to) inside it.
local function patched_block(old, from, to, piece)
  if from == 0 and to == BLOCK then return piece end
  old = old or zeros_block()
  return old:sub(1, from) .. piece .. old:sub(to + 1)
end

-- Writes data at offset (any alignment); nil, err if it would not fit.
function Content:write(offset, data)
  offset = check_int(offset, "offset")
  if type(data) ~= "string" then
    error("data must be a string, got " .. type(data), 2)
  end
  local stop = offset + #data
  if offset < 0 or stop > self.size then
    return nil, string.format("a write of %d bytes at offset %d does not fit in the disk (%d bytes)",
      #data, offset, self.size)
  end
  if #data == 0 then return true end
  for i = offset // BLOCK, (stop - 1) // BLOCK do
    local base = i * BLOCK
    local from, to = math.max(offset, base) - base, math.min(stop, base + BLOCK) - base
    local piece = data:sub(base + from - offset + 1, base + to - offset)
    self:_store(i, patched_block(self._blocks[i], from, to, piece))
  end
  self.version = self.version + 1
  self._cell = {}   -- other bytes now: no longer shared with any view
  return true
end

-- An immutable view of the content as it is now.  Costs one table entry per
-- stored block; the blocks themselves are shared.
function Content:snapshot()
  return new_snapshot{
    size = self.size, version = self.version, _blocks = copy_blocks(self._blocks),
    _keys = self._keys, _stored = self._stored, _cell = self._cell,
  }
end

local function is_view(v)
  return getmetatable(v) == Content or is_snapshot(v)
end

-- A new writable disk whose content equals source (a snapshot or a content),
-- optionally grown to new_size with a zero tail.  nil, err when new_size is
-- smaller than the source: disks never shrink.
function M.from(source, new_size)
  if not is_view(source) then error("content.from needs a snapshot or a content", 2) end
  local size = new_size and check_size(new_size) or source.size
  if size < source.size then
    return nil, string.format("a disk of %d bytes cannot hold a restore of %d bytes",
      size, source.size)
  end
  local c = new_content(size, copy_blocks(source._blocks))
  c._keys = source._keys
  -- A zero tail changes the digest, so only an equal size shares it.
  if size == source.size then c._cell = source._cell end
  return c
end

-- Blocks of snap that differ from prev (an incremental restore point's size).
-- Without prev, every stored block counts: that is a full copy's size.
function M.delta(snap, prev)
  if not is_view(snap) then error("content.delta needs a snapshot", 2) end
  if prev ~= nil and not is_view(prev) then error("content.delta: prev must be a snapshot or nil", 2) end
  local n, bytes = 0, 0
  local function changed(i) n, bytes = n + 1, bytes + block_len(snap.size, i) end
  if not prev then
    for i in pairs(snap._blocks) do changed(i) end
    return { changed_blocks = n, changed_bytes = bytes }
  end
  -- A block stored on one side only differs unless the stored one is zeros;
  -- string comparison is a pointer check for the blocks both sides share.
  local zero = zeros_block()
  for i, b in pairs(snap._blocks) do
    if b ~= (prev._blocks[i] or zero) then changed(i) end
  end
  for i, p in pairs(prev._blocks) do
    if not snap._blocks[i] and i * BLOCK < snap.size and p ~= zero then changed(i) end
  end
  return { changed_blocks = n, changed_bytes = bytes }
end

-- The parts of a view that persist (state.lua): size and the block map,
-- whose strings may be shared with other views.
function M.export(view)
  if not is_view(view) then error("content.export needs a snapshot or a content", 2) end
  return { size = view.size, snapshot = is_snapshot(view), blocks = view._blocks }
end

-- The inverse of export: a content, or a snapshot when the export was one.
function M.import(t)
  local c = new_content(check_size(t.size), copy_blocks(t.blocks))
  if t.snapshot then return c:snapshot() end
  return c
end

M.is_view = is_view

return M
