-- bin/azrp as a subprocess against an emulator, as a user runs it: the
-- emulator's ready file in AZRP_EMULATOR, a HOME of its own, no
-- credential or subscription from the environment.
--
--   local azrp_cmd = require "support.azrp_cmd"
--   local r = azrp_cmd.run(em, { "export", "--source", id, "--image", f })   -- { code, out, err }
--
-- opts.lua: the interpreter (default: the one running the spec).
local files = require "support.files"
local q = require("support.shell").q
local tmp = require "support.tmp"
local process = require "support.process"

local M = {}

--- interp() -> the command of the Lua running this spec.
function M.interp()
  return rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d%.%d"))
end

--- run(em, args [, opts]) -> { code, out, err }
function M.run(em, args, opts)
  opts = opts or {}
  local dir = tmp.dir()
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local p = io.popen(string.format("env -u LD_PRELOAD -u AZURE_SUBSCRIPTION_ID -u AZURE_CLIENT_SECRET HOME=%s AZRP_EMULATOR=%s "
    .. "%s bin/azrp %s >%s/out 2>%s/err; echo $?", q(dir), q(em.dir .. "/ready.json"), process.child(opts.lua or M.interp()),
    table.concat(words, " "), dir, dir))
  local code = tonumber(p:read("*a"))
  p:close()
  local r = { code = code, out = files.read(dir .. "/out") or "", err = files.read(dir .. "/err") or "" }
  tmp.remove(dir)
  return r
end

return M
