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

-- The bytes [offset, offset + length), clamped at the end of the disk, as
-- a list of strings (whole blocks are the stored strings themselves, not
-- copies) and their total length; nil, err when offset lies outside it.
-- What serves a large read: joining the pieces would copy every byte.
function View:read_parts(offset, length)
  offset = check_int(offset, "offset")
  length = check_int(length, "length")
  if length < 0 then error("length must not be negative", 2) end
  if offset < 0 or offset > self.size then
    return nil, string.format("offset %d is outside the disk (%d bytes)", offset, self.size)
  end
  local stop = math.min(offset + length, self.size)
  local pieces = {}
  if stop == offset then return pieces, 0 end
  local blocks = self._blocks
  for i = offset // BLOCK, (stop - 1) // BLOCK do
    local base = i * BLOCK
    local from, to = math.max(offset, base) - base, math.min(stop, base + BLOCK) - base
    local b = blocks[i] or zeros_block()
    pieces[#pieces + 1] = (from == 0 and to == BLOCK) and b or b:sub(from + 1, to)
  end
  return pieces, stop - offset
end

-- Returns the bytes [offset, offset + length), clamped at the end of the
-- disk; nil, err when offset lies outside it.
function View:read(offset, length)
  check_int(offset, "offset")
  if check_int(length, "length") < 0 then error("length must not be negative", 2) end
  local pieces, err = self:read_parts(offset, length)
  if not pieces then return nil, err end
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

-- SHA-256 of n GiB of zeros, n = 1 to 64: a fresh disk of a whole number
-- of GiB (as Azure's disks are) needs no hashing at all.  Computed once
-- with Python's hashlib over a single stream of zeros, the state copied at
-- each GiB (spec/emulator/content_spec.lua checks the first).
local GiB = 1024 * 1024 * 1024
M.ZERO_GIB_SHA256 = {
  "49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14",
  "a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51",
  "305b66a59d15b252092fbda9d09711230c429f351897cbd430e7b55a35fd3b97",
  "8479e43911dc45e89f934fe48d01297e16f51d17aa561d4d1c216b1ae0fcddca",
  "7f06c62352aebd8125b2a1841e2b9e1ffcbed602f381c3dcb3200200e383d1d5",
  "5c32c2b28999325bc5ad39d6530bcb46fbdf1f86375a991b7269764c50b0d109",
  "5e002ad6567bbdc9d43cc140cc509a592838457a56df571cd203230c7a56f241",
  "ebfb4ef19ae410f190327b5ebd312711263bc7579970e87d9c1e2d84e06b3c25",
  "cfbee1b311082090f6417b1026f9f83b2b3db46bc20ec64dff238d202c3782a6",
  "732377e7f4a2abdc13ddfa1eb4c9c497fd2a2b294674d056cf51581b47dd586d",
  "667e0fb6cc3570fe8634bba159fde134cd3e7e6081ebe6b21bbd70c094b2e333",
  "a4e7629528d07ac11c710193c10455ddf7e3f6294bbf1471d4262a9695083a8b",
  "0a2db928039c8c89686d04774cf3d9aa8d26bdad45a39b3fa73d3ae66c84433b",
  "ebbe1e57de09c4fa82e9ea2ff64dfe9f23fb9b56773a22f5d67f60ec0156b6e2",
  "55a20aa6ffa6c4c931daa2fcf823213783ab13a8bd9e15e05fc93143b038c5c4",
  "07d217ebccc55480b7afa191674ec5da87f2d14efbc04dbc7e40efe345f16776",
  "29b03842e5c8b027c1b0e2dfe969b6aad9b4e60830cf08b683c0a1389890930c",
  "68f7a2a4dae23d7f5b65981fd0d0e054131c1b3a3eddac737cf071a776d9fb4e",
  "e62341ce8c126ebda622ea295809edde7585dcb38d1197e81e851463a619b2b8",
  "6cb118a8f8b3c19385874297e291dcbcdf3a9837ba1ca7b00ace2491adbff551",
  "03c98425d6c810df09f228bab1dedd23ac74eb40334eb323455e3b1a36341fc5",
  "5c06724f9432d8fbbddd6aa1a5ba303a8f1ae9d06d77333677833cd1e03540eb",
  "3e1bd26882cf287413a094b1640fb787e1a5094d8490da40bd4ff61dd892028e",
  "5db3bc7f28b45c5de177d7de35f2d8291eeb7cfad69ed76933731ec0ed9042ab",
  "7c6d840b0cf63fcabe1d6655dad9e823003aece48a20af9783c5dc209ace799b",
  "50cfe928e32b1f753a397159c2a871559749726cb009a572c49cdc2e726d7318",
  "adeefd202943e5c43183d71d20dbc426683f10ae374b70277de106759056d2c6",
  "341366e3520e07d1f90e51695e1e95a3cbf85d71ab90c01878c97e5f2f3a885f",
  "18d05b22345ab02b747a818432eedf100fa3f4c3e8fca2e2f15b57045e2b30ee",
  "977bf5033165994e1d6837b65d66ac29093bfcfb1e49b4b828387b35cc830673",
  "e64990fafda8788600bae4f6a6678f399a17fcb337fb3d2f1ef8191bd756b50a",
  "97af759fc4597bc41706df77cbab318a57d935bacb262bd409e3ab767e07066f",
  "dbe5f4064347940798dc4101c114f8b491ea7ba1780e0ef112c490d86824afe1",
  "bc0dd1a5549522a01f12db37ed157747dd70bd41223818497150ddbc19f719db",
  "622e4f287f9840f147bc9e07594c3f01226338d6a609c58017c00d629434bc2d",
  "7af278781c0a4c4d5dc10ce1fcba2f55e5f11a3db31560f73c62d16c245772aa",
  "8761557b5a68029a6b1544e079663975b4e6f9e2820e21ed0da3976022648d5a",
  "28239c944749540556afcb9535b3b829fadbc16b81eb5f5a7d8afb972f3532b4",
  "b607e377e314e7857776079280c7492ddb66e7fcb3b9ecfc3a2446e44b9c0385",
  "2109856cb6642099b7ae3ee3bdf2b1bd7f64af573b04958e8cdd278a786252cc",
  "60746d080e43f7c7594668dde99e2e4b8ba315daf329cfd5141edd8cfd718e74",
  "cf2a27c19723fe1e5efbe17bc2b49b22e63c4a97e3035991616387c1e1ec34ab",
  "44f4e223f82c50743609991fec519a9a153a652b9cd53ae92f916f7b32bc55ef",
  "1ce559ac5f3284287006289a6b556bc1f72b7c79963c2b91049078226d92ad07",
  "d93aa18084a6941e41828462e7a7cb61633e53426ed74c963dbfa39bbde76c9f",
  "b6937a546beaced0935588a30fd6612b464b08f0aadb8cbf7e0f9c554476808e",
  "0d44e608eac13cc3c8cea7613bf621fc95baab58d316b9150450d6856e175789",
  "b4bd7527296b68e5d5a26715f0e0b61f7e4a97ff92b057df2cf1d38c09c4d471",
  "818ac8271e9e23fab0fed523a965d8be741206d98097417d7893e6a64092ad01",
  "ab743e145f643a1f6237b7390baf2e6edc71d83997f5bf4ed40d975fb50ba423",
  "3a639da4831893a9c6e9660849adfa28dae3d167ef6b2c9ba5c5a5babba416f1",
  "b3aaf8ce8ea1cc90954ff6ae6485b0688074a47094959cc7ef4376f099c35839",
  "fb859a4f8dfed36ddc0992f63b99db0d7a2397ffc5346fdaed219607c14a7833",
  "08022e17103c1ca15228a1e71b00591632e7717b4e5493a5ccc19f93df129c98",
  "68fb1db32d12978163c3fbee24b0d60d762587d0195cc104cd1722321691951f",
  "4b2f34df21d6b18847599ee74ec3ea6fd73ae49b730a863abf00834e2628b364",
  "4e766832c1b078d1278af9f0e309ca0082f09bb70197f4532affb3b97de4d42e",
  "d0d217f73295baad930dc4b15fab5485bcc9726c2e08a4c63bf4c438fa195592",
  "684887f9460eb5c7e99cfb8d3977b306690922e3bd421acbe19a7d6881c89e98",
  "9cae5eb2ae940f35977d2b9a29905062bca387ac56b63f5e0c968f4da666acfb",
  "f3f0d678fa138e4581ed15ec63f8cb965e5d7b722db7d5fc4877e763163d399c",
  "520d5cafbedb1c33d3f5ce8b36b68803c124fc0ae82c25ee923e1797242b8689",
  "884f51754a4e5ac5a5721c9f5d57efceaa432cc32e27e3a5527d88b094cd1ad3",
  "57b295ba06757c81edca2d1e299133b2f059bea28e6cf9f438d7741611c36541",
}

-- Digests of other all-zero views by size, computed once per process.
local zero_sha = {}
for n, hex in ipairs(M.ZERO_GIB_SHA256) do zero_sha[n * GiB] = hex end

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

-- Lowercase hex SHA-256 of the bytes in sparse form: the size, then each
-- block that is not all zeros as its index and its bytes.  The form is a
-- function of the bytes alone (a block written with zeros counts as one
-- never written), so two views have the same digest exactly when they hold
-- the same bytes, and it costs only the data: what the specs compare disk
-- against disk with (a restore, a copy, a disk made from an image), where
-- :sha256() would hash 0.6 s of zeros per GiB.  Cached as :sha256() is.
function View:sparse_sha256()
  local cell = self._cell
  if not cell.sparse then
    local d = digest.new("sha256")
    d:update("azrp-sparse-sha256\n" .. string.format("%d", self.size) .. "\n")
    local zero = zeros_block()
    for _, i in ipairs(sorted_keys(self)) do
      local b = self._blocks[i]
      local len = block_len(self.size, i)
      if len < BLOCK then b = b:sub(1, len) end
      if b ~= (len == BLOCK and zero or zero:sub(1, len)) then
        d:update(string.pack(">I8", i))
        d:update(b)
      end
    end
    cell.sparse = util.hex(d:final())
  end
  return cell.sparse
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
    -- A block-sized, block-aligned write is stored as given, not copied.
    local piece = (#data == BLOCK and from == 0 and to == BLOCK) and data
      or data:sub(base + from - offset + 1, base + to - offset)
    self:_store(i, patched_block(self._blocks[i], from, to, piece))
  end
  self.version = self.version + 1
  self._cell = {}   -- other bytes now: no longer shared with any view
  return true
end

-- Clears [offset, offset + length) to zeros, as Put Page's clear does:
-- whole blocks in the range are released (they read as zeros and are no
-- longer listed by page_ranges), the ends of partial ones zeroed.  nil,
-- err if the range does not fit.
function Content:clear(offset, length)
  offset = check_int(offset, "offset")
  length = check_int(length, "length")
  if length < 0 then error("length must not be negative", 2) end
  local stop = offset + length
  if offset < 0 or stop > self.size then
    return nil, string.format("a clear of %d bytes at offset %d does not fit in the disk (%d bytes)",
      length, offset, self.size)
  end
  if length == 0 then return true end
  for i = offset // BLOCK, (stop - 1) // BLOCK do
    local base = i * BLOCK
    local from, to = math.max(offset, base) - base, math.min(stop, base + BLOCK) - base
    local old = self._blocks[i]
    if old then
      if from == 0 and (to == BLOCK or base + to >= self.size) then
        self._blocks[i] = nil
        self._stored = self._stored - block_len(self.size, i)
        self._keys = nil
      else
        self._blocks[i] = patched_block(old, from, to, string.rep("\0", to - from))
      end
    end
  end
  self.version = self.version + 1
  self._cell = {}
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

-- The differences of snap from prev (an earlier view of the same disk)
-- within [offset, offset + length), as Get Page Ranges Diff lists them:
-- { first, last, clear } sorted by first, 512-aligned, adjacent ones of a
-- kind merged.  A block whose bytes differ is a page range (clear false)
-- when snap holds it and a clear range (clear true) when snap no longer
-- does (released since prev); bytes are compared, so a block rewritten
-- with what it held is no change.
function M.diff(snap, prev, offset, length)
  if not is_view(snap) or not is_view(prev) then error("content.diff needs two views", 2) end
  offset = check_int(offset or 0, "offset")
  length = check_int(length or (snap.size - offset), "length")
  if length < 0 then error("length must not be negative", 2) end
  if offset < 0 or offset > snap.size then
    return nil, string.format("offset %d is outside the disk (%d bytes)", offset, snap.size)
  end
  local lo = offset - offset % M.SECTOR_SIZE
  local hi = math.min(offset + length, snap.size)
  hi = hi + (-hi) % M.SECTOR_SIZE
  local out = {}
  if length == 0 then return out end
  local zero = zeros_block()
  local a, b = sorted_keys(snap), sorted_keys(prev)
  local cur, old = snap._blocks, prev._blocks
  local ia, ib = 1, 1
  local first_block, last_block = lo // BLOCK, (hi - 1) // BLOCK
  while true do
    local ka, kb = a[ia], b[ib]
    if not ka and not kb then break end
    local i
    if kb == nil or (ka ~= nil and ka <= kb) then i = ka else i = kb end
    if ka == i then ia = ia + 1 end
    if kb == i then ib = ib + 1 end
    if i > last_block then break end
    if i >= first_block and i * BLOCK < snap.size then
      local c, p = cur[i], old[i]
      if i * BLOCK >= prev.size then p = nil end
      local clear
      if c then
        if c ~= (p or zero) then clear = false end
      elseif p and p ~= zero then
        clear = true
      end
      if clear ~= nil then
        local first = math.max(i * BLOCK, lo)
        local stop = math.min(i * BLOCK + block_len(snap.size, i), hi)
        local last = out[#out]
        if last and last.clear == clear and last.last + 1 == first then
          last.last = stop - 1
        else
          out[#out + 1] = { first = first, last = stop - 1, clear = clear }
        end
      end
    end
  end
  return out
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
