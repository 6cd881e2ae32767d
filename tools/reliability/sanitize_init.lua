-- LUA_INIT_5_4 of the Lua children that tools/reliability/sanitize_all.sh
-- starts under ASan (through spec/support/process.lua's child()): loads
-- azrp.core from AZRP_SANITIZE_CPATH (build/asan) before the child's own
-- script runs, so that bin/azrp and spec/support/workflow_child.lua, which
-- put build/5.4 first in package.cpath, find the sanitized module already
-- loaded.
local cpath = os.getenv("AZRP_SANITIZE_CPATH")
if cpath and cpath ~= "" then
  package.cpath = cpath .. ";" .. package.cpath
  require "azrp.core"
end
