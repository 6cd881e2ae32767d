-- The emulated fleet of the host specs: the demo fleet plus N small VMs
-- (a 1 GiB OS disk), each with a restore point collection, so that N
-- restore points can be created at once (Azure refuses two concurrent
-- creations on one VM).
local S = require "support.seed"

local F = {}

F.SUB = "00000000-0000-4000-8000-000000000001"
F.RG = "rg-prod"

function F.vm(prefix, i) return string.format("vm-%s-%02d", prefix, i) end
function F.collection(prefix, i) return string.format("rpc-%s-%02d", prefix, i) end

-- write(prefix, n) -> path of a seed file for `azrp emulator --seed`.
function F.write(prefix, n)
  local seed = S.demo()
  seed.resources = {}
  local rg = "/subscriptions/" .. F.SUB .. "/resourceGroups/" .. F.RG
  for i = 1, n do
    seed.vms[#seed.vms + 1] = { resource_group = F.RG, name = F.vm(prefix, i), location = "westeurope",
      size = "Standard_B1s", os_type = "Linux", subnet = "vnet-prod/default",
      os_disk = { size_gb = 1, sku = "Standard_LRS" } }
    seed.resources[#seed.resources + 1] = {
      path = rg .. "/providers/Microsoft.Compute/restorePointCollections/" .. F.collection(prefix, i),
      body = { location = "westeurope", properties = { source = {
        id = rg .. "/providers/Microsoft.Compute/virtualMachines/" .. F.vm(prefix, i) } } } }
  end
  return S.write(seed)
end

return F
