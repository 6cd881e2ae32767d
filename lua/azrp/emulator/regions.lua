-- The Azure regions the emulator knows, and how ARM refuses the others.
--
-- ARM names a region by its lower-case name without spaces ("northeurope")
-- and accepts its display name too ("North Europe"): it compares location
-- names case-insensitively with the spaces taken out.  A PUT whose location
-- is not a region the resource type is offered in is refused with 400
-- LocationNotAvailableForResourceType (LocationNotAvailableForResourceGroup
-- for a resource group), listing the regions that are.  Every resource type
-- the emulator serves is offered in every region of this list.
local M = {}

-- { name, display name }, in the order `az account list-locations` gives
-- the physical public regions.
M.LIST = {
  { "eastus", "East US" }, { "southcentralus", "South Central US" }, { "westus2", "West US 2" },
  { "westus3", "West US 3" }, { "australiaeast", "Australia East" }, { "southeastasia", "Southeast Asia" },
  { "northeurope", "North Europe" }, { "swedencentral", "Sweden Central" }, { "uksouth", "UK South" },
  { "westeurope", "West Europe" }, { "centralus", "Central US" }, { "southafricanorth", "South Africa North" },
  { "centralindia", "Central India" }, { "eastasia", "East Asia" }, { "japaneast", "Japan East" },
  { "koreacentral", "Korea Central" }, { "canadacentral", "Canada Central" }, { "francecentral", "France Central" },
  { "germanywestcentral", "Germany West Central" }, { "italynorth", "Italy North" }, { "norwayeast", "Norway East" },
  { "polandcentral", "Poland Central" }, { "spaincentral", "Spain Central" }, { "switzerlandnorth", "Switzerland North" },
  { "mexicocentral", "Mexico Central" }, { "uaenorth", "UAE North" }, { "brazilsouth", "Brazil South" },
  { "israelcentral", "Israel Central" }, { "qatarcentral", "Qatar Central" }, { "northcentralus", "North Central US" },
  { "westus", "West US" }, { "eastus2", "East US 2" }, { "westcentralus", "West Central US" },
  { "southafricawest", "South Africa West" }, { "australiacentral", "Australia Central" },
  { "australiacentral2", "Australia Central 2" }, { "australiasoutheast", "Australia Southeast" },
  { "japanwest", "Japan West" }, { "koreasouth", "Korea South" }, { "southindia", "South India" },
  { "westindia", "West India" }, { "canadaeast", "Canada East" }, { "francesouth", "France South" },
  { "germanynorth", "Germany North" }, { "norwaywest", "Norway West" }, { "switzerlandwest", "Switzerland West" },
  { "ukwest", "UK West" }, { "uaecentral", "UAE Central" }, { "brazilsoutheast", "Brazil Southeast" },
}

local known, names = {}, {}
for i, r in ipairs(M.LIST) do
  known[r[1]] = r
  names[i] = r[1]
end

-- The key ARM compares location names by: lower case, no white space.
function M.key(name) return (name:lower():gsub("%s", "")) end

-- The region's name ("northeurope") for any spelling ARM accepts, or nil.
function M.canonical(name)
  if type(name) ~= "string" then return nil end
  local r = known[M.key(name)]
  return r and r[1]
end

function M.display_name(name)
  local r = known[M.key(name)]
  return r and r[2]
end

-- The comma-separated list ARM's refusal carries.
function M.available() return table.concat(names, ",") end

-- The error ({ status, code, message }) ARM answers for an unknown
-- location of a resource of type rtype (nil for a resource group).
function M.refusal(location, rtype)
  if rtype == nil or rtype:lower() == "microsoft.resources/resourcegroups" then
    return { status = 400, code = "LocationNotAvailableForResourceGroup", message = string.format(
      "The provided location '%s' is not available for resource group. List of available regions is '%s'.",
      tostring(location), M.available()) }
  end
  return { status = 400, code = "LocationNotAvailableForResourceType", message = string.format(
    "The provided location '%s' is not available for resource type '%s'. " ..
    "List of available regions for the resource type is '%s'.", tostring(location), rtype, M.available()) }
end

return M
