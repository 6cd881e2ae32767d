-- Regions and regional capacity: Subscriptions_ListLocations, and
-- Microsoft.Compute's Usage_List (vCPU quotas) and VirtualMachineSizes_List.
--
-- Usages are computed from the VMs of the subscription in that region that
-- hold cores (every VM but a deallocated one, as on Azure): "cores" (Total
-- Regional vCPUs) and one row per size family (vm_sizes.lua), against
-- limits a seed may set (seed.quotas, see seed.lua).  The defaults are
-- those of an Enterprise Agreement subscription, 350 regional vCPUs and
-- 350 per family, so that the specs' fleets of 300 small VMs fit; seed
-- smaller ones (a pay-as-you-go subscription starts with 10 or 20) to see
-- a refusal.  A VM create, resize or start that would exceed either is
-- refused as Azure refuses it: 409 OperationNotAllowed.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local regions = require "azrp.emulator.regions"
local sizes = require "azrp.emulator.vm_sizes"
local json = require "azrp.emulator.json"

local M = {}

M.DEFAULT_REGIONAL = 350
M.DEFAULT_FAMILY = 350
local VM_TYPE = "Microsoft.Compute/virtualMachines"

-- The limit of quota name ("cores" or a family) in location for sub.
function M.limit(em, sub, location, name)
  for _, q in ipairs(em.seed.quotas or {}) do
    if regions.canonical(q.location) == location and q.name:lower() == name:lower()
      and (q.subscription == nil or q.subscription:lower() == sub:lower()) then
      return q.limit
    end
  end
  return name == "cores" and M.DEFAULT_REGIONAL or M.DEFAULT_FAMILY
end

-- Cores in use in location: total, and by family; except_id leaves one VM out.
function M.used(em, sub, location, except_id)
  local total, by_family = 0, {}
  for _, e in ipairs(em.store:list(VM_TYPE, { sub = sub })) do
    if e.body.location == location and e.x.power ~= "deallocated"
      and not (except_id and e.id:lower() == except_id:lower()) then
      local n, family = sizes.cores(e.body.properties.hardwareProfile.vmSize)
      total = total + n
      by_family[family] = (by_family[family] or 0) + n
    end
  end
  return total, by_family
end

local function exceeded(what, location, limit, usage, extra)
  return reply.error(409, "OperationNotAllowed", string.format(
    "Operation could not be completed as it results in exceeding approved %s Cores quota. " ..
    "Additional details - Deployment Model: Resource Manager, Location: %s, Current Limit: %d, " ..
    "Current Usage: %d, Additional Required: %d, (Minimum) New Limit Required: %d. " ..
    "Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView " ..
    "by specifying parameters listed in the 'Details' section for deployment to succeed. Please read more about quota " ..
    "limits at https://docs.microsoft.com/en-us/azure/azure-supportability/regional-quota-requests",
    what, location, limit, usage, extra, usage + extra))
end

-- nil when VM vm_id (sub, location) may hold a size of `size`, else the 409.
function M.check(em, sub, location, vm_id, size)
  local n, family = sizes.cores(size)
  local total, by_family = M.used(em, sub, location, vm_id)
  local limit = M.limit(em, sub, location, "cores")
  if total + n > limit then return exceeded("Total Regional", location, limit, total, n) end
  local flimit = M.limit(em, sub, location, family)
  local fused = by_family[family] or 0
  if fused + n > flimit then return exceeded(family, location, flimit, fused, n) end
  return nil
end

local function region_of(req)
  local loc = regions.canonical(req.params.location)
  if loc then return loc end
  return nil, reply.error(404, "NoRegisteredProviderFound", string.format(
    "No registered resource provider found for location '%s' and API version '%s' for type 'locations'.",
    tostring(req.params.location), tostring(req.query["api-version"])))
end

local function list_locations(em, req)
  local unknown = arm.unknown_subscription(em, req)
  if unknown then return unknown end
  local docs = json.array()
  for _, r in ipairs(regions.LIST) do
    docs[#docs + 1] = { id = "/subscriptions/" .. req.params.sub .. "/locations/" .. r[1], name = r[1],
      displayName = r[2], regionalDisplayName = r[2], type = "Region",
      metadata = { regionType = "Physical", regionCategory = "Recommended" } }
  end
  return reply.json(200, { value = docs })
end

local function family_label(family)
  local core = family:gsub("^standard", ""):gsub("Family$", "")
  return "Standard " .. core .. " Family vCPUs"
end

local function usages(em, req)
  local unknown = arm.unknown_subscription(em, req)
  if unknown then return unknown end
  local loc, err = region_of(req)
  if not loc then return err end
  local sub = req.params.sub
  local total, by_family = M.used(em, sub, loc)
  local vms = 0
  for _, e in ipairs(em.store:list(VM_TYPE, { sub = sub })) do
    if e.body.location == loc then vms = vms + 1 end
  end
  local function row(name, label, current, limit)
    return { unit = "Count", currentValue = current, limit = limit, name = { value = name, localizedValue = label } }
  end
  local docs = {
    row("availabilitySets", "Availability Sets", 0, 2500),
    row("cores", "Total Regional vCPUs", total, M.limit(em, sub, loc, "cores")),
    row("virtualMachines", "Virtual Machines", vms, 25000),
    row("virtualMachineScaleSets", "Virtual Machine Scale Sets", 0, 2500),
  }
  local families, seen = {}, {}
  for _, s in ipairs(sizes.LIST) do
    if not seen[s[4]] then seen[s[4]] = true; families[#families + 1] = s[4] end
  end
  for f in pairs(by_family) do
    if not seen[f] then seen[f] = true; families[#families + 1] = f end
  end
  table.sort(families)
  for _, f in ipairs(families) do
    docs[#docs + 1] = row(f, family_label(f), by_family[f] or 0, M.limit(em, sub, loc, f))
  end
  return arm.list(em, req, docs)
end

local function vm_sizes(em, req)
  local unknown = arm.unknown_subscription(em, req)
  if unknown then return unknown end
  local loc, err = region_of(req)
  if not loc then return err end
  local docs = json.array()
  for _, s in ipairs(sizes.LIST) do docs[#docs + 1] = sizes.doc(s) end
  return reply.json(200, { value = docs })
end

function M.routes(em)
  em.quota_check = M.check
  return {
    { method = "GET", path = "/subscriptions/{sub}/locations", op = "Subscriptions_ListLocations", arm = true,
      kind = "read", handler = list_locations },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/usages",
      op = "Usage_List", arm = true, kind = "read", handler = usages },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/vmSizes",
      op = "VirtualMachineSizes_List", arm = true, kind = "read", handler = vm_sizes },
  }
end

return M
