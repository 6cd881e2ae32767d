-- A token refused (401 ExpiredAuthenticationToken) on a later page of a
-- list: the nextLink request, like every ARM request, drops the token,
-- gets a new one and resends once, instead of failing the list.  (Found by
-- tools/reliability/soak.lua: the nextLink GETs go through the core's raw
-- requests, which returned the 401 as it was.)
local C = require "support.client"

describe("a list whose later page meets an expired token (--page-size 2)", function()
  local em, client
  setup(function()
    em = C.start("--time-scale 0.01 --page-size 2")
    client = C.client(em, { retry = { base_delay = 0.01, max_delay = 0.05 } })
    for i = 1, 5 do
      assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
        restore_point_collection_name = "rpc-tok-" .. i,
        body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    end
  end)
  teardown(function()
    if client then client:close() end
    if em then em.stop() end
  end)

  it("refreshes the token and reads the page again", function()
    -- The emulator draws for RestorePointCollections_List requests only;
    -- from seed 6 at 0.5 it draws 0.83, 0.04, 0.56, 0.96, 0.86: the first
    -- page passes, the second (the first nextLink) is refused, its resend
    -- and the third page pass.
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "expired@RestorePointCollections_List=0.5,seed=6" })))
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/counters/reset")))
    local items, err = client:list("RestorePointCollections_List", { resource_group_name = C.RG })
    assert.is_table(items, tostring(err))
    assert.are.equal(5, #items)
    local seen = {}
    for _, item in ipairs(items) do
      assert.is_nil(seen[item.name], "listed twice: " .. item.name)
      seen[item.name] = true
    end
    local counters = C.counters(em)
    assert.are.equal(1, counters.faults.expired)
    -- three pages and the refused page once more
    assert.are.equal(4, counters.operations.RestorePointCollections_List)
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "" })))
  end)

  it("still fails a page whose token is refused twice, with the 401", function()
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "expired@RestorePointCollections_List~/rg-prod/=1" })))
    local items, err = client:list("RestorePointCollections_List", { resource_group_name = C.RG })
    assert.is_nil(items)
    assert.are.equal(401, err.status)
    assert.are.equal("ExpiredAuthenticationToken", err.code)
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "" })))
  end)
end)
