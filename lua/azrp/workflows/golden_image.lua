--- azrp.workflows.golden_image: a golden image made from a prepared VM.
--
--     local golden = require "azrp.workflows.golden_image"
--     local report, err = golden.run(client, { vm_id = VM,
--       gallery_image_id = ".../galleries/gal/images/ubuntu",
--       target_regions = { "westeurope", { name = "northeurope", regional_replica_count = 2 } } })
--     golden.run(client, { vm_id = VM, image_id = ".../providers/Microsoft.Compute/images/golden" })
--
-- A restore point of the VM (application-consistent unless
-- consistency_mode says CrashConsistent) in its collection rpc-<vm> (made
-- when missing, and kept: other runs share it), its OS disk (and, with
-- data_disks = true, its data disks) restored to disks, then either a
-- managed image of those disks or a Compute Gallery image version whose
-- sources are those disks (a disk restore point is no gallery source),
-- published to the target regions with their replica count and storage
-- type and followed region by region to the end of its replication.  The
-- version is `version`, else the one after the highest the definition
-- has.  The restored disks and the restore point are deleted at the end
-- unless keep_disks / keep_restore_point; a run that fails or is killed
-- keeps nothing it made (but the collection).
--
-- Preflight compares the image definition with the VM (OS type, os_state,
-- Hyper-V generation, security type, architecture: azrp.workflows.golden.compat)
-- and refuses a mismatch, naming both values, before anything is made.
--
-- Config (azrp.workflows.golden.config): vm_id; gallery_image_id |
-- image_id; version; target_regions (names or { name,
-- regional_replica_count, storage_account_type }; the gallery's region is
-- added when missing); replica_count, storage_account_type (their
-- defaults: 1, Standard_LRS); consistency_mode; data_disks; os_state
-- ("Specialized" unless you say the VM is "Generalized"); resource_group
-- (where the restored disks go; default the VM's); keep_disks,
-- keep_restore_point; busy_timeout.
--
-- Report details: image (the managed image or image version id),
-- version, regions ({ region, replicas, storage_account_type, state,
-- seconds, wall_seconds } each), restore_point.  Figures:
-- replication_seconds (the slowest region, Azure seconds).
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local runmod = require "azrp.workflow.run"
local disks = require "azrp.workflow.disks"
local gconfig = require "azrp.workflows.golden.config"
local compat = require "azrp.workflows.golden.compat"
local publish = require "azrp.workflows.golden.publish"
local rpmod = require "azrp.workflow.restore_point"

local M = { error_kind = "golden", name = "golden_image", id_prefix = "golden" }

local function preflight_error(field, fmt, ...)
  return azrp.error{ kind = "invalid", code = "PreflightFailed", target = field,
    message = field .. ": " .. string.format(fmt, ...), retryable = false }
end

local function golden_error(code, fmt, ...)
  return azrp.error{ kind = "golden", code = code, message = string.format(fmt, ...), retryable = false }
end

local round = runmod.round

--- check(config) -> config | nil, err: the config checked and defaulted (azrp.workflows.golden.config).
-- @function check
M.check = gconfig.check

M.base_name = workflow.vm_base_name

function M.target(config)
  return { vm_id = config.vm_id, gallery_image_id = config.gallery_image_id, image_id = config.image_id,
    version = config.version }
end

-- ---------------------------------------------------------------------
-- Preflight: reads only

local steps = {}

local function not_found(err) return type(err) == "table" and err.status == 404 end

-- The gallery side: the definition, its region, the version to make and
-- where it goes.
local function gallery_target(ctx, vm, traits)
  local c, cfg = ctx.client, ctx.config
  local sub, rg, gallery, image = gconfig.parse_definition_id(cfg.gallery_image_id)
  local def, err = c:call("GalleryImages_Get", { id = cfg.gallery_image_id })
  if not def then
    if not_found(err) then return nil, preflight_error("gallery_image_id", "no image definition %s (%s)", cfg.gallery_image_id, tostring(err.message)) end
    return nil, err
  end
  local loc = azrp.location(def.location)
  if loc ~= azrp.location(vm.location) then
    return nil, preflight_error("gallery_image_id", "the gallery is in %s, the VM in %s (a version's source disks must be in the gallery's region)",
      tostring(def.location), tostring(vm.location))
  end
  local fine, what, msg = compat.gallery(def.properties or {}, traits, cfg.os_state)
  if not fine then
    return nil, preflight_error(what == "osState" and "os_state" or "gallery_image_id", "%s", msg)
  end
  local versions
  versions, err = c:list("GalleryImageVersions_ListByGalleryImage", { resource_group_name = rg, gallery_name = gallery,
    gallery_image_name = image })
  if not versions then return nil, err end
  local names = {}
  for _, v in ipairs(versions) do names[#names + 1] = v.name end
  local version = cfg.version
  if version then
    for _, n in ipairs(names) do
      if n == version then return nil, preflight_error("version", "version %s of %s already exists", version, cfg.gallery_image_id) end
    end
  else
    version = compat.next_version(names)
  end
  local regions, home = {}, false
  for _, r in ipairs(cfg.target_regions or {}) do
    regions[#regions + 1] = r
    if r.name == loc then home = true end
  end
  if not home then
    -- Azure wants the gallery's own region among the targets.
    table.insert(regions, 1, { name = loc, regional_replica_count = cfg.replica_count or 1,
      storage_account_type = cfg.storage_account_type or "Standard_LRS" })
  end
  return { kind = "gallery", sub = sub, rg = rg, gallery = gallery, image = image, definition = def.id or cfg.gallery_image_id,
    location = loc, version = version, id = (def.id or cfg.gallery_image_id) .. "/versions/" .. version, regions = regions }
end

-- The managed image side: no Trusted Launch VM, a free name, its group.
local function image_target(ctx, vm, traits)
  local c, cfg = ctx.client, ctx.config
  local sub, rg, name = gconfig.parse_image_id(cfg.image_id)
  local fine, _, msg = compat.managed_image(traits)
  if not fine then return nil, preflight_error("image_id", "%s", msg) end
  local rgb, err = c:call("ResourceGroups_Get", { resource_group_name = rg })
  if not rgb then
    if not_found(err) then return nil, preflight_error("image_id", "resource group %s does not exist", rg) end
    return nil, err
  end
  local existing = c:call("Images_Get", { id = cfg.image_id })
  if existing then return nil, preflight_error("image_id", "image %s already exists", cfg.image_id) end
  return { kind = "image", sub = sub, rg = rg, name = name, id = cfg.image_id, location = azrp.location(vm.location) }
end

function steps.preflight(ctx)
  local c, cfg = ctx.client, ctx.config
  local sub, vm_rg = gconfig.parse_vm_id(cfg.vm_id)
  local vm, err = c:call("VirtualMachines_Get", { id = cfg.vm_id })
  if not vm then
    if not_found(err) then return nil, preflight_error("vm_id", "no VM %s (%s)", cfg.vm_id, tostring(err.message)) end
    return nil, err
  end
  local sp = vm.properties.storageProfile or {}
  local os_id = sp.osDisk and sp.osDisk.managedDisk and sp.osDisk.managedDisk.id
  if not os_id then return nil, preflight_error("vm_id", "the VM's OS disk is not a managed disk") end
  if sp.osDisk.diffDiskSettings then
    return nil, preflight_error("vm_id", "the VM's OS disk is an ephemeral OS disk, which restore points do not hold")
  end
  local os_disk
  os_disk, err = c:call("Disks_Get", { id = os_id })
  if not os_disk then return nil, err end
  local traits = compat.traits(vm, os_disk)
  local data, exclude = {}, {}
  for _, d in ipairs(sp.dataDisks or {}) do
    local id = d.managedDisk and d.managedDisk.id
    if cfg.data_disks then
      if not id then return nil, preflight_error("data_disks", "the data disk at LUN %d is not a managed disk", d.lun) end
      data[#data + 1] = { lun = math.floor(d.lun), id = id, name = d.name, caching = d.caching }
    elseif id then
      exclude[#exclude + 1] = { id = id }
    end
  end
  local disk_rg = cfg.resource_group or vm_rg
  local rgb
  rgb, err = c:call("ResourceGroups_Get", { resource_group_name = disk_rg })
  if not rgb then
    if not_found(err) then return nil, preflight_error("resource_group", "resource group %s does not exist", disk_rg) end
    return nil, err
  end
  local target
  if cfg.gallery_image_id then target, err = gallery_target(ctx, vm, traits)
  else target, err = image_target(ctx, vm, traits) end
  if not target then return nil, err end
  ctx:set("source_vm", { id = vm.id, name = vm.name, location = azrp.location(vm.location), rg = vm_rg,
    os_caching = sp.osDisk.caching })
  ctx:set("traits", traits)
  ctx:set("exclude_disks", exclude)
  ctx:set("data_disks", data)
  ctx:set("disk_scope", { rg = disk_rg, scope = "/subscriptions/" .. sub .. "/resourceGroups/" .. disk_rg })
  ctx:set("target", target)
  return true
end

-- ---------------------------------------------------------------------
-- The restore point and its disks

function steps.collection(ctx)
  local vm = ctx.data.source_vm
  local coll_name = "rpc-" .. vm.name
  local sub = gconfig.parse_vm_id(vm.id)
  local id = "/subscriptions/" .. sub .. "/resourceGroups/" .. vm.rg .. "/providers/Microsoft.Compute/restorePointCollections/" .. coll_name
  local coll, err = ctx:ensure({ key = "collection", kind = "collection", id = id, name = coll_name,
    op = "RestorePointCollections_CreateOrUpdate", params = { resource_group_name = vm.rg,
      restore_point_collection_name = coll_name, body = { location = vm.location, properties = { source = { id = vm.id } } } } },
    function(body)
      local src = body.properties and body.properties.source and body.properties.source.id
      if type(src) == "string" and src:lower() == vm.id:lower() then return true end
      return nil, string.format("restore point collection %s exists but its source is %s, not %s", id, tostring(src), vm.id)
    end)
  if not coll then return nil, err end
  ctx:set("collection", { id = coll.id, name = coll.name })
  return true
end

function steps.restore_point(ctx)
  local vm, coll, cfg = ctx.data.source_vm, ctx.data.collection, ctx.config
  local name = ctx:name()
  local exclude = ctx.data.exclude_disks or {}
  local spec = { key = "restore_point", kind = "restore_point", name = name, id = coll.id .. "/restorePoints/" .. name,
    keep = cfg.keep_restore_point or false, op = "RestorePoints_Create", params = { resource_group_name = vm.rg,
      restore_point_collection_name = coll.name, restore_point_name = name, body = { properties = {
        consistencyMode = cfg.consistency_mode, excludeDisks = #exclude > 0 and exclude or nil } } } }
  -- One restore point of a VM at a time: wait for another's creation.
  local rp, err = rpmod.create(ctx, spec)
  if not rp then return nil, err end
  local disks = rpmod.disks(rp.properties.sourceMetadata and rp.properties.sourceMetadata.storageProfile)
  if not (disks[1] and not disks[1].lun) then
    return nil, golden_error("NoOsDisk", "restore point %s holds no OS disk restore point", rp.id)
  end
  ctx:set("restore_point", { id = rp.id, name = rp.name, time_created = rp.properties.timeCreated,
    consistency_mode = rp.properties.consistencyMode, disks = disks })
  ctx:set("report.restore_point", rp.id)
  ctx:set("report.consistency_mode", rp.properties.consistencyMode)
  return true
end

function steps.restore_disks(ctx)
  local t, vm, traits = ctx.data.disk_scope, ctx.data.source_vm, ctx.data.traits
  return disks.restore(ctx, { disks = ctx.data.restore_point.disks, scope = t.scope, rg = t.rg,
    keep = ctx.config.keep_disks or false, error = golden_error,
    body = function(d)
      local props = { creationData = { createOption = "Restore", sourceResourceId = d.drp } }
      if not d.lun then
        props.osType, props.hyperVGeneration = d.os_type or traits.os_type, traits.hyper_v
        if traits.security ~= "Standard" then props.securityProfile = { securityType = traits.security } end
      end
      return { location = vm.location, sku = d.sku and { name = d.sku } or nil, properties = props }
    end,
    entry = function(d, id, name)
      return { lun = d.lun, id = id, name = name, caching = d.caching or (not d.lun and vm.os_caching) or nil }
    end })
end

-- ---------------------------------------------------------------------
-- The image

function steps.image(ctx)
  local t, traits, cfg = ctx.data.target, ctx.data.traits, ctx.config
  local os_disk, data = nil, {}
  for _, d in ipairs(ctx.data.disks) do
    if d.lun then data[#data + 1] = { lun = d.lun, managedDisk = { id = d.id }, caching = d.caching }
    else
      os_disk = { osType = traits.os_type, osState = cfg.os_state, managedDisk = { id = d.id }, caching = d.caching }
    end
  end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  local storage = { osDisk = os_disk }
  if #data > 0 then storage.dataDisks = data end
  local image, err = ctx:create{ key = "image", kind = "image", id = t.id, name = t.name, keep = true,
    op = "Images_CreateOrUpdate", params = { resource_group_name = t.rg, image_name = t.name,
      body = { location = t.location, properties = { hyperVGeneration = traits.hyper_v, storageProfile = storage } } } }
  if not image then return nil, err end
  ctx:set("report.image", image.id or t.id)
  return true
end

function steps.publish(ctx)
  local t = ctx.data.target
  if not ctx.data.publish_started_at then ctx:set("publish_started_at", azrp.wall()) end
  local w = publish.watcher(ctx, t.id)
  local known = ctx.resources.image_version
  if known and known.state == "intent" then
    -- A resume: the PUT may have been sent.  Follow a version of this
    -- run's that is still replicating (the create then adopts it).
    local body = ctx.client:call("GalleryImageVersions_Get", { id = t.id })
    local tags = body and body.tags
    if tags and tags["azrp-run"] == ctx.run_id then
      local _, ferr = w.follow()
      if ferr and ferr.kind == "interrupted" then return nil, ferr end
    end
  end
  local version, err = ctx:create{ key = "image_version", kind = "image_version", id = t.id, name = t.version, keep = true,
    op = "GalleryImageVersions_CreateOrUpdate", params = { resource_group_name = t.rg, gallery_name = t.gallery,
      gallery_image_name = t.image, gallery_image_version_name = t.version, body = publish.body(ctx, t) },
    watch = function() w.poll(false) end }
  if not version then return nil, err end
  local body
  body, err = w.poll(true)
  if not body then return nil, err end
  local regions
  regions, err = publish.regions_report(ctx, body, t.regions)
  if not regions then return nil, err end
  local slowest = 0
  for _, r in ipairs(regions) do slowest = math.max(slowest, r.seconds) end
  ctx:set("figure.replication_seconds", round(slowest))
  ctx:set("report.image", body.id or t.id)
  ctx:set("report.version", t.version)
  ctx:set("report.regions", regions)
  return true
end

-- ---------------------------------------------------------------------
-- The run

--- finish(ctx, outcome): a run that did not succeed keeps nothing it made
-- but the collection (shared with other runs).  Once the image is made
-- (its step done), a failure or kill after it (removing the intermediate
-- disks) undoes nothing: the image is the run's result.
local function made(ctx)
  for _, name in ipairs({ "publish", "image" }) do
    local s = ctx.steps[name]
    if s and s.state == "done" then return true end
  end
  return false
end

function M.finish(ctx, outcome)
  if outcome == "succeeded" or made(ctx) then return end
  for _, r in ipairs(ctx.order) do
    if r.keep and r.kind ~= "collection" then ctx:record{ type = "keep", key = r.key, keep = false } end
  end
end

M.on_interrupt = "cleanup"

local ORDER = {
  gallery = { "preflight", "collection", "restore_point", "restore_disks", "publish" },
  image = { "preflight", "collection", "restore_point", "restore_disks", "image" },
}

--- steps_for(config) -> the steps of a run of that config.
function M.steps_for(config)
  return workflow.steps(ORDER[config.image_id and "image" or "gallery"], steps)
end

M.steps = M.steps_for({})

--- plan(client, config) -> { { step, kind, name, change } } | nil, err:
-- what a run would create and delete, from reads only.
function M.plan(client, config)
  local cfg, err = M.check(config)
  if not cfg then return nil, err end
  local plan_ctx = runmod.dry(M, client, cfg)
  local ok
  ok, err = steps.preflight(plan_ctx)
  if not ok then return nil, err end
  local d = plan_ctx.data
  local out = {}
  local function add(step, kind, name, change) out[#out + 1] = { step = step, kind = kind, name = name, change = change } end
  add("collection", "collection", "rpc-" .. d.source_vm.name, "+ when missing (kept)")
  add("restore_point", "restore_point", "<run>", "+ " .. cfg.consistency_mode .. (cfg.keep_restore_point and " (kept)" or " (deleted at the end)"))
  local keep = cfg.keep_disks and " (kept)" or " (deleted at the end)"
  add("restore_disks", "disk", "<run>-os", "+ from the OS disk restore point" .. keep)
  for _, x in ipairs(d.data_disks) do add("restore_disks", "disk", "<run>-lun" .. x.lun, "+ from LUN " .. x.lun .. keep) end
  local t = d.target
  if t.kind == "image" then
    add("image", "image", t.name, "+ managed image in " .. t.location)
  else
    local names = {}
    for _, r in ipairs(t.regions) do
      names[#names + 1] = string.format("%s x%d %s", r.name, r.regional_replica_count, r.storage_account_type)
    end
    add("publish", "image_version", t.version, "+ " .. t.definition .. " in " .. table.concat(names, ", "))
  end
  return out
end

--- run(client, config [, opts]) -> report | nil, err, report.
function M.run(client, config, opts)
  return workflow.run(M, client, config, opts)
end

return M
