-- What the fault matrix runs (tools/reliability/fault_matrix.lua): each
-- workflow and each core operation family, as a target with
--   setup(env)             fault-free, before the inventory is taken
--   run(env) -> out        with the faults on; out.report is the workflow's
--                          report (a family makes one of the same shape)
--   cleanup(env, report)   what an operator runs after exit 5 -> report
--   bytes(env, out, r)     -> disks/files hashed, problem text or nil
--   allowed(id, r)         a resource the run may leave by design
--   down_region            the region the region-down cell takes out
-- env: { em, client, dir, scale, seed }.
local json = require "cjson.safe"
local C = require "support.client"
local workflow = require "azrp.workflow"

local T = {}
T.ORDER = { "drill", "restore_new", "restore_in_place", "export", "golden", "rotate",
  "ops_collections", "ops_restore_points", "ops_disk_restore_points", "ops_disks", "ops_vms", "ops_lists" }

local SUB = "/subscriptions/" .. C.SUB
local PROD = SUB .. "/resourceGroups/rg-prod"
local COMPUTE = "/providers/Microsoft.Compute"
local SUBNET = PROD .. "/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"
local GALLERY = PROD .. COMPUTE .. "/galleries/golden"

local function sha(em, id) return C.disk_digest(em, id) end

local function write(em, id, offset, pattern, length)
  local st, body = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(id) .. "/write",
    { offset = offset, pattern = pattern, length = length })
  assert(st == 200, "admin write: " .. tostring(st) .. " " .. json.encode(body))
end

-- The VM's disk ids by key ("os", 0, 1 ...).
local function disks_of(client, vm_id)
  local vm = assert(client:call("VirtualMachines_Get", { id = vm_id }))
  local sp = vm.properties.storageProfile
  local out = { os = sp.osDisk.managedDisk.id }
  for _, d in ipairs(sp.dataDisks or {}) do out[math.floor(d.lun)] = d.managedDisk.id end
  return out
end

local function key_of(name)
  if name:match("%-os$") then return "os" end
  local lun = name:match("%-lun(%d+)$")
  return lun and tonumber(lun) or nil
end

local function shas(em, disks)
  local out = {}
  for k, id in pairs(disks) do out[k] = sha(em, id) end
  return out
end

-- A progress hook that hashes every disk the run restores, as soon as it
-- is made, against env.want (by key): the proof of the bytes a run moved
-- even when a later step fails and cleanup deletes the disk.
local function disk_hook(env)
  env.checked, env.bad = 0, nil
  return function(e)
    if e.type == "resource" and e.kind == "disk" and (e.state == "created" or e.state == "adopted") and e.id then
      local k = key_of(e.name or e.id)
      local want = k ~= nil and env.want[k]
      if want then
        local st, body = C.admin(env.em, "GET", "/_emulator/disks/" .. C.enc(e.id) .. "/sha256?form=sparse")
        if st == 200 then
          env.checked = env.checked + 1
          if body.sparse_sha256 ~= want then env.bad = string.format("disk %s holds %s, its source %s", e.name, body.sparse_sha256, want) end
        end
      end
    end
  end
end

local function start(def, env, config, progress)
  local report, err = workflow.start(def, env.client, config, { state_dir = env.dir, time_scale = env.scale, trap = false,
    progress = progress })
  if not report then
    return { exit_code = 2, report = { exit_code = 2, error = type(err) == "table" and { kind = err.kind, code = err.code,
      message = err.message } or { message = tostring(err) }, steps = {}, resources = {} } }
  end
  return { report = report }
end

local function wf_cleanup(env, report)
  local r = workflow.cleanup(env.client, report.run_id, { state_dir = env.dir, trap = false })
  return r
end

local function hooked_bytes(env)
  return env.checked or 0, env.bad
end

----------------------------------------------------------------------------
-- Workflows
----------------------------------------------------------------------------

T.drill = {
  down_region = "northeurope",
  setup = function(env)
    env.want = shas(env.em, disks_of(env.client, C.VM_ID))
  end,
  run = function(env)
    return start(require "azrp.workflows.dr_drill", env,
      { vm_id = C.VM_ID, dr_location = "northeurope", dr_resource_group = "rg-dr" }, disk_hook(env))
  end,
  cleanup = wf_cleanup,
  bytes = hooked_bytes,
}

-- A restore point of vm-app-01 (fault-free), then the disks written, so
-- that only the restore point holds the bytes a restore must bring back.
local function restore_setup(env)
  local c = env.client
  assert(c:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-fm", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
  assert(c:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-fm",
    restore_point_name = "rp-fm", body = {} }))
  env.orig = disks_of(c, C.VM_ID)
  env.want = shas(env.em, env.orig)
  for _, id in pairs(env.orig) do write(env.em, id, 8192, "after the restore point ", 4096) end
  -- (Only a failed in-place restore is checked against these.)
  if env.in_place then env.after = shas(env.em, env.orig) end
end

T.restore_new = {
  setup = restore_setup,
  run = function(env)
    return start(require "azrp.workflows.restore_vm", env,
      { vm_id = C.VM_ID, subnet_id = SUBNET, vm_name = "vm-app-01-fm" }, disk_hook(env))
  end,
  cleanup = wf_cleanup,
  bytes = function(env, out)
    local n, bad = hooked_bytes(env)
    if out.report and out.report.exit_code == 0 then
      local got = disks_of(env.client, PROD .. COMPUTE .. "/virtualMachines/vm-app-01-fm")
      for k, id in pairs(got) do
        n = n + 1
        if sha(env.em, id) ~= env.want[k] then bad = "restored VM's disk " .. tostring(k) .. " differs from the restore point" end
      end
    end
    return n, bad
  end,
}

T.restore_in_place = {
  setup = function(env) env.in_place = true; return restore_setup(env) end,
  run = function(env)
    return start(require "azrp.workflows.restore_vm", env, { vm_id = C.VM_ID, mode = "in_place" }, disk_hook(env))
  end,
  cleanup = wf_cleanup,
  bytes = function(env, out)
    local n, bad = hooked_bytes(env)
    local got = disks_of(env.client, C.VM_ID)
    local ok = out.report and out.report.exit_code == 0
    for k, id in pairs(got) do
      n = n + 1
      local h = sha(env.em, id)
      if ok and h ~= env.want[k] then bad = "VM disk " .. tostring(k) .. " is not the restore point's" end
      if not ok then
        -- Rolled back: the original disk, as it was.
        if id:lower() ~= env.orig[k]:lower() then bad = "after the failure the VM's disk " .. tostring(k) .. " is " .. id end
        if h ~= env.after[k] then bad = "after the failure the VM's disk " .. tostring(k) .. " changed" end
      end
    end
    return n, bad
  end,
}

T.export = {
  setup = function(env)
    local c = env.client
    local vm = assert(c:call("VirtualMachines_Get", { id = C.VM_ID }))
    local data0 = vm.properties.storageProfile.dataDisks[1].managedDisk.id
    for i = 0, 7 do write(env.em, data0, i * 97 * 1048576 + 4096, "azrp export " .. i .. " ", 1048576) end
    assert(c:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-fm", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    local rp = assert(c:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-fm",
      restore_point_name = "rp-fm", body = {} }))
    for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
      if d.lun == 0 then env.drp = d.diskRestorePoint.id end
    end
    env.want_sha = C.disk_sha256(env.em, env.drp)   -- against the file: the bytes' own digest
    env.out = env.dir .. "/export.img"
  end,
  run = function(env)
    return start(require "azrp.workflows.export_disk", env, { source_id = env.drp, output = env.out, parallel = 2, chunk_mib = 4 })
  end,
  cleanup = wf_cleanup,
  bytes = function(env, out)
    if not (out.report and out.report.exit_code == 0) then return 0, nil end
    local got = C.file_sha256(env.out)
    os.remove(env.out)
    if got ~= env.want_sha then return 1, "exported image " .. tostring(got) .. " is not the restore point's " .. env.want_sha end
    if out.report.details and out.report.details.sha256 ~= env.want_sha then return 1, "the report's sha256 is wrong" end
    return 1, nil
  end,
}

-- No region-down cell: a gallery version's replication to a target
-- region is not a request to that region, and the emulator's outage
-- stops requests only.
T.golden = {
  golden = true,
  setup = function(env)
    local c = env.client
    assert(c:call("Galleries_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "golden",
      body = { location = "westeurope" } }))
    assert(c:call("GalleryImages_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "golden",
      gallery_image_name = "app", body = { location = "westeurope", properties = { osType = "Linux", osState = "Specialized",
        hyperVGeneration = "V2", features = { { name = "SecurityType", value = "TrustedLaunch" } },
        identifier = { publisher = "azrp", offer = "golden", sku = "app" } } } }))
    env.want = shas(env.em, disks_of(c, C.VM_ID))
  end,
  run = function(env)
    return start(require "azrp.workflows.golden_image", env, { vm_id = C.VM_ID, gallery_image_id = GALLERY .. "/images/app",
      target_regions = { { name = "westeurope", regional_replica_count = 1 }, { name = "northeurope", regional_replica_count = 1 } } },
      disk_hook(env))
  end,
  cleanup = wf_cleanup,
  bytes = hooked_bytes,
}

local ROT_SRC = PROD .. COMPUTE .. "/restorePointCollections/rpc-vm-app-01-rotate"
local ROT_NE = SUB .. "/resourceGroups/rg-dr" .. COMPUTE .. "/restorePointCollections/rpc-vm-app-01-rotate-northeurope"

T.rotate = {
  down_region = "northeurope",
  setup = function(env)
    local vm = assert(env.client:call("VirtualMachines_Get", { id = C.VM_ID }))
    env.by_name = { [vm.properties.storageProfile.osDisk.name] = sha(env.em, vm.properties.storageProfile.osDisk.managedDisk.id) }
    for _, d in ipairs(vm.properties.storageProfile.dataDisks) do env.by_name[d.name] = sha(env.em, d.managedDisk.id) end
  end,
  run = function(env)
    local out = start(require "azrp.workflows.rotate", env, { vm_ids = { C.VM_ID },
      targets = { { location = "northeurope", resource_group = "rg-dr" } }, retention = { keep_last = 2 } })
    -- The restore points the run kept by design: the run's own, in each
    -- region whose row is ok.
    env.good = {}
    for _, row in ipairs(out.report and out.report.details and out.report.details.rows or {}) do
      if row.state == "ok" and row.restore_point then
        env.good[#env.good + 1] = { region = row.region, name = row.restore_point }
      end
    end
    return out
  end,
  cleanup = wf_cleanup,
  allowed = function(id)
    -- The collections rotation manages (kept across runs, by design).
    return id == ROT_SRC:lower() or id == ROT_NE:lower()
  end,
  kept = function(env)
    local k = {}
    for _, g in ipairs(env.good or {}) do
      local coll = g.region == "westeurope" and ROT_SRC or ROT_NE
      k[(coll .. "/restorePoints/" .. g.name):lower()] = true
    end
    return k
  end,
  bytes = function(env, out)
    local n, bad = 0, nil
    for _, g in ipairs(env.good or {}) do
      if g.region ~= "westeurope" then
        local copy = assert(env.client:call("RestorePoints_Get", { id = ROT_NE .. "/restorePoints/" .. g.name, expand = "instanceView" }))
        for _, d in ipairs(copy.properties.instanceView.diskRestorePoints) do
          local disk = d.id:match("/diskRestorePoints/(.+)_[%x%-]+$")
          n = n + 1
          if d.replicationStatus.completionPercent ~= 100 then bad = "copy of " .. disk .. " not 100 % replicated" end
          if env.by_name[disk] ~= sha(env.em, d.id) then bad = "copy of " .. disk .. " differs from the disk" end
        end
      end
    end
    return n, bad
  end,
}

----------------------------------------------------------------------------
-- Core operation families: a sequence of calls under faults, stopping at
-- the first failure; then its own cleanup (deletes, each tried 3 times).
-- The report it makes has the workflow report's shape.
----------------------------------------------------------------------------

local function family(env, steps, cleanup_steps)
  local c = env.client
  local report = { exit_code = 0, steps = {}, resources = {} }
  local failed
  local function call(op, params)
    if failed then return nil end
    local v, err
    if require("azrp.client").pageable[op] then v, err = c:list(op, params) else v, err = c:call(op, params) end
    report.steps[#report.steps + 1] = { name = op, ok = v ~= nil, error = err and tostring(err) or nil }
    if v == nil then
      failed = op
      report.failed_step = op
      report.error = type(err) == "table" and { kind = err.kind, code = err.code, message = err.message,
        operation = err.operation } or { message = tostring(err) }
    end
    return v, err
  end
  local function check(ok, what)
    if failed or ok then return end
    failed = "check"
    report.failed_step = "check"
    report.error = { kind = "matrix", code = "WrongResult", message = what }
    report.wrong = what
  end
  steps(call, check, env)
  if failed then report.exit_code = 1 end
  local left = cleanup_steps and cleanup_steps(env) or {}
  if #left > 0 then report.exit_code = 5; report.left = left end
  if report.wrong then report.exit_code = 9 end
  return { report = report }
end

-- Deletes ids (absent ones are fine), each up to 3 times -> those left.
local function delete_all(env, list)
  local left = {}
  for _, x in ipairs(list) do
    local done = false
    for _ = 1, env.down and 1 or 3 do
      local v, err = env.client:call(x[1], { id = x[2] })
      if v ~= nil or (err and err.status == 404) then done = true; break end
    end
    if not done then left[#left + 1] = x[2] end
  end
  return left
end

-- What an operator's cleanup after exit 5 reports: exit 0 when nothing
-- is left, else 5.
local function family_cleanup(list_of)
  return function(env)
    local left = delete_all(env, list_of(env))
    return { exit_code = #left > 0 and 5 or 0, left = left, steps = {}, resources = {} }
  end
end

local RPC = PROD .. COMPUTE .. "/restorePointCollections/"
local DR_RPC = SUB .. "/resourceGroups/rg-dr" .. COMPUTE .. "/restorePointCollections/"

local function collections_made()
  local out = {}
  for i = 1, 4 do out[#out + 1] = { "RestorePointCollections_Delete", RPC .. "rpc-fm-" .. i } end
  return out
end

T.ops_collections = {
  family = true,
  run = function(env)
    return family(env, function(call, check)
      for i = 1, 4 do
        call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-fm-" .. i,
          body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } })
      end
      local got = call("RestorePointCollections_Get", { id = RPC .. "rpc-fm-1" })
      check(not got or got.name == "rpc-fm-1", "Get returned " .. tostring(got and got.name))
      call("RestorePointCollections_Update", { id = RPC .. "rpc-fm-2", body = { tags = { fm = "yes" } } })
      local items = call("RestorePointCollections_List", { resource_group_name = "rg-prod" })
      if items then
        local n = 0
        for _, it in ipairs(items) do if it.name:match("^rpc%-fm%-%d$") then n = n + 1 end end
        check(n == 4, "List (pages of " .. 3 .. ") gave " .. n .. " of the 4 collections")
      end
      call("RestorePointCollections_ListAll", {})
    end, function(env) return delete_all(env, collections_made()) end)
  end,
  cleanup = family_cleanup(collections_made),
}

local function rp_made()
  return { { "RestorePoints_Delete", DR_RPC .. "rpc-fm-dr/restorePoints/rp-fm" },
    { "RestorePoints_Delete", RPC .. "rpc-fm/restorePoints/rp-fm" },
    { "RestorePointCollections_Delete", DR_RPC .. "rpc-fm-dr" },
    { "RestorePointCollections_Delete", RPC .. "rpc-fm" } }
end

T.ops_restore_points = {
  family = true,
  down_region = "northeurope",
  setup = function(env)
    local vm = assert(env.client:call("VirtualMachines_Get", { id = C.VM_ID }))
    env.by_name = { [vm.properties.storageProfile.osDisk.name] = sha(env.em, vm.properties.storageProfile.osDisk.managedDisk.id) }
    for _, d in ipairs(vm.properties.storageProfile.dataDisks) do env.by_name[d.name] = sha(env.em, d.managedDisk.id) end
  end,
  run = function(env)
    local out = family(env, function(call, check)
      local coll = call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-fm",
        body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } })
      local rp = call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-fm",
        restore_point_name = "rp-fm", body = {} })
      call("RestorePoints_Get", { id = RPC .. "rpc-fm/restorePoints/rp-fm", expand = "instanceView" })
      call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-dr", restore_point_collection_name = "rpc-fm-dr",
        body = { location = "northeurope", properties = { source = { id = coll and coll.id or (RPC .. "rpc-fm") } } } })
      call("RestorePoints_Create", { resource_group_name = "rg-dr", restore_point_collection_name = "rpc-fm-dr",
        restore_point_name = "rp-fm", body = { properties = { sourceRestorePoint = { id = rp and rp.id or "" } } } })
      -- Followed to 100 % replication.
      for _ = 1, 400 do
        local copy = call("RestorePoints_Get", { id = DR_RPC .. "rpc-fm-dr/restorePoints/rp-fm", expand = "instanceView" })
        if not copy then break end
        local all = true
        for _, d in ipairs(copy.properties.instanceView and copy.properties.instanceView.diskRestorePoints or {}) do
          if (d.replicationStatus and d.replicationStatus.completionPercent) ~= 100 then all = false end
        end
        if all then
          env.copy = copy
          -- Hashed now: the family's cleanup deletes the copy.
          env.checked = 0
          for _, d in ipairs(copy.properties.instanceView.diskRestorePoints) do
            local disk = d.id:match("/diskRestorePoints/(.+)_[%x%-]+$")
            env.checked = env.checked + 1
            if env.by_name[disk] ~= sha(env.em, d.id) then env.bad = "copy of " .. tostring(disk) .. " differs from the disk" end
          end
          break
        end
        os.execute("sleep 0.05")
      end
      check(env.copy ~= nil or false, "the copy never reached 100 %")
    end, function(e) return delete_all(e, rp_made()) end)
    return out
  end,
  cleanup = family_cleanup(rp_made),
  bytes = hooked_bytes,
}

local function drp_setup(env)
  local c = env.client
  assert(c:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-fm", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
  local rp = assert(c:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-fm",
    restore_point_name = "rp-fm", body = {} }))
  env.rp = rp.id
  env.drp = rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id
end

T.ops_disk_restore_points = {
  family = true,
  setup = drp_setup,
  run = function(env)
    return family(env, function(call, check)
      local items = call("DiskRestorePoint_ListByRestorePoint", { resource_group_name = "rg-prod",
        restore_point_collection_name = "rpc-fm", restore_point_name = "rp-fm" })
      if items then check(#items >= 1, "no disk restore point listed") end
      call("DiskRestorePoint_Get", { id = env.drp })
      local grant = call("DiskRestorePoint_GrantAccess", { id = env.drp, body = { access = "Read", durationInSeconds = 3600 } })
      if grant and grant.accessSAS then
        -- 4 KiB through the SAS, retried as the core retries any request.
        local res, err = env.client:request{ method = "GET", url = grant.accessSAS, headers = { range = "bytes=0-4095" },
          retry = true }:wait()
        check(res and (res.status == 206 or res.status == 200) and #res.body == 4096,
          "SAS read: " .. tostring(res and res.status or err))
      end
      call("DiskRestorePoint_RevokeAccess", { id = env.drp })
    end, function(e)
      -- Revoke, 3 tries; a grant still open is "left" (the inventory sees it).
      for _ = 1, 3 do if e.client:call("DiskRestorePoint_RevokeAccess", { id = e.drp }) then break end end
      return {}
    end)
  end,
  cleanup = function(env)
    local ok = env.client:call("DiskRestorePoint_RevokeAccess", { id = env.drp })
    return { exit_code = ok and 0 or 5, steps = {}, resources = {} }
  end,
}

local DISK = PROD .. COMPUTE .. "/disks/disk-fm"
local function disks_made() return { { "Disks_Delete", DISK } } end

T.ops_disks = {
  family = true,
  run = function(env)
    return family(env, function(call, check)
      call("Disks_CreateOrUpdate", { resource_group_name = "rg-prod", disk_name = "disk-fm", body = { location = "westeurope",
        sku = { name = "Standard_LRS" }, properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } } })
      call("Disks_Get", { id = DISK })
      local upd = call("Disks_Update", { id = DISK, body = { tags = { fm = "yes" } } })
      check(not upd or (upd.tags and upd.tags.fm == "yes"), "Update lost its tag")
      local items = call("Disks_ListByResourceGroup", { resource_group_name = "rg-prod" })
      if items then
        local seen, dup = {}, false
        for _, it in ipairs(items) do if seen[it.id:lower()] then dup = true end; seen[it.id:lower()] = true end
        check(seen[DISK:lower()] and not dup, "the list (pages of 3) misses disk-fm or repeats a disk")
      end
      call("Disks_List", {})
      local g = call("Disks_GrantAccess", { id = DISK, body = { access = "Read", durationInSeconds = 600 } })
      check(not g or type(g.accessSAS) == "string", "no accessSAS")
      call("Disks_RevokeAccess", { id = DISK })
    end, function(e)
      for _ = 1, 3 do if e.client:call("Disks_RevokeAccess", { id = DISK }) then break end end
      return delete_all(e, disks_made())
    end)
  end,
  cleanup = family_cleanup(disks_made),
}

T.ops_vms = {
  family = true,
  run = function(env)
    return family(env, function(call, check)
      local vm = call("VirtualMachines_Get", { id = C.VM_ID })
      check(not vm or vm.name == "vm-app-01", "Get returned another VM")
      call("VirtualMachines_InstanceView", { id = C.VM_ID })
      local items = call("VirtualMachines_List", { resource_group_name = "rg-prod" })
      if items then check(#items == 3, "VirtualMachines_List gave " .. #items .. " of rg-prod's 3 VMs") end
      call("VirtualMachines_ListAll", {})
      call("VirtualMachines_Update", { id = C.VM_ID, body = { tags = { app = "shop", fm = "yes" } } })
      call("VirtualMachines_PowerOff", { id = C.VM_ID })
      call("VirtualMachines_Start", { id = C.VM_ID })
      call("VirtualMachines_Deallocate", { id = C.VM_ID })
      call("VirtualMachines_Start", { id = C.VM_ID })
    end, function(e)
      -- Leave the VM running, as found.
      for _ = 1, 3 do if e.client:call("VirtualMachines_Start", { id = C.VM_ID }) then break end end
      return {}
    end)
  end,
  cleanup = function(env)
    local ok = env.client:call("VirtualMachines_Start", { id = C.VM_ID })
    return { exit_code = ok and 0 or 5, steps = {}, resources = {} }
  end,
}

local LISTS = {
  { "ResourceGroups_List", {} }, { "Disks_List", {} }, { "VirtualMachines_ListAll", {} },
  { "RestorePointCollections_ListAll", {} }, { "Snapshots_List", {} }, { "Disks_ListByResourceGroup", { resource_group_name = "rg-prod" } },
}

local function ids_of(items)
  local out = {}
  for _, it in ipairs(items) do out[#out + 1] = tostring(it.id):lower() end
  table.sort(out)
  return table.concat(out, " ")
end

T.ops_lists = {
  family = true,
  setup = function(env)
    -- Enough collections for several pages of RestorePointCollections_ListAll.
    for i = 1, 7 do
      assert(env.client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
        restore_point_collection_name = "rpc-list-" .. i, body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    end
    env.want = {}
    for _, l in ipairs(LISTS) do env.want[l[1]] = ids_of(assert(env.client:list(l[1], l[2]))) end
  end,
  run = function(env)
    return family(env, function(call, check)
      for _, l in ipairs(LISTS) do
        local items = call(l[1], l[2])
        -- Every page followed, nothing lost or repeated under faults.
        if items then check(ids_of(items) == env.want[l[1]], l[1] .. " under faults differs from the fault-free list") end
      end
      call("Usage_List", { location = "westeurope" })
      call("VirtualMachineSizes_List", { location = "westeurope" })
      call("Subscriptions_ListLocations", {})
    end)
  end,
}

return T
