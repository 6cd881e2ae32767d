-- The blob endpoint serves a whole disk in one GET, as Azure serves a page
-- blob: no Range header, 8 GiB and the 512-byte VHD footer in one stream,
-- and ranges of any size, in bounded memory (the body is made as the
-- socket drains, never held whole).  Over HTTPS, on an emulator process,
-- with curl as the client; the emulator's memory is read from /proc.
local H = require "support.emu"
local json = require "azrp.emulator.json"
local fill = require "azrp.emulator.fill"
local vhd = require "azrp.emulator.vhd"
local wire = require "azrp.emulator.wire"
local digest = require "openssl.digest"

local MiB, GiB = 1024 * 1024, 1024 * 1024 * 1024
local SIZE = 8 * GiB
local API = "?api-version=" .. H.API.disk
local DISK = H.RG .. H.COMPUTE .. "/disks/stream-8g"
-- What the emulator may grow by while it serves 8 GiB: the size of a few
-- windows of pieces and TLS buffers, not of the body.
local MAX_GROWTH = 64 * MiB

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

local function enc(id) return (id:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end)) end

local function sleep(s) require("cqueues").sleep(s) end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- kB of a /proc/PID/status field (VmRSS, VmHWM).
local function status_kb(pid, field)
  local s = read_file("/proc/" .. pid .. "/status") or ""
  return tonumber(s:match(field .. ":%s*(%d+) kB"))
end

describe("emulator blob GET of any size", function()
  local em, w, dir, sas, extents

  -- A curl config holding the SAS (never on a command line), for a GET
  -- with an optional x-ms-range; headers go to dir/headers.
  local function curl(range)
    local cfg = dir .. "/curl.cfg"
    local f = assert(io.open(cfg, "w"))
    f:write(string.format('silent\nshow-error\ncacert = "%s"\nurl = "%s"\ndump-header = "%s/headers"\n',
      em.ca_file, sas, dir))
    if range then f:write(string.format('header = "x-ms-range: bytes=%d-%d"\n', range[1], range[2])) end
    f:close()
    return string.format("env -u LD_PRELOAD curl -K %s", cfg)
  end

  local function response_headers()
    local text = read_file(dir .. "/headers") or ""
    local out = { status = tonumber(text:match("^HTTP/[%d.]+ (%d+)")) }
    for k, v in text:gmatch("\n([%w%-]+):%s*([^\r\n]*)") do out[k:lower()] = v end
    return out
  end

  -- The bytes of the disk at [a, b] (inclusive), from the fill's extents
  -- and its documented keystream alone, fed to d in pieces.
  local function feed_expected(d, a, b)
    local pos = a
    local zeros = string.rep("\0", MiB)
    local function feed_zeros(n)
      while n > 0 do
        local k = math.min(n, MiB)
        d:update(k == MiB and zeros or zeros:sub(1, k))
        n = n - k
      end
    end
    for _, e in ipairs(extents) do
      local lo, hi = math.max(a, e.offset), math.min(b, e.offset + e.length - 1)
      if lo <= hi then
        feed_zeros(lo - pos)
        local base = lo - lo % 16
        d:update(fill.bytes(11, base, hi - base + 1):sub(lo - base + 1))
        pos = hi + 1
      end
    end
    feed_zeros(b + 1 - pos)
  end

  setup(function()
    em = H.start("--no-throttle --time-scale 0.01")
    dir = em.dir
    local st, body = H.http(em, "POST", "/" .. H.TENANT .. "/oauth2/v2.0/token",
      "grant_type=client_credentials&client_id=" .. H.CLIENT_ID .. "&client_secret=" .. H.SECRET ..
      "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
      { ["content-type"] = "application/x-www-form-urlencoded" })
    assert.are.equal(200, st, body)
    w = wire.new{ url = em.url, ca_file = em.ca_file, token = json.decode(body).access_token, timeout = 120 }
    local h
    st, body, h = w:request("PUT", DISK .. API, { location = "westeurope",
      properties = { creationData = { createOption = "Empty" }, diskSizeGB = SIZE // GiB } })
    assert.are.equal(202, st, json.encode(body))
    assert.are.equal("Succeeded", assert(w:wait(h, sleep)).status)
    -- 64 MiB of data in 64 scattered extents of 1 MiB, 128 MiB apart
    st, body = w:request("POST", "/_emulator/disks/" .. enc(DISK) .. "/fill",
      { extents = 64, length = MiB, seed = 11, start = 4096 })
    assert.are.equal(200, st, json.encode(body))
    extents = body.extents
    assert.are.equal(64, #extents)
    st, body, h = w:request("POST", DISK .. "/beginGetAccess" .. API, { access = "Read", durationInSeconds = 3600 })
    assert.are.equal(202, st, json.encode(body))
    assert.are.equal("Succeeded", assert(w:wait(h, sleep)).status)
    st, body = w:request("GET", h.location)
    assert.are.equal(200, st)
    sas = body.accessSAS
    assert.is_string(sas)
  end)

  teardown(function() if em then em.stop() end end)

  it("serves the whole blob (8 GiB + footer) in one GET without a range, in bounded memory", function()
    -- the footer, read on its own
    local p = io.popen(curl({ SIZE, SIZE + 511 }))
    local footer = p:read("a")
    p:close()
    assert.are.equal(206, response_headers().status)
    assert.are.equal(512, #footer)
    local parsed = assert(vhd.parse(footer))
    assert.are.equal(SIZE, parsed.size)
    assert.is_true(parsed.checksum_ok)

    -- Peak RSS is reset (clear_refs 5) so that VmHWM after the GET is the
    -- GET's own peak; the stream is also sampled while it flows.
    local reset = io.open("/proc/" .. em.pid .. "/clear_refs", "w")
    if reset then reset:write("5"); reset:close() end
    local before = status_kb(em.pid, "VmRSS")
    local peak = before

    local disk_d = digest.new("sha256")
    local total, tail, reads = 0, "", 0
    p = io.popen(curl())
    while true do
      local chunk = p:read(4 * MiB)
      if not chunk then break end
      local disk_part = math.max(0, math.min(#chunk, SIZE - total))
      if disk_part == #chunk then disk_d:update(chunk) elseif disk_part > 0 then disk_d:update(chunk:sub(1, disk_part)) end
      total = total + #chunk
      tail = #chunk >= 512 and chunk:sub(-512) or (tail .. chunk):sub(-512)
      reads = reads + 1
      if reads % 32 == 0 then peak = math.max(peak, status_kb(em.pid, "VmRSS") or 0) end
    end
    local ok = p:close()
    assert.is_true(ok == true or ok == 0, "curl failed")
    peak = math.max(peak, status_kb(em.pid, "VmRSS") or 0)
    if reset then peak = math.max(peak, status_kb(em.pid, "VmHWM") or 0) end

    local h = response_headers()
    assert.are.equal(200, h.status)
    assert.are.equal(tostring(SIZE + 512), h["content-length"])
    assert.is_nil(h["content-range"])
    assert.are.equal(SIZE + 512, total)
    -- disk + footer: the first 8 GiB are the disk's bytes, the rest its footer
    local st, want = w:request("GET", "/_emulator/disks/" .. enc(DISK) .. "/sha256")
    assert.are.equal(200, st)
    assert.are.equal(want.sha256, hex(disk_d:final()))
    assert.are.equal(footer, tail)

    local growth = (peak - before) * 1024
    io.stderr:write(string.format("\nemulator RSS: %.1f MiB before the 8 GiB GET, peak %.1f MiB during it (+%.1f MiB)\n",
      before / 1024, peak / 1024, growth / MiB))
    assert.is_true(growth < MAX_GROWTH, string.format("the emulator grew by %.1f MiB serving 8 GiB", growth / MiB))

    -- what the endpoint counted: the footer's GET and one of the whole blob
    local _, report = w:request("GET", "/_emulator/blobs?resource=" .. enc(DISK))
    assert.are.equal(2, report.total.gets)
    assert.are.equal(SIZE + 1024, report.total.served_bytes)
    assert.are.equal(SIZE + 512, report.total.distinct_bytes)
  end)

  it("serves a range larger than 256 MiB that runs into the footer", function()
    local a, b = SIZE - 600 * MiB - 100, SIZE + 255
    local p = io.popen(curl({ a, b }))
    local d, n = digest.new("sha256"), 0
    while true do
      local chunk = p:read(MiB)
      if not chunk then break end
      d:update(chunk)
      n = n + #chunk
    end
    p:close()
    local h = response_headers()
    assert.are.equal(206, h.status)
    assert.are.equal(string.format("bytes %d-%d/%d", a, b, SIZE + 512), h["content-range"])
    assert.are.equal(b - a + 1, n)
    local footer = io.popen(curl({ SIZE, SIZE + 255 }))
    local head = footer:read("a")
    footer:close()
    local want = digest.new("sha256")
    feed_expected(want, a, SIZE - 1)
    want:update(head)
    assert.are.equal(hex(want:final()), hex(d:final()))
  end)
end)
