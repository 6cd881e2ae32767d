-- Run inside headless Neovim by spec/hosts/nvim_spec.lua:
--   nvim --headless -u NONE -c 'luafile examples/neovim/init.lua' \
--     -c 'luafile spec/hosts/nvim_run.lua'
-- After the README's init.lua (AZRP_HOME: the checkout) it loads
-- examples/neovim/plugin/azrp.lua from 'runtimepath' (-u NONE loads no
-- plugins by itself), runs
-- :AzrpCreate in AZRP_NVIM_COLLECTIONS (comma-separated) at once and then
-- :AzrpRestorePoints on the first, while a 10 ms vim.loop timer keeps
-- firing, and writes what it saw as JSON to AZRP_NVIM_OUT before :qall!.
local uv = vim.loop
local json = require "cjson"
local out_path = os.getenv("AZRP_NVIM_OUT")
local rg, name = os.getenv("AZRP_NVIM_RG"), os.getenv("AZRP_NVIM_NAME")
local collections = {}
for c in os.getenv("AZRP_NVIM_COLLECTIONS"):gmatch("[^,]+") do collections[#collections + 1] = c end

vim.cmd("runtime plugin/azrp.lua")
local nv = require "azrp.nvim"

local result = { ticks = 0, max_gap_ms = 0, updates = 0, errors = {} }

-- Every set() of a window: how often the progress was redrawn.
local float = nv.float
nv.float = function(title)
  local w = float(title)
  local set = w.set
  w.set = function(lines) result.updates = result.updates + 1; return set(lines) end
  return w
end

local finished = false
local function finish()
  if finished then return end
  finished = true
  result.windows = {}
  for _, w in ipairs(nv.windows) do
    local cfg = vim.api.nvim_win_is_valid(w.win) and vim.api.nvim_win_get_config(w.win) or {}
    result.windows[#result.windows + 1] = { title = w.title, done = w.done, err = w.err and tostring(w.err),
      floating = cfg.relative == "editor", lines = vim.api.nvim_buf_get_lines(w.buf, 0, -1, false) }
  end
  local f = assert(io.open(out_path, "w"))
  f:write(json.encode(result))
  f:close()
  vim.cmd("qall!")
end

-- The 10 ms timer, and its worst delay.
local last = uv.hrtime()
local ticker = uv.new_timer()
ticker:start(10, 10, function()
  local now = uv.hrtime()
  local gap = (now - last) / 1e6
  if gap > result.max_gap_ms then result.max_gap_ms = gap end
  last = now
  result.ticks = result.ticks + 1
end)
local t0 = uv.hrtime()

local watchdog = uv.new_timer()
watchdog:start(60000, 0, vim.schedule_wrap(function()
  result.errors[#result.errors + 1] = "watchdog: still busy after 60 s"
  finish()
end))

local function all_done()
  for _, w in ipairs(nv.windows) do if not w.done then return false end end
  return true
end

for _, c in ipairs(collections) do
  vim.cmd(string.format("AzrpCreate %s %s %s", rg, c, name))
end
result.opened_at_once = #nv.windows
result.all_done_at_once = all_done()   -- the commands return before their operations end

local check = uv.new_timer()
local phase = "create"
check:start(20, 20, vim.schedule_wrap(function()
  if finished or not all_done() then return end
  if phase == "create" then
    phase = "list"
    vim.cmd(string.format("AzrpRestorePoints %s %s", rg, collections[1]))
    return
  end
  check:stop()
  ticker:stop()
  result.elapsed_ms = (uv.hrtime() - t0) / 1e6
  finish()
end))
