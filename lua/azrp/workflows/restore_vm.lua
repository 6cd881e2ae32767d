--- azrp.workflows.restore_vm: a VM brought back from one of its restore
-- points, as a new VM or in place.
--
--     local restore = require "azrp.workflows.restore_vm"
--     local report, err = restore.run(client, { vm_id = ID, mode = "new",
--       subnet_id = SUBNET, vm_name = "vm-app-01-restored" })
--     restore.run(client, { vm_id = ID, mode = "in_place" })
--
-- The restore point is the one named (restore_point_id, or restore_point
-- by name), else the newest of the VM whose provisioning Succeeded and
-- whose every disk restore point is complete (a copy: 100 % replicated),
-- in the wanted region (restore.choose).  Preflight compares the disk
-- restore points with the VM (OS type, Hyper-V generation, security type,
-- zones, Azure Disk Encryption, disk encryption sets, disk SKUs, premium
-- storage on the VM size) and refuses a mismatch naming both values,
-- before anything is created (restore.preflight).
--
-- New VM: every disk restored at once (the source's SKU, size, caching,
-- zone, disk encryption set and tags), a NIC in the subnet the config
-- names, and a VM of the source's size and security profile with the data
-- disks at their LUNs (restore.restore_disks, restore.new_vm).  What it
-- makes is kept when the run succeeds and deleted when it does not.
--
-- In place: the disks restored while the VM runs, then deallocate, ONE
-- update that sets the OS disk (managedDisk.id and name, createOption kept)
-- and replaces the data disks at the same LUNs, a GET that checks the swap
-- happened (Azure can answer 200 and change nothing), and start
-- (restore.in_place).  Any failure (or signal) after the VM was touched
-- rolls back: the original disks go back in, the VM is started again if it
-- was running, and the restored disks are deleted.  Originals are kept and
-- listed in the report; delete_originals = true deletes them once the VM
-- is healthy.
--
-- Config (restore.config): vm_id (required), mode ("new" | "in_place",
-- default "new"), restore_point_id | restore_point (a name), location (the
-- restore point's region; new mode: where the VM goes; default the VM's),
-- resource_group (new mode; default the VM's), vm_name (new mode),
-- subnet_id (new mode, required), zone (new mode), vm_size (new mode),
-- disk_encryption_set_id (every disk; default the VM's, disk by disk),
-- disk_skus ({ os = SKU, lun<N> = SKU }: each disk's SKU, over what the
-- restore point records; no Ultra or Premium v2 OS disk), disk_sku (for
-- every disk whose SKU the restore point does not record; without either,
-- such a point is refused: never a silent fallback), delete_originals, start (in place: default whether it
-- was running), timeout (Azure seconds a power action may take, 1800).
local workflow = require "azrp.workflow"
local config = require "azrp.workflows.restore.config"
local choose = require "azrp.workflows.restore.choose"
local preflight = require "azrp.workflows.restore.preflight"
local restore_disks = require "azrp.workflows.restore.restore_disks"
local new_vm = require "azrp.workflows.restore.new_vm"
local in_place = require "azrp.workflows.restore.in_place"
local verify = require "azrp.workflows.restore.verify"
local plan = require "azrp.workflows.restore.plan"

local M = { error_kind = "restore", name = "restore_vm", id_prefix = "restore" }

--- check(config) -> config | nil, err: every field, before any request
-- (a new VM needs subnet_id; mode "new" or "in_place").
M.check = config.check
M.base_name = config.base_name
M.target = config.target
M.usable = choose.usable
M.premium_capable = preflight.premium_capable

local steps = {
  preflight = preflight.step,
  restore_disks = restore_disks.step,
  network = new_vm.network,
  create_vm = new_vm.create_vm,
  deallocate = in_place.deallocate,
  swap = in_place.swap,
  start = in_place.start,
  verify = verify.step,
  originals = in_place.originals,
}

local ORDER = {
  new = { "preflight", "restore_disks", "network", "create_vm", "verify" },
  in_place = { "preflight", "restore_disks", "deallocate", "swap", "start", "verify", "originals" },
}

--- steps_for(config) -> the steps of a run of that config.
function M.steps_for(cfg)
  return workflow.steps(ORDER[cfg.mode or "new"], steps)
end

-- The runner reads def.steps; a restore's depend on its mode.
M.steps = M.steps_for({ mode = "new" })

M.on_interrupt = "cleanup"

--- finish(ctx, outcome): a run that did not succeed keeps nothing it made;
-- one that was verified is a restore, and a failure or kill after it
-- (deleting the originals) undoes nothing.
function M.finish(ctx, outcome)
  if outcome == "succeeded" or verify.verified(ctx) then return end
  for _, r in ipairs(ctx.order) do
    if r.keep then ctx:record{ type = "keep", key = r.key, keep = false } end
  end
end

--- rollback(ctx) -> true | nil, err: an in-place restore that touched the
-- VM and did not finish puts the original disks back and starts the VM
-- again if it was running.
function M.rollback(ctx)
  if ctx.config.mode ~= "in_place" or not ctx.data.touched or verify.verified(ctx) then return true end
  return in_place.rollback(ctx)
end

--- plan(client, config) -> { { step, kind, name, change } } | nil, err:
-- the disks it would create and the VM change as a diff, from reads only.
function M.plan(client, cfg)
  return plan.rows(M, client, cfg)
end

--- run(client, config [, opts]) -> report | nil, err, report.
function M.run(client, cfg, opts)
  return workflow.run(M, client, cfg, opts)
end

return M
