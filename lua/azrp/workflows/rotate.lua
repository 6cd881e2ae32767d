--- azrp.workflows.rotate: cross-region rotation of restore points with a
-- grandfather-father-son retention policy, for one VM or a fleet.
--
--     local rotate = require "azrp.workflows.rotate"
--     local report, err = rotate.run(client, {
--       vm_ids = { ID, ... },                      -- or resource_group = "rg", or tag = "azrp-rotate=daily"
--       targets = { { location = "northeurope", resource_group = "rg-dr" } },
--       retention = { keep_last = 3, daily = 7, weekly = 4, monthly = 12, yearly = 1 },
--     }, { progress = function(event) ... end })
--
-- Each run, per VM: a restore point in the VM's source collection
-- (rpc-<vm>-rotate next to the VM, created when missing; one creation at
-- a time per VM, as Azure requires), copied to a collection in each target
-- region (rpc-<vm>-rotate-<region>, created when missing), followed to
-- 100 % replication, then every region pruned by the policy
-- (azrp.retention).  The restore point's name is the run's, the same in
-- every region.  VMs go concurrently, paced by the client's token bucket;
-- one VM's failure does not stop the others; the report has a row per VM
-- and region (details.rows) and the run fails (exit 1) when a row did.
--
-- What it deletes: nothing but restore points that the policy lets go, in
-- collections it manages: those it created (tagged azrp-managed=rotate) and
-- those the config names (source_collection, targets[i].collection).  A
-- region whose copy of this run failed is not pruned; the newest good
-- restore point of a region (Succeeded, fully replicated) and one that an
-- unfinished copy uses as its source are never deleted.  Journalled and
-- resumable as every workflow (azrp.workflow): a resume recomputes the
-- prune from what is there, so a kill mid-prune deletes nothing twice and
-- nothing more.
--
-- Config: one of vm_ids (list), resource_group, tag ("name=value" or
-- "name"; with resource_group, VMs of that group with the tag); targets
-- (list of { location, resource_group, collection = template }); retention
-- (policy); source_retention (default retention); source_collection
-- (template, default "rpc-{vm}-rotate"; a target's default is
-- "rpc-{vm}-rotate-{location}"); copy_concurrency (copies in flight per
-- region, default 20); busy_timeout (Azure seconds to wait for another
-- creation of a VM's restore point, default 3600).
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local retention = require "azrp.retention"
local decide_mod = require "azrp.workflows.rotate.decide"
local decide, list_points = decide_mod.decide, decide_mod.list_points

local M = { error_kind = "rotate", name = "rotate", id_prefix = "rotate" }

M.MANAGED_TAG = "azrp-managed"
M.MANAGED_VALUE = "rotate"
M.SOURCE_TEMPLATE = "rpc-{vm}-rotate"
M.TARGET_TEMPLATE = "rpc-{vm}-rotate-{location}"

local check_error = workflow.config_error

local function rot_error(code, fmt, ...)
  return azrp.error{ kind = "rotate", code = code, message = string.format(fmt, ...), retryable = false }
end

local parse_vm_id = workflow.parse_vm_id

local function lower(s) return type(s) == "string" and s:lower() or s end

-- ---------------------------------------------------------------------
-- Config

local KNOWN = { vm_ids = "table", resource_group = "string", tag = "string", targets = "table",
  retention = "table", source_retention = "table", source_collection = "string",
  copy_concurrency = "number", busy_timeout = "number" }
local TARGET_KNOWN = { location = true, resource_group = true, collection = true }

local RG_NAME = "^[%w%-_%.%(%)]+$"
local COLL_TEMPLATE = "^[%w%-_{}]+$"

local function check_template(field, t)
  if not t:match(COLL_TEMPLATE) then
    return check_error(field, "%q may hold letters, digits, '-', '_' and {vm}, {location}", t)
  end
  for w in t:gmatch("{([^}]*)}") do
    if w ~= "vm" and w ~= "location" then return check_error(field, "unknown placeholder {%s} (known: {vm}, {location})", w) end
  end
  if #t > 80 then return check_error(field, "is longer than 80 characters") end
end

--- check(config) -> config | nil, err: every field, before any request.
function M.check(config)
  local ok, kerr = workflow.check_settings(config, KNOWN)
  if not ok then return nil, kerr end
  local n = (config.vm_ids and 1 or 0) + ((config.resource_group or config.tag) and 1 or 0)
  if n == 0 then return nil, check_error("vm_ids", "is required (or resource_group, or tag)") end
  if config.vm_ids and (config.resource_group or config.tag) then
    return nil, check_error("vm_ids", "give vm_ids, or resource_group and/or tag, not both")
  end
  local c = {}
  for k, v in pairs(config) do c[k] = v end
  if config.vm_ids then
    if #config.vm_ids == 0 then return nil, check_error("vm_ids", "is empty") end
    local seen, list = {}, {}
    for i, id in ipairs(config.vm_ids) do
      if type(id) ~= "string" or not parse_vm_id(id) then
        return nil, check_error(string.format("vm_ids[%d]", i), "%q is not a virtual machine id " ..
          "(/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/NAME)", tostring(id))
      end
      if seen[id:lower()] then return nil, check_error(string.format("vm_ids[%d]", i), "%s is given twice", id) end
      seen[id:lower()] = true
      list[i] = id
    end
    c.vm_ids = list
  end
  if config.resource_group and not config.resource_group:match(RG_NAME) then
    return nil, check_error("resource_group", "%q is not a resource group name", config.resource_group)
  end
  if config.tag then
    local name = config.tag:match("^([^=]+)")
    if not name or name:match("^%s") or name:match("%s$") then
      return nil, check_error("tag", "%q is not NAME=VALUE or NAME", config.tag)
    end
  end
  if type(config.targets) ~= "table" or #config.targets == 0 then
    return nil, check_error("targets", "is required: a list of { location = REGION, resource_group = RG }")
  end
  local targets, locs = {}, {}
  for i, t in ipairs(config.targets) do
    local f = string.format("targets[%d]", i)
    if type(t) ~= "table" then return nil, check_error(f, "must be a table { location, resource_group }") end
    for k in pairs(t) do
      if not TARGET_KNOWN[k] then return nil, check_error(f .. "." .. tostring(k), "unknown setting (known: location, resource_group, collection)") end
    end
    if type(t.location) ~= "string" or not azrp.location(t.location) then
      return nil, check_error(f .. ".location", "is required: a region name")
    end
    if type(t.resource_group) ~= "string" or not t.resource_group:match(RG_NAME) then
      return nil, check_error(f .. ".resource_group", "is required: a resource group name")
    end
    local loc = azrp.location(t.location)
    if locs[loc] then return nil, check_error(f .. ".location", "%s is a target twice", loc) end
    locs[loc] = true
    if t.collection ~= nil then
      if type(t.collection) ~= "string" then return nil, check_error(f .. ".collection", "must be a string") end
      local e = check_template(f .. ".collection", t.collection)
      if e then return nil, e end
    end
    targets[i] = { location = loc, resource_group = t.resource_group, collection = t.collection }
  end
  c.targets = targets
  if config.source_collection then
    local e = check_template("source_collection", config.source_collection)
    if e then return nil, e end
  end
  local pol, perr = retention.check(config.retention, "retention")
  if not pol then return nil, perr end
  c.retention = pol
  if config.source_retention then
    local sp, serr = retention.check(config.source_retention, "source_retention")
    if not sp then return nil, serr end
    c.source_retention = sp
  end
  for _, k in ipairs({ "copy_concurrency", "busy_timeout" }) do
    local v = config[k]
    if v ~= nil and (v ~= math.floor(v) or v < 1) then return nil, check_error(k, "must be a whole number, 1 or more") end
  end
  return c
end

function M.base_name() return "rot" end

function M.target(config)
  local regions = {}
  for _, t in ipairs(config.targets) do regions[#regions + 1] = t.location end
  return { vm_ids = config.vm_ids, resource_group = config.resource_group, tag = config.tag, regions = regions }
end

-- ---------------------------------------------------------------------
-- Names and rows

local function template(t, vm, location)
  return (t:gsub("{vm}", vm):gsub("{location}", location or ""))
end

local function coll_id(sub, rg, name)
  return "/subscriptions/" .. sub .. "/resourceGroups/" .. rg .. "/providers/Microsoft.Compute/restorePointCollections/" .. name
end

-- The collections of a VM: source first, then each target, as
-- { region, rg, name, id, given (named by the config), role }.
local function collections_of(cfg, vm)
  local out = { { role = "source", region = vm.location, rg = vm.rg, sub = vm.sub,
    name = template(cfg.source_collection or M.SOURCE_TEMPLATE, vm.name, vm.location),
    given = cfg.source_collection ~= nil } }
  for _, t in ipairs(cfg.targets) do
    out[#out + 1] = { role = "target", region = t.location, rg = t.resource_group, sub = vm.sub,
      name = template(t.collection or M.TARGET_TEMPLATE, vm.name, t.location), given = t.collection ~= nil }
  end
  for _, c in ipairs(out) do c.id = coll_id(c.sub, c.rg, c.name) end
  return out
end

local function row_key(vm, region) return "row:" .. vm.id:lower() .. "|" .. region end

local function row(ctx, vm, region) return ctx.data[row_key(vm, region)] or {} end

-- Updates a row (journalled): fields of t over what it had.
local function set_row(ctx, vm, region, t)
  local r = {}
  for k, v in pairs(row(ctx, vm, region)) do r[k] = v end
  for k, v in pairs(t) do r[k] = v end
  r.vm, r.region = vm.name, region
  ctx:set(row_key(vm, region), r)
  return r
end

-- Marks every row of a VM failed (from this region on).
local function fail_vm(ctx, vm, err, stage)
  local msg = tostring(err and (err.message or err) or "failed")
  for _, c in ipairs(collections_of(ctx.config, vm)) do
    if not row(ctx, vm, c.region).failed then
      set_row(ctx, vm, c.region, { failed = true, stage = stage, error = msg })
    end
  end
  ctx:emit{ type = "note", message = string.format("%s: %s failed: %s", vm.name, stage, msg) }
end

local function vm_ok(ctx, vm) return not row(ctx, vm, vm.location).failed end

local function is_interrupted(err) return type(err) == "table" and err.kind == "interrupted" end

-- ---------------------------------------------------------------------
-- Steps

local steps = {}

local function tag_match(tags, spec)
  local name, value = spec:match("^([^=]+)=(.*)$")
  name = name or spec
  if type(tags) ~= "table" then return false end
  for k, v in pairs(tags) do
    if k:lower() == name:lower() and (value == nil or v == value) then return true end
  end
  return false
end

local function vm_entry(body)
  local sub, rg, name = parse_vm_id(body.id)
  return { id = body.id, name = body.name or name, rg = rg, sub = sub, location = azrp.location(body.location) }
end

-- The VMs of the run (GETs or a list), and the target resource groups.
-- Read only; a target group that is missing is a config error.
function steps.discover(ctx)
  local c, cfg = ctx.client, ctx.config
  local vms, missing = {}, {}
  if cfg.vm_ids then
    local items = {}
    for i, id in ipairs(cfg.vm_ids) do items[i] = { kind = "vm", id = id } end
    local got, err = ctx:get_all(items)
    if not got then return nil, err end
    for i, g in ipairs(got) do
      if g[1] then vms[#vms + 1] = vm_entry(g[1])
      elseif g[2] and g[2].status == 404 then missing[#missing + 1] = cfg.vm_ids[i]
      else return nil, g[2] end
    end
  else
    local list, err
    if cfg.resource_group then
      list, err = c:list("VirtualMachines_List", { resource_group_name = cfg.resource_group })
      if not list and err.status == 404 then
        return nil, azrp.error{ kind = "invalid", code = "PreflightFailed", target = "resource_group",
          message = "resource_group: no resource group " .. cfg.resource_group, retryable = false }
      end
    else
      list, err = c:list("VirtualMachines_ListAll", {})
    end
    if not list then return nil, err end
    for _, body in ipairs(list) do
      if not cfg.tag or tag_match(body.tags, cfg.tag) then vms[#vms + 1] = vm_entry(body) end
    end
  end
  if #vms == 0 then
    return nil, azrp.error{ kind = "invalid", code = "PreflightFailed", target = cfg.vm_ids and "vm_ids" or (cfg.tag and "tag" or "resource_group"),
      message = (cfg.vm_ids and "vm_ids" or (cfg.tag and "tag" or "resource_group")) .. ": no VM to rotate" ..
        (#missing > 0 and (" (not found: " .. table.concat(missing, ", ") .. ")") or ""), retryable = false }
  end
  table.sort(vms, function(a, b) return a.id:lower() < b.id:lower() end)
  local seen_rg = {}
  for _, vm in ipairs(vms) do
    for i, t in ipairs(cfg.targets) do
      local key = vm.sub .. "/" .. t.resource_group:lower()
      if not seen_rg[key] then
        seen_rg[key] = true
        local rg, err = c:call("ResourceGroups_Get", { subscription_id = vm.sub, resource_group_name = t.resource_group })
        if not rg then
          if err.status == 404 then
            return nil, azrp.error{ kind = "invalid", code = "PreflightFailed", target = string.format("targets[%d].resource_group", i),
              message = string.format("targets[%d].resource_group: resource group %s does not exist (az group create -n %s -l %s)",
                i, t.resource_group, t.resource_group, t.location), retryable = false }
          end
          return nil, err
        end
      end
    end
  end
  ctx:set("vms", vms)
  for _, id in ipairs(missing) do
    local sub, rg, name = parse_vm_id(id)
    local vm = { id = id, name = name, rg = rg, sub = sub, location = "?" }
    set_row(ctx, vm, "?", { failed = true, stage = "discover", error = "no VM " .. id })
  end
  ctx:set("missing", missing)
  for _, vm in ipairs(vms) do
    for _, t in ipairs(cfg.targets) do
      if t.location == vm.location then
        fail_vm(ctx, vm, rot_error("SameRegion", "target region %s is the VM's own region", t.location), "discover")
        break
      end
    end
  end
  return true
end

-- accept(body) for a collection: its source is the expected one, and it
-- is managed (tagged by us, or named by the config).
local function accept_collection(c, want_source)
  return function(body)
    local src = body.properties and body.properties.source and body.properties.source.id
    if lower(src) ~= lower(want_source) then
      return nil, string.format("restore point collection %s exists but its source is %s, not %s", c.id, tostring(src), want_source)
    end
    if c.role == "target" and azrp.location(body.location) ~= c.region then
      return nil, string.format("restore point collection %s is in %s, not %s", c.id, tostring(body.location), c.region)
    end
    local tags = body.tags or {}
    if not c.given and tags[M.MANAGED_TAG] ~= M.MANAGED_VALUE then
      return nil, string.format("restore point collection %s exists but is not managed by azrp rotate (no tag %s=%s): " ..
        "tag it, or name it in the config", c.id, M.MANAGED_TAG, M.MANAGED_VALUE)
    end
    return true
  end
end

local function ensure_collection(ctx, vm, c, source_id)
  return ctx:ensure({ key = "coll:" .. c.id:lower(), kind = "collection", id = c.id, name = c.name,
    op = "RestorePointCollections_CreateOrUpdate", params = { subscription_id = c.sub, resource_group_name = c.rg,
      restore_point_collection_name = c.name, body = { location = c.region, tags = { [M.MANAGED_TAG] = M.MANAGED_VALUE },
        properties = { source = { id = source_id } } } } },
    accept_collection(c, source_id))
end

-- Every VM's source collection and its target collections.
function steps.collections(ctx)
  for _, vm in ipairs(ctx.data.vms) do
    if vm_ok(ctx, vm) then
      local colls = collections_of(ctx.config, vm)
      local src, err = ensure_collection(ctx, vm, colls[1], vm.id)
      if not src then
        if is_interrupted(err) then return nil, err end
        fail_vm(ctx, vm, err, "collections")
      else
        set_row(ctx, vm, vm.location, { collection = src.id })
        for i = 2, #colls do
          local t, terr = ensure_collection(ctx, vm, colls[i], src.id)
          if not t then
            if is_interrupted(terr) then return nil, terr end
            set_row(ctx, vm, colls[i].region, { failed = true, stage = "collections", error = tostring(terr.message or terr) })
          else
            set_row(ctx, vm, colls[i].region, { collection = t.id })
          end
        end
      end
    end
  end
  return true
end

local busy = require("azrp.workflow.restore_point").busy

-- A restore point per VM, all VMs at once; a VM whose restore point is
-- being made by someone else is waited for.
function steps.restore_points(ctx)
  local cfg = ctx.config
  local name = ctx:name()
  local todo = {}
  for _, vm in ipairs(ctx.data.vms) do
    if vm_ok(ctx, vm) then todo[#todo + 1] = vm end
  end
  local deadline = azrp.now() + ctx:scaled(cfg.busy_timeout or 3600)
  while #todo > 0 do
    local specs = {}
    for i, vm in ipairs(todo) do
      local coll = row(ctx, vm, vm.location).collection
      local _, rg, cname = coll:match("^/subscriptions/([^/]+)/resource[Gg]roups/([^/]+)/.-/restorePointCollections/([^/]+)$")
      specs[i] = { key = "rp:" .. vm.id:lower(), kind = "restore_point", name = vm.name .. "/" .. name, id = coll .. "/restorePoints/" .. name,
        keep = true, op = "RestorePoints_Create", params = { subscription_id = vm.sub, resource_group_name = rg,
          restore_point_collection_name = cname, restore_point_name = name, body = { properties = {} } } }
    end
    local out, err = ctx:create_all(specs)
    if not out then
      if is_interrupted(err) then return nil, err end
      for _, vm in ipairs(todo) do fail_vm(ctx, vm, err, "restore_point") end
      return true
    end
    local again = {}
    for i, vm in ipairs(todo) do
      local body, e = out[i][1], out[i][2]
      if body then
        set_row(ctx, vm, vm.location, { restore_point = body.id, created = body.id, time = body.properties and body.properties.timeCreated })
      elseif busy(e) and azrp.now() < deadline then
        again[#again + 1] = vm
      else
        fail_vm(ctx, vm, e, "restore_point")
      end
    end
    todo = again
    if #todo > 0 then
      ctx:emit{ type = "note", step = "restore_points", message = string.format(
        "%d VM(s) have another restore point being created; waiting", #todo) }
      local ok, serr = ctx:sleep(math.max(0.02, ctx:scaled(15)))
      if not ok then return nil, serr end
    end
  end
  return true
end

-- Each VM's restore point copied to each target region, followed to 100 %
-- replication; at most copy_concurrency copies in flight per region.
function steps.copy(ctx)
  local cfg = ctx.config
  local name = ctx:name()
  local per_region = {}
  for _, vm in ipairs(ctx.data.vms) do
    local src = row(ctx, vm, vm.location)
    if not src.failed and src.restore_point then
      for _, t in ipairs(cfg.targets) do
        local r = row(ctx, vm, t.location)
        if not r.failed and r.collection then
          local cname = r.collection:match("/restorePointCollections/([^/]+)$")
          local list = per_region[t.location] or {}
          per_region[t.location] = list
          list[#list + 1] = { vm = vm, region = t.location, spec = { key = "copy:" .. vm.id:lower() .. "|" .. t.location,
            kind = "restore_point", name = vm.name .. "/" .. name .. " in " .. t.location, id = r.collection .. "/restorePoints/" .. name, keep = true,
            op = "RestorePoints_Create", params = { subscription_id = vm.sub, resource_group_name = t.resource_group,
              restore_point_collection_name = cname, restore_point_name = name,
              body = { properties = { sourceRestorePoint = { id = src.restore_point } } } } } }
        end
      end
    end
  end
  local n = cfg.copy_concurrency or 20
  local round = 0
  while true do
    local batch = {}
    for _, t in ipairs(cfg.targets) do
      local list = per_region[t.location] or {}
      for i = round * n + 1, math.min(#list, (round + 1) * n) do batch[#batch + 1] = list[i] end
    end
    if #batch == 0 then break end
    round = round + 1
    local specs = {}
    for i, b in ipairs(batch) do specs[i] = b.spec end
    local out, err = ctx:create_all(specs)
    if not out then
      if is_interrupted(err) then return nil, err end
      for _, b in ipairs(batch) do set_row(ctx, b.vm, b.region, { failed = true, stage = "copy", error = tostring(err.message or err) }) end
    else
      for i, b in ipairs(batch) do
        local body, e = out[i][1], out[i][2]
        if body then
          set_row(ctx, b.vm, b.region, { restore_point = body.id, created = body.id, replicated = true })
        else
          set_row(ctx, b.vm, b.region, { failed = true, stage = "copy", error = tostring(e and (e.message or e) or "copy failed") })
        end
      end
    end
  end
  return true
end

-- ---------------------------------------------------------------------
-- Pruning

-- Reads what every managed collection of a VM holds: regions =
-- { { c = collection, points = {...}, policy, prune = bool, why } }.
local function survey(ctx, vm, opts)
  opts = opts or {}
  local cfg = ctx.config
  local out = {}
  for _, c in ipairs(collections_of(cfg, vm)) do
    local r = opts.plan and {} or row(ctx, vm, c.region)
    local points, err = list_points(ctx.client, r.collection or c.id)
    if not points then return nil, err end
    local policy = c.role == "source" and (cfg.source_retention or cfg.retention) or cfg.retention
    out[#out + 1] = { c = c, points = points, policy = policy, row = r }
  end
  return out
end

-- Every VM's regions pruned by the policy, but a region whose copy of this
-- run failed (and every region of a VM whose restore point failed).
function steps.prune(ctx)
  local jobs = {}
  for _, vm in ipairs(ctx.data.vms) do
    if vm_ok(ctx, vm) and row(ctx, vm, vm.location).restore_point then
      local regions, err = survey(ctx, vm)
      if not regions then
        if is_interrupted(err) then return nil, err end
        fail_vm(ctx, vm, err, "prune")
      else
        local new = {}
        for _, reg in ipairs(regions) do
          if reg.row.created and reg.row.replicated then new[reg.row.created] = true end
        end
        local decided, derr = decide(ctx, vm, regions, new)
        if not decided then
          if is_interrupted(derr) then return nil, derr end
          fail_vm(ctx, vm, derr, "prune")
        else
          for _, reg in ipairs(regions) do
            local region = reg.c.region
            local kept = {}
            for _, k in ipairs(reg.result.keep) do kept[#kept + 1] = k.point.name .. " (" .. table.concat(k.rules, ", ") .. ")" end
            if reg.row.failed then
              set_row(ctx, vm, region, { pruned = false, kept = kept, note = "not pruned: this run's copy failed" })
            else
              local ids = {}
              for _, p in ipairs(reg.result.delete) do ids[#ids + 1] = p.id end
              -- What a prune killed midway had deleted: its intent's ids
              -- that are gone now (never sent again: the policy decides anew).
              local here, gone = {}, {}
              for _, p in ipairs(reg.points) do here[p.id:lower()] = true end
              for _, id in ipairs(reg.row.pruning or {}) do
                if not here[id:lower()] then gone[#gone + 1] = id end
              end
              -- The intent first: a resume knows what this prune meant to delete.
              set_row(ctx, vm, region, { pruning = ids, kept = kept })
              jobs[#jobs + 1] = { vm = vm, region = region, ids = ids, gone = gone, deleted = #gone }
            end
          end
        end
      end
    end
  end
  -- The deletes of every VM and region at once.
  local all = {}
  for _, j in ipairs(jobs) do for _, id in ipairs(j.ids) do all[#all + 1] = id end end
  local owner = {}
  for _, j in ipairs(jobs) do for _, id in ipairs(j.ids) do owner[id] = j end end
  local ops, which = {}, {}
  for _, id in ipairs(all) do
    local op, err = ctx.client:begin("RestorePoints_Delete", { id = id })
    if op then ops[#ops + 1], which[#ops + 1] = op, id
    else owner[id].error = tostring(err) end
  end
  local ok, err = ctx:await(ops, function(i, v, e)
    local j = owner[which[i]]
    if v ~= nil or (e and e.status == 404) then
      j.deleted = (j.deleted or 0) + 1
      ctx:emit{ type = "resource", kind = "restore_point", id = which[i], name = which[i]:match("[^/]+$"), state = "deleted" }
    else
      j.error = j.error or tostring(e and (e.message or e))
    end
  end)
  if not ok then return nil, err end
  for _, j in ipairs(jobs) do
    local prev = row(ctx, j.vm, j.region)
    local t = { pruned = true, pruning = false, deleted = (prev.deleted or 0) + (j.deleted or 0) }
    local names = {}
    for _, id in ipairs(prev.deleted_names or {}) do names[#names + 1] = id end
    for _, id in ipairs(j.gone) do names[#names + 1] = id:match("[^/]+$") end
    for _, id in ipairs(j.ids) do names[#names + 1] = id:match("[^/]+$") end
    t.deleted_names = names
    if j.error then t.failed, t.stage, t.error = true, "prune", j.error end
    set_row(ctx, j.vm, j.region, t)
  end
  return true
end
-- The rows, into the report; the run fails when one did.
function steps.summary(ctx)
  local rows, failed = {}, 0
  local keys = {}
  for k in pairs(ctx.data) do if type(k) == "string" and k:match("^row:") then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local r = ctx.data[k]
    local out = { vm = r.vm, region = r.region, restore_point = r.restore_point and r.restore_point:match("[^/]+$"),
      state = r.failed and "failed" or "ok", stage = r.stage, error = r.error, pruned = r.pruned or false,
      deleted = r.deleted or 0, deleted_names = r.deleted_names, kept = r.kept, note = r.note }
    out.name = string.format("%s %s: %s%s, %d deleted, %d kept", tostring(r.vm), tostring(r.region), out.state,
      r.error and (" (" .. r.error .. ")") or "", out.deleted, #(r.kept or {}))
    rows[#rows + 1] = out
    if r.failed then failed = failed + 1 end
  end
  ctx:set("report.rows", rows)
  ctx:set("figure.vms", #ctx.data.vms + #(ctx.data.missing or {}))
  ctx:set("figure.rows_failed", failed)
  local deleted = 0
  for _, r in ipairs(rows) do deleted = deleted + r.deleted end
  ctx:set("figure.restore_points_deleted", deleted)
  if failed > 0 then
    return nil, rot_error("RowsFailed", "%d of %d VM/region row(s) failed; first: %s", failed, #rows,
      (function() for _, r in ipairs(rows) do if r.state == "failed" then return r.name end end end)())
  end
  return true
end

M.steps = workflow.steps({ "discover", "collections", "restore_points", "copy", "prune", "summary" }, steps)
M.STEPS = workflow.step_names(M.steps)

-- A run stopped by a signal keeps what it made (restore points are kept
-- anyway; a failed one goes at the end of a resume or by azrp cleanup).
M.on_interrupt = "keep"

--- plan(client, config [, opts]) -> rows | nil, err: per VM and region,
-- what a run would create and delete, and the rules that keep each
-- survivor; reads only.  opts.now: the new restore point's time (UTC
-- epoch; default now, or just after the newest point when that is later).
function M.plan(client, config, opts)
  opts = opts or {}
  local cfg, err = M.check(config)
  if not cfg then return nil, err end
  -- A read-only stand-in for a run's ctx.
  local data = {}
  local ctx = { client = client, config = cfg, data = data, time_scale = 1 }
  function ctx:set(k, v) data[k] = v end
  function ctx:emit() end
  function ctx:interrupted() end
  function ctx:get_all(items)
    local out = {}
    for i, it in ipairs(items) do out[i] = { client:call("VirtualMachines_Get", { id = it.id }) } end
    return out
  end
  function ctx:await(ops, on_done)
    for i, op in ipairs(ops) do on_done(i, op:wait()) end
    return true
  end
  local ok, derr = steps.discover(ctx)
  if not ok then return nil, derr end
  local rows = {}
  local function add(vm, region, action, kind, name, why)
    rows[#rows + 1] = { vm = vm.name, region = region, action = action, kind = kind, name = name, why = why }
  end
  for _, vm in ipairs(data.vms) do
    if not vm_ok(ctx, vm) then
      add(vm, vm.location, "skip", "vm", vm.name, row(ctx, vm, vm.location).error)
    else
      local regions, serr = survey(ctx, vm, { plan = true })
      if not regions then return nil, serr end
      local newest = 0
      for _, reg in ipairs(regions) do
        for _, p in ipairs(reg.points) do
          local t = retention.epoch(p.time or 0) or 0
          if t > newest then newest = t end
        end
      end
      local now = retention.iso(opts.now or math.max(math.floor(azrp.wall()), math.floor(newest) + 1))
      local new = {}
      for _, reg in ipairs(regions) do
        local c = reg.c
        local exists, gerr = client:call("RestorePointCollections_Get", { id = c.id })
        if exists then
          local okc, why = accept_collection(c, c.role == "source" and vm.id
            or collections_of(cfg, vm)[1].id)(exists)
          if not okc then add(vm, c.region, "refuse", "collection", c.name, why) end
        elseif gerr and gerr.status == 404 then
          add(vm, c.region, "create", "collection", c.name, "missing")
        else
          return nil, gerr
        end
        add(vm, c.region, "create", "restore_point", "<run>", c.role == "source" and "this run's restore point" or "copy of this run's restore point")
        local id = c.id .. "/restorePoints/<run>"
        table.insert(reg.points, { name = "<run>", id = id, time = now, state = "Succeeded" })
        new[id] = true
      end
      local decided, derr2 = decide(ctx, vm, regions, new)
      if not decided then return nil, derr2 end
      for _, reg in ipairs(regions) do
        for _, k in ipairs(reg.result.keep) do
          if k.point.name ~= "<run>" then add(vm, reg.c.region, "keep", "restore_point", k.point.name, table.concat(k.rules, ", ")) end
        end
        for _, p in ipairs(reg.result.delete) do
          add(vm, reg.c.region, "delete", "restore_point", p.name, p.state ~= "Succeeded" and p.state or "no rule keeps it")
        end
        -- The new point's rules, on its create row.
        for _, r in ipairs(rows) do
          if r.vm == vm.name and r.region == reg.c.region and r.name == "<run>" then
            r.why = r.why .. "; kept by " .. table.concat(reg.result.rules["<run>"] or {}, ", ")
          end
        end
      end
    end
  end
  return rows
end

--- run(client, config [, opts]) -> report | nil, err, report.
function M.run(client, config, opts)
  return workflow.run(M, client, config, opts)
end

return M
