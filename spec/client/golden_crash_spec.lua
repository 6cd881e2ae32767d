-- A golden image run killed with SIGKILL at every moment of its run (from
-- inside, at its Nth progress event: after each journalled step, create
-- and replication report), then resumed or cleaned up from its journal.
-- After a resume: exactly one image version more, the run's, replicated
-- to both regions, and nothing else of the run left.  After a cleanup:
-- nothing of the run is left and the definition has the versions it had.
local C = require "support.client"
local children = require "support.child"
local json = require "cjson"
local workflow = require "azrp.workflow"
local golden_seed = require "support.golden_seed"
local tmp = require "support.tmp"

local LUA = "lua5.4"
local SCALE = 0.002
local DEF = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/galleries/crash/images/app"

local function child(em, state_dir, n, config)
  return children.run{ lua = LUA, em = em, state = state_dir, n = n, sig = "KILL", scale = SCALE,
    workflow = "golden_image", config = config }
end

-- The definition's versions: { name = { state, run } }.
local function versions(client)
  local out = {}
  for _, v in ipairs(assert(client:list("GalleryImageVersions_ListByGalleryImage", { resource_group_name = "rg-prod",
    gallery_name = "crash", gallery_image_name = "app" }))) do
    out[v.name] = { state = v.properties.provisioningState, run = v.tags and v.tags["azrp-run"] }
  end
  return out
end

local function of_run(client, run_id)
  local out = {}
  for _, d in ipairs(assert(client:list("Disks_ListByResourceGroup", { resource_group_name = "rg-prod" }))) do
    if d.tags and d.tags["azrp-run"] == run_id then out[#out + 1] = "disk " .. d.name end
  end
  local stamp = run_id:match("^golden%-(.+)$")
  local coll = client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
    restore_point_collection_name = "rpc-vm-app-01", expand = "restorePoints" })
  for _, rp in ipairs(coll and coll.properties.restorePoints or {}) do
    if rp.name:find(stamp, 1, true) then out[#out + 1] = "restore_point " .. rp.name end
  end
  for name, v in pairs(versions(client)) do
    if v.run == run_id then out[#out + 1] = "image_version " .. name end
  end
  table.sort(out)
  return out
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- Lua 5.4 (and LuaJIT) kill at every event, the older Luas at a few.
local full = _VERSION == "Lua 5.4" or jit

describe("a golden image run killed with SIGKILL #crash", function()
  local em, client, state_dir, events
  local killed = 0
  local config = { vm_id = C.VM_ID, gallery_image_id = DEF, target_regions = { "westeurope", "northeurope" } }
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. golden_seed.file())
    client = C.client(em)
    state_dir = tmp.dir()
    assert(client:call("Galleries_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "crash",
      body = { location = "westeurope" } }))
    assert(client:call("GalleryImages_CreateOrUpdate", { resource_group_name = "rg-prod", gallery_name = "crash",
      gallery_image_name = "app", body = { location = "westeurope", properties = { osType = "Linux",
        osState = "Specialized", hyperVGeneration = "V2", features = { { name = "SecurityType", value = "TrustedLaunchSupported" } },
        identifier = { publisher = "azrp", offer = "crash", sku = "app" } } } }))
    -- A whole run first: how many progress events a run has.
    local run_id, rc, out = child(em, state_dir, 0, config)
    assert.are.equal(0, rc, out)
    events = tonumber(out:match("events (%d+)"))
    assert.is_true(events > 10, out)
    local mine = of_run(client, run_id)
    assert.are.same({ "image_version 1.0.0" }, mine)
    assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
    assert.are.same({}, versions(client))
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(state_dir) end)

  for k = 1, 90 do
    local how = (k % 2 == 1) and "resume" or "cleanup"
    it(("at event %d, then %s"):format(k, how), function()
      if k > events then return end
      if not full and k % 7 ~= 3 then return end
      local before = versions(client)
      local run_id, rc, out = child(em, state_dir, k, config)
      assert.is_string(run_id, out)
      if rc == 0 then
        -- This run had fewer progress events (polls vary): it ended
        -- before event k.  Nothing to recover.
        workflow.cleanup(client, run_id, { state_dir = state_dir, all = true })
        return
      end
      killed = killed + 1
      local report, err
      if how == "resume" then
        report, err = workflow.resume(client, run_id, { state_dir = state_dir, time_scale = SCALE })
      else
        report, err = workflow.cleanup(client, run_id, { state_dir = state_dir })
      end
      assert.is_table(report, tostring(err))
      assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
      local published = false
      for _, s in ipairs(report.steps) do if s.name == "publish" and s.ok then published = true end end
      local after = versions(client)
      if how == "resume" or published then
        -- One version more, this run's, replicated; nothing else left.
        local mine = of_run(client, run_id)
        assert.are.equal(1, #mine, table.concat(mine, ", "))
        assert.matches("^image_version ", mine[1])
        assert.are.equal(count(before) + 1, count(after))
        local name = mine[1]:match("^image_version (.+)$")
        assert.are.equal("Succeeded", after[name].state)
        local v = assert(client:call("GalleryImageVersions_Get", { id = DEF .. "/versions/" .. name, expand = "ReplicationStatus" }))
        assert.are.equal("Completed", v.properties.replicationStatus.aggregatedState)
        assert.are.equal(2, #v.properties.replicationStatus.summary)
        if how == "resume" then
          assert.are.equal(2, #report.details.regions)
          for _, r in ipairs(report.details.regions) do assert.is_number(r.seconds) end
        end
      else
        assert.are.same({}, of_run(client, run_id))
        assert.are.same(before, after)
      end
      -- A second resume has nothing left to do and changes nothing.
      local snapshot = of_run(client, run_id)
      assert.is_table(workflow.resume(client, run_id, { state_dir = state_dir }))
      assert.are.same(snapshot, of_run(client, run_id))
      -- Next kill starts from an empty definition.
      assert.are.equal(0, workflow.cleanup(client, run_id, { state_dir = state_dir, all = true }).exit_code)
      assert.are.same({}, of_run(client, run_id))
    end)
  end
  it("was killed at most of its moments", function()
    assert.is_true(killed >= (full and 40 or 5), killed .. " kills of " .. events .. " events")
  end)
end)
