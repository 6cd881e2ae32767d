--- How a workflow run shows itself while it runs: one line per step and
-- resource on stderr (a live line for the copy's replication on a
-- terminal, a line per 10 % otherwise), or, with --json, every event as a
-- JSON line on stdout.  The run id comes first.
local azrp = require "azrp"
local json = require "cjson.safe"

local M = {}

--- printer(env, opts) -> function(event)
function M.printer(env, opts)
  local out = env.stderr
  local live = azrp.host.isatty(out)
  local last_pct = {}
  local pending_live = false
  local function line(s)
    if pending_live then out:write("\r\27[K"); pending_live = false end
    out:write(s, "\n")
    out:flush()
  end
  if opts.json then
    return function(e)
      local copy = {}
      for k, v in pairs(e) do if k ~= "report" then copy[k] = v end end
      env.stdout:write(json.encode(copy), "\n")
      env.stdout:flush()
    end
  end
  return function(e)
    if e.type == "run" then
      if e.state == "started" or e.state == "resumed" or e.state == "cleanup" then
        line(string.format("azrp: run %s %s (journal %s)", e.run_id, e.state, tostring(e.dir)))
      else
        local f = e.report and e.report.figures or {}
        local figs = {}
        if f.rpo_seconds then figs[#figs + 1] = string.format("RPO %.1f s", f.rpo_seconds) end
        if f.rto_seconds then figs[#figs + 1] = string.format("RTO %.1f s", f.rto_seconds) end
        local scale = e.report and e.report.time_scale
        if #figs > 0 and scale and scale ~= 1 then figs[#figs] = figs[#figs] .. string.format(" (Azure time; emulator x%g)", 1 / scale) end
        line(string.format("azrp: run %s %s, exit %s%s", e.run_id, e.state, tostring(e.exit_code),
          #figs > 0 and (": " .. table.concat(figs, ", ")) or ""))
        local r = e.report or {}
        local files = r.report_files or (r.journal and { markdown = r.journal .. "/report.md" })
        if files and files.markdown then
          line("azrp: report " .. files.markdown .. (files.svg and (", timeline " .. files.svg) or ""))
        end
      end
    elseif e.type == "step" then
      if e.state ~= "start" then
        line(string.format("  %-18s %-11s %8.3f s%s", e.name, e.state, e.seconds or 0,
          e.error and ("  " .. e.error) or ""))
      end
    elseif e.type == "resource" then
      if e.state ~= "creating" then line(string.format("    %-13s %-9s %s", e.kind, e.state, tostring(e.name))) end
    elseif e.type == "progress" then
      local pct = math.floor(tonumber(e.percent) or 0)
      local key = tostring(e.name or e.id)
      -- A copy replicates; anything else just makes progress.
      local what = e.step == "copy" and "replication" or "progress"
      -- A transfer says how fast and how long to go.
      if e.mbps then key = string.format("%s  %.1f MB/s", key, e.mbps) end
      if e.eta_seconds then key = string.format("%s  ETA %s", key, M.duration(e.eta_seconds)) end
      if live then
        out:write(string.format("\r\27[K    %s %3d %%  %s", what, pct, key))
        out:flush()
        pending_live = true
      elseif not last_pct[tostring(e.name or e.id)] or pct >= last_pct[tostring(e.name or e.id)] + 10
        or (pct == 100 and last_pct[tostring(e.name or e.id)] ~= 100) then
        last_pct[tostring(e.name or e.id)] = pct
        line(string.format("    %-11s %3d %%  %s", what, pct, key))
      end
    elseif e.type == "note" then
      line("  note: " .. tostring(e.message))
    end
  end
end

--- duration(seconds) -> "42 s", "3 min 20 s", "2 h 5 min"
function M.duration(s)
  s = math.max(0, math.floor((tonumber(s) or 0) + 0.5))
  if s < 60 then return s .. " s" end
  if s < 3600 then return string.format("%d min %d s", math.floor(s / 60), s % 60) end
  return string.format("%d h %d min", math.floor(s / 3600), math.floor((s % 3600) / 60))
end

return M
