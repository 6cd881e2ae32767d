-- Pageable operations against an emulator that answers two items a page:
-- client:list() and client:each() follow nextLink to the end, and a page
-- that fails half-way ends the iteration with the error.
local C = require "support.client"

local COUNT = 5

describe("paging (--page-size 2)", function()
  local em, client

  local function collection_name(i) return string.format("rpc-page-%d", i) end

  local function list_all_calls()
    return C.counters(em).operations.RestorePointCollections_ListAll or 0
  end

  local function set_faults(spec)
    local st, body = C.admin(em, "POST", "/_emulator/faults", { spec = spec })
    assert.are.equal(200, st, tostring(body))
  end

  setup(function()
    em = C.start("--time-scale 0.01 --page-size 2")
    client = C.client(em, { retry = { base_delay = 0.01, max_delay = 0.05 } })
    for i = 1, COUNT do
      local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
        restore_point_collection_name = collection_name(i),
        body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } })
      assert(coll, tostring(err))
    end
  end)
  teardown(function()
    if client then client:close() end
    if em then em.stop() end
  end)

  it("list() follows nextLink through every page", function()
    local before = list_all_calls()
    local items, err = client:list("RestorePointCollections_ListAll", {})
    assert.is_table(items, tostring(err))
    assert.are.equal(COUNT, #items)
    local seen = {}
    for _, item in ipairs(items) do
      assert.is_nil(seen[item.name], "listed twice: " .. item.name)
      seen[item.name] = true
    end
    for i = 1, COUNT do assert.is_true(seen[collection_name(i)], collection_name(i)) end
    -- 5 items, 2 a page: the first page and two nextLinks
    assert.are.equal(3, list_all_calls() - before)

    -- the same by resource group, with the group's own path in the nextLinks
    local in_rg = assert(client:list("RestorePointCollections_List", { resource_group_name = C.RG }))
    assert.are.equal(COUNT, #in_rg)
    assert.is_true(C.counters(em).operations.RestorePointCollections_List >= 3)
  end)

  it("list() of a one-page list makes one request, and of an empty list returns {}", function()
    local before = C.counters(em).operations.ResourceGroups_List or 0
    local groups = assert(client:list("ResourceGroups_List", {}))
    assert.are.equal(2, #groups)   -- rg-prod and rg-dr: exactly one full page
    assert.are.equal(1, C.counters(em).operations.ResourceGroups_List - before)
    local none = assert(client:list("RestorePointCollections_List", { resource_group_name = "rg-dr" }))
    assert.are.same({}, none)
  end)

  it("each() yields every item once, page after page", function()
    local before = list_all_calls()
    local n, names = 0, {}
    for item, err in client:each("RestorePointCollections_ListAll", {}) do
      assert.is_not_false(item, tostring(err))
      n = n + 1
      names[item.name] = true
      -- pages are fetched as the iteration reaches them, not ahead
      assert.are.equal(math.ceil(n / 2), list_all_calls() - before)
    end
    assert.are.equal(COUNT, n)
    for i = 1, COUNT do assert.is_true(names[collection_name(i)]) end
  end)

  it("each() ends with false, err when a later page fails, and list() returns nil, err", function()
    local iter = client:each("RestorePointCollections_ListAll", {})
    local a, b = iter(), iter()
    assert.is_table(a)
    assert.is_table(b)
    -- from now on the emulator answers every ListAll with 500 (retried, then given up)
    set_faults("500@RestorePointCollections_ListAll=1")
    local retries = client:stats().retries
    local item, err = iter()
    assert.is_false(item)
    assert.is_true(require("azrp").is_error(err))
    assert.are.equal(500, err.status)
    assert.is_true(client:stats().retries > retries)
    -- and then it stops
    assert.is_nil(iter())
    assert.is_nil(iter())

    local items, lerr = client:list("RestorePointCollections_ListAll", {})
    assert.is_nil(items)
    assert.are.equal(500, lerr.status)

    set_faults("")
    assert.are.equal(COUNT, #assert(client:list("RestorePointCollections_ListAll", {})))
  end)

  it("each() reports a failing first page as false, err too", function()
    local iter = client:each("RestorePointCollections_List", { resource_group_name = "rg-nope" })
    local item, err = iter()
    assert.is_false(item)
    assert.are.equal(404, err.status)
    assert.are.equal("ResourceGroupNotFound", err.code)
    assert.is_nil(iter())
  end)
end)

describe("list and each on an operation that is not a list", function()
  it("raise: that is a programmer's mistake", function()
    local azrp = require "azrp"
    local c = azrp.client{ endpoint = "https://127.0.0.1:9" }
    assert.has_error(function() c:list("Disks_Get", {}) end, "client:list: Disks_Get is not a pageable list operation")
    assert.has_error(function() c:each("Disks_Get", {}) end)
    c:close()
  end)
end)
