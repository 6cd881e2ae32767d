-- Loaded by busted before any spec (see .busted): makes the emulator's
-- third-party libraries loadable on every Lua busted runs.
package.path = "./lua/?.lua;./lua/?/init.lua;./spec/?.lua;" .. package.path
assert(require("azrp.emulator.deps").setup())
