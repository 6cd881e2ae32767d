-- Starts and stops a real emulator process for specs, without loading any
-- emulator module (client specs run on LuaJIT too, the emulator on 5.4).
local json = require "cjson.safe"

local P = {}

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function sleep(s) os.execute("sleep " .. s) end

-- start(args) -> { url, ca_file, http_url, pid, dir, stop(), log() }
function P.start(args)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local ready = dir .. "/ready.json"
  -- Sanitizer runs preload libasan into the spec process; the emulator is
  -- not under test there, so it starts without it.
  local cmd = string.format("env -u LD_PRELOAD -u ASAN_OPTIONS -u LSAN_OPTIONS lua5.4 bin/azrp emulator --port 0 --state-dir %s/state --ready-file %s %s > %s/out.log 2>&1 & echo $!",
    dir, ready, args or "", dir)
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
  function info.stop() os.execute("kill " .. pid .. " 2>/dev/null") end
  function info.log() return read_file(dir .. "/out.log") end
  return info
end

return P
