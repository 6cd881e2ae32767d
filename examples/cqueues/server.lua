--- An HTTP server on cqueues (lua-http) that creates restore points with
-- azrp.loop.cqueues: azrp's operations are cqueues pollables, waited on
-- in the server's own coroutines beside every other connection.
--
--     AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... \
--     AZURE_SUBSCRIPTION_ID=... lua5.4 examples/cqueues/server.lua 8090
--
--     GET /restore-points?rg=RG&collections=C1,C2,...&name=RP
--         creates RP in every collection at once and streams a line as
--         each one ends (chunked), then a summary line
--     GET /ping   answers at once, whatever azrp is doing
--
-- AZRP_ENDPOINT and AZRP_CA_FILE point it at another endpoint (the
-- emulator); spec/hosts/cqueues_spec.lua runs this file against it.
-- Debian packages lua-http for Lua <= 5.3 only, while cqueues, luaossl
-- and cjson are built for 5.4 too: lua-http's sources are version-neutral,
-- so on 5.4 Debian's 5.3 and 5.1 trees (lua-fifo, lpeg_patterns, basexx
-- live in the 5.1 one) go at the end of package.path.
package.path = package.path .. ";/usr/share/lua/5.3/?.lua;/usr/share/lua/5.3/?/init.lua" ..
  ";/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua"
local cqueues = require "cqueues"
local condition = require "cqueues.condition"
local http_server = require "http.server"
local http_headers = require "http.headers"
local azrp = require "azrp"
local loop = require "azrp.loop.cqueues"

local credential = assert(azrp.credentials.environment())
local client = azrp.client{
  subscription_id = assert(os.getenv("AZURE_SUBSCRIPTION_ID"), "AZURE_SUBSCRIPTION_ID is not set"),
  endpoint = os.getenv("AZRP_ENDPOINT"),
  ca_file = os.getenv("AZRP_CA_FILE"),
  credential = credential,
  max_connections = 8,
}

local NAME = "^[%w][%w_.-]*$"

local function reply(stream, status, body)
  local h = http_headers.new()
  h:append(":status", tostring(status))
  h:append("content-type", "text/plain")
  h:append("content-length", tostring(#body))
  stream:write_headers(h, false)
  stream:write_chunk(body, true)
end

local function query(path)
  local q = {}
  for k, v in (path:match("%?(.*)$") or ""):gmatch("([^&=]+)=([^&]*)") do q[k] = v end
  return q
end

-- The lines of the operations' ends go through one queue, so that only the
-- stream's own coroutine writes to it.
local function create_restore_points(stream, q)
  local rg, name, list = q.rg, q.name, q.collections
  if not (rg and rg:match(NAME)) then return reply(stream, 400, "rg: a resource group name is required\n") end
  if not (name and name:match(NAME)) then return reply(stream, 400, "name: a restore point name is required\n") end
  local collections = {}
  for c in (list or ""):gmatch("[^,]+") do
    if not c:match(NAME) then return reply(stream, 400, "collections: bad collection name " .. c .. "\n") end
    collections[#collections + 1] = c
  end
  if #collections == 0 then return reply(stream, 400, "collections: a comma-separated list is required\n") end

  local h = http_headers.new()
  h:append(":status", "200")
  h:append("content-type", "text/plain")
  stream:write_headers(h, false)
  stream:write_chunk("started " .. #collections .. "\n", false)
  local queue, ready = {}, condition.new()
  local ok_n, failed_n, left = 0, 0, #collections
  local function push(line) queue[#queue + 1] = line; ready:signal() end
  local cq = cqueues.running()
  for _, coll in ipairs(collections) do
    local op, err = client:restore_points_create{ resource_group_name = rg,
      restore_point_collection_name = coll, restore_point_name = name, body = { properties = {} } }
    if not op then
      failed_n, left = failed_n + 1, left - 1
      push(string.format("failed %s %s", coll, tostring(err)))
    else
      cq:wrap(function()
        local rp, werr = loop.wait(op, 600)
        left = left - 1
        if rp then
          ok_n = ok_n + 1
          push(string.format("done %s %s %s (%d/%d)", coll, rp.name, rp.properties.provisioningState,
            ok_n + failed_n, #collections))
        else
          failed_n = failed_n + 1
          push(string.format("failed %s %s (%d/%d)", coll, tostring(werr), ok_n + failed_n, #collections))
        end
      end)
    end
  end
  while left > 0 or #queue > 0 do
    if #queue == 0 then ready:wait() end
    local lines = table.concat(queue, "\n") .. "\n"
    queue = {}
    stream:write_chunk(lines, false)
  end
  stream:write_chunk(string.format("finished ok=%d failed=%d\n", ok_n, failed_n), true)
end

local server = assert(http_server.listen{
  host = "127.0.0.1", port = tonumber(arg[1]) or 8090, tls = false,
  onstream = function(_, stream)
    local req = assert(stream:get_headers())
    local path = req:get(":path")
    if path == "/ping" then return reply(stream, 200, "pong\n") end
    if path:match("^/restore%-points%?") then return create_restore_points(stream, query(path)) end
    return reply(stream, 404, "not found\n")
  end,
  onerror = function(_, ctx, op, err) io.stderr:write(string.format("%s on %s: %s\n", op, tostring(ctx), tostring(err))) end,
})
assert(server:listen())
io.stdout:write("listening\n")
io.stdout:flush()
assert(server:loop())
