-- azrp inside a real headless Neovim (Debian's neovim 0.7, LuaJIT,
-- vim.loop): examples/neovim/plugin/azrp.lua and azrp.nvim run
-- :AzrpCreate in several collections at once, then :AzrpRestorePoints,
-- against the emulator, while a 10 ms timer keeps firing
-- (spec/hosts/nvim_run.lua).  The worst timer delay is printed and
-- written to BENCHMARKS.md, not asserted.
local json = require "cjson"
local H = require "hosts.host"
local F = require "hosts.fleet"
local C = require "support.client"

local N = 10
local PREFIX = "nv"

describe("Neovim (headless) with azrp.nvim over azrp.loop.luv", function()
  local seed, em
  setup(function()
    H.needs("nvim", "neovim")
    seed = F.write(PREFIX, N)
    em = C.start("--time-scale 0.1 --seed " .. seed)
  end)
  teardown(function()
    if em then em.stop() end
    if seed then os.remove(seed) end
  end)

  it(":AzrpCreate x" .. N .. " and :AzrpRestorePoints in floating windows while a 10 ms timer fires", function()
    local names = {}
    for i = 1, N do names[i] = F.collection(PREFIX, i) end
    local out = os.tmpname()
    local cwd = H.sh("pwd"):gsub("%s+$", "")
    local env = string.format("AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s AZURE_CLIENT_SECRET=%s " ..
      "AZURE_AUTHORITY_HOST=%s AZURE_SUBSCRIPTION_ID=%s AZRP_ENDPOINT=%s AZRP_CA_FILE=%s " ..
      "AZRP_HOME=%s AZRP_NVIM_OUT=%s AZRP_NVIM_RG=%s AZRP_NVIM_NAME=rp-nvim AZRP_NVIM_COLLECTIONS=%s",
      C.TENANT, C.CLIENT_ID, C.SECRET, em.url, C.SUB, em.url, em.ca_file, cwd, out, F.RG, table.concat(names, ","))
    local log = H.sh(string.format("env %s timeout 120 nvim --headless -u NONE -i NONE -n " ..
      "-c 'luafile examples/neovim/init.lua' -c 'luafile spec/hosts/nvim_run.lua' </dev/null 2>&1", env))
    local text = H.read(out)
    os.remove(out)
    assert.is_truthy(text and text ~= "", "Neovim wrote no result: " .. log)
    local r = json.decode(text)
    assert.are.same({}, r.errors)

    -- The commands returned at once, each with its floating window.
    assert.are.equal(N, r.opened_at_once)
    assert.is_false(r.all_done_at_once)
    assert.are.equal(N + 1, #r.windows)
    for i = 1, N do
      local w = r.windows[i]
      assert.is_true(w.floating, w.title)
      assert.is_true(w.done, w.title)
      assert.is_nil(w.err)
      assert.truthy(w.lines[2]:match("^rp%-nvim: Succeeded in "), table.concat(w.lines, "\n"))
    end
    -- More redraws than one per window: the progress was shown.
    assert.is_true(r.updates > 2 * (N + 1), r.updates .. " redraws")
    -- The listing shows the new restore point.
    local list = r.windows[N + 1]
    assert.is_true(list.floating and list.done)
    assert.truthy(list.lines[2]:match("^rp%-nvim%s+Succeeded"), table.concat(list.lines, "\n"))

    -- The emulator agrees.
    local client = C.client(em)
    for i = 1, N do
      local rp, err = client:call("RestorePoints_Get", { resource_group_name = F.RG,
        restore_point_collection_name = names[i], restore_point_name = "rp-nvim" })
      assert.is_table(rp, tostring(err))
      assert.are.equal("Succeeded", rp.properties.provisioningState)
    end
    client:close()

    -- The timer kept firing: ticks over the whole run.
    assert.is_true(r.ticks > 0)
    local delay = r.max_gap_ms - 10
    print(string.format("\nneovim: %d creations + a listing in %.0f ms; 10 ms timer fired %d times, " ..
      "worst gap %.2f ms (delay %.2f ms)", N, r.elapsed_ms, r.ticks, r.max_gap_ms, delay))
    H.record("hosts-neovim", table.concat({
      "## Neovim: a 10 ms timer while restore points are created",
      "",
      "spec/hosts/nvim_spec.lua (`make test`, suite `hosts`): Debian's neovim 0.7 (LuaJIT, vim.loop), " ..
        "`nvim --headless -u NONE`, examples/neovim/plugin/azrp.lua; " .. N .. " `:AzrpCreate` at once, " ..
        "then `:AzrpRestorePoints`, on the emulator (`--time-scale 0.1`), each in a floating window " ..
        "redrawn every 200 ms, while a 10 ms vim.loop timer fires.",
      "",
      "| run | timer ticks | worst gap | worst delay |",
      "| --- | ---: | ---: | ---: |",
      string.format("| %d creations + listing, %.0f ms | %d | %.2f ms | %.2f ms |", N, r.elapsed_ms, r.ticks,
        r.max_gap_ms, delay),
      "",
      "Measured on " .. H.machine() .. ".",
    }, "\n"))
  end)
end)
