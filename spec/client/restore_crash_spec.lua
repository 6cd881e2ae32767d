-- A VM restore killed with SIGKILL at every moment of its run (from
-- inside, at its Nth progress event), both modes, then resumed or cleaned
-- up from its journal.  After a resume: exactly one restore's worth of
-- resources, none twice, the VM on them.  After a cleanup: nothing of the
-- run is left, and an in-place VM runs again on the disks it had.
local C = require "support.client"
local children = require "support.child"
local recover = require "support.recover"
local json = require "cjson"
local workflow = require "azrp.workflow"
local small_seed = require "support.small_seed"
local shard = require "support.shard"

local SCALE = 0.002
local SUBNET = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"
local RP_ID = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-crash/restorePoints/rp-crash"

local tmpdir = require("support.tmp").dir

local function child(em, state_dir, n, config)
  return children.run{ em = em, state = state_dir, n = n, sig = "KILL", scale = SCALE,
    workflow = "restore_vm", config = config }
end

-- Every resource of rg-prod tagged by the run: { "kind name", ... } sorted.
local function of_run(client, run_id)
  local out = {}
  for _, x in ipairs({ { "vm", "VirtualMachines_List" }, { "disk", "Disks_ListByResourceGroup" } }) do
    for _, r in ipairs(assert(client:list(x[2], { resource_group_name = "rg-prod" }))) do
      if r.tags and r.tags["azrp-run"] == run_id then out[#out + 1] = x[1] .. " " .. r.name end
    end
  end
  table.sort(out)
  return out
end

-- NICs have no list operation in the client: look the run's one up by name.
local function nic_of(client, run_id)
  local stamp = run_id:match("^restore%-(.+)$")
  return client:call("NetworkInterfaces_Get", { resource_group_name = "rg-prod",
    network_interface_name = "vm-app-01-" .. stamp .. "-nic" })
end

local function vm_state(client)
  local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID, expand = "instanceView" }))
  local power
  for _, s in ipairs(vm.properties.instanceView.statuses) do
    if s.code:match("^PowerState/") then power = s.code end
  end
  local sp = vm.properties.storageProfile
  local disks = { os = sp.osDisk.managedDisk.id:lower() }
  for _, d in ipairs(sp.dataDisks or {}) do disks[math.floor(d.lun)] = d.managedDisk.id:lower() end
  return { power = power, disks = disks, provisioning = vm.properties.provisioningState }
end

-- spec/run.sh shares the points among several processes (support.shard),
-- in `make test` among those of all five Luas, so that each point runs
-- once, on one of them: a new VM's are 1..40, in place's
-- 41..80; a process runs a mode's setup only if it has points in it.
local POINTS = 40

for m, mode in ipairs({ "new", "in_place" }) do
  local base = (m - 1) * POINTS
  if shard.any(base + 1, base + POINTS) then describe("an " .. mode .. " VM restore killed with SIGKILL #crash", function()
    local em, client, state_dir, events
    local killed, tried = 0, 0
    local config = mode == "new" and { vm_id = C.VM_ID, subnet_id = SUBNET, restore_point_id = RP_ID }
      or { vm_id = C.VM_ID, mode = "in_place", restore_point_id = RP_ID }
    setup(function()
      em = C.start("--time-scale " .. SCALE .. " --no-throttle --seed " .. small_seed.file())
      client = C.client(em)
      state_dir = tmpdir()
      assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
        restore_point_collection_name = "rpc-crash", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
      assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-crash",
        restore_point_name = "rp-crash", body = {} }))
      -- A whole run first: how many progress events a restore has.
      local run_id, rc, out = child(em, state_dir, 0, config)
      assert.are.equal(0, rc, out)
      events = tonumber(out:match("events (%d+)"))
      assert.is_true(events > 10, out)
      assert.are.equal(mode == "new" and 4 or 3, #of_run(client, run_id))
      if mode == "new" then
        assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
      end
    end)
    teardown(function() client:close(); em.stop(); os.execute("rm -rf " .. state_dir) end)

    for k = 1, POINTS do
      local how = (k % 2 == 1) and "resume" or "cleanup"
      local name = ("at event %d, then %s"):format(k, how)
      if not shard.mine(base + k) then
        -- another process's
      else it(name, function()
        if k > events then pending("the restore had " .. events .. " events") end
        tried = tried + 1
        local before = vm_state(client)
        local ok = recover.run{ client = client, state_dir = state_dir, scale = SCALE, how = how,
          child = function() return child(em, state_dir, k, config) end,
          finished = function(run_id)
            if mode == "new" then workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }) end
          end,
          -- A restore killed once it was verified is a restore: cleanup
          -- keeps it (it undoes a run that did not get there).
          step = "verify",
          of_run = function(run_id) return of_run(client, run_id) end,
          check = function(run_id, _, verified)
            if how == "resume" or verified then
              local mine = of_run(client, run_id)
              local after = vm_state(client)
              if mode == "new" then
                assert.are.equal(4, #mine, table.concat(mine, ", "))  -- 3 disks and the VM, once each
                assert.is_table(nic_of(client, run_id))
                assert.are.same(before, vm_state(client))               -- the source VM untouched
                assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
              else
                assert.are.equal(3, #mine, table.concat(mine, ", "))
                assert.are.equal("PowerState/running", after.power)
                local stamp = run_id:match("^restore%-(.+)$")
                for _, id in pairs(after.disks) do assert.matches(stamp:lower(), id, 1, true) end
                -- The disks it replaced are still there.
                for _, id in pairs(before.disks) do assert(client:call("Disks_Get", { id = id })) end
              end
            else
              assert.are.same({}, of_run(client, run_id))
              assert.is_nil(nic_of(client, run_id))
              local after = vm_state(client)
              assert.are.same(before.disks, after.disks)
              assert.are.equal("PowerState/running", after.power)
              assert.are.equal("Succeeded", after.provisioning)
            end
          end }
        if ok then killed = killed + 1 end
      end) end
    end
    it("was killed at most of its moments", function()
      -- A run that ends before its kill point (fewer polls than the first)
      -- is not a kill; most are.
      assert.is_true(killed >= math.floor(tried * 0.6), killed .. " kills in " .. tried .. " tries of " .. events .. " events")
    end)
  end) end
end
