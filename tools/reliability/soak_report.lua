-- Writes the soak section of RELIABILITY.md from the --out files of
-- tools/reliability/soak.lua (Lua 5.4):
--   lua5.4 tools/reliability/soak_report.lua RELIABILITY.md build/soak-5.4.json build/soak-jit.json
package.path = "./tools/reliability/?.lua;" .. package.path
local json = require "cjson"
local section = require "section"

local md = arg[1]
local runs = {}
for i = 2, #arg do
  local f = io.open(arg[i], "rb")
  if f then
    runs[#runs + 1] = json.decode(f:read("a"))
    f:close()
  else
    io.stderr:write("soak_report: no ", arg[i], " (that run did not finish)\n")
  end
end

local function first_line(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("l")
  p:close()
  return s
end

local function sum(t)
  local s = 0
  for _, v in pairs(type(t) == "table" and t or {}) do s = s + (tonumber(v) or 0) end
  return s
end

local b = {}
local function add(...) b[#b + 1] = string.format(...) end
add("## Soak: 100,000 requests through azrp.core (tools/reliability/soak.lua)\n\n")
add("Machine: %s CPUs (shared with other work), Linux %s, %s.  Command: `make check-soak`\n",
  first_line("nproc"), first_line("uname -r"), first_line("date -u '+%Y-%m-%d %H:%M UTC'"))
add("(`lua5.4 tools/reliability/soak.lua --out build/soak-5.4.json`, then the same with `luajit`).\n\n")
local r1 = runs[1] or {}
add("One client, one emulator (`--no-throttle --time-scale %s --page-size 5`, the client's own token bucket\n",
  tostring(r1.time_scale or "?"))
add("off), faults `%s`.  Each round: 16 GETs at once (VM, collection,\n", tostring(r1.faults_spec or "?"))
add("restore point, disk), a RestorePointCollections_List of three pages (nextLink), two restore points\n")
add("created at once (LRO polled), deleted (LRO) and read back as 404; every result checked.  Requests are\n")
add("the client's own count (retries, LRO polls and token requests included).  Every 1,000 requests, after a\n")
add("full collectgarbage: RSS (/proc/self/statm) and Lua heap (collectgarbage \"count\"); slopes by least\n")
add("squares over the samples after the warm-up (the first 10,000 requests), in KiB per 10,000 requests.\n\n")
add("| interpreter | requests | retries | faults injected | GET / list / create / delete | errors | wall s |")
add(" RSS after warm-up KiB | RSS last KiB | RSS peak KiB | RSS slope | heap after warm-up KiB | heap last KiB | heap slope |")
add(" malloc in use after warm-up KiB | malloc last KiB | malloc slope | result |\n")
add("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
local function opt(v, f) return v and string.format(f, v) or "" end
for _, r in ipairs(runs) do
  add("| %s | %d | %d | %d | %d / %d / %d / %d | %d | %.0f | %.0f | %.0f | %.0f | %.1f | %.0f | %.0f | %.1f | %s | %s | %s | %s |\n",
    r.interpreter, r.requests, r.retries, sum(r.faults), r.ops.get, r.ops.list, r.ops.create, r.ops.delete,
    r.errors, r.wall_s, r.rss_after_warmup_kib or 0, r.rss_last_kib or 0, r.rss_peak_kib, r.rss_slope_kib_per_10k,
    r.heap_after_warmup_kib or 0, r.heap_last_kib or 0, r.heap_slope_kib_per_10k,
    opt(r.malloc_after_warmup_kib, "%.0f"), opt(r.malloc_last_kib, "%.0f"), opt(r.malloc_slope_kib_per_10k, "%.1f"),
    r.ok and "ok" or "FAILED")
end
add("\nFaults injected, by kind (the emulator's counters): ")
local parts = {}
for _, r in ipairs(runs) do
  local names = {}
  for k in pairs(type(r.faults) == "table" and r.faults or {}) do names[#names + 1] = k end
  table.sort(names)
  local t = {}
  for _, k in ipairs(names) do t[#t + 1] = string.format("%s %d", k, tonumber(r.faults[k]) or 0) end
  parts[#parts + 1] = r.interpreter .. ": " .. table.concat(t, ", ")
end
add("%s.  Retries are the core's own count (client:stats().retries), faults the emulator's: they\n", table.concat(parts, "; "))
add("need not match (an expired token, for one, is refreshed and the request resent without counting as a retry).\n")
add("\nRSS (KiB) every 10,000 requests:\n\n")
for _, r in ipairs(runs) do
  local pts = {}
  for _, s in ipairs(r.sample_list or {}) do
    if #pts == 0 or s.requests >= #pts * 10000 then pts[#pts + 1] = string.format("%d", s.rss_kib) end
  end
  add("- %s: %s\n", r.interpreter, table.concat(pts, ", "))
end
add("\nThreshold: %d KiB per 10,000 requests, for every slope.  A leak of one allocation per request\n",
  r1.threshold_kib_per_10k or 100)
add("is at least 32 bytes (glibc's smallest chunk), 312 KiB per 10,000 requests; one per operation (about 1.5\n")
add("requests an operation in this mix) more than 200: either is caught with margin.  RSS still grows\n")
add("after the warm-up, by less each 10,000 requests (the series above), while neither the Lua heap (after a\n")
add("full collection it moves by a few hundred KiB from sample to sample, without a trend) nor, on LuaJIT,\n")
add("malloc's bytes in use grow with it: pages the allocator touched and keeps, not memory held.  The malloc column (LuaJIT only: glibc's mallinfo2 through the FFI; LuaJIT's own\n")
add("heap is not malloc's) is the C side alone, azrp.core, libcurl and OpenSSL, without RSS's page-level\n")
add("noise.\n")
section.replace(md, "soak", table.concat(b))
