--- azrp.workflows.restore.verify: the step that checks the VM as the
-- restore leaves it (every restored disk attached where it belongs, the
-- VM provisioned), times the RTO, and tells whether a run got there.
local azrp = require "azrp"
local common = require "azrp.workflows.restore.common"
local storage = require "azrp.workflows.restore.storage"

local M = {}

--- verified(ctx): did the run's verify step end well?  A run that did is
-- a restore: nothing after it is undone.
function M.verified(ctx)
  local v = ctx.steps.verify
  return v and v.state == "done"
end

--- step(ctx): the step "verify".
function M.step(ctx)
  local id = ctx.config.mode == "new" and ctx.data.vm.id or ctx.config.vm_id
  local vm, err = ctx.client:call("VirtualMachines_Get", { id = id, expand = "instanceView" })
  if not vm then return nil, err end
  local fine, missing = storage.has(vm, ctx.data.disks)
  if not fine then
    return nil, common.restore_error("DiskMissing", "%s is not attached at %s", missing.name,
      missing.lun and ("LUN " .. missing.lun) or "the OS disk")
  end
  if vm.properties.provisioningState ~= "Succeeded" then
    return nil, azrp.error{ kind = "check", code = "Unhealthy", retryable = false,
      message = "the VM's provisioningState is " .. tostring(vm.properties.provisioningState) }
  end
  local rto = azrp.wall() - ctx.data.restore_started_at
  ctx:set("figure.rto_wall_seconds", common.round(rto))
  ctx:set("figure.rto_seconds", common.round(rto / ctx.time_scale))
  ctx:set("report.vm", vm.id)
  ctx:set("report.restore_point", ctx.data.restore_point.id)
  return true
end

return M
