-- The blob endpoint behind SAS URLs: a grant's URL reads exactly the bytes
-- of its source, and nothing else gets in.
assert(require("azrp.emulator.deps").setup())

local blob = require "azrp.emulator.blob"
local clock_mod = require "azrp.emulator.clock"
local content = require "azrp.emulator.content"
local router = require "azrp.emulator.router"

local BLOCK = content.BLOCK_SIZE
local BASE = "https://127.0.0.1:8443"
local DRP = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/" ..
  "restorePointCollections/c/restorePoints/rp/diskRestorePoints/d1"

-- Sends a request for url through a router holding the blob routes, the way
-- the server will.
local function request(b, method, url, headers, body)
  local r = router.new()
  for _, route in ipairs(b:routes()) do r:add(route) end
  local path, query = url:match("^https?://[^/]+([^?]*)%??(.*)$")
  local route, params = r:match(method, path)
  assert(route, "no route for " .. method .. " " .. path)
  local hs = {}
  for k, v in pairs(headers or {}) do hs[k:lower()] = v end
  return route.handler(nil, { method = method, path = path, query = router.parse_query(query),
    headers = hs, body = body or "", params = params, base_url = BASE })
end

local function with_query(url, key, value)
  return (url:gsub("([?&]" .. key .. "=)[^&]*", function(prefix) return prefix .. value end))
end

local function sig_of(url)
  return url:match("[?&]sig=([^&]*)")
end

local function assert_denied(res, url, code)
  assert.equal(403, res.status)
  assert.matches("^<%?xml", res.body)
  assert.truthy(res.body:find("<Code>" .. (code or "AuthenticationFailed") .. "</Code>", 1, true))
  local sig = sig_of(url)
  assert.is_nil(res.body:find(sig, 1, true))
  assert.is_nil(res.body:find(router.unescape(sig), 1, true))
end

describe("emulator blob endpoint", function()
  local clock, b, disk, snap, data

  before_each(function()
    local t = 1700000000
    clock = clock_mod.new{ now = function() return t end }
    b = blob.new{ clock = clock }
    disk = content.new(4 * BLOCK)
    data = {}
    for i = 1, 3000 do data[i] = string.char(i % 256) end
    data = table.concat(data)
    disk:write(BLOCK - 1000, data)
    disk:write(3 * BLOCK, "last block")
    snap = disk:snapshot()
  end)

  local function read_grant(duration)
    return b:grant{ source = snap, duration = duration or 3600, access = "Read",
      resource_id = DRP, base_url = BASE }
  end

  describe("grant", function()
    it("returns a SAS URL of Azure's shape", function()
      local g = read_grant()
      local prefix = BASE .. "/_blob/md-" .. g.id .. "/abcd?sv=2018-03-28&sr=b&si=" .. g.id ..
        "&sp=r&se=2023-11-14T23%3A13%3A20Z&sig="
      assert.equal(prefix, g.url:sub(1, #prefix))
      assert.matches("&sig=[%w%%]+$", g.url)
      assert.equal(1700000000 + 3600, g.expires)
    end)

    it("is the active grant of its resource, whatever the id's case", function()
      local g = read_grant()
      assert.equal(g.url, b:active(DRP:upper()).url)
      assert.is_nil(b:active(DRP .. "x"))
    end)

    it("refuses a second grant while one is active, and Write on a snapshot", function()
      read_grant()
      assert.has_error(function() read_grant() end)
      assert.has_error(function()
        b:grant{ source = snap, duration = 60, access = "Write", resource_id = "/x", base_url = BASE }
      end)
    end)
  end)

  describe("GET", function()
    it("returns the exact bytes of a range", function()
      local g = read_grant()
      local res = request(b, "GET", g.url, { Range = "bytes=" .. (BLOCK - 1000) .. "-" .. (BLOCK + 1999) })
      assert.equal(206, res.status)
      assert.equal(data, res.body)
      assert.equal(string.format("bytes %d-%d/%d", BLOCK - 1000, BLOCK + 1999, 4 * BLOCK),
        res.headers["content-range"])
      assert.equal("PageBlob", res.headers["x-ms-blob-type"])
    end)

    it("prefers x-ms-range and clamps an open or long range at the end", function()
      local g = read_grant()
      local res = request(b, "GET", g.url, { Range = "bytes=0-9", ["x-ms-range"] = "bytes=" .. (3 * BLOCK) .. "-" })
      assert.equal(206, res.status)
      assert.equal(BLOCK, #res.body)
      assert.equal("last block", res.body:sub(1, 10))
      res = request(b, "GET", g.url, { Range = "bytes=" .. (4 * BLOCK - 2) .. "-" .. (9 * BLOCK) })
      assert.equal("\0\0", res.body)
    end)

    it("returns the whole blob without a range", function()
      local g = read_grant()
      local res = request(b, "GET", g.url)
      assert.equal(200, res.status)
      assert.equal(snap:read(0, snap.size), res.body)
    end)

    it("answers 416 InvalidRange past the end", function()
      local g = read_grant()
      local res = request(b, "GET", g.url, { Range = "bytes=" .. (4 * BLOCK) .. "-" })
      assert.equal(416, res.status)
      assert.truthy(res.body:find("<Code>InvalidRange</Code>", 1, true))
      assert.equal("InvalidRange", res.headers["x-ms-error-code"])
    end)

    it("reads the snapshot, not the disk written since", function()
      local g = read_grant()
      disk:write(0, "changed")
      local res = request(b, "GET", g.url, { Range = "bytes=0-6" })
      assert.equal(string.rep("\0", 7), res.body)
    end)

    it("answers 404 BlobNotFound for another blob name", function()
      local g = read_grant()
      local res = request(b, "GET", (g.url:gsub("/abcd%?", "/other?")))
      assert.equal(404, res.status)
      assert.truthy(res.body:find("<Code>BlobNotFound</Code>", 1, true))
    end)
  end)

  describe("HEAD", function()
    it("describes a page blob", function()
      local g = read_grant()
      local res = request(b, "HEAD", g.url)
      assert.equal(200, res.status)
      assert.equal("", res.body)
      assert.equal(tostring(4 * BLOCK), res.headers["content-length"])
      assert.equal("PageBlob", res.headers["x-ms-blob-type"])
      assert.equal("bytes", res.headers["accept-ranges"])
      assert.equal("2018-03-28", res.headers["x-ms-version"])
      assert.matches('^"0x%x+"$', res.headers["etag"])
      assert.matches("GMT$", res.headers["last-modified"])
    end)
  end)

  describe("authentication", function()
    it("rejects a tampered signature without echoing it", function()
      local g = read_grant()
      local sig = sig_of(g.url)
      local forged = with_query(g.url, "sig", (sig:sub(1, 1) == "A" and "B" or "A") .. sig:sub(2))
      local res = request(b, "GET", forged)
      assert_denied(res, forged)
      assert_denied(res, g.url)
      assert.equal("AuthenticationFailed", res.headers["x-ms-error-code"])
      assert.truthy(res.body:find("Server failed to authenticate the request.", 1, true))
    end)

    it("rejects a missing signature", function()
      local g = read_grant()
      local res = request(b, "GET", (g.url:gsub("&sig=.*$", "")))
      assert_denied(res, g.url)
    end)

    it("rejects an altered expiry or permission", function()
      local g = read_grant()
      assert_denied(request(b, "GET", with_query(g.url, "se", "2099-01-01T00%3A00%3A00Z")), g.url)
      assert_denied(request(b, "GET", with_query(g.url, "sp", "rw")), g.url)
    end)

    it("rejects a valid query on another grant's container", function()
      local g = read_grant()
      local res = request(b, "GET", (g.url:gsub("/md%-[^/]+/", "/md-00000000-0000-4000-8000-000000000000/")))
      assert_denied(res, g.url)
    end)

    it("expires", function()
      local g = read_grant(60)
      assert.equal(206, request(b, "GET", g.url, { Range = "bytes=0-0" }).status)
      clock:advance(61)
      assert_denied(request(b, "GET", g.url, { Range = "bytes=0-0" }), g.url)
      assert.is_nil(b:active(DRP))
    end)

    it("is revoked by revoke", function()
      local g = read_grant()
      assert.is_true(b:revoke(g.id))
      assert_denied(request(b, "GET", g.url), g.url)
      assert.is_nil(b:active(DRP))
      assert.is_false(b:revoke(g.id))
    end)

    it("gives a HEAD an error without a body", function()
      local g = read_grant()
      b:revoke(g.id)
      local res = request(b, "HEAD", g.url)
      assert.equal(403, res.status)
      assert.equal("", res.body)
      assert.equal("AuthenticationFailed", res.headers["x-ms-error-code"])
    end)
  end)

  describe("extend", function()
    it("keeps the URL and moves the expiry", function()
      local g = read_grant(60)
      clock:advance(50)
      local g2 = assert(b:extend(g.id, 600))
      assert.equal(g.url, g2.url)
      assert.equal(g.id, g2.id)
      assert.equal(1700000000 + 50 + 600, g2.expires)
      clock:advance(100)   -- past the first expiry
      assert.equal(206, request(b, "GET", g.url, { Range = "bytes=0-0" }).status)
      assert.equal(g.url, b:active(DRP).url)
    end)

    it("fails on a grant that is gone", function()
      local g = read_grant(60)
      clock:advance(120)
      local ok, err = b:extend(g.id, 60)
      assert.is_nil(ok)
      assert.matches("no active grant", err)
    end)
  end)

  describe("pagelist", function()
    it("lists merged page ranges as Azure's XML", function()
      local g = read_grant()
      local res = request(b, "GET", g.url .. "&comp=pagelist")
      assert.equal(200, res.status)
      assert.equal('<?xml version="1.0" encoding="utf-8"?><PageList>' ..
        "<PageRange><Start>0</Start><End>" .. (2 * BLOCK - 1) .. "</End></PageRange>" ..
        "<PageRange><Start>" .. (3 * BLOCK) .. "</Start><End>" .. (4 * BLOCK - 1) .. "</End></PageRange>" ..
        "</PageList>", res.body)
      assert.equal(tostring(4 * BLOCK), res.headers["x-ms-blob-content-length"])
      assert.matches("xml", res.headers["content-type"])
    end)

    it("honours a range", function()
      local g = read_grant()
      local res = request(b, "GET", g.url .. "&comp=pagelist", { ["x-ms-range"] = "bytes=512-1023" })
      assert.equal('<?xml version="1.0" encoding="utf-8"?><PageList>' ..
        "<PageRange><Start>512</Start><End>1023</End></PageRange></PageList>", res.body)
    end)
  end)

  describe("Put Page", function()
    local RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/disks/up"

    it("writes through a Write grant", function()
      local target = content.new(2 * BLOCK)
      local g = b:grant{ source = target, duration = 60, access = "Write", resource_id = RID, base_url = BASE }
      assert.matches("&sp=rw&", g.url)
      local page = string.rep("p", 1024)
      local res = request(b, "PUT", g.url .. "&comp=page",
        { ["x-ms-page-write"] = "update", ["x-ms-range"] = "bytes=512-1535" }, page)
      assert.equal(201, res.status)
      assert.equal(page, target:read(512, 1024))
      res = request(b, "GET", g.url, { Range = "bytes=512-1535" })
      assert.equal(page, res.body)
      res = request(b, "PUT", g.url .. "&comp=page",
        { ["x-ms-page-write"] = "clear", ["x-ms-range"] = "bytes=512-1023" })
      assert.equal(201, res.status)
      assert.equal(string.rep("\0", 512), target:read(512, 512))
    end)

    it("refuses unaligned ranges and short bodies", function()
      local target = content.new(BLOCK)
      local g = b:grant{ source = target, duration = 60, access = "Write", resource_id = RID, base_url = BASE }
      local res = request(b, "PUT", g.url .. "&comp=page",
        { ["x-ms-page-write"] = "update", ["x-ms-range"] = "bytes=1-512" }, string.rep("x", 512))
      assert.equal(416, res.status)
      assert.truthy(res.body:find("<Code>InvalidPageRange</Code>", 1, true))
      res = request(b, "PUT", g.url .. "&comp=page",
        { ["x-ms-page-write"] = "update", ["x-ms-range"] = "bytes=0-511" }, "short")
      assert.equal(400, res.status)
      assert.equal(0, target.version)
    end)

    it("is forbidden through a Read grant", function()
      local g = read_grant()
      local res = request(b, "PUT", g.url .. "&comp=page",
        { ["x-ms-page-write"] = "update", ["x-ms-range"] = "bytes=0-511" }, string.rep("x", 512))
      assert.equal(403, res.status)
      assert.truthy(res.body:find("AuthorizationPermissionMismatch", 1, true))
    end)
  end)
end)
