-- Where secrets may go: URLs are parsed as libcurl parses them (the host
-- after user-info is the host), user-info is refused in every URL the
-- client is given or follows, a token or SAS signature never goes over
-- plain http (but to loopback with allow_http), TLS verification is only
-- turned off by insecure_skip_tls_verify and then only for loopback.
--
-- A fake server on 127.0.0.1 plays ARM and, set as the client's proxy,
-- also receives whatever the client would send to any other host
-- (192.0.2.2 is TEST-NET, never reachable): "nothing sent" is "the fake
-- server saw no request".
local socket = require "socket"
local azrp = require "azrp"
local json = require "cjson.safe"

local SUB = "00000000-0000-4000-8000-000000000001"
local TOKEN = "eyJ0b2tlbi1zZWNyZXQtdmFsdWU"
local VM_PATH = "/subscriptions/" .. SUB .. "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"

-- A one-request-per-connection HTTP server; handler(req) -> status, headers, body.
local function fake_server()
  local srv = assert(socket.bind("127.0.0.1", 0))
  srv:settimeout(0)
  local _, port = srv:getsockname()
  local s = { port = port, url = "http://127.0.0.1:" .. port, seen = {}, server = srv }
  local pending = {}   -- connections still being read: { conn, buf }
  -- Non-blocking: the client only writes when it is stepped, in this same thread.
  local function parse(buf)
    local head_end = buf:find("\r\n\r\n", 1, true)
    if not head_end then return nil end
    local head = buf:sub(1, head_end - 1)
    local req = { headers = {} }
    for h in head:gmatch("[^\r\n]+") do
      if not req.line then req.line = h
      else
        local k, v = h:match("^([^:]+):%s*(.*)$")
        if k then req.headers[k:lower()] = v end
      end
    end
    local n = tonumber(req.headers["content-length"] or 0)
    if #buf - (head_end + 3) < n then return nil end
    req.body = buf:sub(head_end + 4, head_end + 3 + n)
    return req
  end
  function s:poll(handler)
    local conn = self.server:accept()
    if conn then conn:settimeout(0); pending[#pending + 1] = { conn = conn, buf = "" } end
    for i = #pending, 1, -1 do
      local p = pending[i]
      local data, err, partial = p.conn:receive(8192)
      p.buf = p.buf .. (data or partial or "")
      local req = parse(p.buf)
      if req then
        table.remove(pending, i)
        self.seen[#self.seen + 1] = req
        local status, headers, body = handler(req)
        body = body or ""
        local out = { "HTTP/1.1 " .. status .. " X", "Content-Length: " .. #body, "Connection: close" }
        for k, v in pairs(headers or {}) do out[#out + 1] = k .. ": " .. v end
        p.conn:settimeout(2)
        p.conn:send(table.concat(out, "\r\n") .. "\r\n\r\n" .. body)
        p.conn:close()
      elseif err == "closed" then
        table.remove(pending, i)
        p.conn:close()
      end
    end
  end
  function s:close() self.server:close() end
  return s
end

-- Drives op to its end, serving the fake server meanwhile.
local function drive(client, op, srv, handler)
  local deadline = socket.gettime() + 10
  while not op:done() and socket.gettime() < deadline do
    client:step()
    srv:poll(handler or function() return 500 end)
    client:wait(0.005)
  end
  assert.is_true(op:done(), "the operation did not finish")
  return op:result()
end

local function no_secret(err)
  local text = tostring(err) .. " " .. tostring(err.message)
  assert.is_nil(text:find(TOKEN, 1, true))
  assert.is_nil(text:find("sig=s3cr3t", 1, true))
  assert.is_nil(text:find("s3cr3t", 1, true))
end

describe("secrets stay on TLS", function()
  local srv
  before_each(function() srv = fake_server() end)
  after_each(function() srv:close() end)

  local function client(opts)
    local o = { endpoint = srv.url, subscription_id = SUB, allow_http = true, proxy = srv.url,
      retry = { max_attempts = 1 } }
    for k, v in pairs(opts or {}) do o[k] = v end
    local c = azrp.client(o)
    c:set_token(TOKEN)
    return c
  end

  describe("user-info", function()
    it("refuses an endpoint whose prefix looks like loopback but whose host is not", function()
      for _, ep in ipairs{ "http://127.0.0.1@192.0.2.2", "http://localhost:x@192.0.2.2/",
                           "https://user:pass@management.azure.com" } do
        local ok, err = pcall(azrp.client, { endpoint = ep, allow_http = true })
        assert.is_false(ok)
        assert.matches("option 'endpoint' carries user-info", err, 1, true)
      end
    end)

    it("fails a raw request to a user-info URL, with or without a token, and sends nothing", function()
      local c = client()
      for _, auth in ipairs{ true, false } do
        local op = c:request{ url = "http://127.0.0.1@192.0.2.2/x?sig=s3cr3t", auth = auth }
        local v, err = drive(c, op, srv)
        assert.is_nil(v)
        assert.are.equal("InvalidUrl", err.code)
        assert.matches("the request URL http://REDACTED@192.0.2.2/x?sig=REDACTED carries user-info", err.message, 1, true)
        no_secret(err)
      end
      assert.are.equal(0, #srv.seen)
      c:close()
    end)

    for _, header in ipairs{ "Azure-AsyncOperation", "Location" } do
      it("fails an operation whose " .. header .. " URL carries user-info, without following it", function()
        local c = client()
        local op = c:virtual_machines_deallocate{ resource_group_name = "rg", vm_name = "vm" }
        local v, err = drive(c, op, srv, function()
          return 202, { [header] = "http://127.0.0.1@192.0.2.2/op?sig=s3cr3t", ["Retry-After"] = "0" }
        end)
        assert.is_nil(v)
        assert.are.equal("InvalidUrl", err.code)
        assert.matches("the " .. header .. " URL http://REDACTED@192.0.2.2/op", err.message, 1, true)
        no_secret(err)
        assert.are.equal(1, #srv.seen)   -- the POST only
        assert.are.equal(1, srv.seen[1].line:find("POST " .. srv.url .. VM_PATH .. "/deallocate?", 1, true))
        c:close()
      end)
    end
  end)

  describe("plain http", function()
    it("sends a token to a loopback http endpoint only with allow_http", function()
      local c = client()
      local op = c:virtual_machines_get{ resource_group_name = "rg", vm_name = "vm" }
      local v = drive(c, op, srv, function() return 200, {}, json.encode{ name = "vm" } end)
      assert.are.equal("vm", v.name)
      assert.are.equal("Bearer " .. TOKEN, srv.seen[1].headers.authorization)
      c:close()
      c = client{ allow_http = false }
      op = c:virtual_machines_get{ resource_group_name = "rg", vm_name = "vm" }
      local _, err = drive(c, op, srv)
      assert.are.equal("InsecureTransport", err.code)
      assert.are.equal(1, #srv.seen)
      c:close()
    end)

    it("does not follow an Azure-AsyncOperation URL to a plain-http host that is not loopback", function()
      local c = client()
      local op = c:virtual_machines_deallocate{ resource_group_name = "rg", vm_name = "vm" }
      local v, err = drive(c, op, srv, function()
        return 202, { ["Azure-AsyncOperation"] = "http://192.0.2.2/op", ["Retry-After"] = "0" }
      end)
      assert.is_nil(v)
      assert.are.equal("InsecureTransport", err.code)
      assert.matches("Azure-AsyncOperation URL http://192.0.2.2/op is plain http", err.message, 1, true)
      no_secret(err)
      assert.are.equal(1, #srv.seen)
      c:close()
    end)

    it("refuses a SAS URL (sig=) over plain http to another host, even without a token", function()
      local c = client()
      local op = c:request{ url = "http://192.0.2.2/disk.vhd?sv=2020&sig=s3cr3t" }
      local v, err = drive(c, op, srv)
      assert.is_nil(v)
      assert.are.equal("InsecureTransport", err.code)
      no_secret(err)
      -- without a signature it is an ordinary request (here through the proxy)
      op = c:request{ url = "http://192.0.2.2/public" }
      v = drive(c, op, srv, function() return 200, {}, "ok" end)
      assert.are.equal(200, v.status)
      assert.are.equal("GET http://192.0.2.2/public HTTP/1.1", srv.seen[1].line)
      c:close()
    end)

    it("list() returns nil, err for a nextLink over plain http to another host (no raise, nothing sent)", function()
      local c = client()
      local items, err
      local first = c:disks_list{}
      local page = drive(c, first, srv, function()
        return 200, {}, json.encode{ value = { { name = "d1" } }, nextLink = "http://192.0.2.2/next?api-version=x" }
      end)
      assert.are.equal("d1", page.value[1].name)
      -- the same through list(): the wait function serves the fake server
      items, err = c:list("Disks_List", {}, function(op)
        return drive(c, op, srv, function()
          return 200, {}, json.encode{ value = { { name = "d1" } }, nextLink = "http://192.0.2.2/next?x=1" }
        end)
      end)
      assert.is_nil(items)
      assert.are.equal("InsecureTransport", err.code)
      assert.are.equal(2, #srv.seen)   -- the two first pages, never the nextLink
      items, err = c:list("Disks_List", {}, function(op)
        return drive(c, op, srv, function()
          return 200, {}, json.encode{ value = {}, nextLink = "https://user:pw@192.0.2.2/next" }
        end)
      end)
      assert.is_nil(items)
      assert.are.equal("InvalidUrl", err.code)
      assert.is_nil(err.message:find("pw", 1, true))
      items, err = c:list("Disks_List", {}, function(op)
        return drive(c, op, srv, function() return 200, {}, json.encode{ value = {}, nextLink = 42 } end)
      end)
      assert.is_nil(items)
      assert.are.equal("InvalidNextLink", err.code)
      c:close()
    end)
  end)

  describe("insecure_skip_tls_verify", function()
    it("replaces verify = false, which is refused with a pointer to the new name", function()
      local ok, err = pcall(azrp.client, { endpoint = "https://127.0.0.1:9", verify = false })
      assert.is_false(ok)
      assert.matches("unknown option 'verify'", err, 1, true)
    end)

    it("sends no token to a host that is not loopback", function()
      local c = client{ endpoint = "https://192.0.2.2", insecure_skip_tls_verify = true }
      local op = c:virtual_machines_get{ resource_group_name = "rg", vm_name = "vm" }
      local v, err = drive(c, op, srv)
      assert.is_nil(v)
      assert.are.equal("InsecureTransport", err.code)
      assert.matches("insecure_skip_tls_verify", err.message, 1, true)
      no_secret(err)
      assert.are.equal(0, #srv.seen)
      c:close()
    end)
  end)
end)

describe("insecure_skip_tls_verify against the emulator", function()
  local C = require "support.client"
  local em
  setup(function() em = C.start() end)
  teardown(function() if em then em:stop() end end)

  it("is needed without the emulator's CA, and then works for its loopback endpoint", function()
    local function without_ca(opts)
      local c = C.client(em, opts)
      local o = { endpoint = em.url, subscription_id = C.SUB, credential = c.credential }
      c:close()
      for k, v in pairs(opts or {}) do o[k] = v end
      return azrp.client(o)
    end
    local strict = without_ca()
    local _, err = strict:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" })
    assert.are.equal("tls", err.kind)
    strict:close()
    local lax = without_ca{ insecure_skip_tls_verify = true }
    local vm = assert(lax:call("VirtualMachines_Get", { resource_group_name = C.RG, vm_name = "vm-app-01" }))
    assert.are.equal("vm-app-01", vm.name)
    lax:close()
  end)
end)
