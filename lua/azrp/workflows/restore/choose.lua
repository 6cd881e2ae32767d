--- azrp.workflows.restore.choose: which restore point a restore starts
-- from: the one named (restore_point_id, or restore_point by name), else
-- the newest of the VM's in the wanted region whose provisioning
-- Succeeded and whose every disk restore point is complete (a copy: 100 %
-- replicated).
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local common = require "azrp.workflows.restore.common"

local M = {}

local preflight_error, same = common.preflight_error, common.same
local replication = workflow.replication

--- usable(rp) -> true | nil, why: a restore point a restore can start from.
function M.usable(rp)
  local ps = rp.properties and rp.properties.provisioningState
  if ps ~= "Succeeded" then return nil, "its provisioningState is " .. tostring(ps) end
  local pct = replication(rp)
  if pct and pct < 100 then return nil, string.format("its disks are %s %% replicated", tostring(pct)) end
  return true
end

-- The VM's collections in a region: those whose source is the VM, and
-- the copies' collections whose source is one of those.
local function collections(client, vm_id, location)
  local all, err = client:list("RestorePointCollections_ListAll", {})
  if not all then return nil, err end
  local mine, out = {}, {}
  for _, c in ipairs(all) do
    local src = c.properties and c.properties.source and c.properties.source.id
    if same(src, vm_id) then mine[c.id:lower()] = true end
  end
  for _, c in ipairs(all) do
    local src = c.properties and c.properties.source and c.properties.source.id
    if (same(src, vm_id) or (type(src) == "string" and mine[src:lower()])) and azrp.location(c.location) == location then
      out[#out + 1] = c
    end
  end
  return out
end

--- choose(ctx, vm_id, location) -> the restore point (with its instance
-- view) | nil, err.
function M.choose(ctx, vm_id, location)
  local c, cfg = ctx.client, ctx.config
  if cfg.restore_point_id then
    local rp, err = c:call("RestorePoints_Get", { id = cfg.restore_point_id, expand = "instanceView" })
    if not rp then
      if err.status == 404 then return nil, preflight_error("restore_point_id", "no restore point %s", cfg.restore_point_id) end
      return nil, err
    end
    local ok, why = M.usable(rp)
    if not ok then return nil, preflight_error("restore_point_id", "restore point %s cannot be restored: %s", rp.id, why) end
    return rp
  end
  local colls, err = collections(c, vm_id, location)
  if not colls then return nil, err end
  local candidates = {}
  for _, coll in ipairs(colls) do
    local body
    body, err = c:call("RestorePointCollections_Get", { id = coll.id, expand = "restorePoints" })
    if not body then return nil, err end
    for _, rp in ipairs(body.properties.restorePoints or {}) do
      if not cfg.restore_point or rp.name == cfg.restore_point then candidates[#candidates + 1] = rp end
    end
  end
  -- Newest first; ISO 8601 times in UTC sort as strings.
  table.sort(candidates, function(a, b)
    return tostring(a.properties.timeCreated) > tostring(b.properties.timeCreated)
  end)
  local skipped = {}
  for _, rp in ipairs(candidates) do
    local full
    full, err = c:call("RestorePoints_Get", { id = rp.id, expand = "instanceView" })
    if not full then return nil, err end
    local ok, why = M.usable(full)
    if ok then return full end
    if cfg.restore_point then
      return nil, preflight_error("restore_point", "restore point %s cannot be restored: %s", full.id, why)
    end
    skipped[#skipped + 1] = full.name .. " (" .. why .. ")"
    ctx:emit{ type = "note", message = "skipping restore point " .. full.name .. ": " .. why }
  end
  if cfg.restore_point then
    return nil, preflight_error("restore_point", "no restore point named %q of %s in %s", cfg.restore_point, vm_id, location)
  end
  return nil, preflight_error("vm_id", "no usable restore point of %s in %s%s", vm_id, location,
    #skipped > 0 and (" (skipped: " .. table.concat(skipped, ", ") .. ")") or "")
end

return M
