--- azrp.workflows.restore.restore_disks: the step that restores every
-- disk of the plan at once, in both modes: the restore point's SKU and
-- size, the target's zone (none for a zone-redundant SKU, which Azure
-- does not pin), the disk encryption set passed explicitly (restore
-- points fall back to platform keys), the source disk's tags.
local azrp = require "azrp"
local common = require "azrp.workflows.restore.common"
local restore_all = require("azrp.workflow.disks").restore

local M = {}

--- body(d, target) -> the Disks_CreateOrUpdate body of planned disk d.
function M.body(d, target)
  local props = { creationData = { createOption = "Restore", sourceResourceId = d.drp }, osType = d.os_type,
    hyperVGeneration = d.hyperv, diskSizeGB = d.size_gb and math.floor(d.size_gb) or nil }
  if d.security_type and d.security_type ~= "Standard" then
    props.securityProfile = { securityType = d.security_type }
  end
  if d.des then
    props.encryption = { type = "EncryptionAtRestWithCustomerKey", diskEncryptionSetId = d.des }
  end
  local zones = target.zones
  if common.ZRS[d.sku] then zones = nil end
  return { location = target.location, sku = { name = d.sku }, zones = zones, tags = d.tags, properties = props }
end

--- step(ctx) -> true | nil, err: the step "restore_disks"; keeps disks.
function M.step(ctx)
  local t, disks = ctx.data.target, ctx.data.disk_plan
  ctx:set("restore_started_at", ctx.data.restore_started_at or azrp.wall())
  return restore_all(ctx, { disks = disks, scope = t.scope, rg = t.rg, keep = true, error = common.restore_error,
    body = function(d) return M.body(d, t) end,
    entry = function(d, id, name)
      return { lun = d.lun, id = id, name = name, caching = d.caching, wa = d.wa, os_type = d.os_type }
    end })
end

return M
