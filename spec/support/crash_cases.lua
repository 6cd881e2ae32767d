-- The crash runs of every workflow, as data: for each, the emulator's
-- seed, the setup a run starts from and its config, for
-- tools/reliability/crash_matrix.lua (and the crash specs that share
-- them).  Needs no emulator module.
--
--   case.seed() -> a seed file; case.setup(em, client, dir) -> config
--   (dir: a fresh folder the run may write into, an export's image);
--   case.check(em, client, config, how) -> nil | a problem (how is
--   "reference", "resume" or "cleanup"), for what the inventory cannot
--   see (an export's bytes); case.guard: keep an eye on the newest good
--   restore point of each region (rotate).
local C = require "support.client"
local small_seed = require "support.small_seed"
local golden_seed = require "support.golden_seed"
local golden = require "support.golden"
local workflow = require "azrp.workflow"

local M = {}

local SCALE = 0.002
M.SCALE = SCALE
local SUBNET = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"
local RP_ID = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-crash/restorePoints/rp-crash"

-- The restore crash spec's source: rpc-crash/rp-crash of vm-app-01.
local function restore_point(client)
  assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-crash", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
  return assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-crash",
    restore_point_name = "rp-crash", body = {} }))
end

-- The disk restore point's SHA-256 by the emulator's admin API, once:
-- every setup writes the same bytes (the fill's seed) into the same fleet.
local drp_sha
local function want_sha(em, id)
  drp_sha = drp_sha or C.disk_sha256(em, id)
  return drp_sha
end

M.list = {
  { name = "drill", label = "DR drill", workflow = "dr_drill", seed = small_seed.file,
    setup = function()
      return { vm_id = C.VM_ID, dr_location = "northeurope", dr_resource_group = "rg-dr", unsupported_disks = "exclude" }
    end },
  { name = "restore_new", label = "restore as a new VM", workflow = "restore_vm", seed = small_seed.file,
    setup = function(_, client)
      restore_point(client)
      return { vm_id = C.VM_ID, subnet_id = SUBNET, restore_point_id = RP_ID }
    end },
  { name = "restore_in_place", label = "restore in place", workflow = "restore_vm", seed = small_seed.file,
    setup = function(_, client)
      restore_point(client)
      return { vm_id = C.VM_ID, mode = "in_place", restore_point_id = RP_ID }
    end },
  { name = "export", label = "export (disk restore point)", workflow = "export_disk", seed = small_seed.file,
    setup = function(em, client, dir)
      -- 16 MiB of data in 16 extents on data disk LUN 1, then a restore point.
      local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
      local disk
      for _, d in ipairs(vm.properties.storageProfile.dataDisks) do if d.lun == 1 then disk = d.managedDisk.id end end
      local status = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(disk) .. "/fill",
        { extents = 16, length = 1024 * 1024, seed = 11 })
      assert(status == 200, "fill: " .. tostring(status))
      local rp = restore_point(client)
      local drp
      for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
        if d.lun == 1 then drp = d.diskRestorePoint.id end
      end
      return { source_id = drp, output = dir .. "/disk.img", chunk_mib = 1 }
    end,
    check = function(em, _, config, how)
      local want = want_sha(em, config.source_id)
      local part = io.open(config.output .. ".azrp-part", "rb")
      if part then part:close() end
      local got = C.file_sha256(config.output)
      if how == "cleanup" then
        -- Nothing half-made: no part file, and an image only when whole.
        if part then return "the part file is left" end
        if got and got ~= want then return "an image that is not the disk restore point's" end
        return nil
      end
      if part then return "the part file is left" end
      if got ~= want then return "image SHA-256 " .. tostring(got) .. ", the disk restore point's " .. want end
    end },
  { name = "golden", label = "golden image (gallery version)", workflow = "golden_image", seed = golden_seed.file,
    setup = function(_, client)
      golden.setup(client)
      return golden.CONFIG
    end },
  { name = "rotate", label = "cross-region rotation", workflow = "rotate", seed = small_seed.file, guard = true,
    setup = function(em, client, dir)
      -- A rotation first: the restore points this run rotates.
      local config = { vm_ids = { C.VM_ID }, targets = { { location = "northeurope", resource_group = "rg-dr" },
        { location = "francecentral", resource_group = "rg-dr" } }, retention = { keep_last = 1 } }
      local report = assert(workflow.start(require("azrp.workflows.rotate"), client, config,
        { state_dir = dir .. "/setup-state", time_scale = SCALE, trap = false }))
      assert(report.exit_code == 0, "the first rotation: " .. tostring(report.error and report.error.message))
      C.admin(em, "POST", "/_emulator/clock/advance", { seconds = 3600 })
      return config
    end },
}

M.by_name = {}
for _, c in ipairs(M.list) do M.by_name[c.name] = c end

return M
