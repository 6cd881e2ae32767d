-- A workflow run in a child process that kills itself at its Nth progress
-- event, for the crash specs (a real SIGKILL, or SIGTERM/SIGINT, at an
-- exact moment of the run):
--   lua spec/support/workflow_child.lua URL CA_FILE STATE_DIR N SIG TIME_SCALE WORKFLOW CONFIG_JSON [TYPE]
-- (N = 0: no kill; WORKFLOW names azrp.workflows.WORKFLOW; with TYPE, only
-- events of that type count)
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
local client = C.client({ url = url, ca_file = ca })
local count = 0
local report = require("azrp.workflow").start(def, client, config,
  { state_dir = state_dir, time_scale = scale, progress = function(e)
    if e.type == "run" and e.state == "started" then io.stdout:write("run ", e.run_id, "\n"); io.stdout:flush() end
    if arg[9] and e.type ~= arg[9] then return end
    count = count + 1
    if count == n then
      io.stdout:write("event ", count, " ", e.type, " ", tostring(e.name), " ", tostring(e.state), "\n"); io.stdout:flush()
      os.execute("kill -" .. sig .. " " .. azrp.host.pid())
    end
  end })
io.stdout:write("events ", count, "\n")
if report and report.error then io.stdout:write("error ", tostring(report.error.code), ": ", tostring(report.error.message), "\n") end
io.stdout:write("exit ", tostring(report and report.exit_code), "\n")
os.exit(report and report.exit_code or 9)
