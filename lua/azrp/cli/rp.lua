--- azrp rp create|show|list|delete|wait: restore points, in the shape of
-- `az restore-point`.  A restore point created with --source-restore-point
-- is a copy from another region: create (and wait --created) follow it
-- until every disk has replicated.
local command = require "azrp.cli.command"
local O = require "azrp.cli.options"
local output = require "azrp.cli.output"
local verbs = require "azrp.cli.verbs"

local NAME = { "name", short = "n", required = true, metavar = "NAME", param = "restore_point_name",
  help = "restore point" }

local function source_of(rp)
  local s = rp.properties and rp.properties.sourceRestorePoint
  return type(s) == "table" and s.id or nil
end

local COLUMNS = {
  { "Name", "name" },
  { "ProvisioningState", "properties.provisioningState" },
  { "ConsistencyMode", "properties.consistencyMode" },
  { "TimeCreated", "properties.timeCreated" },
  { "SourceRestorePoint", source_of },
}

local function params(opts)
  return { resource_group_name = opts.resource_group, restore_point_collection_name = opts.collection_name,
    restore_point_name = opts.name }
end

local create = command.action{
  name = "rp create",
  summary = "Create a restore point of a collection's VM, or a copy of one from another region.",
  description = "Without --source-restore-point the restore point captures the collection's VM.  With it, the\n" ..
    "collection (in another region, its source being the source collection) receives a copy, and the\n" ..
    "command waits until every disk has replicated (100 %) unless --no-wait.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, NAME,
    { "exclude-disks", list = true, metavar = "ID", param = "body.properties.excludeDisks",
      help = "resource ids of the VM's data disks to leave out" },
    { "consistency-mode", choices = { "CrashConsistent", "ApplicationConsistent" }, metavar = "MODE",
      param = "body.properties.consistencyMode", help = "consistency of the restore point" },
    { "source-restore-point", metavar = "ID", param = "body.properties.sourceRestorePoint",
      help = "copy this restore point (from another region) into the collection" },
    O.NO_WAIT },
  examples = {
    "azrp rp create -g rg-prod --collection-name rpc-app -n rp-1 --consistency-mode CrashConsistent",
    "azrp rp create -g rg-dr --collection-name rpc-app-dr -n rp-1 --source-restore-point /subscriptions/.../restorePoints/rp-1",
  },
  columns = COLUMNS,
  check = function(opts)
    if opts.source_restore_point and (opts.exclude_disks or opts.consistency_mode) then
      return nil, "--source-restore-point copies a restore point as it is: --exclude-disks and" ..
        " --consistency-mode do not apply to a copy"
    end
    return true
  end,
  run = function(api, opts)
    local props = {}
    if opts.consistency_mode then props.consistencyMode = opts.consistency_mode end
    if opts.exclude_disks then
      props.excludeDisks = {}
      for i, id in ipairs(opts.exclude_disks) do props.excludeDisks[i] = { id = id } end
    end
    if opts.source_restore_point then props.sourceRestorePoint = { id = opts.source_restore_point } end
    local p = params(opts)
    p.body = { properties = props }
    local op, err = api:begin("RestorePoints_Create", p)
    if not op then return nil, err end
    return verbs.settle(api, op, opts)
  end,
}

local show = verbs.show{
  name = "rp show",
  summary = "Show a restore point.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, NAME,
    { "instance-view", flag = true, help = "include the instance view (each disk's replication status)" } },
  columns = COLUMNS,
  op = "RestorePoints_Get", params = params, expand = { "instance_view", "instanceView" },
}

local list = command.action{
  name = "rp list",
  summary = "List the restore points of a collection.",
  options = { O.RESOURCE_GROUP, O.COLLECTION },
  columns = COLUMNS,
  run = function(api, opts)
    local coll, err = api:call("RestorePointCollections_Get", { resource_group_name = opts.resource_group,
      restore_point_collection_name = opts.collection_name, expand = "restorePoints" })
    if not coll then return nil, err end
    local items = {}
    for i, rp in ipairs(coll.properties and coll.properties.restorePoints or {}) do items[i] = rp end
    return output.list(items)
  end,
}

local delete = verbs.delete{
  name = "rp delete",
  summary = "Delete a restore point.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, NAME, O.NO_WAIT },
  op = "RestorePoints_Delete", params = params,
}

-- "properties.provisioningState=Succeeded" -> path parts, wanted value.
local function parse_custom(s)
  local path, want = s:match("^([%w_%.%[%]]+)=(.*)$")
  if not path then return nil end
  local parts = {}
  for part in path:gsub("%[(%d+)%]", ".%1"):gmatch("[^%.]+") do parts[#parts + 1] = tonumber(part) or part end
  return parts, want
end

local function dig(v, parts)
  for _, p in ipairs(parts) do
    if type(v) ~= "table" then return nil end
    v = v[p]
  end
  return v
end

-- Has every disk of rp replicated?  true | false, percent | nil, err.
local function replicated(rp, fail)
  local view = rp.properties and rp.properties.instanceView
  local lowest = 100
  for _, d in ipairs(view and view.diskRestorePoints or {}) do
    local rs = d.replicationStatus or {}
    local code = rs.status and rs.status.code or ""
    if code:lower():find("failed", 1, true) then
      return nil, fail("ReplicationFailed", "disk restore point " .. tostring(d.id) .. " failed to replicate")
    end
    local pct = tonumber(rs.completionPercent) or 100
    if pct < lowest then lowest = pct end
  end
  return lowest >= 100, lowest
end

local wait = command.action{
  name = "rp wait",
  summary = "Wait until a restore point is created (and, for a copy, fully replicated), deleted, or matches a condition.",
  description = "Polls the restore point every --interval seconds (default 30, less on a faster emulator).\n" ..
    "--custom PATH=VALUE waits until the field at the dotted PATH (e.g. properties.provisioningState,\n" ..
    "properties.instanceView.diskRestorePoints[1].replicationStatus.completionPercent) equals VALUE.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, NAME,
    { "created", flag = true, help = "until provisioningState is Succeeded and every disk has replicated" },
    { "deleted", flag = true, help = "until the restore point no longer exists" },
    { "custom", metavar = "PATH=VALUE", help = "until the field at PATH equals VALUE" },
    { "interval", number = true, metavar = "SECONDS", help = "seconds between polls" },
    { "timeout", number = true, default = 3600, metavar = "SECONDS", help = "give up after this long" } },
  check = function(opts)
    local n = (opts.created and 1 or 0) + (opts.deleted and 1 or 0) + (opts.custom and 1 or 0)
    if n ~= 1 then return nil, "give one of --created, --deleted or --custom PATH=VALUE" end
    if opts.custom and not parse_custom(opts.custom) then
      return nil, "--custom must be PATH=VALUE, e.g. properties.provisioningState=Succeeded"
    end
    if opts.interval and opts.interval <= 0 then return nil, "--interval must be above 0" end
    if opts.timeout <= 0 then return nil, "--timeout must be above 0" end
    return true
  end,
  run = function(api, opts)
    local new_error = require("azrp.cli.api").error
    local function fail(code, msg)
      return new_error{ kind = "azure", code = code, message = msg, operation = "RestorePoints_Get", retryable = false }
    end
    local interval = opts.interval or math.max(0.05, 30 * (api.info.time_scale or 1))
    local parts, want = nil, nil
    if opts.custom then parts, want = parse_custom(opts.custom) end
    local deadline = api.now() + opts.timeout
    while true do
      local p = params(opts)
      if opts.created then p.expand = "instanceView" end
      local rp, err = api:call("RestorePoints_Get", p)
      if rp then
        if opts.created then
          local state = rp.properties and rp.properties.provisioningState
          if state == "Failed" then return nil, fail("ProvisioningFailed", "restore point " .. rp.id .. " is Failed") end
          if state == "Succeeded" then
            local done, e = replicated(rp, fail)
            if done == nil then return nil, e end
            if done then return command.NOTHING end
            api:log("replication %d %%", e)
          end
        elseif parts then
          local v = dig(rp, parts)
          if v ~= nil and tostring(v) == want then return command.NOTHING end
        end
      elseif O.not_found(err) then
        if opts.deleted then return command.NOTHING end
      else
        return nil, err
      end
      if api.now() + interval > deadline then
        return nil, new_error{ kind = "timeout", code = "WaitTimeout", operation = "RestorePoints_Get",
          message = string.format("the restore point did not reach the condition within %g s", opts.timeout),
          retryable = true }
      end
      api:sleep(interval)
    end
  end,
}

return command.group{
  name = "rp",
  summary = "Restore points (az restore-point).",
  commands = { create = create, show = show, list = list, delete = delete, wait = wait },
}
