-- The emulator's blob endpoint: MB/s and emulator CPU of one 256 MiB
-- ranged read through a disk's SAS over HTTPS (curl, one connection).
--
-- Usage: lua5.4 bench/emulator_blob.lua [--mib 256] [--runs 3]
-- It starts `bin/azrp emulator --no-throttle --time-scale 0.01`, makes an
-- empty 1 GiB disk, fills MiB bytes at its start (admin fill, or admin
-- write with a pattern on an emulator without fill), grants read access
-- and reads [0, MiB) with x-ms-range, --runs times.  It prints one line per
-- run and the medians: wall MB/s as curl saw it and the emulator process's
-- CPU seconds (user + system, /proc) per read.  Every read is checked for
-- its length.  Then it times the admin fill of 1 GiB in 256 extents over
-- an 8 GiB disk.
package.path = "spec/?.lua;lua/?.lua;" .. package.path
local json = require "cjson.safe"
local process = require "support.process"

local opts = { mib = 256, runs = 3 }
local i = 1
while arg[i] do
  local k, v = arg[i]:match("^%-%-(%w+)$"), arg[i + 1]
  if not k or not opts[k] or not tonumber(v) then
    io.stderr:write("usage: lua5.4 bench/emulator_blob.lua [--mib N] [--runs N]\n")
    os.exit(2)
  end
  opts[k] = math.tointeger(tonumber(v))
  i = i + 2
end

local SUB = "00000000-0000-4000-8000-000000000001"
local DISK = "/subscriptions/" .. SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/disks/bench-blob"
local API = "?api-version=2026-03-02"

local em = process.start("--no-throttle --time-scale 0.01")
local function finish(code) em.stop(); os.exit(code) end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- curl(method, url, body?, headers?) -> status, body, headers text
local function curl(method, url, body, headers)
  local hfile, bfile = os.tmpname(), os.tmpname()
  local cmd = { "curl -sS --cacert", shell_quote(em.ca_file), "-X", method, "-D", hfile, "-o", bfile }
  for _, h in ipairs(headers or {}) do cmd[#cmd + 1] = "-H " .. shell_quote(h) end
  if body then cmd[#cmd + 1] = "-H 'content-type: application/json' --data-binary " .. shell_quote(body) end
  cmd[#cmd + 1] = shell_quote(url)
  assert(os.execute(table.concat(cmd, " ")), "curl failed: " .. url:gsub("sig=[^&]*", "sig=REDACTED"))
  local hf, bf = io.open(hfile, "rb"), io.open(bfile, "rb")
  local htext, btext = hf:read("a"), bf:read("a")
  hf:close(); bf:close(); os.remove(hfile); os.remove(bfile)
  return tonumber(htext:match("^HTTP/%S+ (%d+)")), btext, htext
end

local _, tok_body = curl("POST", em.url .. "/_emulator/tokens", "{}")
local token = assert(json.decode(tok_body)).access_token
local auth = { "Authorization: Bearer " .. token }

-- An ARM call whose LRO is followed to its end; returns the final body.
local function arm_lro(method, path, body)
  local st, b, h = curl(method, em.url .. path .. API, body and json.encode(body) or "", auth)
  assert(st and st < 300, "ARM " .. method .. " " .. path .. ": " .. tostring(st) .. " " .. b)
  local loc = h:match("\n[Ll]ocation: ([^\r\n]+)")
  if not loc then return json.decode(b) end
  for _ = 1, 600 do
    st, b = curl("GET", loc, nil, auth)
    if st == 200 then return json.decode(b) end
    os.execute("sleep 0.05")
  end
  error("operation did not finish: " .. path)
end

local function proc_cpu(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  local s = f:read("a")
  f:close()
  local fields = {}
  for w in s:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100   -- utime + stime, clock ticks
end

local ok, err = pcall(function()
  arm_lro("PUT", DISK, { location = "westeurope", sku = { name = "Standard_LRS" },
    properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } })
  local bytes = opts.mib * 1024 * 1024
  local admin = em.url .. "/_emulator/disks/" .. DISK:gsub("/", "%%2F")
  local st = curl("POST", admin .. "/fill", json.encode{ extents = 1, length = bytes, seed = 1 })
  if st == 404 then   -- an emulator from before fill
    st = curl("POST", admin .. "/write", json.encode{ offset = 0, pattern = "azrp-bench", length = bytes })
  end
  assert(st == 200, "could not write the disk: " .. tostring(st))
  local sas = arm_lro("POST", DISK .. "/beginGetAccess", { access = "Read", durationInSeconds = 3600 }).accessSAS
  local rates, cpus = {}, {}
  for run = 1, opts.runs do
    local cpu0 = proc_cpu(em.pid)
    local p = io.popen(string.format("curl -sS --cacert %s -o /dev/null -H 'x-ms-version: 2020-10-02' " ..
      "-H 'x-ms-range: bytes=0-%d' -w '%%{http_code} %%{size_download} %%{time_total}' %s",
      shell_quote(em.ca_file), bytes - 1, shell_quote(sas)))
    local out = p:read("a")
    p:close()
    local code, size, secs = out:match("^(%d+) (%d+) ([%d.]+)")
    assert(code == "206" and tonumber(size) == bytes, "bad read: " .. out)
    local cpu = proc_cpu(em.pid) - cpu0
    rates[run], cpus[run] = bytes / tonumber(secs) / 1e6, cpu
    print(string.format("run %d: %d MiB in %.2f s = %.0f MB/s, emulator CPU %.2f s", run, opts.mib,
      tonumber(secs), rates[run], cpu))
  end
  -- The admin fill: 1 GiB in 256 extents over an 8 GiB disk.
  local big = DISK .. "-fill"
  arm_lro("PUT", big, { location = "westeurope", sku = { name = "Standard_LRS" },
    properties = { creationData = { createOption = "Empty" }, diskSizeGB = 8 } })
  local p = io.popen(string.format("curl -sS --cacert %s -o /dev/null -X POST -H 'content-type: application/json' " ..
    "--data-binary '{\"extents\":256,\"length\":4194304,\"seed\":1}' -w '%%{http_code} %%{time_total}' %s",
    shell_quote(em.ca_file), shell_quote(em.url .. "/_emulator/disks/" .. big:gsub("/", "%%2F") .. "/fill")))
  local out = p:read("a")
  p:close()
  local code, secs = out:match("^(%d+) ([%d.]+)")
  if code == "200" then
    print(string.format("admin fill: 1 GiB in 256 extents of an 8 GiB disk in %.2f s", tonumber(secs)))
  else
    print("admin fill: not available (HTTP " .. tostring(code) .. ")")
  end
  table.sort(rates); table.sort(cpus)
  local mid = (opts.runs + 1) // 2
  print(string.format("median: %.0f MB/s, emulator CPU %.2f s per %d MiB read (%.0f MB per CPU second)",
    rates[mid], cpus[mid], opts.mib, bytes / 1e6 / math.max(cpus[mid], 0.01)))
end)
if not ok then io.stderr:write(tostring(err), "\n"); finish(1) end
finish(0)
