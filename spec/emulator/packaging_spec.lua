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

  -- What a user gets from `luarocks --lua-version V make`: a module that
  -- loads and talks, and an `azrp` command, for 5.1 (LuaJIT hosts) and 5.4.
  for _, v in ipairs{ { "5.1", "lua5.1" }, { "5.4", "lua5.4" } } do
    it("luarocks --lua-version " .. v[1] .. " make installs a working module and command", function()
      local tmp = os.tmpname()
      os.remove(tmp)
      local function sh(cmd)
        local p = io.popen("(" .. cmd .. ") 2>&1; echo \"rc=$?\"")
        local out = p:read("*a")
        p:close()
        return out
      end
      local src, tree = tmp .. "/src", tmp .. "/tree"
      local out = sh("mkdir -p " .. src .. " && cp -r src lua bin rockspec " .. src .. " && cd " .. src ..
        " && luarocks --lua-version " .. v[1] .. " --tree " .. tree .. " make --deps-mode=none" ..
        " rockspec/azrp-scm-1.rockspec CURL_INCDIR=/usr/include/x86_64-linux-gnu")
      assert.matches("rc=0", out, 1, true)
      local env = "eval \"$(luarocks --lua-version " .. v[1] .. " --tree " .. tree .. " path)\" && "
      out = sh(env .. v[2] .. " -e 'local azrp = require \"azrp\"; local c = azrp.client{ endpoint = \"https://127.0.0.1:9\" }" ..
        "; print(#azrp.operations(), azrp.core._VERSION); c:close()'")
      assert.matches("^%d%d%s+%S+%s+rc=0", out)
      out = sh(env .. tree .. "/bin/azrp")
      assert.matches("azrp", out, 1, true)
      assert.is_nil(out:find("attempt to call", 1, true))
      assert.is_nil(out:find("undefined symbol", 1, true))
      -- The one-off commands are installed too (azrp.cli and its modules).
      out = sh(env .. tree .. "/bin/azrp rp create --help")
      assert.matches("usage: azrp rp create [options]", out, 1, true)
      assert.matches("rc=0", out, 1, true)
      sh("rm -rf " .. tmp)
    end)
  end
end)
