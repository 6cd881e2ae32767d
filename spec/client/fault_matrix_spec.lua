-- The short fault matrix of `make test` (#crash: spec/run.sh runs it as a
-- suite of its own): every workflow once, seed 1, 20 % of its requests
-- faulted (tools/reliability/fault_matrix.lua; `make check-reliability`
-- runs the whole matrix), and the DR drill with its DR region down.  Each
-- cell must complete, or fail with an azrp error naming an operation and
-- leave nothing behind; bytes moved are checked by SHA-256.
--
-- spec/run.sh shares the cells among the Luas it runs together (support.
-- shard): each cell runs once, on one of them (each starts an emulator and
-- a workflow child; every Lua runs the same workflows in their own specs);
-- azrp.workflow.outage's checks run on every Lua.
package.path = "./tools/?.lua;" .. package.path
local outage = require "azrp.workflow.outage"

describe("azrp.workflow.outage", function()
  local function timeout_err(msg)
    return setmetatable({ kind = "timeout", code = "Timeout", message = msg, operation = "ResourceGroups_Get" },
      { __tostring = function(e) return "[azrp.timeout] " .. e.message end })
  end
  it("names the region of the request's resource group", function()
    local cfg = { vm_id = "x", dr_location = "North Europe", dr_resource_group = "rg-dr" }
    local e = outage.explain(cfg, timeout_err("GET https://h/subscriptions/s/resourceGroups/RG-DR?api-version=1: timed out"))
    assert.are.equal("northeurope", e.region)
    assert.matches("no answer from region northeurope (dr_location, resource group rg-dr)", e.message, 1, true)
    assert.are.equal("ResourceGroups_Get", e.operation)
    assert.matches("^%[azrp.timeout%] GET", tostring(e))
  end)
  it("reads targets lists, and names every region of the run when the request says none", function()
    local cfg = { vm_ids = { "x" }, targets = { { location = "northeurope", resource_group = "rg-dr" },
      { location = "francecentral", resource_group = "rg-fr" } } }
    local e = outage.explain(cfg, timeout_err("PUT https://h/subscriptions/s/resourceGroups/rg-fr/providers/x: timed out"))
    assert.are.equal("francecentral", e.region)
    e = outage.explain(cfg, timeout_err("GET https://h/subscriptions/s/providers/y: timed out"))
    assert.is_nil(e.region)
    assert.matches("this run's regions: northeurope (targets[1].location), francecentral (targets[2].location)", e.message, 1, true)
  end)
  it("leaves answered errors, and runs without regions, as they were", function()
    local http = { kind = "azure", status = 409, message = "conflict in /resourceGroups/rg-dr" }
    assert.are.equal(http, outage.explain({ dr_location = "northeurope", dr_resource_group = "rg-dr" }, http))
    local t = timeout_err("GET /resourceGroups/rg-dr")
    assert.are.equal(t, outage.explain({ source_id = "x" }, t))
    assert.is_nil(outage.explain({}, nil))
  end)
end)

-- Found by the fault matrix: a list's later pages (raw GETs of its
-- nextLinks) did not renew a token ARM refused as expired, as every other
-- request does once, so a list that crossed a token's expiry failed; and
-- that failure named no operation, where the first page's errors do.
describe("a list whose later page is refused with an expired token", function()
  local C = require "support.client"
  local function run(seed)
    local em = C.start("--page-size 2 --faults expired@Disks_List=0.5,seed=" .. seed)
    local client = C.client(em)
    local items, err = client:list("Disks_List", {})
    local ops = C.counters(em).operations
    client:close()
    em.stop()
    return items, err, ops
  end
  it("renews the token and reads on", function()
    -- seed 6 draws 0.83, 0.04, 0.56, 0.96 ...: page 2 is refused once.
    local items, err, ops = run(6)
    assert.is_table(items, tostring(err))
    assert.are.equal(8, #items)
    assert.are.equal(2, ops.Entra_Token)
    assert.are.equal(5, ops.Disks_List)   -- 4 pages, page 2 twice
  end)
  it("fails, naming the list's operation, when the renewed token is refused too", function()
    -- seed 2 draws 0.56, 0.34, 0.46: page 2 is refused, and again after
    -- the token is renewed.
    local items, err, ops = run(2)
    assert.is_nil(items)
    assert.are.equal(401, err.status)
    assert.are.equal("ExpiredAuthenticationToken", err.code)
    assert.are.equal("Disks_List", err.operation)
    assert.matches("operation Disks_List", tostring(err), 1, true)
    assert.are.equal(2, ops.Entra_Token)
    assert.are.equal(3, ops.Disks_List)
  end)
end)

-- spec/run.sh: one job per Lua
local shard = require "support.shard"

describe("the short fault matrix #crash", function()
  local matrix = require "reliability.fault_matrix"
  local targets = require "reliability.fault_targets"
  local MOVES_DATA = { drill = true, restore_new = true, restore_in_place = true, export = true, golden = true, rotate = true }

  local all = {}
  for _, name in ipairs(targets.ORDER) do
    if not targets[name].family then all[#all + 1] = { target = name, rate = 0.2, seed = 1 } end
  end
  all[#all + 1] = { target = "drill", down = "northeurope", seed = 1 }
  local cells = {}
  for i, cell in ipairs(all) do
    if shard.mine(i) then cells[#cells + 1] = cell end
  end
  if #cells == 0 then return end

  -- Two cells at a time, each in a child process with its own emulator.
  local results
  setup(function() results = matrix.run_all(cells, 2) end)

  for i, cell in ipairs(cells) do
    local label = cell.down and ("with region " .. cell.down .. " down") or "at 20 %, seed 1"
    it(cell.target .. " " .. label .. ": completes or cleans up, leaves nothing, moves the right bytes", function()
      local r = results[i]
      local function n(x) return x and string.format("%d", x) or "-" end
      print(string.format("  %s %s: %s, %s requests, %s faults, %s left, %s hashed", cell.target, label, tostring(r.outcome),
        n(r.requests), n(r.injected), n(r.left), n(r.bytes_checked)))
      assert.are.same({}, r.problems or { "no result" })
      assert.is_true(r.ok)
      assert.is_true(r.requests > 0)
      assert.is_true(r.injected > 0, "no fault was injected")
      assert.are.equal(0, r.left)
      assert.is_true(r.outcome == "completed" or r.outcome == "cleaned up", tostring(r.outcome))
      if cell.down then
        assert.are.equal("cleaned up", r.outcome)
        assert.is_true(r.names_region)
        assert.is_true(r.by_fault.down > 0)
      elseif MOVES_DATA[cell.target] and r.outcome == "completed" then
        assert.is_true(r.bytes_checked > 0, "a completed " .. cell.target .. " hashed nothing")
      end
    end)
  end
end)
