-- Seed files for emulator processes (`azrp emulator --seed FILE`).
-- Needs no emulator module: client specs run on LuaJIT too (the demo
-- fleet is read from a Lua 5.4 child).
local json = require "cjson"
local files = require "support.files"
local tmp = require "support.tmp"

local S = {}

-- demo() -> the emulator's demo fleet (azrp.emulator.seed.default()), decoded.
function S.demo()
  local p = io.popen([[lua5.4 -e 'package.path="./lua/?.lua;"..package.path; ]] ..
    [[print(require("cjson").encode(require("azrp.emulator.seed").default()))']])
  local seed = json.decode(p:read("*a"))
  p:close()
  return seed
end

-- write(seed) -> the path of a new JSON file holding seed (left in the
-- temp directory).
function S.write(seed)
  local path = tmp.name() .. ".json"
  files.write(path, json.encode(seed))
  return path
end

return S
