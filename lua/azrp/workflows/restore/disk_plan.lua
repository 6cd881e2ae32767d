--- azrp.workflows.restore.disk_plan: the disks a restore makes, read from
-- the restore point's metadata, its disk restore points and (while they
-- exist) the source disks; reads only.
local common = require "azrp.workflows.restore.common"

local M = {}

local preflight_error = common.preflight_error

--- des_of(d) -> the disk encryption set id of a VM's (or a restore
-- point's) disk entry, or nil.
function M.des_of(d)
  local md = d and d.managedDisk
  return md and md.diskEncryptionSet and md.diskEncryptionSet.id
end

-- GETs every operation's params at once -> { { body, err }, ... } | nil,
-- err (a signal), through the run's own wait.
local function get_all(ctx, calls)
  local out, ops, which = {}, {}, {}
  for i, call in ipairs(calls) do
    if call then
      local op, err = ctx.client:begin(call[1], call[2])
      if op then ops[#ops + 1], which[#ops + 1] = op, i else out[i] = { nil, err } end
    end
  end
  local ok, err = ctx:await(ops, function(j, v, e) out[which[j]] = { v, e } end)
  if not ok then return nil, err end
  return out
end

--- plan(ctx, rp, vm) -> { { lun, drp, sku, sku_from, size_gb, caching, wa,
-- source_id, source_name, os_type, hyperv, security_type, des, tags,
-- label } }, the OS disk first | nil, err.  vm may be nil (a VM that is
-- gone, restored as a new one).
function M.plan(ctx, rp, vm)
  local cfg = ctx.config
  local meta = rp.properties.sourceMetadata or {}
  local sp = meta.storageProfile or {}
  local list = {}
  if sp.osDisk and sp.osDisk.diskRestorePoint then list[#list + 1] = { d = sp.osDisk, os = true } end
  for _, d in ipairs(sp.dataDisks or {}) do
    if d.diskRestorePoint then list[#list + 1] = { d = d } end
  end
  if #list == 0 or not list[1].os then
    return nil, preflight_error("restore_point", "restore point %s holds no OS disk restore point", rp.id)
  end
  -- The disk restore points (osType, hyperVGeneration, security) and the
  -- source disks when they still exist (their tags), all at once.
  local calls = {}
  for i, x in ipairs(list) do
    calls[2 * i - 1] = { "DiskRestorePoint_Get", { id = x.d.diskRestorePoint.id } }
    local src = x.d.managedDisk and x.d.managedDisk.id
    calls[2 * i] = src and { "Disks_Get", { id = src } } or false
  end
  local got, gerr = get_all(ctx, calls)
  if not got then return nil, gerr end
  local vm_disks = {}
  if vm then
    local vsp = vm.properties.storageProfile or {}
    vm_disks.os = vsp.osDisk
    for _, d in ipairs(vsp.dataDisks or {}) do vm_disks[math.floor(d.lun)] = d end
  end
  local out, seen = {}, {}
  for i, x in ipairs(list) do
    local drp, err = got[2 * i - 1][1], got[2 * i - 1][2]
    if not drp then return nil, err end
    local src = got[2 * i] and got[2 * i][1]
    local d = x.d
    local lun = not x.os and math.floor(d.lun) or nil
    local label = x.os and "the OS disk" or string.format("the data disk at LUN %d", lun)
    -- The SKU: the config's for this disk, else what the restore point
    -- records, else the config's for every disk without one.  Never a
    -- guess: not the source disk's SKU of today (it may have changed
    -- since), not Standard_LRS.
    local key = x.os and "os" or ("lun" .. lun)
    local recorded = d.managedDisk and d.managedDisk.storageAccountType
    local override = cfg.disk_skus and cfg.disk_skus[key]
    local sku, sku_from = override, "disk_skus." .. key
    if not sku and recorded then sku, sku_from = recorded, "restore_point" end
    if not sku and cfg.disk_sku then sku, sku_from = cfg.disk_sku, "disk_sku" end
    if not sku then
      local today = src and src.sku and src.sku.name
      return nil, preflight_error("disk_skus." .. key,
        "the restore point does not record the SKU of %s (%s)%s; set it in the config: disk_skus = { %s = \"<SKU>\" } " ..
        "(or disk_sku, for every disk whose SKU is not recorded)", label, tostring(d.name),
        today and string.format(", whose source disk is %s today", today) or "", key)
    end
    seen[key] = true
    local dp = drp.properties or {}
    local current = vm_disks[x.os and "os" or lun]
    out[#out + 1] = { lun = lun, drp = drp.id, sku = sku, sku_from = sku_from, size_gb = d.diskSizeGB, caching = d.caching,
      wa = d.writeAcceleratorEnabled, source_id = d.managedDisk and d.managedDisk.id, source_name = d.name,
      os_type = x.os and (dp.osType or d.osType) or nil, hyperv = x.os and dp.hyperVGeneration or nil,
      security_type = x.os and ((dp.securityProfile and dp.securityProfile.securityType)
        or (meta.securityProfile and meta.securityProfile.securityType)) or nil,
      des = cfg.disk_encryption_set_id or M.des_of(current) or M.des_of(d),
      tags = src and src.tags or nil, label = label }
  end
  -- An override for a disk the restore point does not hold is a mistake
  -- (a wrong LUN): say so rather than ignore it.
  local extra = {}
  for k in pairs(cfg.disk_skus or {}) do if not seen[k] then extra[#extra + 1] = k end end
  table.sort(extra)
  if extra[1] then
    return nil, preflight_error("disk_skus." .. extra[1], "restore point %s holds no %s", rp.id,
      extra[1] == "os" and "OS disk" or ("data disk at LUN " .. extra[1]:sub(4)))
  end
  return out
end

return M
