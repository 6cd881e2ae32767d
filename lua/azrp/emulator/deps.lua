-- Makes the emulator's third-party libraries loadable.
--
-- Debian packages lua-http (and its pure-Lua dependencies fifo, lpeg_patterns,
-- basexx) for Lua 5.1 to 5.3 only, while cqueues, luaossl and cjson are built
-- for 5.4 as well.  lua-http's sources are version-neutral, so on 5.4 we add
-- Debian's 5.3 and 5.1 trees to the end of package.path: anything installed
-- for 5.4 (or by LuaRocks) still wins.
local M = {}

local extra = {
  "/usr/share/lua/5.3/?.lua", "/usr/share/lua/5.3/?/init.lua",
  "/usr/share/lua/5.1/?.lua", "/usr/share/lua/5.1/?/init.lua",
}

function M.setup()
  local ok = pcall(require, "http.server")
  if ok then return true end
  for _, p in ipairs(extra) do
    if not package.path:find(p, 1, true) then
      package.path = package.path .. ";" .. p
    end
  end
  local ok2, err = pcall(require, "http.server")
  if not ok2 then
    return nil, "the emulator needs lua-http, cqueues and luaossl " ..
      "(Debian: apt-get install lua-http lua-cqueues lua-luaossl): " .. tostring(err)
  end
  return true
end

return M
