-- Temporary paths for specs (in the system's temp directory).
local shell = require "support.shell"

local T = {}

-- name() -> a fresh path that nothing holds yet (for a directory that the
-- code under test makes itself, or a file).
function T.name()
  local p = os.tmpname()
  os.remove(p)
  return p
end

-- dir() -> the path of a new, empty directory.
function T.dir()
  local d = T.name()
  shell.sh("mkdir -p " .. shell.q(d))
  return d
end

-- remove(path): removes a file or a directory tree, if there is one.
function T.remove(path)
  if path then os.execute("rm -rf " .. shell.q(path)) end
end

return T
