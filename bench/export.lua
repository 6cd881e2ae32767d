--- Disk export benchmark: `azrp export` side by side with a single-stream
-- curl of the whole blob, in one run, on one emulator (started here).
--
--   lua5.4 bench/export.lua [--clients azrp,azrp-jit] [--no-write]
--
-- Two 8 GiB data disks of vm-app-01 are filled through the emulator's admin
-- API, one with 1 GiB (256 x 4 MiB extents), one with 4 GiB (1024 x 4 MiB),
-- and one restore point is taken.  For each disk restore point:
--   * `bin/azrp export --source DRP --image FILE --emulator READY` (default
--     chunk and parallelism), under /usr/bin/time: wall time, peak RSS; its
--     image's SHA-256 (the report's, and OpenSSL's of the file) equal to the
--     emulator's GET /_emulator/disks/{id}/sha256;
--   * DiskRestorePoint_GrantAccess (azrp client), one curl process, one
--     GET of the whole blob (disk + 512-byte footer, no Range header),
--     written to a file in the same
--     temporary directory as the image, RevokeAccess; wall time of curl alone,
--     then the SHA-256 of the file's first 8 GiB (head -c | openssl dgst
--     -sha256: OpenSSL's SHA-NI code, the fastest hash a shell has here;
--     coreutils' sha256sum takes about 4 s a GiB) equal to the same digest.
-- It prints a table and replaces its section of BENCHMARKS.md (between
-- <!-- bench/export.lua --> markers) unless --no-write.  No SAS is printed.
local ROOT = (arg[0]:match("^(.*)/bench/[^/]*$") or "."):gsub("^$", ".")
package.path = ROOT .. "/spec/?.lua;" .. ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. package.path
package.cpath = ROOT .. "/build/5.4/?.so;" .. package.cpath

local opts = { clients = "azrp,azrp-jit", write = true }
do
  local i = 1
  while i <= #arg do
    if arg[i] == "--no-write" then opts.write = false; i = i + 1
    elseif arg[i] == "--clients" and arg[i + 1] then opts.clients = arg[i + 1]; i = i + 2
    else
      io.stderr:write("usage: lua5.4 bench/export.lua [--clients azrp,azrp-jit] [--no-write]\n")
      os.exit(2)
    end
  end
end

local function sh(cmd) local r = os.execute(cmd); return r == true or r == 0 end
local read = require("support.files").read
local function capture(cmd)
  local h = io.popen(cmd)
  local s = h:read("a")
  h:close()
  return s
end
local function redact(s) return (tostring(s):gsub("sig=[^&%s\"']*", "sig=REDACTED")) end

if not sh("test -x /usr/bin/time") then
  io.stderr:write("bench: needs /usr/bin/time (apt-get install time) for peak RSS\n")
  os.exit(2)
end
assert(sh("cd " .. ROOT .. " && make build >/dev/null"), "make build failed")
local core = require "azrp.core"
local json = require "cjson"
local C = require "support.client"
local seed_file = require "support.seed"
local small_seed = require "support.small_seed"

local MiB, GiB = 1024 * 1024, 1024 * 1024 * 1024
local SCALE = 0.002

local TMP = os.tmpname()
os.remove(TMP)
assert(sh("mkdir -p " .. TMP))

-- The emulator: the demo fleet, vm-app-01's two data disks at 8 GiB.
local seed = small_seed.shrink(seed_file.demo())
for _, vm in ipairs(seed.vms) do
  if vm.name == "vm-app-01" then
    vm.data_disks[1].size_gb = 8
    vm.data_disks[2].size_gb = 8
  end
end
local em = C.start("--no-throttle --time-scale " .. SCALE .. " --seed " .. seed_file.write(seed))
local ready_file = em.dir .. "/ready.json"
local function cleanup()
  em.stop()
  os.execute("rm -rf " .. TMP)
end

local results, failures = {}, {}
-- The 1-minute load average, at the start and the end: the machine is
-- shared, and the table means little without it.
local function load1() return (read("/proc/loadavg") or ""):match("^(%S+)") or "?" end
local load_start = load1()

local function measure()
  local client = C.client(em)
  local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
  local cases = {
    { label = "1 GiB", lun = 1, disk = vm.properties.storageProfile.dataDisks[2].managedDisk.id, extents = 256 },
    { label = "4 GiB", lun = 0, disk = vm.properties.storageProfile.dataDisks[1].managedDisk.id, extents = 1024 },
  }
  for i, c in ipairs(cases) do
    io.stderr:write(string.format("filling %s in %d x 4 MiB extents over 8 GiB ...\n", c.label, c.extents))
    local status, body = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(c.disk) .. "/fill",
      { extents = c.extents, length = 4 * MiB, seed = 8 + i })
    assert(status == 200, "fill: " .. tostring(status) .. " " .. json.encode(body))
    assert(body.written == c.extents * 4 * MiB, "fill wrote " .. tostring(body.written))
    c.data = body.written
  end
  assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-bench", body = { location = "westeurope",
      properties = { source = { id = C.VM_ID } } } }))
  local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-bench", restore_point_name = "rp-bench", body = {} }))
  for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
    for _, c in ipairs(cases) do
      if d.lun == c.lun then c.drp = d.diskRestorePoint.id end
    end
  end
  local LUA = {
    azrp = { label = "azrp (Lua 5.4)", cmd = "lua5.4 bin/azrp" },
    ["azrp-jit"] = { label = "azrp (LuaJIT)", cmd = "luajit bin/azrp", check = "command -v luajit" },
  }
  local clients = {}
  for id in opts.clients:gmatch("[^,]+") do
    local l = assert(LUA[id], "unknown client " .. id)
    if l.check and not sh(l.check .. " >/dev/null 2>&1") then
      io.stderr:write("skipping " .. l.label .. "\n")
    else
      clients[#clients + 1] = l
    end
  end
  for _, c in ipairs(cases) do
    assert(c.drp, "no disk restore point for lun " .. c.lun)
    local status, body = C.admin(em, "GET", "/_emulator/disks/" .. C.enc(c.drp) .. "/sha256")
    assert(status == 200, "sha256: " .. json.encode(body))
    c.want = body.sha256
    c.rows = {}
    for _, l in ipairs(clients) do
      io.stderr:write(string.format("%s: %s export ...\n", c.label, l.label))
      local img, rss = TMP .. "/export.img", TMP .. "/rss"
      local cmd = string.format("cd %s && /usr/bin/time -f '%%M %%U %%S' -o %s %s export --source '%s' --image %s " ..
        "--emulator %s --state-dir %s/state >%s/export.json 2>%s/export.err", ROOT, rss, l.cmd, c.drp, img, ready_file,
        TMP, TMP, TMP)
      local t0 = core.now()
      local ok = sh(cmd)
      local wall = core.now() - t0
      local out = read(TMP .. "/export.json") or ""
      local report = json.decode(out:match("(%b{})%s*$") or "null")
      local kib, user, sys = (read(rss) or ""):match("(%d+) ([%d.]+) ([%d.]+)%s*$")
      local sum = (capture("openssl dgst -sha256 -r " .. img):match("^(%x+)"))
      local fig = type(report) == "table" and report.figures or {}
      local row = { label = l.label, wall = wall, rss = tonumber(kib), cpu = (tonumber(user) or 0) + (tonumber(sys) or 0),
        download = fig.download_seconds, hash = fig.hash_seconds,
        sha_ok = sum == c.want and (type(report) ~= "table" or report.details == nil or report.details.sha256 == c.want) }
      if not ok or not row.sha_ok then
        failures[#failures + 1] = string.format("%s %s: exit %s, sha256 %s (want %s): %s", c.label, l.label,
          tostring(ok), tostring(sum), c.want, redact((read(TMP .. "/export.err") or ""):sub(1, 600)))
      end
      c.rows[#c.rows + 1] = row
      os.remove(img)
      os.execute("rm -f " .. img .. ".azrp-part")
    end
    -- single-stream curl of the whole blob through a SAS
    io.stderr:write(string.format("%s: single-stream curl of the whole blob ...\n", c.label))
    local grant, gerr = client:call("DiskRestorePoint_GrantAccess", { id = c.drp,
      body = { access = "Read", durationInSeconds = 3600 } })
    assert(type(grant) == "table" and grant.accessSAS, "grant: " .. redact(gerr))
    local cfg = TMP .. "/curl.cfg"   -- the SAS goes in a file, not on a command line
    do
      local f = assert(io.open(cfg, "w"))
      -- One GET of the whole blob, no Range header, as one would download
      -- a disk from Azure with curl.
      f:write(string.format('fail\nsilent\nshow-error\ncacert = "%s"\nurl = "%s"\n', em.ca_file, grant.accessSAS))
      f:close()
    end
    local blob = TMP .. "/curl.blob"
    local function gets()
      local st, rep = C.admin(em, "GET", "/_emulator/blobs?resource=" .. C.enc(c.drp))
      assert(st == 200, "blobs: " .. tostring(st))
      return rep.total.gets
    end
    local gets_before = gets()
    local t0 = core.now()
    local ok = sh(string.format("curl -sS --fail -K %s >%s 2>%s/curl.err", cfg, blob, TMP))
    local wall = core.now() - t0
    os.remove(cfg)
    local curl_gets = gets() - gets_before
    assert(client:call("DiskRestorePoint_RevokeAccess", { id = c.drp }))
    local size = tonumber((capture("stat -c %s " .. blob):match("%d+")))
    -- The same job as azrp's: an image whose digest is known.
    local h0 = core.now()
    local sum = (capture(string.format("head -c %d %s | openssl dgst -sha256 -r", 8 * GiB, blob)):match("^(%x+)"))
    local hash = core.now() - h0
    local row = { label = "curl (1 stream)", wall = wall + hash, download = wall, hash = hash,
      sha_ok = sum == c.want and size == 8 * GiB + 512, size = size }
    if not ok or not row.sha_ok or curl_gets ~= 1 then
      failures[#failures + 1] = string.format("%s curl: exit %s, %s bytes in %d GETs, sha256 %s (want %s): %s", c.label,
        tostring(ok), tostring(size), curl_gets, tostring(sum), c.want, redact((read(TMP .. "/curl.err") or ""):sub(1, 600)))
    end
    c.curl = row
    os.remove(blob)
  end
  client:close()
  results = cases
end

local ok, err = pcall(measure)
cleanup()
if not ok then error(redact(err), 0) end

----------------------------------------------------------------------------
-- The table and BENCHMARKS.md
----------------------------------------------------------------------------

local cpu = (read("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "?"
local nproc = capture("nproc"):match("%d+")
local uname = capture("uname -sr"):match("[^\n]+")
local date = os.date("!%Y-%m-%d %H:%M UTC")
local load_end = load1()
local lines = {}
local function out(s) lines[#lines + 1] = s or "" end

local function mbs(bytes, wall) return string.format("%.0f", bytes / 1e6 / wall) end
local function secs(v) return v and string.format("%.2f", v) or "?" end
out("| data on the 8 GiB disk | client | whole job s | download s | SHA-256 s | MB/s of data | peak MiB | CPU s | SHA-256 = disk's |")
out("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for _, c in ipairs(results) do
  for _, r in ipairs(c.rows) do
    out(string.format("| %s | %s | %.2f | %s | %s | %s | %.1f | %.2f | %s |", c.label, r.label, r.wall, secs(r.download),
      secs(r.hash), mbs(c.data, r.wall), (r.rss or 0) / 1024, r.cpu, r.sha_ok and "yes" or "NO"))
  end
  local r = c.curl
  out(string.format("| %s | %s + openssl dgst | %.2f | %s | %s | %s | | | %s |", c.label, r.label, r.wall, secs(r.download),
    secs(r.hash), mbs(c.data, r.wall), r.sha_ok and "yes (first 8 GiB)" or "NO"))
end
out()
out("| ratio | " .. table.concat((function()
  local t = {}
  for _, r in ipairs(results[1].rows) do t[#t + 1] = r.label end
  return t
end)(), " | ") .. " |")
out("| --- |" .. string.rep(" ---: |", #results[1].rows))
for _, c in ipairs(results) do
  local t = {}
  for _, r in ipairs(c.rows) do t[#t + 1] = string.format("%.1fx", c.curl.wall / r.wall) end
  out(string.format("| curl + openssl dgst / azrp, whole job, %s | %s |", c.label, table.concat(t, " | ")))
  t = {}
  for _, r in ipairs(c.rows) do t[#t + 1] = r.download and string.format("%.1fx", c.curl.download / r.download) or "?" end
  out(string.format("| curl / azrp, download only, %s | %s |", c.label, table.concat(t, " | ")))
end
do
  local t = {}
  for i, r in ipairs(results[2].rows) do t[#t + 1] = string.format("%.1fx", r.wall / results[1].rows[i].wall) end
  out(string.format("| azrp 4 GiB / azrp 1 GiB (data x4), whole job | %s |", table.concat(t, " | ")))
  t = {}
  for i, r in ipairs(results[2].rows) do
    local a = results[1].rows[i].download
    t[#t + 1] = (r.download and a) and string.format("%.1fx", r.download / a) or "?"
  end
  out(string.format("| azrp 4 GiB / azrp 1 GiB (data x4), download only | %s |", table.concat(t, " | ")))
  out(string.format("| curl 4 GiB / curl 1 GiB (same 8 GiB read) | %.1fx |", results[2].curl.download / results[1].curl.download))
end
local table_text = table.concat(lines, "\n")
print(table_text)
for _, f in ipairs(failures) do print("FAILURE: " .. f) end

if opts.write and #failures == 0 then
  local section = table.concat({
    "<!-- bench/export.lua -->",
    "## Disk export (azrp vs single-stream curl)",
    "",
    "`lua5.4 bench/export.lua` (also in `make bench`): one emulator (`--no-throttle --time-scale " .. SCALE ..
      "`), vm-app-01's two data disks at 8 GiB, filled through the admin API with 1 GiB (256 x 4 MiB scattered" ..
      " extents) and 4 GiB (1024 x 4 MiB), one restore point. azrp: `bin/azrp export --source DRP --image FILE" ..
      " --emulator READY` (default 4 MiB chunks, 8 in flight; the whole job includes its grant, fsyncs, revoke and" ..
      " the SHA-256 of the whole 8 GiB image, holes read as zeros: a cost of the disk's size; download s is the" ..
      " report's download step alone). curl: one curl process, one GET of the whole blob (8 GiB + the 512-byte footer," ..
      " no Range header, streamed by the emulator as Azure serves a page blob; the emulator counts one GET) through a" ..
      " SAS granted with DiskRestorePoint_GrantAccess, written to a file on the same filesystem (time of curl" ..
      " alone, then openssl dgst -sha256 of its 8 GiB (coreutils sha256sum is about 6x slower here): the same job, an image with its digest; grant and revoke not counted). Every image's SHA-256 is the emulator's" ..
      " `GET /_emulator/disks/{id}/sha256`, and so is that of curl's first 8 GiB. Peak RSS: /usr/bin/time.",
    "",
    string.format("Machine: %s CPUs, %s, %s; %s; shared with other work (1-minute load average %s at the start, %s at the end).",
      nproc, cpu, uname, date, load_start, load_end),
    "",
    table_text,
    "<!-- /bench/export.lua -->",
  }, "\n")
  local path = ROOT .. "/BENCHMARKS.md"
  local doc = read(path) or "# Benchmarks\n"
  local s, e = doc:find("<!%-%- bench/export%.lua %-%->.-<!%-%- /bench/export%.lua %-%->")
  if s then
    doc = doc:sub(1, s - 1) .. section .. doc:sub(e + 1)
  else
    doc = doc:gsub("\n*$", "\n\n") .. section .. "\n"
  end
  local f = assert(io.open(path, "w"))
  f:write(doc)
  f:close()
  io.stderr:write("wrote " .. path .. "\n")
end
os.exit(#failures == 0 and 0 or 1)
