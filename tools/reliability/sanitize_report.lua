-- Reads what tools/reliability/sanitize_all.sh left (Lua 5.4):
--
--   lua5.4 tools/reliability/sanitize_report.lua scan MODE DIR
--     classifies the sanitizer reports of one spec file's run (DIR/asan.*,
--     DIR/ubsan.*, DIR/vg.*.log), writes them to DIR/findings.txt and
--     prints "findings N outside M": N reports that are azrp's (any ASan
--     or UBSan error, any valgrind error with a frame in azrp.core, a leak
--     whose stack goes through azrp.core), M reports from other code of the
--     same processes (a leak in the interpreter or a library), not counted.
--   lua5.4 tools/reliability/sanitize_report.lua write OUT RELIABILITY.md
--     writes the sanitize-all section of RELIABILITY.md from
--     OUT/<mode>/results.tsv.
package.path = "./tools/reliability/?.lua;./spec/?.lua;" .. package.path
local section = require "section"

local read = require("support.files").read

local function lines_of(cmd)
  local p = assert(io.popen(cmd))
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  return t
end

local function ours(text)
  return text:find("azrp/core.so", 1, true) or text:find("/src/[%w_]+%.c") or text:find(" src/[%w_]+%.c")
end

-- Splits a log into reports: ASan/UBSan reports start with "==PID==ERROR"
-- or "...: runtime error:"; valgrind records are separated by "==PID== ".
local function reports(mode, text)
  local out = {}
  if mode == "valgrind" then
    local cur = {}
    for l in (text .. "\n"):gmatch("([^\n]*)\n") do
      local body = l:gsub("^==%d+==%s?", "")
      if body == "" then
        if #cur > 0 then out[#out + 1] = table.concat(cur, "\n") end
        cur = {}
      else
        cur[#cur + 1] = body
      end
    end
    if #cur > 0 then out[#out + 1] = table.concat(cur, "\n") end
    local keep = {}
    for _, r in ipairs(out) do
      -- valgrind's own notes (--quiet leaves few) are not reports
      if not r:find("^Warning: ") and not r:find("^HEAP SUMMARY") and not r:find("^LEAK SUMMARY")
        and not r:find("^ERROR SUMMARY") then keep[#keep + 1] = r end
    end
    return keep
  end
  local cur
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do
    if l:find("ERROR: %a+Sanitizer") or l:find("runtime error:") or l:find("^Direct leak") then
      if cur then out[#out + 1] = table.concat(cur, "\n") end
      cur = { l }
    elseif cur then
      cur[#cur + 1] = l
    end
  end
  if cur then out[#out + 1] = table.concat(cur, "\n") end
  return out
end

local function scan(mode, dir)
  local files = lines_of("ls " .. dir .. " 2>/dev/null")
  local found, outside, notes = 0, 0, {}
  for _, name in ipairs(files) do
    if name:find("^asan%.") or name:find("^ubsan%.") or name:find("^vg%..*%.log$") then
      local text = read(dir .. "/" .. name) or ""
      for _, r in ipairs(reports(mode, text)) do
        local leak = r:find("LeakSanitizer") or r:find("^Direct leak") or r:find("definitely lost")
        -- the first "ERROR: LeakSanitizer" line only heads the leaks under it
        if not (r:find("ERROR: LeakSanitizer") and not r:find("\n#%d")) then
          local counts = (not leak and mode == "asan") or ours(r)
          if counts then found = found + 1 else outside = outside + 1 end
          notes[#notes + 1] = string.format("== %s (%s)\n%s\n", name, counts and "azrp" or "outside azrp", r)
        end
      end
    end
  end
  local f = assert(io.open(dir .. "/findings.txt", "w"))
  f:write(table.concat(notes, "\n"))
  f:close()
  print(string.format("findings %d outside %d", found, outside))
end

local function tsv(path)
  local rows = {}
  for l in ((read(path) or "")):gmatch("[^\n]+") do
    local c = {}
    for v in (l .. "\t"):gmatch("([^\t]*)\t") do c[#c + 1] = v end
    rows[#rows + 1] = { name = c[1], res = c[2], passed = tonumber(c[3]), failed = tonumber(c[4]),
      skipped = tonumber(c[5]), secs = tonumber(c[6]), findings = tonumber(c[7]), outside = tonumber(c[8]), how = c[9] }
  end
  table.sort(rows, function(a, b) return a.name < b.name end)
  return rows
end

local function write(out, md)
  local b = {}
  local function add(...) b[#b + 1] = string.format(...) end
  add("## Sanitizers over the whole client suite (tools/reliability/sanitize_all.sh)\n\n")
  add("Machine: %s CPUs (shared with other work), Linux %s, %s.  Command: `make check-sanitize`\n",
    lines_of("nproc")[1], lines_of("uname -r")[1], lines_of("date -u '+%Y-%m-%d %H:%M UTC'")[1])
  add("(`sh tools/reliability/sanitize_all.sh asan valgrind`), Lua 5.4, every spec/client/*_spec.lua but its\n")
  add("#timing tests, one file at a time; the lua5.4 children the specs start (crash-spec workflows,\n")
  add("bin/azrp started through spec/support/child.lua and azrp_cmd.lua) run under the same tool and load the\n")
  add("same build.  Not covered: the children a spec starts with its own io.popen (bin/azrp in cli_spec,\n")
  add("cli_workflow_spec and restore_preflight_spec, which drop LD_PRELOAD and load build/5.4; the `lua -e`\n")
  add("children of close_spec and workflow_spec, which keep libasan preloaded but load build/5.4), and every\n")
  add("LuaJIT child.  A finding is any ASan or UBSan error, a valgrind error with a frame in azrp.core, or a\n")
  add("leak whose stack goes through azrp.core; \"outside azrp\" counts the leak reports of other programs\n")
  add("the specs run with libasan preloaded (az's python, sed), read but not counted.  Per-file logs:\n")
  add("build/sanitize/<mode>/<file>/ (findings.txt lists every report).\n\n")
  local titles = {
    asan = "ASan + UBSan (build/asan, `-fsanitize=address,undefined -fno-sanitize-recover=all`, leak check on)",
    valgrind = "valgrind memcheck (build/5.4, `--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=24`)",
  }
  for _, mode in ipairs({ "asan", "valgrind" }) do
    local rows = tsv(out .. "/" .. mode .. "/results.tsv")
    if #rows > 0 then
      local started = (read(out .. "/" .. mode .. "/started") or "?"):gsub("%s+$", "")
      local ended = (read(out .. "/" .. mode .. "/ended") or "(not finished)"):gsub("%s+$", "")
      add("### %s\n\n%s to %s.\n\n", titles[mode], started, ended)
      add("| spec file | result | passed | failed | skipped | seconds | findings in azrp | reports outside azrp | run |\n")
      add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
      local tp, tf, ts, tsec, tfind, tout = 0, 0, 0, 0, 0, 0
      for _, r in ipairs(rows) do
        local how = r.how == "light" and "light: spec under valgrind, children under ASan" or
          (mode == "valgrind" and "full: spec and children under valgrind" or "spec and children under ASan")
        add("| %s | %s | %d | %d | %d | %d | %d | %d | %s |\n", r.name, r.res, r.passed or 0, r.failed or 0,
          r.skipped or 0, r.secs or 0, r.findings or 0, r.outside or 0, how)
        if r.res ~= "timeout" then
          tp, tf, ts = tp + (r.passed or 0), tf + (r.failed or 0), ts + (r.skipped or 0)
          tfind, tout = tfind + (r.findings or 0), tout + (r.outside or 0)
        end
        tsec = tsec + (r.secs or 0)
      end
      add("\nTotal: %d passed, %d failed, %d skipped, %d findings in azrp, %d reports outside it, %d s.\n\n",
        tp, tf, ts, tfind, tout, tsec)
    end
  end
  section.replace(md, "sanitize-all", table.concat(b))
end

local cmd = arg[1]
if cmd == "scan" then scan(arg[2], arg[3])
elseif cmd == "write" then write(arg[2], arg[3])
else io.stderr:write("usage: sanitize_report.lua scan MODE DIR | write OUT RELIABILITY.md\n"); os.exit(2) end
