-- Runs a workflow in a child process (spec/support/workflow_child.lua)
-- that signals itself at its Nth progress event, for the crash specs.
--
--   local child = require "support.child"
--   local run_id, rc, out = child.run{ em = em, state = dir, workflow = "export_disk",
--     config = { ... }, n = 12, sig = "KILL", scale = 0.002, event = "progress" }
--
-- n = 0 never signals; event, when given, counts only events of that type
-- (event = "journal": journal records, the signal right after the nth is
-- on disk);
-- lua defaults to the Lua running the spec (M.LUA: lua5.1 ... lua5.4,
-- luajit), so that the crash specs of each Lua run its workflows on that
-- Lua (the child needs lua-cjson, which Debian has for every Lua, and
-- that Lua's build of azrp.core).
local json = require "cjson"
local q = require("support.shell").q
local process = require "support.process"

local M = {}

M.LUA = jit and "luajit" or ("lua" .. _VERSION:match("%d%.%d"))

--- cmd(t) -> the shell command that runs the child (no redirection).
function M.cmd(t)
  return string.format("env -u LD_PRELOAD %s%s spec/support/workflow_child.lua %s %s %s %d %s %s %s %s%s",
    t.em.throttle == false and "AZRP_SPEC_NO_THROTTLE=1 " or "", process.child(t.lua or M.LUA), q(t.em.url), q(t.em.ca_file), q(t.state), t.n or 0, t.sig or "KILL", tostring(t.scale or 0.002),
    t.workflow, q(json.encode(t.config)), t.event and (" " .. t.event) or "")
end

--- run(t) -> run id, exit code, the child's output.
function M.run(t)
  local p = io.popen(M.cmd(t) .. " 2>&1; echo \"rc $?\"")
  local out = p:read("*a")
  p:close()
  return out:match("run (%S+)"), tonumber(out:match("rc (%d+)%s*$")), out
end

return M
