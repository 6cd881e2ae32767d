--- The verbs the resource commands share (collection, rp, disk-rp), each
-- an action (azrp.cli.command) made of what differs: its operation and
-- how its parameters come from the options.
--
--   verbs.list{ name =, summary =, options =, columns =, op = "X_List", params = function(opts) }
--   verbs.show{ ..., op = "X_Get", params =, expand = { "flag_option", "value" } }
--   verbs.delete{ ..., op = "X_Delete", params = }     -- an LRO: waits unless --no-wait
--   verbs.call{ ..., op = "X_Revoke", params = }       -- one call, prints nothing
--
-- Every other field of the table (description, examples, check) goes to
-- command.action as it is.
local command = require "azrp.cli.command"
local O = require "azrp.cli.options"

local M = {}

local function action(def, run)
  if type(def) ~= "table" or type(def.op) ~= "string" or type(def.params) ~= "function" then
    error("verbs: expected { name =, op =, params = }", 3)
  end
  def.run = run
  return command.action(def)
end

--- settle(api, op, opts) -> the operation's result, or command.NOTHING
-- with --no-wait once Azure has accepted it | nil, err.
function M.settle(api, op, opts)
  if opts.no_wait then
    local _, err = api:accepted(op)
    if err then return nil, err end
    return command.NOTHING
  end
  return api:finish(op)
end

--- check_tags(opts): an action's check for O.TAGS.
function M.check_tags(opts)
  local tags, err = O.tags(opts.tags)
  if not tags then return nil, err end
  return true
end

--- list{ op, params, ... }: every page of a list operation, printed as a list.
function M.list(def)
  return action(def, function(api, opts)
    local items, err = api:list(def.op, def.params(opts))
    if not items then return nil, err end
    return require("azrp.cli.output").list(items)
  end)
end

--- show{ op, params, expand?, ... }: one GET; with expand = { flag, value },
-- the flag option (as opts names it) adds expand = value.
function M.show(def)
  return action(def, function(api, opts)
    local p = def.params(opts)
    if def.expand and opts[def.expand[1]] then p.expand = def.expand[2] end
    return api:call(def.op, p)
  end)
end

--- delete{ op, params, ... }: begins a long-running operation and waits as
-- --no-wait says; prints nothing.
function M.delete(def)
  return action(def, function(api, opts)
    local op, err = api:begin(def.op, def.params(opts))
    if not op then return nil, err end
    local _
    _, err = M.settle(api, op, opts)
    if err then return nil, err end
    return command.NOTHING
  end)
end

--- call{ op, params, ... }: one call whose result is not printed.
function M.call(def)
  return action(def, function(api, opts)
    local _, err = api:call(def.op, def.params(opts))
    if err then return nil, err end
    return command.NOTHING
  end)
end

return M
