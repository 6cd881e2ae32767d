--- azrp collection create|show|list|list-all|update|delete: restore point
-- collections, in the shape of `az restore-point collection`.
local command = require "azrp.cli.command"
local O = require "azrp.cli.options"
local verbs = require "azrp.cli.verbs"

local COLUMNS = {
  { "Name", "name" },
  { "ResourceGroup", function(c) return O.resource_group_of(c.id) end },
  { "Location", "location" },
  { "ProvisioningState", "properties.provisioningState" },
  { "Source", function(c) return c.properties and c.properties.source and c.properties.source.id end },
}

local function params(opts)
  return { resource_group_name = opts.resource_group, restore_point_collection_name = opts.collection_name }
end

local create = command.action{
  name = "collection create",
  summary = "Create (or update) a restore point collection for a VM.",
  description = "The collection holds the VM's restore points; --source-id is the VM (or, for a collection\n" ..
    "that receives cross-region copies, the source collection).",
  options = { O.RESOURCE_GROUP, O.COLLECTION,
    { "source-id", required = true, metavar = "ID", param = "body.properties.source",
      help = "the VM's resource id (or the source collection's, for a copy target)" },
    { "location", short = "l", metavar = "LOCATION", param = "body.location",
      help = "region (default: the resource group's)" },
    O.TAGS },
  examples = { "azrp collection create -g rg-prod --collection-name rpc-app --source-id /subscriptions/.../virtualMachines/vm-app-01" },
  columns = COLUMNS,
  check = verbs.check_tags,
  run = function(api, opts)
    local location = opts.location
    if not location then
      local rg, err = api:call("ResourceGroups_Get", { resource_group_name = opts.resource_group })
      if not rg then return nil, err end
      location = rg.location
    end
    local p = params(opts)
    p.body = { location = location, properties = { source = { id = opts.source_id } } }
    if opts.tags then p.body.tags = O.tags(opts.tags) end
    return api:call("RestorePointCollections_CreateOrUpdate", p)
  end,
}

local show = verbs.show{
  name = "collection show",
  summary = "Show a restore point collection.",
  options = { O.RESOURCE_GROUP, O.COLLECTION,
    { "restore-points", flag = true, help = "include the collection's restore points" } },
  columns = COLUMNS,
  op = "RestorePointCollections_Get", params = params, expand = { "restore_points", "restorePoints" },
}

local list = verbs.list{
  name = "collection list",
  summary = "List the restore point collections of a resource group.",
  options = { O.RESOURCE_GROUP },
  columns = COLUMNS,
  op = "RestorePointCollections_List",
  params = function(opts) return { resource_group_name = opts.resource_group } end,
}

local list_all = verbs.list{
  name = "collection list-all",
  summary = "List every restore point collection of the subscription.",
  options = {},
  columns = COLUMNS,
  op = "RestorePointCollections_ListAll", params = function() return {} end,
}

local update = command.action{
  name = "collection update",
  summary = "Update a restore point collection's tags.",
  options = { O.RESOURCE_GROUP, O.COLLECTION,
    { "tags", list = true, required = true, metavar = "KEY=VALUE", param = "body.tags",
      help = "the collection's new tags, space-separated (\"\" clears them)" } },
  columns = COLUMNS,
  check = verbs.check_tags,
  run = function(api, opts)
    local p = params(opts)
    p.body = { tags = O.tags(opts.tags) }
    return api:call("RestorePointCollections_Update", p)
  end,
}

local delete = verbs.delete{
  name = "collection delete",
  summary = "Delete a restore point collection and every restore point in it.",
  options = { O.RESOURCE_GROUP, O.COLLECTION, O.NO_WAIT },
  op = "RestorePointCollections_Delete", params = params,
}

return command.group{
  name = "collection",
  summary = "Restore point collections (az restore-point collection).",
  commands = { create = create, show = show, list = list, ["list-all"] = list_all, update = update, delete = delete },
}
