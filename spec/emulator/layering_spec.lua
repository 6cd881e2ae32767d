-- Layering: the emulator stands in for Azure, so it must not lean on the
-- client it is used to test (a client bug would then hide on both sides),
-- and the client must never ship with, or depend on, the emulator.
--   * a module under lua/azrp/emulator/ requires only azrp.emulator.* and
--     third-party libraries, never azrp or another azrp.* module;
--   * a module elsewhere under lua/azrp, and src/*.c, never name
--     azrp.emulator.
-- bin/, workflows/ and spec/ may use both, and are not scanned.
--
-- The scan reads source text: require "x", require("x"), require 'x',
-- require [[x]] and pcall(require, "x"), outside comments.  A require of
-- a computed name cannot be seen; none of the scanned files has one.

-- Lua source with its comments removed (their newlines kept, so that line
-- numbers still hold) and its strings left as they are, so that a comment
-- showing how to use a module is not taken for a require.
local function strip_lua_comments(src)
  local out, i, n = {}, 1, #src
  local function newlines(s) return (s:gsub("[^\n]", "")) end
  while i <= n do
    local c = src:sub(i, i)
    if src:sub(i, i + 1) == "--" then
      local eq = src:match("^%[(=*)%[", i + 2)
      local stop
      if eq then
        local close = src:find("]" .. eq .. "]", i + 2, true)
        stop = close and close + #eq + 1 or n
      else
        stop = (src:find("\n", i, true) or n + 1) - 1
      end
      out[#out + 1] = newlines(src:sub(i, stop))
      i = stop + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      out[#out + 1] = src:sub(i, j)
      i = j + 1
    elseif src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local close = src:find("]" .. eq .. "]", i + #eq + 2, true)
      local stop = close and close + #eq + 1 or n
      out[#out + 1] = src:sub(i, stop)
      i = stop + 1
    else
      -- Up to the next character that may start a comment or a string.
      local j = src:find("[%-\"'%[]", i + 1) or n + 1
      out[#out + 1] = src:sub(i, j - 1)
      i = j
    end
  end
  return table.concat(out)
end

local REQUIRE_FORMS = {
  "()%f[%w_]require%s*%(?%s*[\"']([^\"'\n]*)[\"']",
  "()%f[%w_]require%s*%(?%s*%[=*%[(.-)%]=*%]",
  "()%f[%w_]pcall%s*%(%s*require%s*,%s*[\"']([^\"'\n]*)[\"']",
}

local function line_at(src, pos)
  local _, count = src:sub(1, pos):gsub("\n", "")
  return count + 1
end

-- { { name = module, line = n } } of the requires in Lua source src.
local function lua_requires(src)
  local code, found = strip_lua_comments(src), {}
  for _, form in ipairs(REQUIRE_FORMS) do
    for pos, name in code:gmatch(form) do
      found[#found + 1] = { name = name, line = line_at(code, pos) }
    end
  end
  table.sort(found, function(a, b) return a.line < b.line end)
  return found
end

-- { { name, line } } of the C string literals in src naming the emulator
-- (a C module loads a Lua one by name: luaL_requiref, or "require" and a
-- pushed name).
local function c_emulator_names(src)
  local code = src:gsub("/%*.-%*/", function(s) return (s:gsub("[^\n]", "")) end)
    :gsub("//[^\n]*", "")
  local found = {}
  for pos, lit in code:gmatch('()"([^"\n]*)"') do
    if lit:find("azrp[%./]emulator") then found[#found + 1] = { name = lit, line = line_at(code, pos) } end
  end
  return found
end

local function is_emulator(name)
  return name == "azrp.emulator" or name:sub(1, 14) == "azrp.emulator."
end

local function is_client(name)
  return (name == "azrp" or name:sub(1, 5) == "azrp.") and not is_emulator(name)
end

-- The rules, each file = { path, text }: a list of "path:line: name" for
-- each forbidden require.
local function emulator_violations(files)
  local out = {}
  for _, f in ipairs(files) do
    for _, r in ipairs(lua_requires(f.text)) do
      if is_client(r.name) then out[#out + 1] = string.format("%s:%d: %s", f.path, r.line, r.name) end
    end
  end
  return out
end

local function client_violations(lua_files, c_files)
  local out = {}
  for _, f in ipairs(lua_files) do
    for _, r in ipairs(lua_requires(f.text)) do
      if is_emulator(r.name) then out[#out + 1] = string.format("%s:%d: %s", f.path, r.line, r.name) end
    end
  end
  for _, f in ipairs(c_files or {}) do
    for _, r in ipairs(c_emulator_names(f.text)) do
      out[#out + 1] = string.format("%s:%d: %s", f.path, r.line, r.name)
    end
  end
  return out
end

-- How many requires of modules matching pred the files hold: the real
-- scans must see some, or they would pass by seeing nothing.
local function count(files, pred)
  local n = 0
  for _, f in ipairs(files) do
    for _, r in ipairs(lua_requires(f.text)) do
      if pred(r.name) then n = n + 1 end
    end
  end
  return n
end

local function read_files(command)
  local files = {}
  local p = assert(io.popen(command))
  for path in p:lines() do
    local fh = assert(io.open(path, "rb"))
    files[#files + 1] = { path = path, text = fh:read("a") }
    fh:close()
  end
  p:close()
  assert.is_true(#files > 0, "no files from: " .. command)
  return files
end

describe("layering", function()
  describe("the scanner", function()
    it("finds requires in every form, and not in comments", function()
      local got = lua_requires(table.concat({
        'local a = require "azrp.client"',
        "local b = require('azrp.core')",
        "local c = require'azrp.wait'",
        'local d = require [[azrp.credentials]]',
        'local ok, e = pcall(require, "azrp.validate")',
        '-- local f = require "azrp.loop.cqueues"',
        '--[[ require "azrp" ]] local g = require ( "azrp.emulator.json" )',
        'local h = "-- not a comment" .. require "azrp"',
        'local s = [==[ ]] -- ]==] local i = require("cjson.safe")',
        "local not_it = my_require 'azrp.client'",
      }, "\n"))
      local names = {}
      for _, r in ipairs(got) do names[#names + 1] = r.line .. " " .. r.name end
      assert.are.same({ "1 azrp.client", "2 azrp.core", "3 azrp.wait", "4 azrp.credentials",
        "5 azrp.validate", "7 azrp.emulator.json", "8 azrp", "9 cjson.safe" }, names)
    end)

    it("fails on an emulator module requiring the client, and the reverse", function()
      local emu = { { path = "lua/azrp/emulator/x.lua", text = table.concat({
        'local json = require "azrp.emulator.json"',
        'local http = require "http.request"',
        'local client = require("azrp.client")',
        "local azrp = require 'azrp'",
      }, "\n") } }
      assert.are.same({ "lua/azrp/emulator/x.lua:3: azrp.client", "lua/azrp/emulator/x.lua:4: azrp" },
        emulator_violations(emu))
      local lua = { { path = "lua/azrp/x.lua", text = 'local core = require "azrp.core"\nlocal e = require "azrp.emulator"' } }
      local c = { { path = "src/x.c", text = '/* "azrp.emulator" */\nluaL_requiref(L, "azrp.emulator.app", f, 0);' } }
      assert.are.same({ "lua/azrp/x.lua:2: azrp.emulator", "src/x.c:2: azrp.emulator.app" },
        client_violations(lua, c))
      assert.are.same({}, emulator_violations({ { path = "ok.lua", text = 'require "azrp.emulator.app"' } }))
      assert.are.same({}, client_violations({ { path = "ok.lua", text = 'require "azrp.core"' } },
        { { path = "ok.c", text = 'lua_pushliteral(L, "azrp.core");' } }))
    end)
  end)

  it("keeps the emulator's modules off the client", function()
    local files = read_files("find lua/azrp/emulator -name '*.lua' | sort")
    assert.is_true(count(files, is_emulator) > 50)
    assert.are.same({}, emulator_violations(files))
  end)

  it("keeps the client's modules and C sources off the emulator", function()
    local lua = read_files("find lua/azrp -path lua/azrp/emulator -prune -o -name '*.lua' -print | sort")
    local c = read_files("ls src/*.c")
    assert.is_true(count(lua, is_client) > 10)
    assert.are.same({}, client_violations(lua, c))
  end)
end)
