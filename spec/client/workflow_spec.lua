-- azrp.workflow's guarantees on a small workflow of its own: a name that
-- is not the run's is never overwritten nor deleted, whatever the journal
-- says; a journal cut short mid-line is repaired; one run, one driver.
local C = require "support.client"
local journal = require "azrp.workflow.journal"
local workflow = require "azrp.workflow"
local small_seed = require "support.small_seed"

local tmpdir = require("support.tmp").name

local DR = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Compute/disks/"

local function disk_body(tags)
  return { location = "northeurope", sku = { name = "Standard_LRS" }, tags = tags,
    properties = { creationData = { createOption = "Empty" }, diskSizeGB = 4 } }
end

-- One step: a disk named by the config.
local toy = { name = "spec_toy", id_prefix = "toy",
  base_name = function(cfg) return cfg.disk end,
  steps = { { name = "make", run = function(ctx)
    local name = ctx.config.disk
    local d, err = ctx:create{ key = "disk", kind = "disk", id = DR .. name, name = name, op = "Disks_CreateOrUpdate",
      params = { resource_group_name = "rg-dr", disk_name = name, body = disk_body() } }
    if not d then return nil, err end
    return true
  end } } }
package.loaded["azrp.workflows.spec_toy"] = toy

describe("azrp.workflow", function()
  local em, client
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file())
    client = C.client(em)
  end)
  teardown(function() client:close(); em.stop() end)

  it("makes, tags and deletes its own resource", function()
    local r = assert(workflow.start(toy, client, { disk = "toy-own" }, { state_dir = tmpdir(), trap = false }))
    assert.are.equal(0, r.exit_code)
    assert.are.equal("deleted", r.resources[1].state)
    local _, err = client:call("Disks_Get", { id = DR .. "toy-own" })
    assert.are.equal(404, err.status)
  end)

  it("never overwrites nor deletes a resource of the same name that is not the run's", function()
    assert(client:call("Disks_CreateOrUpdate", { resource_group_name = "rg-dr", disk_name = "toy-foreign",
      body = disk_body({ owner = "someone" }) }))
    local r = assert(workflow.start(toy, client, { disk = "toy-foreign" }, { state_dir = tmpdir(), trap = false }))
    assert.are.equal(1, r.exit_code)
    assert.are.equal("NameInUse", r.error.code)
    assert.are.same({}, r.resources)
    local d = assert(client:call("Disks_Get", { id = DR .. "toy-foreign" }))
    assert.are.same({ owner = "someone" }, d.tags)
  end)

  it("leaves alone a resource the journal claims but that lacks the run's tag", function()
    local dir = tmpdir()
    local r = assert(workflow.start(toy, client, { disk = "toy-claimed" }, { state_dir = dir, trap = false }))
    assert.are.equal(0, r.exit_code)
    -- Someone makes a disk of that name afterwards; a forged journal says it is the run's.
    assert(client:call("Disks_CreateOrUpdate", { resource_group_name = "rg-dr", disk_name = "toy-claimed",
      body = disk_body({ owner = "someone" }) }))
    local j = assert(journal.open(dir, r.run_id))
    assert(j:append{ type = "intent", key = "disk", kind = "disk", id = DR .. "toy-claimed", name = "toy-claimed" })
    j:close()
    local c = assert(workflow.cleanup(client, r.run_id, { state_dir = dir, trap = false }))
    assert.are.equal(5, c.exit_code)
    assert.are.equal("unverified", c.resources[1].state)
    assert.is_table(client:call("Disks_Get", { id = DR .. "toy-claimed" }))
    assert(client:call("Disks_Delete", { id = DR .. "toy-claimed" }))
  end)

  it("drops a record cut short by a crash and goes on", function()
    local dir = tmpdir()
    local j = assert(journal.create(dir, "toy-20261207T000000-abcdef", { workflow = "spec_toy",
      config = { disk = "toy-cut" }, base = "toy-cut", created_at = os.time() }))
    assert(j:append{ type = "step", name = "make", state = "start" })
    j.file:write('{"type":"intent","key":"disk","ki')  -- the kill came here
    j:close()
    local r = assert(workflow.resume(client, "toy-20261207T000000-abcdef", { state_dir = dir, trap = false }))
    assert.are.equal(0, r.exit_code)
    local again = assert(journal.open(dir, "toy-20261207T000000-abcdef", { read_only = true }))
    for _, rec in ipairs(again.records) do assert.is_number(rec.seq) end
    local _, err = client:call("Disks_Get", { id = DR .. "toy-cut" })
    assert.are.equal(404, err.status)
  end)

  it("lets one process drive a run at a time", function()
    local dir = tmpdir()
    local j = assert(journal.create(dir, "toy-20261207T000001-abcdef", { workflow = "spec_toy", config = {} }))
    -- fcntl locks are per process: the second driver is another process.
    local p = io.popen(string.format("%s -e 'package.path=\"./lua/?.lua;./lua/?/init.lua;\"..package.path; " ..
      "package.cpath=%q..package.cpath; local j, e = require(\"azrp.workflow.journal\").open(%q, " ..
      "\"toy-20261207T000001-abcdef\"); print(j and \"opened\" or e.code)'",
      jit and "luajit" or "lua" .. _VERSION:match("%d%.%d"),
      jit and "./build/jit/?.so;" or ("./build/" .. _VERSION:match("%d%.%d") .. "/?.so;"), dir))
    local out = p:read("*a")
    p:close()
    j:close()
    assert.matches("RunInProgress", out)
  end)

  it("refuses run ids that are paths", function()
    local _, err = workflow.resume(client, "../../etc", { state_dir = tmpdir() })
    assert.are.equal("InvalidRunId", err.code)
  end)
end)
