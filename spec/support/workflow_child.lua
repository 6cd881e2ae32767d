-- A workflow run in a child process that kills itself at its Nth progress
-- event, for the crash specs (a real SIGKILL, or SIGTERM/SIGINT, at an
-- exact moment of the run):
--   lua spec/support/workflow_child.lua URL CA_FILE STATE_DIR N SIG TIME_SCALE WORKFLOW CONFIG_JSON [TYPE]
-- (N = 0: no kill; WORKFLOW names azrp.workflows.WORKFLOW; with TYPE, only
-- events of that type count; TYPE "journal" counts journal records
-- instead: the kill comes right after the Nth record is on disk, before
-- the request it announces is sent; "journal:KEY" counts only the
-- records that set KEY, as the number of records before one varies with
-- the machine's speed)
-- Prints "run <id>" first, "events N" and "exit N" last; exits with the
-- report's exit code.
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
package.cpath = (jit and "./build/jit/?.so;" or ("./build/" .. _VERSION:match("%d%.%d") .. "/?.so;")) .. package.cpath
local azrp = require "azrp"
local json = require "cjson"
local C = require "support.client"

local url, ca, state_dir, n, sig, scale = arg[1], arg[2], arg[3], tonumber(arg[4]), arg[5], tonumber(arg[6])
local def = require("azrp.workflows." .. arg[7])
local config = json.decode(arg[8])
local client = C.client({ url = url, ca_file = ca, throttle = not os.getenv("AZRP_SPEC_NO_THROTTLE") })
local count = 0
local by_journal = arg[9] == "journal" or (arg[9] or ""):match("^journal:") ~= nil
local only_key = (arg[9] or ""):match("^journal:(.+)$")

local function kill(what)
  io.stdout:write("event ", count, " ", what, "\n"); io.stdout:flush()
  os.execute("kill -" .. sig .. " " .. azrp.host.pid())
end

if by_journal then
  -- Every journal the run opens counts its appends.
  local jm = require "azrp.workflow.journal"
  local function counted(j)
    if not j then return j end
    local append = j.append
    j.append = function(self, rec)
      local ok, e = append(self, rec)
      if only_key and rec.key ~= only_key then return ok, e end
      count = count + 1
      if ok and count == n then kill("journal " .. tostring(rec.type) .. " " .. tostring(rec.key or rec.name) .. " " .. tostring(rec.state)) end
      return ok, e
    end
    return j
  end
  local create, open = jm.create, jm.open
  jm.create = function(...) local j, e = create(...); return counted(j), e end
  jm.open = function(...) local j, e = open(...); return counted(j), e end
end
local report = require("azrp.workflow").start(def, client, config,
  { state_dir = state_dir, time_scale = scale, progress = function(e)
    if e.type == "run" and e.state == "started" then io.stdout:write("run ", e.run_id, "\n"); io.stdout:flush() end
    if by_journal or (arg[9] and e.type ~= arg[9]) then return end
    count = count + 1
    if count == n then kill(e.type .. " " .. tostring(e.name) .. " " .. tostring(e.state)) end
  end })
io.stdout:write("events ", count, "\n")
if report and report.error then io.stdout:write("error ", tostring(report.error.code), ": ", tostring(report.error.message), "\n") end
io.stdout:write("exit ", tostring(report and report.exit_code), "\n")
os.exit(report and report.exit_code or 9)
