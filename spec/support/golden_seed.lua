-- The fleet of the golden image specs: the shrunk demo fleet
-- (support.small_seed; vm-app-01 is a Trusted Launch Gen2 VM) plus a
-- standard Gen2 VM with a data disk (a managed image's source) and a
-- standard Gen1 VM (a cross-generation source).  Written once per
-- process as a JSON seed file; needs no emulator module.
local seed_file = require "support.seed"
local small = require "support.small_seed"

local S = {}

local path
function S.file()
  if path then return path end
  local seed = small.shrink(seed_file.demo())
  local function vm(name, hyper_v)
    return { resource_group = "rg-prod", name = name, location = "westeurope", size = "Standard_D2s_v5",
      os_type = "Linux", subnet = "vnet-prod/default", hyper_v = hyper_v,
      os_disk = { size_gb = small.GB, sku = "Premium_LRS" },
      data_disks = { { lun = 0, size_gb = small.GB, sku = "StandardSSD_LRS" } } }
  end
  seed.vms[#seed.vms + 1] = vm("vm-std-01", "V2")
  seed.vms[#seed.vms + 1] = vm("vm-gen1-01", "V1")
  path = seed_file.write(seed)
  return path
end

return S
