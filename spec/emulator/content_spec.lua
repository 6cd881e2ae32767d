-- The emulated disk content: what a test writes must come back byte for
-- byte, through snapshots and restores, and its digest must be the digest of
-- those bytes.
local content = require "azrp.emulator.content"
local digest = require "openssl.digest"

local BLOCK = content.BLOCK_SIZE
local KiB, MiB = 1024, 1024 * 1024

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function sha256(s)
  return hex(digest.new("sha256"):final(s))
end

-- A plain string model of a disk, to check the sparse one against.
local function model_write(model, offset, data)
  return model:sub(1, offset) .. data .. model:sub(offset + #data + 1)
end

local function bytes(n, seed)
  local t = {}
  for i = 1, n do t[i] = string.char((i * 31 + (seed or 7)) % 251 + 1) end
  return table.concat(t)
end

describe("emulator content", function()
  describe("new", function()
    it("is zero-filled and stores nothing", function()
      local c = content.new(3 * BLOCK)
      assert.equal(3 * BLOCK, c.size)
      assert.equal(string.rep("\0", 3 * BLOCK), c:read(0, 3 * BLOCK))
      assert.equal(0, c:stored_bytes())
      assert.same({}, c:page_ranges())
    end)

    it("rejects sizes that are not positive multiples of 512", function()
      assert.has_error(function() content.new(1000) end)
      assert.has_error(function() content.new(0) end)
      assert.has_error(function() content.new("1024") end)
    end)

    it("accepts an integral float size, as cjson decodes numbers", function()
      assert.equal(1024, content.new(1024.0).size)
    end)
  end)

  describe("write and read", function()
    it("crosses block boundaries", function()
      local c = content.new(4 * BLOCK)
      local data = bytes(BLOCK + 10)
      assert.is_true(c:write(BLOCK - 5, data))
      assert.equal(data, c:read(BLOCK - 5, #data))
      assert.equal(string.rep("\0", 5), c:read(BLOCK - 10, 5))
      assert.equal(string.rep("\0", 5), c:read(2 * BLOCK + 5, 5))
      -- Three blocks touched, each stored whole.
      assert.equal(3 * BLOCK, c:stored_bytes())
    end)

    it("keeps the rest of a block on a partial rewrite", function()
      local c = content.new(2 * BLOCK)
      c:write(0, string.rep("a", BLOCK))
      c:write(100, "bbb")
      assert.equal(string.rep("a", 100) .. "bbb" .. string.rep("a", BLOCK - 103), c:read(0, BLOCK))
    end)

    it("matches a flat model under many random writes", function()
      -- A size that ends inside a block exercises the partial last block.
      local size = 5 * BLOCK + 1536
      local c, model = content.new(size), string.rep("\0", size)
      local rng = 12345
      local function rand(n) rng = (rng * 1103515245 + 12345) % 2147483648; return rng % n end
      for k = 1, 200 do
        local len = rand(3 * KiB) + 1
        local off = rand(size - len + 1)
        local data = bytes(len, k)
        assert.is_true(c:write(off, data))
        model = model_write(model, off, data)
      end
      assert.equal(model, c:read(0, size))
      assert.equal(sha256(model), c:sha256())
    end)

    it("refuses writes outside the disk and leaves it unchanged", function()
      local c = content.new(BLOCK)
      local ok, err = c:write(BLOCK - 2, "abc")
      assert.is_nil(ok)
      assert.matches("does not fit", err)
      assert.is_nil((c:write(-1, "a")))
      assert.equal(0, c.version)
      assert.equal(0, c:stored_bytes())
    end)

    it("raises on programmer mistakes", function()
      local c = content.new(BLOCK)
      assert.has_error(function() c:write(0, 42) end)
      assert.has_error(function() c:write(0.5, "a") end)
      assert.has_error(function() c:read(0, -1) end)
    end)

    it("clamps reads at the end and refuses offsets past it", function()
      local c = content.new(1024)
      c:write(1020, "wxyz")
      assert.equal("wxyz", c:read(1020, 100))
      assert.equal("", c:read(1024, 10))
      local s, err = c:read(1025, 1)
      assert.is_nil(s)
      assert.matches("outside", err)
    end)

    it("counts versions", function()
      local c = content.new(BLOCK)
      c:write(0, "a")
      c:write(1, "b")
      assert.equal(2, c.version)
    end)
  end)

  describe("sha256", function()
    it("of 1 MiB of zeros is the digest of 1 MiB of zeros", function()
      assert.equal(sha256(string.rep("\0", MiB)), content.new(MiB):sha256())
      -- and the precomputed digest of 1 GiB of zeros is that digest
      local d, z = digest.new("sha256"), string.rep("\0", 16 * MiB)
      for _ = 1, 64 do d:update(z) end
      assert.equal(hex(d:final()), content.ZERO_GIB_SHA256[1])
      assert.equal(content.ZERO_GIB_SHA256[1], content.new(1024 * MiB):sha256())
    end)

    it("of a sparse disk is the digest of its bytes", function()
      local c = content.new(2 * MiB + 512)
      c:write(3, "head")
      c:write(MiB + 7, bytes(BLOCK))
      c:write(2 * MiB + 500, "tail")
      assert.equal(sha256(c:read(0, c.size)), c:sha256())
    end)

    it("follows writes", function()
      local c = content.new(BLOCK)
      local before = c:sha256()
      c:write(10, "x")
      assert.are_not.equal(before, c:sha256())
      assert.equal(sha256(c:read(0, BLOCK)), c:sha256())
    end)
  end)

  describe("sparse_sha256", function()
    -- The sparse form written out here, from the bytes read back, not
    -- from the blocks: the size, then each 64 KiB block holding a byte
    -- that is not zero as its index (8 bytes, big-endian) and its bytes.
    local function form(c)
      local parts = { "azrp-sparse-sha256\n" .. c.size .. "\n" }
      for i = 0, (c.size - 1) // BLOCK do
        local b = c:read(i * BLOCK, BLOCK)
        if b:find("[^%z]") then parts[#parts + 1] = string.pack(">I8", i) .. b end
      end
      return sha256(table.concat(parts))
    end

    it("is the digest of the bytes' sparse form, the last block cut at the end", function()
      local c = content.new(3 * BLOCK + 512)
      c:write(3, "head")
      c:write(BLOCK + 7, bytes(BLOCK))
      c:write(3 * BLOCK + 500, "tail")
      assert.equal(form(c), c:sparse_sha256())
      assert.equal(form(content.new(MiB)), content.new(MiB):sparse_sha256())
    end)

    it("is a function of the bytes: a block written with zeros counts as never written", function()
      local a, b = content.new(4 * BLOCK), content.new(4 * BLOCK)
      a:write(BLOCK + 1, "same")
      b:write(BLOCK + 1, "same")
      b:write(2 * BLOCK, string.rep("\0", BLOCK))       -- stored, all zeros
      b:write(3 * BLOCK + 9, "x"); b:write(3 * BLOCK + 9, "\0")
      assert.equal(a:read(0, a.size), b:read(0, b.size))
      assert.equal(a:sparse_sha256(), b:sparse_sha256())
    end)

    it("differs for one byte changed, one byte moved, or another size", function()
      local c = content.new(2 * BLOCK)
      c:write(100, "abc")
      local d0 = c:sparse_sha256()
      local moved = content.new(2 * BLOCK)
      moved:write(101, "abc")
      assert.are_not.equal(d0, moved:sparse_sha256())
      local other = content.new(2 * BLOCK)
      other:write(BLOCK + 100, "abc")                     -- the same block bytes, another block
      assert.are_not.equal(d0, other:sparse_sha256())
      local bigger = content.new(3 * BLOCK)
      bigger:write(100, "abc")
      assert.are_not.equal(d0, bigger:sparse_sha256())
      c:write(101, "X")
      assert.are_not.equal(d0, c:sparse_sha256())
      assert.equal(form(c), c:sparse_sha256())
    end)

    it("is shared by a snapshot and a restore until the next write", function()
      local c = content.new(2 * BLOCK)
      c:write(5, "data")
      local snap = c:snapshot()
      local d0 = snap:sparse_sha256()
      local restored = content.from(snap)
      assert.equal(d0, restored:sparse_sha256())
      c:write(5, "DATA")
      assert.equal(d0, snap:sparse_sha256())
      assert.are_not.equal(d0, c:sparse_sha256())
      assert.equal(form(c), c:sparse_sha256())
    end)
  end)

  describe("snapshot", function()
    it("is isolated from later writes", function()
      local c = content.new(2 * BLOCK)
      c:write(0, "before")
      local snap = c:snapshot()
      local digest_then = snap:sha256()
      c:write(0, "AFTER!")
      c:write(BLOCK, "new block")
      assert.equal("before", snap:read(0, 6))
      assert.equal(string.rep("\0", 9), snap:read(BLOCK, 9))
      assert.equal(digest_then, snap:sha256())
      assert.equal(BLOCK, snap:stored_bytes())
      assert.equal("AFTER!", c:read(0, 6))
    end)

    it("is immutable", function()
      local snap = content.new(BLOCK):snapshot()
      assert.is_nil(snap.write)
      assert.has_error(function() snap.size = 1 end)
    end)

    it("lists its page ranges", function()
      local c = content.new(4 * BLOCK)
      c:write(BLOCK, "x")
      local snap = c:snapshot()
      c:write(0, "y")
      assert.same({ { first = BLOCK, last = 2 * BLOCK - 1 } }, snap:page_ranges())
    end)
  end)

  describe("from", function()
    it("restores a snapshot exactly", function()
      local c = content.new(3 * BLOCK)
      c:write(5, bytes(BLOCK))
      local snap = c:snapshot()
      local restored = content.from(snap)
      assert.equal(snap:sha256(), restored:sha256())
      assert.equal(snap:read(0, snap.size), restored:read(0, restored.size))
    end)

    it("is writable without touching its source", function()
      local c = content.new(BLOCK)
      c:write(0, "orig")
      local snap = c:snapshot()
      local restored = content.from(snap)
      restored:write(0, "copy")
      assert.equal("orig", snap:read(0, 4))
      assert.equal("orig", c:read(0, 4))
    end)

    it("grows with a zero tail", function()
      local c = content.new(BLOCK + 512)
      c:write(BLOCK, bytes(512))
      local snap = c:snapshot()
      local big = content.from(snap, 3 * BLOCK)
      assert.equal(3 * BLOCK, big.size)
      local expected = snap:read(0, snap.size) .. string.rep("\0", 3 * BLOCK - snap.size)
      assert.equal(expected, big:read(0, big.size))
      assert.equal(sha256(expected), big:sha256())
    end)

    it("refuses to shrink", function()
      local snap = content.new(2 * BLOCK):snapshot()
      local c, err = content.from(snap, BLOCK)
      assert.is_nil(c)
      assert.matches("cannot hold", err)
    end)
  end)

  describe("delta", function()
    it("is incremental after small writes", function()
      local c = content.new(64 * MiB)
      c:write(0, bytes(4 * BLOCK))
      local first = c:snapshot()
      c:write(10, "x")                 -- block 0
      c:write(32 * MiB + 1, "yz")      -- a block never written before
      local second = c:snapshot()
      assert.same({ changed_blocks = 4, changed_bytes = 4 * BLOCK }, content.delta(first))
      assert.same({ changed_blocks = 2, changed_bytes = 2 * BLOCK }, content.delta(second, first))
      assert.same({ changed_blocks = 0, changed_bytes = 0 }, content.delta(second, second))
    end)

    it("ignores rewrites of identical bytes", function()
      local c = content.new(2 * BLOCK)
      c:write(0, "same")
      local first = c:snapshot()
      c:write(0, "same")
      assert.equal(0, content.delta(c:snapshot(), first).changed_blocks)
    end)

    it("counts the partial last block by its bytes", function()
      local c = content.new(BLOCK + 1024)
      c:write(BLOCK, "z")
      assert.same({ changed_blocks = 1, changed_bytes = 1024 }, content.delta(c:snapshot()))
    end)

    it("compares restores with their source by content", function()
      local c = content.new(2 * BLOCK)
      c:write(0, "data")
      local snap = c:snapshot()
      local restored = content.from(snap)
      assert.equal(0, content.delta(restored:snapshot(), snap).changed_blocks)
      restored:write(0, string.rep("\0", 4))
      assert.equal(1, content.delta(restored:snapshot(), snap).changed_blocks)
    end)
  end)

  describe("page_ranges", function()
    it("merges adjacent stored blocks", function()
      local c = content.new(8 * BLOCK)
      c:write(0, "a")
      c:write(BLOCK, "b")
      c:write(3 * BLOCK + 9, "c")
      assert.same({ { first = 0, last = 2 * BLOCK - 1 },
                    { first = 3 * BLOCK, last = 4 * BLOCK - 1 } }, c:page_ranges())
    end)

    it("clips to the queried window, widened to sectors", function()
      local c = content.new(4 * BLOCK)
      c:write(0, bytes(2 * BLOCK))
      assert.same({ { first = 512, last = 1535 } }, c:page_ranges(700, 600))
      assert.same({}, c:page_ranges(2 * BLOCK, BLOCK))
      assert.is_nil((c:page_ranges(4 * BLOCK + 1, 1)))
    end)

    it("ends at the end of a disk with a partial last block", function()
      local c = content.new(BLOCK + 1024)
      c:write(BLOCK + 1, "q")
      assert.same({ { first = BLOCK, last = BLOCK + 1023 } }, c:page_ranges())
    end)

    it("keeps a block that was zeroed, as Azure does", function()
      local c = content.new(BLOCK)
      c:write(0, "a")
      c:write(0, "\0")
      assert.same({ { first = 0, last = BLOCK - 1 } }, c:page_ranges())
    end)
  end)

  describe("clear", function()
    it("releases whole blocks and zeroes the ends of partial ones", function()
      local c = content.new(4 * BLOCK)
      c:write(0, string.rep("x", 3 * BLOCK))
      local snap = c:snapshot()
      assert.is_true(c:clear(BLOCK - 512, BLOCK + 1024))
      assert.same({ { first = 0, last = BLOCK - 1 }, { first = 2 * BLOCK, last = 3 * BLOCK - 1 } }, c:page_ranges())
      assert.equal(2 * BLOCK, c:stored_bytes())
      assert.equal(string.rep("x", BLOCK - 512) .. string.rep("\0", BLOCK + 1024) .. string.rep("x", BLOCK - 512),
        c:read(0, 3 * BLOCK))
      assert.equal(string.rep("x", 3 * BLOCK), snap:read(0, 3 * BLOCK))
      assert.is_nil((c:clear(3 * BLOCK, 2 * BLOCK)))
    end)
  end)

  describe("read_parts", function()
    it("gives stored blocks themselves and the cut ends", function()
      local c = content.new(4 * BLOCK)
      local b = bytes(BLOCK)
      c:write(BLOCK, b)
      local parts, n = c:read_parts(BLOCK - 10, BLOCK + 20)
      assert.equal(BLOCK + 20, n)
      assert.equal(3, #parts)
      assert.equal(b, parts[2])
      assert.equal(c:read(BLOCK - 10, BLOCK + 20), table.concat(parts))
    end)
  end)

  describe("diff", function()
    it("lists changed blocks as pages and released ones as clears, within a window", function()
      local c = content.new(8 * BLOCK)
      c:write(0, "a")
      c:write(2 * BLOCK, "b")
      c:write(4 * BLOCK, "c")
      local before = c:snapshot()
      c:write(0, "A")                 -- changed
      c:clear(2 * BLOCK, BLOCK)       -- released
      c:write(4 * BLOCK, "c")         -- same bytes again
      c:write(6 * BLOCK, "\0")        -- zeros over zeros: no change
      c:write(7 * BLOCK, "d")         -- new
      local after = c:snapshot()
      assert.same({ { first = 0, last = BLOCK - 1, clear = false },
        { first = 2 * BLOCK, last = 3 * BLOCK - 1, clear = true },
        { first = 7 * BLOCK, last = 8 * BLOCK - 1, clear = false } }, content.diff(after, before))
      assert.same({ { first = 2 * BLOCK + 512, last = 2 * BLOCK + 1023, clear = true } },
        content.diff(after, before, 2 * BLOCK + 700, 100))
      assert.same({}, content.diff(after, after))
    end)
  end)

  describe("memory", function()
    it("is proportional to written data", function()
      local c = content.new(1024 * MiB)
      c:write(512 * MiB, "one byte")
      assert.equal(BLOCK, c:stored_bytes())
      assert.equal(BLOCK, c:snapshot():stored_bytes())
    end)
  end)
end)
