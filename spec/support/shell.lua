-- Shell helpers for specs: run a command (asserting success) or capture its output.
local S = {}

function S.sh(cmd)
  local ok = os.execute(cmd)
  assert(ok == true or ok == 0, "command failed: " .. cmd)
end

function S.capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

return S
