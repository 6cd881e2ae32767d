--- azrp.nvim: restore points from Neovim (0.7+, LuaJIT, vim.loop), over
-- azrp.loop.luv: nothing here blocks the editor.
--
--     require("azrp.nvim").setup{}   -- client from the environment (AZURE_*)
--     :AzrpRestorePoints {resource-group} {collection}
--     :AzrpCreate {resource-group} {collection} {name}
--
-- Both commands answer in a floating window that shows the operation's
-- progress (state, elapsed seconds, replication percent) and then its
-- result; q closes it.  The plugin file examples/neovim/plugin/azrp.lua
-- defines the commands.  setup{} takes a client, or the options of
-- azrp.client (subscription_id, endpoint, ca_file, credential ...); by
-- default the credential is azrp.credentials.environment() and the
-- subscription AZURE_SUBSCRIPTION_ID (AZRP_ENDPOINT and AZRP_CA_FILE for
-- another endpoint, as the emulator's).
local M = {}

local vim = rawget(_G, "vim")
if not vim then error("azrp.nvim: runs inside Neovim", 2) end

local state = { client = nil, opts = {} }

--- The windows the commands opened, oldest first; each has done = true
-- once its operation ended, with result or err.
M.windows = {}

--- setup(opts): opts.client, or azrp.client options.  No I/O.
function M.setup(opts)
  state.opts = opts or {}
  state.client = state.opts.client
end

--- client() -> the azrp client (made on first use) | nil, err.
function M.client()
  if state.client then return state.client end
  local azrp = require "azrp"
  local o = {}
  for k, v in pairs(state.opts) do o[k] = v end
  o.subscription_id = o.subscription_id or os.getenv("AZURE_SUBSCRIPTION_ID")
  o.endpoint = o.endpoint or os.getenv("AZRP_ENDPOINT")
  o.ca_file = o.ca_file or os.getenv("AZRP_CA_FILE")
  if not o.credential then
    local cred, err = azrp.credentials.environment()
    if not cred then return nil, err end
    o.credential = cred
  end
  if not o.subscription_id then return nil, "no subscription: set AZURE_SUBSCRIPTION_ID or setup{ subscription_id = ... }" end
  local ok, c = pcall(azrp.client, o)
  if not ok then return nil, tostring(c) end
  state.client = c
  return c
end

----------------------------------------------------------------------------
-- The floating window
----------------------------------------------------------------------------

--- float(title) -> window object: set(lines), close(), buf, win.
function M.float(title)
  local api = vim.api
  local buf = api.nvim_create_buf(false, true)
  local width = math.min(90, math.max(40, vim.o.columns - 10))
  local win = api.nvim_open_win(buf, false, { relative = "editor", width = width, height = 6,
    row = 1, col = math.max(0, math.floor((vim.o.columns - width) / 2)), style = "minimal", border = "rounded" })
  api.nvim_buf_set_keymap(buf, "n", "q", "<cmd>close<cr>", { noremap = true, silent = true })
  local w = { buf = buf, win = win, title = title, lines = {}, done = false }
  M.windows[#M.windows + 1] = w
  function w.set(lines)
    w.lines = lines
    if not api.nvim_buf_is_valid(buf) then return end
    local all = { title }
    for _, l in ipairs(lines) do all[#all + 1] = l end
    api.nvim_buf_set_lines(buf, 0, -1, false, all)
    if api.nvim_win_is_valid(win) then
      api.nvim_win_set_height(win, math.max(1, math.min(#all, 20)))
    end
  end
  function w.close()
    if api.nvim_win_is_valid(win) then api.nvim_win_close(win, true) end
  end
  w.set({ "…" })
  return w
end

-- Runs fn on Neovim's main loop (libuv callbacks are "fast": no vim.api).
local function main(fn) return vim.schedule(fn) end

local function describe_op(op, t0)
  local info = op:info()
  local line = string.format("%s: %s, %.1f s", info.operation or "operation", info.state or "?", vim.loop.now() / 1000 - t0)
  local pct = op:progress()
  if pct then line = line .. string.format(", %d %%", pct) end
  return line
end

-- Follows op in window w: a line of progress every 200 ms, then done(result, err).
local function follow(op, w, done)
  local loop = require "azrp.loop.luv"
  local t0 = vim.loop.now() / 1000
  local timer = vim.loop.new_timer()
  timer:start(0, 200, function()
    main(function() if not op:done() then w.set({ describe_op(op, t0) }) end end)
  end)
  loop.wait(op, { timeout = 3600, progress = function() end }, function(result, err)
    timer:stop(); timer:close()
    main(function() done(result, err, vim.loop.now() / 1000 - t0) end)
  end)
end

local function errline(err) return "error: " .. tostring(err) end

--- create(rg, collection, name [, done(rp, err)]) -> window: starts a
-- restore point creation and shows it.
function M.create(rg, collection, name, done)
  local w = M.float(string.format("azrp: restore point %s in %s/%s", name, rg, collection))
  local c, cerr = M.client()
  if not c then w.done, w.err = true, cerr; w.set({ errline(cerr) }); if done then done(nil, cerr) end; return w end
  local op, err = c:restore_points_create{ resource_group_name = rg, restore_point_collection_name = collection,
    restore_point_name = name, body = { properties = {} } }
  if not op then w.done, w.err = true, err; w.set({ errline(err) }); if done then done(nil, err) end; return w end
  follow(op, w, function(rp, werr, secs)
    w.done, w.result, w.err = true, rp, werr
    if rp then
      w.set({ string.format("%s: %s in %.1f s", rp.name, rp.properties and rp.properties.provisioningState or "?", secs),
        "id: " .. tostring(rp.id) })
    else
      w.set({ errline(werr) })
    end
    if done then done(rp, werr) end
  end)
  return w
end

--- restore_points(rg, collection [, done(list, err)]) -> window: lists the
-- collection's restore points (name, state, time).
function M.restore_points(rg, collection, done)
  local w = M.float(string.format("azrp: restore points of %s/%s", rg, collection))
  local c, cerr = M.client()
  if not c then w.done, w.err = true, cerr; w.set({ errline(cerr) }); if done then done(nil, cerr) end; return w end
  local op, err = c:restore_point_collections_get{ resource_group_name = rg,
    restore_point_collection_name = collection, expand = "restorePoints" }
  if not op then w.done, w.err = true, err; w.set({ errline(err) }); if done then done(nil, err) end; return w end
  follow(op, w, function(coll, werr)
    w.done, w.result, w.err = true, coll, werr
    if not coll then
      w.set({ errline(werr) })
      if done then done(nil, werr) end
      return
    end
    local rps = (coll.properties or {}).restorePoints or {}
    local lines = {}
    for _, rp in ipairs(rps) do
      local p = rp.properties or {}
      lines[#lines + 1] = string.format("%-24s %-10s %s", rp.name, tostring(p.provisioningState), tostring(p.timeCreated or ""))
    end
    if #lines == 0 then lines[1] = "(no restore points)" end
    w.set(lines)
    if done then done(rps) end
  end)
  return w
end

-- :Azrp... {args}: split on blanks; exactly n of them.
local function args_of(cmd, n, usage)
  local a = {}
  for s in cmd.args:gmatch("%S+") do a[#a + 1] = s end
  if #a ~= n then
    vim.api.nvim_err_writeln("usage: " .. usage)
    return nil
  end
  return a
end

--- commands(): defines :AzrpRestorePoints and :AzrpCreate.
function M.commands()
  vim.api.nvim_create_user_command("AzrpRestorePoints", function(cmd)
    local a = args_of(cmd, 2, ":AzrpRestorePoints {resource-group} {collection}")
    if a then M.restore_points(a[1], a[2]) end
  end, { nargs = "+", desc = "azrp: list the restore points of a collection" })
  vim.api.nvim_create_user_command("AzrpCreate", function(cmd)
    local a = args_of(cmd, 3, ":AzrpCreate {resource-group} {collection} {name}")
    if a then M.create(a[1], a[2], a[3]) end
  end, { nargs = "+", desc = "azrp: create a restore point" })
end

return M
