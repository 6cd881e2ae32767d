--- azrp.workflows.rotate.decide: what rotation's prune deletes in each
-- region of a VM, from what the collections hold, checking replication
-- only where a decision depends on it.
local workflow = require "azrp.workflow"
local retention = require "azrp.retention"

local M = {}

local TERMINAL = { Succeeded = true, Failed = true, Canceled = true }

local function rot_error(code, fmt, ...)
  local azrp = require "azrp"
  return azrp.error{ kind = "rotate", code = code, message = string.format(fmt, ...), retryable = false }
end

-- The restore points of a collection: { { name, id, time, state, source } }
-- | nil, err (a collection that is not there has none).
function M.list_points(client, id)
  local body, err = client:call("RestorePointCollections_Get", { id = id, expand = "restorePoints" })
  if not body then
    if err.status == 404 then return {} end
    return nil, err
  end
  local out = {}
  for _, rp in ipairs(body.properties and body.properties.restorePoints or {}) do
    local p = rp.properties or {}
    out[#out + 1] = { name = rp.name, id = rp.id, time = p.timeCreated, state = p.provisioningState,
      source = p.sourceRestorePoint and p.sourceRestorePoint.id }
  end
  return out
end

-- Is a Succeeded copy fully replicated? GETs (concurrently) the points of
-- ids whose answer is not known yet, into known[id].
local function verify(ctx, ids, known)
  local ops, which = {}, {}
  for _, id in ipairs(ids) do
    local op, err = ctx.client:begin("RestorePoints_Get", { id = id, expand = "instanceView" })
    if not op then return nil, err end
    ops[#ops + 1], which[#ops + 1] = op, id
  end
  local failed
  local ok, err = ctx:await(ops, function(i, body, e)
    if body then
      local pct = workflow.replication(body)
      known[which[i]:lower()] = pct == nil or pct >= 100
    elseif e and e.status == 404 then
      known[which[i]:lower()] = "gone"
    else
      failed = failed or e
    end
  end)
  if not ok then return nil, err end
  if failed then return nil, failed end
  return true
end

--- decide(ctx, vm, regions, new_points) -> regions, each with .result (an
-- azrp.retention result) | nil, err.  regions = { { c = { role = "source" |
-- "target" }, points = list_points(...), policy } }; new_points = { [id] =
-- true } for copies known to have replicated (this run's).
-- | nil, err.  Replication is checked where it matters: the points the
-- policy would delete or keep as the newest good, and the copies of source
-- points it would delete (a source still copying is in use).
function M.decide(ctx, vm, regions, new_points)
  local known = {}
  for id, v in pairs(new_points or {}) do known[id:lower()] = v end
  for _ = 1, 50 do
    -- Source points in use by a copy that has not finished.
    local in_use, copies_of = {}, {}
    for _, reg in ipairs(regions) do
      if reg.c.role == "target" then
        for _, p in ipairs(reg.points) do
          if p.source then
            local s = p.source:lower()
            copies_of[s] = copies_of[s] or {}
            table.insert(copies_of[s], p)
            if not TERMINAL[p.state] or (p.state == "Succeeded" and known[p.id:lower()] == false) then in_use[s] = true end
          end
        end
      end
    end
    local need, seen = {}, {}
    local function want(p)
      local id = p.id:lower()
      if known[id] == nil and p.state == "Succeeded" and not seen[id] then seen[id] = true; need[#need + 1] = p.id end
    end
    for _, reg in ipairs(regions) do
      local pts = {}
      for i, p in ipairs(reg.points) do
        local id = p.id:lower()
        local replicated = reg.c.role == "source" or known[id] ~= false
        pts[i] = { name = p.name, time = p.time or "1970-01-01T00:00:00Z", state = p.state, replicated = replicated,
          in_use = reg.c.role == "source" and in_use[id] or false, id = p.id }
      end
      reg.result = retention.apply(pts, reg.policy)
      if reg.c.role == "target" then
        if reg.result.newest_good then want(reg.result.newest_good) end
        for _, p in ipairs(reg.result.delete) do want(p) end
      else
        for _, p in ipairs(reg.result.delete) do
          for _, copy in ipairs(copies_of[p.id:lower()] or {}) do want(copy) end
        end
      end
    end
    if #need == 0 then return regions end
    local ok, err = verify(ctx, need, known)
    if not ok then return nil, err end
  end
  return nil, rot_error("RetentionUnsettled", "the replication state of %s's copies kept changing", vm.name)
end


return M
