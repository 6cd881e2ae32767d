-- Starts and stops a real emulator process for specs, without loading any
-- emulator module (client specs run on LuaJIT too, the emulator on 5.4).
local json = require "cjson.safe"

local P = {}

local read_file = require("support.files").read

local function sleep(s) os.execute("sleep " .. s) end

-- child(lua) -> the words that start a Lua child of a spec (the workflow
-- children of the crash specs, bin/azrp): lua itself, or, when
-- AZRP_SPEC_CHILD_WRAP is set and lua is lua5.4, that prefix before it.
-- tools/reliability/sanitize_all.sh sets it so that the children run
-- under the same sanitizer (and load the same build of azrp.core) as the
-- spec: `env LD_PRELOAD=libasan.so ... LUA_INIT_5_4=@...` or `valgrind ...`.
function P.child(lua)
  local wrap = os.getenv("AZRP_SPEC_CHILD_WRAP")
  if wrap and wrap ~= "" and lua == "lua5.4" then return wrap .. " " .. lua end
  return lua
end

local SHARED_KEY = "build/spec-signing.key"

-- start(args) -> { url, ca_file, http_url, pid, dir, throttle, stop(), log() }
-- Time runs 100 times faster than Azure's unless args say otherwise:
-- a spec that does not care how long a deletion takes should not wait
-- Azure's 10 s for it.
function P.start(args)
  args = args or ""
  if not args:find("--time-scale", 1, true) then args = "--time-scale 0.01 " .. args end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local ready = dir .. "/ready.json"
  -- One token signing key for the emulators of a checkout's specs, kept
  -- in build/ (the emulator keeps its own in its state directory and makes
  -- one, 0.15 s of CPU, only when there is none: hundreds of starts).
  assert(os.execute("mkdir -p " .. dir .. "/state"))
  local have_key = os.execute("install -m 600 " .. SHARED_KEY .. " " .. dir .. "/state/signing.key 2>/dev/null")
  have_key = have_key == true or have_key == 0
  -- Sanitizer runs preload libasan into the spec process; the emulator is
  -- not under test there, so it starts without it.
  local cmd = string.format("env -u LD_PRELOAD -u ASAN_OPTIONS -u LSAN_OPTIONS -u UBSAN_OPTIONS -u LUA_INIT_5_4 lua5.4 bin/azrp emulator --port 0 --state-dir %s/state --ready-file %s %s > %s/out.log 2>&1 & echo $!",
    dir, ready, args, dir)
  local p = io.popen(cmd)
  local pid = tonumber(p:read("*l"))
  p:close()
  local info
  for _ = 1, 200 do
    local s = read_file(ready)
    if s then info = json.decode(s); break end
    sleep(0.1)
  end
  if not info then error("emulator did not start: " .. tostring(read_file(dir .. "/out.log"))) end
  info.pid, info.dir = pid, dir
  if not have_key then
    -- the first: its key for the next ones, renamed into place whole
    os.execute(string.format("mkdir -p build && install -m 600 %s/state/signing.key %s.%d 2>/dev/null && mv %s.%d %s",
      dir, SHARED_KEY, pid, SHARED_KEY, pid, SHARED_KEY))
  end
  -- Whether the emulator keeps ARM's request-rate limits (support.client
  -- paces its clients under them only then).
  info.throttle = not args:find("--no-throttle", 1, true)
  function info.stop() os.execute("kill " .. pid .. " 2>/dev/null") end
  function info.log() return read_file(dir .. "/out.log") end
  return info
end

return P
