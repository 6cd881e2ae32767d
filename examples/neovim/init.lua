-- azrp in Neovim's init.lua (~/.config/nvim/init.lua): where azrp's Lua
-- files, its core built for LuaJIT and the plugin are.  AZRP_HOME is a
-- checkout after `make build` (build/jit/azrp/core.so); after
-- `make rock-jit` use that tree's share/lua/5.1 and lib/lua/5.1 instead.
local home = os.getenv("AZRP_HOME") or vim.fn.expand("~/src/azrp")
package.path = home .. "/lua/?.lua;" .. home .. "/lua/?/init.lua;" .. package.path
package.cpath = home .. "/build/jit/?.so;" .. package.cpath
vim.opt.runtimepath:prepend(home .. "/examples/neovim")   -- plugin/azrp.lua: the commands
