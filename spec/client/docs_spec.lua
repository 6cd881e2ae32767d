-- The API reference (issue 10): every module config.ld gives LDoc has a
-- module doc comment, every public function of it a `---` doc comment
-- right above its definition, docs/core.lua documents exactly what the
-- loaded azrp.core exposes, and `make docs` runs without a warning.
-- Reads the sources as text; LDoc itself runs as a command, so that this
-- spec runs on every Lua whether or not LDoc is installed for it.

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local function lines_of(path)
  local out = {}
  for line in (read(path) .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

-- config.ld is Lua: run it in an empty environment (5.1 and 5.2+ alike).
local function config()
  local src = read("config.ld")
  local env = {}
  local chunk
  if setfenv then
    chunk = assert(loadstring(src, "config.ld"))
    setfenv(chunk, env)
  else
    chunk = assert(load(src, "config.ld", "t", env))
  end
  chunk()
  return env
end

-- lua/azrp/workflow/init.lua -> azrp.workflow
local function module_name(path)
  local m = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
  return m
end

-- The names a module's file defines on a table: function T.name(,
-- function T:name(, T.name = ..., each with its line number.
local function definitions(lines)
  local defs = {}
  for i, line in ipairs(lines) do
    local name = line:match("^function%s+[%w_]+[.:]([%w_]+)%s*%(")
      or line:match("^[%w_]+%.([%w_]+)%s*=")
    if name and not defs[name] then defs[name] = i end
  end
  return defs
end

-- Is there a doc comment block right above line i: the comment lines
-- directly above it, the first of which starts with "---"?
local function documented(lines, i)
  local j = i - 1
  if j < 1 or not lines[j]:match("^%s*%-%-") then return false end
  while j > 1 and lines[j - 1]:match("^%s*%-%-") do j = j - 1 end
  return lines[j]:match("^%s*%-%-%-") ~= nil
end

local function public(name)
  return name:sub(1, 1) ~= "_"
end

local cfg = config()
local files = {}
for _, f in ipairs(cfg.file) do
  if f:match("^lua/") then files[#files + 1] = f end
end

-- The workflows: only their module doc and their entry points.
local ENTRY = { run = true, plan = true, check = true }

describe("the API reference (config.ld)", function()
  it("names files that exist, every workflow among them", function()
    assert.is_true(#files >= 20)
    local named = {}
    for _, f in ipairs(cfg.file) do
      assert(io.open(f, "rb"), f .. " (in config.ld) does not exist"):close()
      named[f] = true
    end
    for _, w in ipairs({ "dr_drill", "restore_vm", "export_disk", "golden_image", "rotate" }) do
      assert.is_true(named["lua/azrp/workflows/" .. w .. ".lua"], w .. " is not in config.ld")
    end
  end)

  for _, path in ipairs(files) do
    local mod = module_name(path)
    local is_workflow = mod:find("^azrp%.workflows%.") ~= nil
    it(mod .. " has a module doc comment and one on every public function", function()
      local lines = lines_of(path)
      assert(lines[1]:match("^%-%-%- %S"), path .. ":1: no module doc comment (a --- line)")
      local defs = definitions(lines)
      -- The names to check: what the loaded module holds when this Lua
      -- can load it (ngx, cqueues, luv, ffi are host-specific), else the
      -- functions the file defines.
      local names = {}
      local ok, m = pcall(require, mod)
      if ok and type(m) == "table" then
        for k, v in pairs(m) do
          if type(k) == "string" and type(v) == "function" then names[k] = true end
        end
      else
        for k, i in pairs(defs) do
          if lines[i]:match("^function") or lines[i]:match("=%s*function") then names[k] = true end
        end
      end
      local missing = {}
      for name in pairs(names) do
        if public(name) and (not is_workflow or ENTRY[name]) then
          local i = defs[name]
          local info = ok and type(m) == "table" and type(m[name]) == "function" and debug.getinfo(m[name], "S")
          if i then
            if not documented(lines, i) then missing[#missing + 1] = path .. ":" .. i .. ": " .. name end
          elseif info and info.what == "Lua" and info.source:sub(1, 1) == "@" then
            -- Re-exported from another module (credentials.static = static.new):
            -- documented where it is defined.
            local file = info.source:sub(2):gsub("^%./", "")
            if not documented(lines_of(file), info.linedefined) then
              missing[#missing + 1] = file .. ":" .. info.linedefined .. ": " .. name .. " (as " .. mod .. "." .. name .. ")"
            end
          else
            missing[#missing + 1] = name .. " (no definition found in " .. path .. ")"
          end
        end
      end
      if is_workflow then
        for name in pairs(ENTRY) do
          if not names[name] then missing[#missing + 1] = name .. " (a workflow entry point) is missing" end
        end
      end
      table.sort(missing)
      assert(#missing == 0, "without a --- doc comment: " .. table.concat(missing, ", "))
    end)
  end

  it("documents every method of a client (azrp.client's Client)", function()
    local client = require "azrp.client"
    local path = "lua/azrp/client.lua"
    local lines = lines_of(path)
    local defs = definitions(lines)
    local missing, n = {}, 0
    for name, v in pairs(client.Client) do
      -- The registry's methods (client:restore_points_create ...) are
      -- made in one loop, documented once there.
      if type(v) == "function" and public(name) and not client.methods[name] then
        n = n + 1
        local i = defs[name]
        if not i or not documented(lines, i) then missing[#missing + 1] = name end
      end
    end
    assert.is_true(n >= 10)
    -- The registry's methods are documented once, on M.methods.
    local i = defs.methods
    assert(i and documented(lines, i), path .. ": the registry's methods (M.methods) have no --- doc comment")
    table.sort(missing)
    assert(#missing == 0, "client methods without a --- doc comment: " .. table.concat(missing, ", "))
  end)

  it("lists in docs/core.lua exactly the functions the loaded azrp.core exposes", function()
    local core = require "azrp.core"
    local lines = lines_of("docs/core.lua")
    local stub = {}
    for i, line in ipairs(lines) do
      local name = line:match("^function%s+M%.([%w_]+)%s*%(")
      if name then
        assert(documented(lines, i), "docs/core.lua:" .. i .. ": " .. name .. " has no --- doc comment")
        stub[name] = true
      end
    end
    local absent, extra = {}, {}
    for k, v in pairs(core) do
      if type(v) == "function" and not stub[k] then absent[#absent + 1] = k end
    end
    for k in pairs(stub) do
      if type(core[k]) ~= "function" then extra[#extra + 1] = k end
    end
    table.sort(absent)
    table.sort(extra)
    assert(#absent == 0, "azrp.core functions missing from docs/core.lua: " .. table.concat(absent, ", "))
    assert(#extra == 0, "docs/core.lua documents functions azrp.core does not have: " .. table.concat(extra, ", "))
    assert.is_true(next(stub) ~= nil)
  end)

  it("is built by `make docs` (LDoc) with exit 0 and no warning", function()
    -- os.execute: 0 on Lua 5.1 and LuaJIT without 5.2 compat, true on 5.2+.
    local found = os.execute("command -v ldoc >/dev/null 2>&1")
    if found ~= 0 and found ~= true then
      pending("the ldoc command is missing (Debian's lua-ldoc): LDoc's run is not checked")
      return
    end
    local dir = os.tmpname()
    os.remove(dir)
    local p = assert(io.popen("make -s docs DOCS_DIR='" .. dir .. "' 2>&1; echo \"exit=$?\""))
    local out = p:read("*a")
    p:close()
    os.execute("rm -rf '" .. dir .. "'")
    local status = tonumber(out:match("exit=(%d+)%s*$"))
    local noise = {}
    for line in out:gmatch("[^\n]+") do
      if not (line:match("^reading configuration from") or line:match("^output written to")
          or line:match("^ldoc ") or line:match("^exit=%d+$")) then
        noise[#noise + 1] = line
      end
    end
    assert(status == 0, "make docs exited " .. tostring(status) .. ":\n" .. out)
    assert(#noise == 0, "LDoc warned:\n" .. table.concat(noise, "\n"))
    assert.is_nil(out:lower():find("warning", 1, true))
  end)
end)
