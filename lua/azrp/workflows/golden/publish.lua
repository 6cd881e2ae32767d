--- azrp.workflows.golden.publish: a Compute Gallery image version made
-- from restored disks, followed region by region to the end of its
-- replication.
--
-- The version's PUT is one long-running operation that ends when every
-- target region has its replicas.  While it runs, the version is read with
-- $expand=ReplicationStatus (paced: every 15 Azure seconds) and each
-- region's progress is reported; the moment a region completes is
-- journalled (replication.<region>, seconds since the PUT), so a resumed
-- run keeps the times it measured.
local azrp = require "azrp"

local M = {}

M.POLL = 15   -- Azure seconds between two reads of the replication status

local round = require("azrp.workflow.run").round

--- body(ctx, target) -> the version's PUT body: the restored OS disk (and
-- data disks at their LUNs) as sources, the target regions with their
-- replica count and storage type.
function M.body(ctx, g)
  local os_disk, data = nil, {}
  for _, d in ipairs(ctx.data.disks) do
    if d.lun then
      data[#data + 1] = { lun = d.lun, source = { id = d.id }, hostCaching = d.caching or "None" }
    else
      os_disk = { source = { id = d.id }, hostCaching = d.caching or "ReadWrite" }
    end
  end
  table.sort(data, function(a, b) return a.lun < b.lun end)
  local targets = {}
  for _, r in ipairs(g.regions) do
    targets[#targets + 1] = { name = r.name, regionalReplicaCount = r.regional_replica_count,
      storageAccountType = r.storage_account_type }
  end
  local storage = { osDiskImage = os_disk }
  if #data > 0 then storage.dataDiskImages = data end  -- an empty table would encode as {}
  return { location = g.location, properties = { publishingProfile = { targetRegions = targets },
    storageProfile = storage } }
end

-- region (any spelling) -> the key the journal uses.
local function key(name) return azrp.location(name) or tostring(name):lower() end

--- watcher(ctx, id) -> { poll = function(force) -> body | nil, err,
-- follow = function() -> body | nil, err }: poll reads the version (at most
-- every M.POLL Azure seconds unless forced), reports each region's
-- progress and journals the regions that completed; follow polls until
-- the version's provisioning ends.
function M.watcher(ctx, id)
  local last_poll, last_pct = -math.huge, {}
  local w = {}
  function w.poll(force)
    local now = azrp.now()
    if not force and now - last_poll < math.max(0.02, ctx:scaled(M.POLL)) then return true end
    last_poll = now
    local body, err = ctx.client:call("GalleryImageVersions_Get", { id = id, expand = "ReplicationStatus" })
    if not body then return nil, err end
    local rs = body.properties and body.properties.replicationStatus
    local started = ctx.data.publish_started_at
    for _, s in ipairs(rs and rs.summary or {}) do
      local k = key(s.region)
      local pct = tonumber(s.progress) or 0
      if pct ~= last_pct[k] then
        last_pct[k] = pct
        ctx:emit{ type = "progress", step = ctx.current, name = k, region = k, percent = pct, state = s.state }
      end
      if s.state == "Completed" and not ctx.data["replication." .. k] then
        local wall = azrp.wall() - started
        ctx:set("replication." .. k, { wall_seconds = round(wall), seconds = round(wall / ctx.time_scale) })
      end
    end
    return body
  end
  function w.follow()
    while true do
      local body, err = w.poll(true)
      if not body then return nil, err end
      local ps = body.properties and body.properties.provisioningState
      if ps ~= "Creating" and ps ~= "Updating" then return body end
      local ok, serr = ctx:sleep(math.max(0.02, ctx:scaled(M.POLL)))
      if not ok then return nil, serr end
    end
  end
  return w
end

--- regions_report(ctx, body, regions) -> { { region, replicas,
-- storage_account_type, state, seconds, wall_seconds } } | nil, err: every
-- target region must have completed.
function M.regions_report(ctx, body, regions)
  local rs = body.properties and body.properties.replicationStatus
  local state = {}
  for _, s in ipairs(rs and rs.summary or {}) do state[key(s.region)] = s.state end
  local out = {}
  for _, r in ipairs(regions) do
    local k = key(r.name)
    local t = ctx.data["replication." .. k]
    if state[k] ~= "Completed" then
      return nil, azrp.error{ kind = "golden", code = "ReplicationIncomplete", retryable = false,
        message = string.format("image version %s: region %s is %s, not Completed", body.id, k, tostring(state[k])) }
    end
    if not t then
      -- Completed between two reads that this process did not make (a
      -- resume after the end): the moment is not known better than now.
      local wall = azrp.wall() - ctx.data.publish_started_at
      t = { wall_seconds = round(wall), seconds = round(wall / ctx.time_scale) }
      ctx:set("replication." .. k, t)
    end
    out[#out + 1] = { region = k, replicas = r.regional_replica_count, storage_account_type = r.storage_account_type,
      state = state[k], seconds = t.seconds, wall_seconds = t.wall_seconds }
  end
  return out
end

return M
