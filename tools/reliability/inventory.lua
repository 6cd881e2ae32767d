-- Everything an emulator holds that a run could make or delete, as a
-- sorted list of lower-case ids: every resource group's disks, VMs,
-- snapshots, images, restore point collections and their restore points,
-- galleries with their image definitions and versions, NICs, vnets, NSGs
-- and public IPs; and each active SAS grant ("grant:<resource id>").
-- Read through the client (lists followed to their last nextLink) and the
-- emulator's admin API, with faults off.  Extends spec/support/inventory.lua
-- (rg-dr only) to every resource group.
local json = require "cjson.safe"
local C = require "support.client"
local I = require "support.inventory"

local M = {}

-- GET url and every nextLink after it -> the items, or raises.
local function raw_all(client, url)
  local out = {}
  while url do
    local res, err = client:request{ method = "GET", auth = true, retry = true, url = url }:wait()
    assert(res, tostring(err))
    if res.status == 404 then return out end
    assert(res.status == 200, "GET " .. url .. ": " .. tostring(res.status) .. " " .. tostring(res.body))
    local doc = json.decode(res.body)
    for _, it in ipairs(doc.value or {}) do out[#out + 1] = it end
    url = doc.nextLink
  end
  return out
end

local function list(client, op, params)
  local items, err = client:list(op, params)
  assert(items, tostring(err))
  return items
end

--- of(em, client) -> { "id", ... } sorted, and a set of the same.
function M.of(em, client)
  local out = {}
  local function add(id) out[#out + 1] = id:lower() end
  local base = em.url .. "/subscriptions/" .. C.SUB .. "/resourceGroups/"
  for _, rg in ipairs(list(client, "ResourceGroups_List", {})) do
    local name = rg.name
    for _, op in ipairs({ "Disks_ListByResourceGroup", "VirtualMachines_List", "Snapshots_ListByResourceGroup",
      "Images_ListByResourceGroup" }) do
      for _, it in ipairs(list(client, op, { resource_group_name = name })) do add(it.id) end
    end
    for _, coll in ipairs(list(client, "RestorePointCollections_List", { resource_group_name = name })) do
      add(coll.id)
      for _, rp in ipairs(I.restore_points(client, name, coll.name)) do add(coll.id .. "/restorePoints/" .. rp) end
    end
    for _, p in ipairs({ "networkInterfaces", "virtualNetworks", "networkSecurityGroups", "publicIPAddresses" }) do
      for _, it in ipairs(raw_all(client, base .. name .. "/providers/Microsoft.Network/" .. p .. "?api-version=2024-05-01")) do
        add(it.id)
      end
    end
    local gal = base .. name .. "/providers/Microsoft.Compute/galleries"
    for _, g in ipairs(raw_all(client, gal .. "?api-version=2025-03-03")) do
      add(g.id)
      for _, img in ipairs(raw_all(client, gal .. "/" .. g.name .. "/images?api-version=2025-03-03")) do
        add(img.id)
        for _, v in ipairs(raw_all(client, gal .. "/" .. g.name .. "/images/" .. img.name .. "/versions?api-version=2025-03-03")) do
          add(v.id)
        end
      end
    end
  end
  local st, blobs = C.admin(em, "GET", "/_emulator/blobs")
  assert(st == 200, "admin blobs: " .. tostring(st))
  for _, g in ipairs(type(blobs) == "table" and blobs.grants or {}) do
    if g.state == "active" then add("grant:" .. g.resource_id) end
  end
  table.sort(out)
  local set = {}
  for _, id in ipairs(out) do set[id] = true end
  return out, set
end

--- diff(a_set, b_set) -> the ids of a not in b, sorted.
function M.minus(a, b)
  local out = {}
  for id in pairs(a) do if not b[id] then out[#out + 1] = id end end
  table.sort(out)
  return out
end

return M
