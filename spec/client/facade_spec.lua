-- The facade (azrp.client) is found from the core client it drives, not
-- through a global weak map: an operation keeps its client, the client
-- keeps its facade, so dropping the facade while an operation runs does not
-- strand the operation without its token.  Waits never hang forever.
local C = require "support.client"
local azrp = require "azrp"
local wait = require "azrp.wait"
local socket = require "socket"

describe("the facade and its waits", function()
  local em
  setup(function() em = C.start() end)
  teardown(function() if em then em:stop() end end)

  it("an operation keeps its azrp.client (and credential) alive after the script drops it", function()
    local client = C.client(em)
    local op = client:virtual_machines_get{ resource_group_name = C.RG, vm_name = "vm-app-01" }
    local weak = setmetatable({ client }, { __mode = "v" })
    client = nil   -- luacheck: ignore
    collectgarbage(); collectgarbage()
    assert.is_table(weak[1], "the facade was collected while its operation ran")
    local vm, err = op:wait(20)
    assert.is_table(vm, tostring(err))
    assert.are.equal("vm-app-01", vm.name)
    assert.are.equal(weak[1], wait.driver_of(op))
    op = nil   -- luacheck: ignore
    -- a finalized userdata keeps what it references one more cycle (5.1)
    for _ = 1, 4 do collectgarbage() end
    assert.is_nil(weak[1], "client and operation should be collectable together")
  end)

  it("a wait for a token nothing can bring fails at once with NoCredential", function()
    local bare = azrp.core.client{ endpoint = em.url, ca_file = em.ca_file, subscription_id = C.SUB }
    local op = bare:begin("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
    local t0 = azrp.core.now()
    local v, err = op:wait()
    assert.is_nil(v)
    assert.are.equal("NoCredential", err.code)
    assert.is_true(azrp.core.now() - t0 < 5)
    bare:close()
    local facade = azrp.client{ endpoint = em.url, ca_file = em.ca_file, subscription_id = C.SUB }
    v, err = facade:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
    assert.is_nil(v)
    assert.are.equal("NoCredential", err.code)
    facade:close()
  end)

  it("a wait without a timeout ends at wait.DEFAULT_TIMEOUT (the operation goes on)", function()
    local silent = assert(socket.bind("127.0.0.1", 0))   -- accepts connections, never answers
    local _, port = silent:getsockname()
    local client = azrp.client{ endpoint = "http://127.0.0.1:" .. port, allow_http = true, subscription_id = C.SUB }
    client:set_token("t0ken")
    local op = client:virtual_machines_get{ resource_group_name = "rg", vm_name = "vm" }
    local saved = wait.DEFAULT_TIMEOUT
    wait.DEFAULT_TIMEOUT = 0.3
    local v, err = op:wait()
    wait.DEFAULT_TIMEOUT = saved
    assert.is_nil(v)
    assert.are.equal("WaitTimeout", err.code)
    assert.is_false(op:done())
    assert.are.equal(6 * 3600, wait.DEFAULT_TIMEOUT)
    client:close()
    silent:close()
  end)
end)
