--- azrp.workflow.restore_point: what the workflows that make a VM's
-- restore point share: its creation while Azure refuses a second one at a
-- time, and the disk restore points it holds.
local azrp = require "azrp"

local M = {}

--- busy(err) -> is err Azure's refusal of a second concurrent restore
-- point creation (409, "... already in progress")?
function M.busy(err)
  return type(err) == "table" and err.status == 409 and type(err.message) == "string"
    and err.message:find("already in progress", 1, true) ~= nil
end

--- create(ctx, spec [, before]) -> restore point | nil, err: ctx:create(spec)
-- (a restore point), tried again every 15 s (Azure time) while another
-- restore point of the VM is being created (a backup, another run), for
-- at most ctx.config.busy_timeout Azure seconds (default 3600).
-- before(), when given, is called before each try.
function M.create(ctx, spec, before)
  local deadline = azrp.now() + ctx:scaled(ctx.config.busy_timeout or 3600)
  local rp, err
  while true do
    if before then before() end
    rp, err = ctx:create(spec)
    if rp or not M.busy(err) or azrp.now() >= deadline then break end
    ctx:emit{ type = "note", step = "restore_point", message = "another restore point of the VM is being created; waiting" }
    local ok, serr = ctx:sleep(math.max(0.02, ctx:scaled(15)))
    if not ok then return nil, serr end
  end
  return rp, err
end

--- disks(storage_profile) -> the disk restore points of a restore point
-- (its properties.sourceMetadata.storageProfile), the OS disk's first:
-- { drp = id, os_type, caching, sku } for the OS disk, { lun, drp,
-- caching, sku, source = the VM's disk id } for each data disk.
function M.disks(sp)
  local out = {}
  sp = sp or {}
  if sp.osDisk and sp.osDisk.diskRestorePoint then
    out[#out + 1] = { drp = sp.osDisk.diskRestorePoint.id, os_type = sp.osDisk.osType, caching = sp.osDisk.caching,
      sku = sp.osDisk.managedDisk and sp.osDisk.managedDisk.storageAccountType }
  end
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.diskRestorePoint then
      out[#out + 1] = { lun = math.floor(d.lun), drp = d.diskRestorePoint.id, caching = d.caching,
        sku = d.managedDisk and d.managedDisk.storageAccountType, source = d.managedDisk and d.managedDisk.id }
    end
  end
  return out
end

return M
