--- azrp.workflows.restore.storage: a VM's disks as a restore sees them:
-- the storageProfile entries that attach restored disks, which disks a
-- VM has, and whether it has the ones wanted.  A disk here is
-- { lun (nil: the OS disk), id, name, caching, wa, os_type }.
local M = {}

--- profile(disks [, os_option]) -> osDisk, dataDisks (sorted by LUN): the
-- entries that attach disks.
function M.profile(disks, os_option)
  local os_disk, data = nil, {}
  for _, d in ipairs(disks) do
    local ref = { createOption = "Attach", caching = d.caching, managedDisk = { id = d.id }, name = d.name,
      writeAcceleratorEnabled = d.wa or nil }
    if d.lun then
      ref.lun = d.lun
      data[#data + 1] = ref
    else
      ref.osType, ref.createOption = d.os_type, os_option or "Attach"
      os_disk = ref
    end
  end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  return os_disk, data
end

--- attached(vm) -> { os = id, [lun] = id }, ids in lower case.
function M.attached(vm)
  local sp = vm.properties.storageProfile
  local out = { os = sp.osDisk.managedDisk.id:lower() }
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.managedDisk and d.managedDisk.id then out[math.floor(d.lun)] = d.managedDisk.id:lower() end
  end
  return out
end

--- has(vm, disks) -> true | false, the first disk not where it should be.
function M.has(vm, disks)
  local a = M.attached(vm)
  for _, d in ipairs(disks) do
    if a[d.lun or "os"] ~= d.id:lower() then return false, d end
  end
  return true
end

return M
