-- What the emulator holds that a workflow could have made: the resources
-- of rg-dr (disks, VMs, NICs, vnets, NSGs) and the restore points of the
-- drill's collections, as a sorted list of "type/name" strings.
local json = require "cjson.safe"
local C = require "support.client"

local I = {}

local function raw_list(em, client, path)
  local res, err = client:request{ method = "GET", auth = true, retry = true, url = em.url .. "/subscriptions/" .. C.SUB .. path }:wait()
  assert(res, tostring(err))
  if res.status == 404 then return {} end
  assert(res.status == 200, res.body)
  return json.decode(res.body).value
end

-- The restore points of a collection ({} when it does not exist).
function I.restore_points(client, rg, coll)
  local c, err = client:call("RestorePointCollections_Get", { resource_group_name = rg,
    restore_point_collection_name = coll, expand = "restorePoints" })
  if not c then assert(err.status == 404, tostring(err)); return {} end
  local out = {}
  for _, rp in ipairs(c.properties.restorePoints or {}) do out[#out + 1] = rp.name end
  table.sort(out)
  return out
end

function I.dr(em, client)
  local out = {}
  for _, op in ipairs({ "Disks_ListByResourceGroup", "VirtualMachines_List" }) do
    local items, err = client:list(op, { resource_group_name = "rg-dr" })
    assert(items, tostring(err))
    for _, it in ipairs(items) do out[#out + 1] = it.type .. "/" .. it.name end
  end
  for _, p in ipairs({ "networkInterfaces", "virtualNetworks", "networkSecurityGroups" }) do
    for _, it in ipairs(raw_list(em, client, "/resourceGroups/rg-dr/providers/Microsoft.Network/" .. p .. "?api-version=2024-05-01")) do
      out[#out + 1] = it.type .. "/" .. it.name
    end
  end
  for _, coll in ipairs({ "rpc-vm-app-01-dr", "rpc-vm-sql-01-dr" }) do
    for _, rp in ipairs(I.restore_points(client, "rg-dr", coll)) do out[#out + 1] = "restorePoint/" .. coll .. "/" .. rp end
  end
  table.sort(out)
  return out
end

-- ---------------------------------------------------------------------
-- Everything of the subscription, for the crash matrix.

--- key(id) -> a resource's key: "<rg>/<provider path>", lower-cased
-- (ARM ids are case-insensitive), e.g. "rg-prod/microsoft.compute/disks/d1".
function I.key(id)
  local rg, rest = id:match("/[Rr][Ee][Ss][Oo][Uu][Rr][Cc][Ee][Gg][Rr][Oo][Uu][Pp][Ss]/([^/]+)/[Pp][Rr][Oo][Vv][Ii][Dd][Ee][Rr][Ss]/(.+)$")
  if not rg then return id:lower() end
  return (rg .. "/" .. rest):lower()
end

local NETWORK = { "networkInterfaces", "virtualNetworks", "networkSecurityGroups", "publicIPAddresses" }

--- all(em, client) -> { key = true } of every resource group's disks,
-- snapshots, VMs (and each VM's disks by LUN: "<vm key>#os=<disk>",
-- "#lun0=<disk>"), managed images, galleries with their definitions and
-- versions, restore point collections and their restore points, network
-- resources, and the SAS grants the blob endpoint holds active
-- ("sas <key>"); and { key = provisioningState } beside it.
function I.all(em, client)
  local out, states = {}, {}
  local function add(item)
    local k = I.key(item.id)
    out[k] = true
    states[k] = item.properties and item.properties.provisioningState
    return k
  end
  local rgs = raw_list(em, client, "/resourcegroups?api-version=2021-04-01")
  for _, op in ipairs({ "Disks_List", "Snapshots_List" }) do
    for _, it in ipairs(assert(client:list(op, {}))) do add(it) end
  end
  for _, vm in ipairs(assert(client:list("VirtualMachines_ListAll", {}))) do
    local k = add(vm)
    local sp = vm.properties.storageProfile or {}
    if sp.osDisk and sp.osDisk.managedDisk then out[k .. "#os=" .. I.key(sp.osDisk.managedDisk.id)] = true end
    for _, d in ipairs(sp.dataDisks or {}) do
      out[k .. "#lun" .. math.floor(d.lun) .. "=" .. I.key(d.managedDisk.id)] = true
    end
  end
  for _, c in ipairs(assert(client:list("RestorePointCollections_ListAll", {}))) do
    add(c)
    local full = assert(client:call("RestorePointCollections_Get", { id = c.id, expand = "restorePoints" }))
    for _, rp in ipairs(full.properties.restorePoints or {}) do add(rp) end
  end
  for _, rg in ipairs(rgs) do
    local base = "/resourceGroups/" .. rg.name .. "/providers/"
    for _, it in ipairs(assert(client:list("Images_ListByResourceGroup", { resource_group_name = rg.name }))) do add(it) end
    for _, g in ipairs(raw_list(em, client, base .. "Microsoft.Compute/galleries?api-version=2025-03-03")) do
      add(g)
      for _, d in ipairs(raw_list(em, client, base .. "Microsoft.Compute/galleries/" .. g.name .. "/images?api-version=2025-03-03")) do
        add(d)
        for _, v in ipairs(raw_list(em, client, base .. "Microsoft.Compute/galleries/" .. g.name .. "/images/" .. d.name
          .. "/versions?api-version=2025-03-03")) do add(v) end
      end
    end
    for _, p in ipairs(NETWORK) do
      for _, it in ipairs(raw_list(em, client, base .. "Microsoft.Network/" .. p .. "?api-version=2024-05-01")) do add(it) end
    end
  end
  local status, blobs = C.admin(em, "GET", "/_emulator/blobs")
  assert(status == 200, "GET /_emulator/blobs: " .. tostring(status))
  for _, g in ipairs(blobs.grants or {}) do
    if g.state == "active" then out["sas " .. I.key(g.resource_id)] = true end
  end
  return out, states
end

return I
