-- Shell helpers for specs: quote a word, run a command (asserting success),
-- tell whether one succeeded, or capture its output.
local S = {}

-- q(s) -> s as one single-quoted word for sh.
function S.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- ok(cmd) -> whether cmd exited 0 (os.execute returns true or nil on
-- 5.2+, 0 or not on 5.1 and LuaJIT).
function S.ok(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

function S.sh(cmd)
  assert(S.ok(cmd), "command failed: " .. cmd)
end

function S.capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("*a")
  p:close()
  return out
end

return S
