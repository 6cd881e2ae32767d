-- The blob behind a disk, snapshot or disk restore point SAS, as an export
-- sees it: a fixed VHD (the bytes, then a 512-byte footer), its page list
-- paged as Azure pages it, diffs between disk restore points,
-- networkAccessPolicy, and what the endpoint counted of what it served.
local H = require "support.emu"
local json = require "azrp.emulator.json"
local blob = require "azrp.emulator.blob"
local clock_mod = require "azrp.emulator.clock"
local content = require "azrp.emulator.content"
local router = require "azrp.emulator.router"
local vhd = require "azrp.emulator.vhd"
local client_vhd = require "azrp.workflows.export.vhd"
local cipher = require "openssl.cipher"
local digest = require "openssl.digest"

local GiB, MiB = 1024 * 1024 * 1024, 1024 * 1024
local RPC = H.RG .. H.COMPUTE .. "/restorePointCollections/"
local DISKS = H.RG .. H.COMPUTE .. "/disks/"
local SNAPS = H.RG .. H.COMPUTE .. "/snapshots/"
local DATA0 = DISKS .. "vm-app-01-data0"
local PAGED = { ["x-ms-version"] = "2020-10-02" }

local function enc(id) return (id:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

local function sha256(s) return hex(digest.new("sha256"):final(s)) end

local function path_of(url) return (url:gsub("^https://[^/]+", "")) end

local function merge(a, b)
  local out = {}
  for k, v in pairs(a or {}) do out[k] = v end
  for k, v in pairs(b or {}) do out[k] = v end
  return out
end

-- beginGetAccess to its end: the accessSAS, or the refusal's status and body.
local function grant(t, id, access)
  local st, body, h = t.call("POST", id .. "/beginGetAccess", { access = access or "Read", durationInSeconds = 3600 })
  if st ~= 202 then return nil, st, body end
  assert.are.equal("Succeeded", t.wait(h).status)
  local fst, res = t.call("GET", path_of(h.location), nil, { api = false })
  assert.are.equal(200, fst)
  return res.accessSAS
end

local function revoke(t, id)
  local st, _, h = t.call("POST", id .. "/endGetAccess")
  assert.are.equal(202, st)
  t.wait(h)
end

local function get(t, url, headers, method)
  return t.call(method or "GET", path_of(url), nil, { api = false, headers = headers })
end

-- { { first, last, clear } ... }, NextMarker (nil when absent or empty)
local function parse_list(xml)
  assert.matches("^<%?xml", xml)
  local out = {}
  for tag, body in xml:gmatch("<(%a+Range)>(.-)</%1>") do
    out[#out + 1] = { tonumber(body:match("<Start>(%d+)</Start>")), tonumber(body:match("<End>(%d+)</End>")),
      tag == "ClearRange" }
  end
  local marker = xml:match("<NextMarker>(.-)</NextMarker>")
  return out, marker ~= "" and marker or nil
end

-- Every item of a page list, following NextMarker; returns items, pages.
local function list_all(t, url, headers, maxresults)
  local all, pages, marker = {}, 0, nil
  repeat
    local u = url .. "&comp=pagelist" .. (maxresults and ("&maxresults=" .. maxresults) or "")
      .. (marker and ("&marker=" .. enc(marker)) or "")
    local st, xml = get(t, u, merge(PAGED, headers))
    assert.are.equal(200, st, xml)
    local items
    items, marker = parse_list(xml)
    for _, r in ipairs(items) do all[#all + 1] = r end
    pages = pages + 1
    assert.is_true(pages < 1000)
  until not marker
  return all, pages
end

local function rp(t, name)
  local st, body, h = t.call("PUT", RPC .. "rpc/restorePoints/" .. name, { properties = {} })
  assert.are.equal(201, st, json.encode(body))
  assert.are.equal("Succeeded", t.wait(h).status)
end

local function drp_of(t, rp_name, disk_name)
  local _, list = t.call("GET", RPC .. "rpc/restorePoints/" .. rp_name .. "/diskRestorePoints")
  for _, d in ipairs(list.value) do
    local src = d.properties.sourceResourceId
    if src:sub(-#disk_name - 1) == "/" .. disk_name then return d.id, d end
  end
end

local function new_disk(t, name, gb, props)
  local p = merge({ creationData = { createOption = "Empty" }, diskSizeGB = gb or 1 }, props)
  local st, body, h = t.call("PUT", DISKS .. name, { location = "westeurope", properties = p })
  assert.are.equal(202, st, json.encode(body))
  t.wait(h)
  return DISKS .. name
end

-- AES-128-CTR keystream as the admin fill documents it, computed here
-- without the emulator's code.
local function fill_bytes(seed, offset, length)
  local key = digest.new("sha256"):final("azrp-fill\n" .. tostring(seed)):sub(1, 16)
  return cipher.new("aes-128-ctr"):encrypt(key, string.pack(">I8I8", 0, offset // 16)):update(string.rep("\0", length))
end

describe("emulator blob as an export sees it", function()
  local t
  before_each(function() t = H.app() end)

  describe("admin digests", function()
    it("sha256 is the bytes' digest, form=sparse the sparse form's: equal for a restore point and its disk, not after a write", function()
      t.write(DATA0, 4096, "marked")
      assert.are.equal(201, (t.call("PUT", RPC .. "rpc", { location = "westeurope", properties = { source = { id = H.VM } } })))
      rp(t, "rp1")
      local d1 = drp_of(t, "rp1", "vm-app-01-data0")
      local function admin(id, q)
        local st, body = t.call("GET", "/_emulator/disks/" .. enc(id) .. "/sha256" .. (q or ""), nil, { api = false })
        return st, body
      end
      local st, full = admin(d1)
      assert.are.equal(200, st)
      assert.are.equal(1073741824, full.size)
      local _, sp1 = admin(d1, "?form=sparse")
      local _, spd = admin(DATA0, "?form=sparse")
      assert.matches("^%x+$", sp1.sparse_sha256)
      assert.are.equal(64, #sp1.sparse_sha256)
      assert.are_not.equal(full.sha256, sp1.sparse_sha256)
      assert.are.equal(sp1.sparse_sha256, spd.sparse_sha256)
      assert.are.equal(full.sha256, select(2, admin(DATA0)).sha256)
      t.write(DATA0, 4096, "Marked")
      assert.are_not.equal(sp1.sparse_sha256, select(2, admin(DATA0, "?form=sparse")).sparse_sha256)
      assert.are.equal(sp1.sparse_sha256, select(2, admin(d1, "?form=sparse")).sparse_sha256)
      local bst, bad = admin(d1, "?form=dense")
      assert.are.equal(400, bst)
      assert.matches("form", bad.error.message)
    end)
  end)

  describe("fixed VHD footer", function()
    it("ends a disk's blob: length, properties, ranged reads and page list cover size + 512", function()
      local id = new_disk(t, "vhd1", 1)
      t.write(id, GiB - 512, string.rep("z", 512))   -- the last sector: its page joins the footer's
      t.write(id, 0, "first")
      local url = assert(grant(t, id))
      local st, _, h = get(t, url, nil, "HEAD")
      assert.are.equal(200, st)
      assert.are.equal(tostring(GiB + 512), h["content-length"])

      local body
      st, body, h = get(t, url, { ["x-ms-range"] = string.format("bytes=%d-%d", GiB - 4, GiB + 511) })
      assert.are.equal(206, st)
      assert.are.equal(string.format("bytes %d-%d/%d", GiB - 4, GiB + 511, GiB + 512), h["content-range"])
      assert.are.equal(516, #body)
      assert.are.equal("zzzz", body:sub(1, 4))
      local footer = body:sub(5)
      assert.are.equal(416, (get(t, url, { ["x-ms-range"] = string.format("bytes=%d-", GiB + 512) })))

      -- the footer, read by the emulator's parser and the client's
      local f = assert(vhd.parse(footer))
      assert.are.equal("conectix", footer:sub(1, 8))
      assert.are.equal("wa\0\0", f.creator)
      assert.are.equal(GiB, f.size)
      assert.are.equal(GiB, f.original_size)
      assert.are.equal(2, f.type)
      assert.is_true(f.checksum_ok)
      local _, doc = t.call("GET", id)
      assert.are.equal(vhd.guid_bytes(doc.properties.uniqueId), f.unique_id)
      local cf = assert(client_vhd.parse(footer))
      assert.are.equal(GiB, cf.size)
      assert.are.equal(2, cf.type)
      assert.is_true(cf.checksum_ok)
      -- a broken checksum is seen by both
      local bad = footer:sub(1, 100) .. "x" .. footer:sub(102)
      assert.is_false(vhd.parse(bad).checksum_ok)
      assert.is_false(client_vhd.parse(bad).checksum_ok)

      local xml
      st, xml, h = get(t, url .. "&comp=pagelist")
      assert.are.equal(200, st)
      assert.are.equal(tostring(GiB + 512), h["x-ms-blob-content-length"])
      local items = parse_list(xml)
      assert.are.same({ { 0, 64 * 1024 - 1, false }, { GiB - 64 * 1024, GiB + 511, false } }, items)
      -- without the last sector written, the footer is a page range of its own
      local id2 = new_disk(t, "vhd2", 1)
      local url2 = assert(grant(t, id2))
      assert.are.same({ { GiB, GiB + 511, false } }, (parse_list(select(2, get(t, url2 .. "&comp=pagelist")))))
      -- and a page list over a range of the footer alone
      assert.are.same({ { GiB, GiB + 511, false } }, (parse_list(select(2, get(t, url2 .. "&comp=pagelist",
        { ["x-ms-range"] = string.format("bytes=%d-%d", GiB + 100, GiB + 200) })))))
    end)

    it("carries its disk's uniqueId: one per disk, the source disk's for a disk restore point", function()
      local a, b = new_disk(t, "u1", 1), new_disk(t, "u2", 1)
      local fa = select(2, get(t, assert(grant(t, a)), { ["x-ms-range"] = string.format("bytes=%d-", GiB) }))
      local fb = select(2, get(t, assert(grant(t, b)), { ["x-ms-range"] = string.format("bytes=%d-", GiB) }))
      assert.are_not.equal(vhd.parse(fa).unique_id, vhd.parse(fb).unique_id)

      assert.are.equal(201, (t.call("PUT", RPC .. "rpc", { location = "westeurope", properties = { source = { id = H.VM } } })))
      rp(t, "rp1")
      local drp = drp_of(t, "rp1", "vm-app-01-data0")
      local url = assert(grant(t, drp))
      local _, disk = t.call("GET", DATA0)
      local st, footer = get(t, url, { ["x-ms-range"] = string.format("bytes=%d-%d", disk.properties.diskSizeBytes,
        disk.properties.diskSizeBytes + 511) })
      assert.are.equal(206, st)
      local f = assert(client_vhd.parse(footer))
      assert.are.equal(disk.properties.diskSizeBytes, f.size)
      assert.are.equal(vhd.guid_bytes(disk.properties.uniqueId), vhd.parse(footer).unique_id)
    end)
  end)

  describe("an 8 GiB disk with 1 GiB filled", function()
    it("fills, serves the bytes and pages its page list with maxresults", function()
      local id = new_disk(t, "big", 8)
      local st, res = t.call("POST", "/_emulator/disks/" .. enc(id) .. "/fill",
        { extents = 256, length = 4 * MiB, seed = 7 }, { api = false })
      assert.are.equal(200, st, json.encode(res))
      assert.are.equal(256, #res.extents)
      assert.are.equal(GiB, res.written)
      assert.are.equal(32 * MiB, res.stride)   -- spread evenly over 8 GiB
      assert.are.same({ offset = 255 * 32 * MiB, length = 4 * MiB }, res.extents[256])

      local url = assert(grant(t, id))
      -- the bytes of an extent, as the seed makes them
      local off = res.extents[100].offset
      local body
      st, body = get(t, url, { ["x-ms-range"] = string.format("bytes=%d-%d", off - 512, off + 4 * MiB + 511) })
      assert.are.equal(206, st)
      assert.are.equal(string.rep("\0", 512), body:sub(1, 512))
      assert.are.equal(sha256(fill_bytes(7, off, 4 * MiB)), sha256(body:sub(513, 512 + 4 * MiB)))
      assert.are.equal(string.rep("\0", 512), body:sub(-512))

      -- 256 extents and the footer, 100 at a time
      local items, pages = list_all(t, url, nil, 100)
      assert.are.equal(3, pages)
      assert.are.equal(257, #items)
      for i, e in ipairs(res.extents) do
        assert.are.same({ e.offset, e.offset + e.length - 1, false }, items[i])
      end
      assert.are.same({ 8 * GiB, 8 * GiB + 511, false }, items[257])

      -- the marker is opaque and bound to the grant
      local xml
      st, xml = get(t, url .. "&comp=pagelist&maxresults=100", PAGED)
      local first, marker = parse_list(xml)
      assert.are.equal(100, #first)
      assert.is_nil(marker:find(tostring(res.extents[101].offset), 1, true))
      st, xml = get(t, url .. "&comp=pagelist&maxresults=100&marker=" .. enc(marker .. "x"), PAGED)
      assert.are.equal(400, st)
      assert.truthy(xml:find("<QueryParameterName>marker</QueryParameterName>", 1, true))
      local other = assert(grant(t, new_disk(t, "other", 1)))
      assert.are.equal(400, (get(t, other .. "&comp=pagelist&marker=" .. enc(marker), PAGED)))
      -- maxresults is checked
      assert.are.equal(400, (get(t, url .. "&comp=pagelist&maxresults=0", PAGED)))
      assert.are.equal(400, (get(t, url .. "&comp=pagelist&maxresults=ten", PAGED)))
      -- a range and a marker together
      st, xml = get(t, url .. "&comp=pagelist&maxresults=2", merge(PAGED,
        { ["x-ms-range"] = string.format("bytes=%d-%d", res.extents[10].offset, res.extents[14].offset - 1) }))
      local win
      win, marker = parse_list(xml)
      assert.are.equal(2, #win)
      st, xml = get(t, url .. "&comp=pagelist&maxresults=10&marker=" .. enc(marker), merge(PAGED,
        { ["x-ms-range"] = string.format("bytes=%d-%d", res.extents[10].offset, res.extents[14].offset - 1) }))
      win, marker = parse_list(xml)
      assert.are.same({ { res.extents[12].offset, res.extents[12].offset + 4 * MiB - 1, false },
        { res.extents[13].offset, res.extents[13].offset + 4 * MiB - 1, false } }, win)
      assert.is_nil(marker)
      -- older versions get everything at once, with no NextMarker
      st, xml = get(t, url .. "&comp=pagelist&maxresults=100", { ["x-ms-version"] = "2019-12-12" })
      assert.are.equal(200, st)
      assert.are.equal(257, #parse_list(xml))
      assert.is_nil(xml:find("NextMarker", 1, true))
    end)

    it("refuses a fill that does not fit, naming the field", function()
      local id = new_disk(t, "f1", 1)
      local function fill(body)
        return t.call("POST", "/_emulator/disks/" .. enc(id) .. "/fill", body, { api = false })
      end
      local st, body = fill{ extents = 2, length = 1000, seed = 1 }
      assert.are.equal(400, st)
      assert.are.equal("length", body.error.target)
      st, body = fill{ extents = 300, length = 4 * MiB, seed = 1 }
      assert.are.equal("extents", body.error.target)
      st, body = fill{ extents = 2, length = 4 * MiB, stride = MiB, seed = 1 }
      assert.are.equal("stride", body.error.target)
      st, body = fill{ extents = 2, length = 4 * MiB }
      assert.are.equal("seed", body.error.target)
      assert.are.equal(0, t.app.store:get(id).x.content:stored_bytes())
      -- start and stride place the extents
      st, body = fill{ extents = 3, length = 512, seed = "s", start = 1024, stride = 1536 }
      assert.are.equal(200, st)
      assert.are.same({ { offset = 1024, length = 512 }, { offset = 2560, length = 512 }, { offset = 4096, length = 512 } },
        body.extents)
      assert.are.equal(fill_bytes("s", 2560, 512), t.app.store:get(id).x.content:read(2560, 512))
    end)
  end)

  describe("Get Page Ranges caps a page at 10,000 ranges", function()
    it("from 2020-10-02, and pages on; older versions get all", function()
      -- 20,001 separate blocks sharing one string: a fragmented 2.5 GiB disk
      local BLOCK = content.BLOCK_SIZE
      local b = string.rep("x", BLOCK)
      local blocks = {}
      for i = 0, 20000 do blocks[2 * i] = b end
      local src = content.import{ size = 40002 * BLOCK, blocks = blocks }:snapshot()
      local now = 1700000000
      local ep = blob.new{ clock = clock_mod.new{ now = function() return now end } }
      local r = router.new()
      for _, route in ipairs(ep:routes()) do r:add(route) end
      local g = ep:grant{ source = src, duration = 60, access = "Read", base_url = "https://h", resource_id = "/x" }
      local function list(query, headers)
        local path, q = (g.url .. "&comp=pagelist" .. query):match("^https://h([^?]*)%?(.*)$")
        local route, params = r:match("GET", path)
        local res = route.handler(nil, { method = "GET", path = path, query = router.parse_query(q),
          headers = headers, params = params })
        assert.are.equal(200, res.status)
        return parse_list(res.body)
      end
      local items, marker = list("", PAGED)
      assert.are.equal(10000, #items)
      assert.truthy(marker)
      items, marker = list("&maxresults=50000", PAGED)
      assert.are.equal(10000, #items)
      local all = #items
      while marker do
        items, marker = list("&marker=" .. enc(marker), PAGED)
        all = all + #items
      end
      assert.are.equal(20001, all)
      assert.are.same({ 40000 * BLOCK, 40001 * BLOCK - 1, false }, items[#items])
      items, marker = list("", {})
      assert.are.equal(20001, #items)
      assert.is_nil(marker)
    end)
  end)

  describe("diff between disk restore points (x-ms-previous-snapshot-url)", function()
    local BLOCK = content.BLOCK_SIZE
    before_each(function()
      assert.are.equal(201, (t.call("PUT", RPC .. "rpc", { location = "westeurope", properties = { source = { id = H.VM } } })))
    end)

    it("lists changed pages as PageRange and released ones as ClearRange; applied, they make the later point", function()
      t.write(DATA0, 0, string.rep("a", BLOCK))
      t.write(DATA0, MiB, string.rep("b", 3 * BLOCK))
      t.write(DATA0, 8 * MiB, string.rep("c", BLOCK))   -- unchanged afterwards
      rp(t, "rp1")
      t.advance(10)
      t.write(DATA0, 100, "A")                                    -- changed
      local st = t.call("POST", "/_emulator/disks/" .. enc(DATA0) .. "/write",
        { offset = MiB + BLOCK, length = BLOCK, clear = true }, { api = false })   -- released
      assert.are.equal(200, st)
      t.write(DATA0, 2 * MiB, string.rep("d", 2 * BLOCK))        -- new
      t.write(DATA0, 8 * MiB, string.rep("c", BLOCK))            -- rewritten, same bytes
      rp(t, "rp2")
      local d1, d2 = drp_of(t, "rp1", "vm-app-01-data0"), drp_of(t, "rp2", "vm-app-01-data0")
      local u1, u2 = assert(grant(t, d1)), assert(grant(t, d2))
      local size = t.app.store:get(d2).x.snap.size

      local items = list_all(t, u2, { ["x-ms-previous-snapshot-url"] = u1 })
      -- the footers differ (each point's creation time), so the diff holds it
      local f1 = select(2, get(t, u1, { ["x-ms-range"] = "bytes=" .. size .. "-" }))
      local f2 = select(2, get(t, u2, { ["x-ms-range"] = "bytes=" .. size .. "-" }))
      assert.are_not.equal(f1, f2)
      assert.are.same({
        { 0, BLOCK - 1, false },
        { MiB + BLOCK, MiB + 2 * BLOCK - 1, true },
        { 2 * MiB, 2 * MiB + 2 * BLOCK - 1, false },
        { size, size + 511, false },
      }, items)
      -- paged one at a time, the same items
      local one, pages = list_all(t, u2, { ["x-ms-previous-snapshot-url"] = u1 }, 1)
      assert.are.equal(4, pages)
      assert.are.same(items, one)

      -- the earlier point's bytes with the diff applied are the later point's
      local base = t.app.store:get(d1).x.snap
      local d = digest.new("sha256")
      local pos = 0
      for _, r in ipairs(items) do
        local a, z = r[1], math.min(r[2], size - 1)
        if a < size then
          d:update(base:read(pos, a - pos))
          if r[3] then
            d:update(string.rep("\0", z - a + 1))
          else
            local bst, bytes = get(t, u2, { ["x-ms-range"] = string.format("bytes=%d-%d", a, z) })
            assert.are.equal(206, bst)
            d:update(bytes)
          end
          pos = z + 1
        end
      end
      d:update(base:read(pos, size - pos))
      local _, want = t.call("GET", "/_emulator/disks/" .. enc(d2) .. "/sha256", nil, { api = false })
      assert.are.equal(want.sha256, hex(d:final()))
      assert.are_not.equal(want.sha256, select(2, t.call("GET", "/_emulator/disks/" .. enc(d1) .. "/sha256", nil,
        { api = false })).sha256)
    end)

    it("answers 409 PreviousSnapshotNotFound unless the URL is a live grant of an earlier point of the disk", function()
      t.write(DATA0, 0, "x")
      rp(t, "rp1")
      rp(t, "rp2")
      local d1, d2 = drp_of(t, "rp1", "vm-app-01-data0"), drp_of(t, "rp2", "vm-app-01-data0")
      local os1 = drp_of(t, "rp1", "vm-app-01-osdisk")
      local u1, u2, uos = assert(grant(t, d1)), assert(grant(t, d2)), assert(grant(t, os1))
      local function diff(url, prev)
        local st, xml = get(t, url .. "&comp=pagelist", merge(PAGED, { ["x-ms-previous-snapshot-url"] = prev }))
        return st, xml
      end
      assert.are.equal(200, (diff(u2, u1)))
      local st, xml = diff(u1, u2)                      -- a later point
      assert.are.equal(409, st)
      assert.truthy(xml:find("<Code>PreviousSnapshotNotFound</Code>", 1, true))
      assert.is_nil(xml:find(u2:match("sig=([^&]+)"), 1, true))
      assert.are.equal(409, (diff(u2, u2)))             -- itself
      assert.are.equal(409, (diff(u2, uos)))            -- another disk's point
      assert.are.equal(409, (diff(u2, "https://127.0.0.1:1/nothing")))
      local sig = u1:match("sig=([^&]+)")
      local forged = u1:gsub("sig=[^&]+", function() return "sig=" .. (sig:sub(1, 1) == "A" and "B" or "A") .. sig:sub(2) end)
      assert.are.equal(409, (diff(u2, forged)))
      revoke(t, d1)                                      -- no longer live
      assert.are.equal(409, (diff(u2, u1)))
    end)
  end)

  describe("networkAccessPolicy", function()
    it("DenyAll refuses beginGetAccess on a disk, a snapshot and a disk restore point", function()
      local id = new_disk(t, "deny", 1, { networkAccessPolicy = "DenyAll" })
      local url, st, body = grant(t, id)
      assert.is_nil(url)
      assert.are.equal(409, st)
      assert.are.equal("OperationNotAllowed", body.error.code)
      assert.matches("cannot be exported", body.error.message)
      assert.matches("DenyAll", body.error.message)
      assert.are.equal(0, #t.app.blob:report().grants)

      local sst, sbody, h = t.call("PUT", SNAPS .. "s-deny", { location = "westeurope", properties = {
        creationData = { createOption = "Copy", sourceResourceId = new_disk(t, "open", 1) }, networkAccessPolicy = "DenyAll" } })
      assert.are.equal(202, sst, json.encode(sbody))
      t.wait(h)
      url, st, body = grant(t, SNAPS .. "s-deny")
      assert.are.equal(409, st)
      assert.are.equal("OperationNotAllowed", body.error.code)
      -- a PATCH opens it
      assert.are.equal(200, (t.call("PATCH", SNAPS .. "s-deny", { properties = { networkAccessPolicy = "AllowAll" } })))
      assert.truthy(grant(t, SNAPS .. "s-deny"))

      -- a restore point's disk restore points inherit the disk's policy
      assert.are.equal(200, (t.call("PATCH", DATA0, { properties = { networkAccessPolicy = "DenyAll" } })))
      assert.are.equal(201, (t.call("PUT", RPC .. "rpc", { location = "westeurope", properties = { source = { id = H.VM } } })))
      rp(t, "rp1")
      local drp, doc = drp_of(t, "rp1", "vm-app-01-data0")
      assert.are.equal("DenyAll", doc.properties.networkAccessPolicy)
      url, st, body = grant(t, drp)
      assert.are.equal(409, st)
      assert.are.equal("OperationNotAllowed", body.error.code)
    end)

    it("AllowPrivate grants a SAS that answers only through the private endpoint", function()
      local seed = require("support.small_seed").shrink(require("azrp.emulator.seed").default())
      seed.disks[#seed.disks + 1] = { resource_group = "rg-prod", name = "disk-private", location = "westeurope",
        sku = "Premium_LRS", size_gb = 1, network_access_policy = "AllowPrivate" }
      t = H.app{ seed = seed }
      local id = DISKS .. "disk-private"
      local _, doc = t.call("GET", id)
      assert.are.equal("AllowPrivate", doc.properties.networkAccessPolicy)
      assert.matches("/diskAccesses/disk%-private%-access$", doc.properties.diskAccessId)
      t.write(id, 0, "private bytes")
      local url = assert(grant(t, id))
      local PE = { ["x-azrp-private-endpoint"] = "1" }
      local st, body, h = get(t, url, { ["x-ms-range"] = "bytes=0-12" })
      assert.are.equal(403, st)
      assert.are.equal("AuthorizationFailure", h["x-ms-error-code"])
      assert.truthy(body:find("<Code>AuthorizationFailure</Code>", 1, true))
      assert.is_nil(body:find(url:match("sig=([^&]+)"), 1, true))
      assert.are.equal(403, (get(t, url, nil, "HEAD")))
      assert.are.equal(403, (get(t, url .. "&comp=pagelist")))
      st, body = get(t, url, merge(PE, { ["x-ms-range"] = "bytes=0-12" }))
      assert.are.equal(206, st)
      assert.are.equal("private bytes", body)
      local rep = t.app.blob:report(id)
      assert.are.equal(3, rep.grants[1].denied)
      assert.are.equal(1, rep.grants[1].gets)
      assert.is_true(rep.grants[1].private)

      -- inherited by a disk restore point
      assert.are.equal(200, (t.call("PATCH", DATA0, { properties = { networkAccessPolicy = "AllowPrivate",
        diskAccessId = H.RG .. H.COMPUTE .. "/diskAccesses/da1" } })))
      assert.are.equal(201, (t.call("PUT", RPC .. "rpc", { location = "westeurope", properties = { source = { id = H.VM } } })))
      rp(t, "rp1")
      local drp = drp_of(t, "rp1", "vm-app-01-data0")
      local du = assert(grant(t, drp))
      assert.are.equal(403, (get(t, du, { ["x-ms-range"] = "bytes=0-0" })))
      assert.are.equal(206, (get(t, du, merge(PE, { ["x-ms-range"] = "bytes=0-0" }))))
    end)
  end)

  describe("counters (GET /_emulator/blobs)", function()
    it("count served, distinct and re-read bytes per grant and resource, past the grant's end", function()
      local id = new_disk(t, "cnt", 1)
      local other = new_disk(t, "cnt2", 1)
      local url = assert(grant(t, id))
      local ou = assert(grant(t, other))
      local function read(u, a, z)
        assert.are.equal(206, (get(t, u, { ["x-ms-range"] = string.format("bytes=%d-%d", a, z) })))
      end
      read(url, 0, MiB - 1)
      read(url, 2 * MiB, 3 * MiB - 1)
      read(url, MiB, 2 * MiB - 1)            -- fills the gap: nothing read twice
      local function report(resource)
        local st, body = t.call("GET", "/_emulator/blobs" .. (resource and ("?resource=" .. enc(resource)) or ""),
          nil, { api = false })
        assert.are.equal(200, st)
        return body
      end
      local r = report(id)
      assert.are.equal(1, #r.resources)
      assert.are.equal(3 * MiB, r.resources[1].served_bytes)
      assert.are.equal(3 * MiB, r.resources[1].distinct_bytes)
      assert.are.equal(0, r.resources[1].reread_bytes)

      read(url, MiB / 2, MiB + MiB / 2 - 1)   -- 1 MiB again
      get(t, url, nil, "HEAD")
      get(t, url .. "&comp=pagelist")
      read(ou, 0, 511)
      assert.are.equal(403, (get(t, (url:gsub("sig=[^&]+", "sig=AAAA")))))
      r = report(id)
      local g = r.grants[1]
      assert.are.equal(1, #r.grants)
      assert.are.equal(4 * MiB, g.served_bytes)
      assert.are.equal(3 * MiB, g.distinct_bytes)
      assert.are.equal(MiB, g.reread_bytes)
      assert.are.same({ 4, 1, 1, 0 }, { g.gets, g.heads, g.pagelists, g.denied })
      assert.are.equal(6, g.requests)
      assert.are.equal("active", g.state)
      assert.is_nil(json.encode(r):find("sig", 1, true))
      local all = report()
      assert.are.equal(4 * MiB + 512, all.total.served_bytes)
      assert.are.equal(MiB, all.total.reread_bytes)
      assert.are.equal(1, all.total.denied)
      assert.are.equal(2, #all.resources)

      -- a new grant after a revoke: the resource still knows what it sent
      revoke(t, id)
      local url2 = assert(grant(t, id))
      assert.are_not.equal(url, url2)
      read(url2, 0, 511)
      r = report(id)
      assert.are.equal(2, #r.grants)
      assert.are.equal("revoked", r.grants[1].state)
      assert.are.equal(0, r.grants[2].reread_bytes)
      assert.are.equal(MiB + 512, r.resources[1].reread_bytes)   -- 512 more: read before
      t.advance(3601)
      assert.are.equal("expired", report(id).grants[2].state)
    end)
  end)

  describe("over HTTPS", function()
    it("serves a large range from a real emulator byte for byte", function()
      local em = H.start("--no-throttle --time-scale 0.01")
      local ok, err = pcall(function()
        local _, tok = H.http(em, "POST", "/_emulator/tokens", {})
        local auth = { authorization = "Bearer " .. json.decode(tok).access_token }
        local function arm(method, path, body)
          local st, text, h = H.http(em, method, path .. "?api-version=" .. H.API.disk, body, auth)
          assert(st and st < 300, tostring(st) .. " " .. tostring(text))
          local loc = h.location
          if not loc then return json.decode(text) end
          for _ = 1, 400 do
            st, text = H.http(em, "GET", path_of(loc), nil, auth)
            if st == 200 then return json.decode(text) end
            os.execute("sleep 0.05")
          end
          error("no end to " .. path)
        end
        local id = DISKS .. "https1"
        arm("PUT", id, { location = "westeurope", properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } })
        local st = H.http(em, "POST", "/_emulator/disks/" .. enc(id) .. "/fill",
          { extents = 4, length = 16 * MiB, seed = 3, stride = 16 * MiB })
        assert.are.equal(200, st)
        local sas = arm("POST", id .. "/beginGetAccess", { access = "Read", durationInSeconds = 600 }).accessSAS
        local bytes, h
        st, bytes, h = H.http(em, "GET", path_of(sas), nil, { ["x-ms-range"] = "bytes=0-" .. (64 * MiB - 1) }, 60)
        assert.are.equal(206, st)
        assert.are.equal(tostring(64 * MiB), h["content-length"])
        assert.are.equal(sha256(fill_bytes(3, 0, 64 * MiB)), sha256(bytes))
        st, bytes = H.http(em, "GET", path_of(sas), nil, { ["x-ms-range"] = string.format("bytes=%d-", GiB - 100) })
        assert.are.equal(206, st)
        assert.are.equal(612, #bytes)
        assert.is_true(client_vhd.parse(bytes:sub(101)).checksum_ok)
      end)
      em.stop()
      assert(ok, err)
    end)
  end)
end)
