--- azrp disk-rp list|show|grant|revoke: the disk restore points of a
-- restore point, and read access (a SAS URL) to them.  The SAS URL is the
-- result of grant, printed on stdout only: never in a log or an error.
local command = require "azrp.cli.command"
local O = require "azrp.cli.options"
local verbs = require "azrp.cli.verbs"

local RP = { "restore-point-name", required = true, metavar = "NAME", param = "restore_point_name",
  help = "the restore point (in --collection-name)" }
local NAME = { "name", short = "n", required = true, metavar = "NAME", param = "disk_restore_point_name",
  help = "disk restore point" }

local COLUMNS = {
  { "Name", "name" },
  { "Source", function(d) return O.name_of(d.properties and d.properties.sourceResourceId) end },
  { "OsType", "properties.osType" },
  { "ReplicationState", "properties.replicationState" },
  { "CompletionPercent", "properties.completionPercent" },
}

-- The restore point's parameters.
local function rp_params(opts)
  return { resource_group_name = opts.resource_group, restore_point_collection_name = opts.collection_name,
    restore_point_name = opts.restore_point_name }
end

-- The disk restore point's (--name in the restore point).
local function params(opts)
  local p = rp_params(opts)
  p.disk_restore_point_name = opts.name
  return p
end

local list = verbs.list{
  name = "disk-rp list",
  summary = "List the disk restore points of a restore point.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, RP },
  columns = COLUMNS,
  op = "DiskRestorePoint_ListByRestorePoint", params = rp_params,
}

local show = verbs.show{
  name = "disk-rp show",
  summary = "Show a disk restore point.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, RP, NAME },
  columns = COLUMNS,
  op = "DiskRestorePoint_Get", params = params,
}

local grant = command.action{
  name = "disk-rp grant",
  summary = "Grant read access to a disk restore point: prints a SAS URL to download it.",
  description = "The SAS URL is a secret for as long as it lasts: it is printed on stdout as the result, and\n" ..
    "nowhere else.  Revoke it with 'azrp disk-rp revoke' when done.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, RP, NAME,
    { "duration-in-seconds", number = true, default = 3600, metavar = "SECONDS", param = "body.durationInSeconds",
      help = "how long the SAS URL is valid" },
    { "access", choices = { "Read" }, default = "Read", metavar = "ACCESS", param = "body.access",
      help = "access level" } },
  columns = { { "AccessSAS", "accessSAS" } },
  check = function(opts)
    if not O.positive_integer(opts.duration_in_seconds) then
      return nil, "--duration-in-seconds must be a whole number of seconds above 0, got " ..
        tostring(opts.duration_in_seconds)
    end
    return true
  end,
  run = function(api, opts)
    local p = params(opts)
    p.body = { access = opts.access, durationInSeconds = math.floor(opts.duration_in_seconds) }
    return api:call("DiskRestorePoint_GrantAccess", p)
  end,
}

local revoke = verbs.call{
  name = "disk-rp revoke",
  summary = "Revoke the access granted to a disk restore point (every SAS URL of it stops working).",
  options = { O.RESOURCE_GROUP, O.COLLECTION, RP, NAME },
  op = "DiskRestorePoint_RevokeAccess", params = params,
}

return command.group{
  name = "disk-rp",
  summary = "Disk restore points and access to them.",
  commands = { list = list, show = show, grant = grant, revoke = revoke },
}
