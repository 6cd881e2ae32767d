-- The rockspec installs every Lua module of the tree, and the C module
-- builds from every source file: a module left out of it would work from a
-- checkout and be missing once installed with LuaRocks.
describe("rockspec", function()
  local function load_rockspec()
    local env = {}
    local chunk = assert(loadfile("rockspec/azrp-scm-1.rockspec", "t", env))
    chunk()
    return env
  end

  local function lua_files()
    local out = {}
    local p = io.popen("find lua -name '*.lua' | sort")
    for line in p:lines() do out[#out + 1] = line end
    p:close()
    return out
  end

  it("lists every Lua module under lua/ with its file", function()
    local rs = load_rockspec()
    local listed = {}
    for name, v in pairs(rs.build.modules) do
      if type(v) == "string" then listed[v] = name end
    end
    for _, file in ipairs(lua_files()) do
      local want = file:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
      assert.are.equal(want, listed[file], file .. " is not in the rockspec")
    end
  end)

  it("builds azrp.core from every C source in src/", function()
    local rs = load_rockspec()
    local sources = {}
    for _, s in ipairs(rs.build.modules["azrp.core"].sources) do sources[s] = true end
    local p = io.popen("ls src/*.c")
    for f in p:lines() do assert.is_true(sources[f], f .. " is not in the rockspec") end
    p:close()
  end)
end)
