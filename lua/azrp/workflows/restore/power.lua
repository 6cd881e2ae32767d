--- azrp.workflows.restore.power: a VM's power actions, each waited on
-- until the VM is in the state it leads to.
local common = require "azrp.workflows.restore.common"

local M = {}

--- timeout(ctx) -> the seconds a power action or an update may take.
function M.timeout(ctx) return ctx:scaled(ctx.config.timeout or 1800) end

--- get_vm(ctx) -> the VM restored in place, with its instance view.
function M.get_vm(ctx)
  return ctx.client:call("VirtualMachines_Get", { id = ctx.config.vm_id, expand = "instanceView" })
end

--- power(ctx, op, want) -> true | nil, err: runs op (VirtualMachines_Start,
-- _Deallocate) unless the VM is already want, and checks it then is.
function M.power(ctx, op, want)
  local vm, err = M.get_vm(ctx)
  if not vm then return nil, err end
  if common.power_state(vm) == want then return true end
  local ok
  ok, err = ctx.client:call(op, { id = ctx.config.vm_id }, { timeout = M.timeout(ctx) })
  if ok == nil and err then return nil, err end
  vm, err = M.get_vm(ctx)
  if not vm then return nil, err end
  if common.power_state(vm) ~= want then
    return nil, common.restore_error("PowerState", "after %s the VM is %s, not %s", op, tostring(common.power_state(vm)), want)
  end
  return true
end

return M
