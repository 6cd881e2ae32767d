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

return I
