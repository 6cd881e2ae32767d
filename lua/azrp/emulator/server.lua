-- The emulator's HTTP(S) front end on lua-http.
--
-- It turns each HTTP/1.1 request (keep-alive, many connections at once,
-- one coroutine each under cqueues) into the plain request table app.lua
-- handles, and writes the answer back.  Transport faults chosen by the app
-- (connection drop, truncated body, slow body) are carried out here, since
-- only the socket layer can produce them.
local cqueues = require "cqueues"
local http_server = require "http.server"
local http_headers = require "http.headers"
local router = require "azrp.emulator.router"

local M = {}

local BODY_TIMEOUT = 30

local function request_of(stream, headers, scheme)
  local method = headers:get(":method")
  local target = headers:get(":path") or "/"
  local path, query = target:match("^([^?]*)%??(.*)$")
  local h = {}
  for name, value in headers:each() do
    if name:sub(1, 1) ~= ":" then
      h[name] = h[name] and (h[name] .. ", " .. value) or value
    end
  end
  local body = ""
  if method ~= "GET" and method ~= "HEAD" then
    body = stream:get_body_as_string(BODY_TIMEOUT) or ""
  end
  local authority = headers:get(":authority") or h.host or "127.0.0.1"
  return { method = method, path = path, query = router.parse_query(query), headers = h,
    body = body, base_url = scheme .. "://" .. authority }
end

local function drop(stream)
  local conn = stream.connection
  if conn and conn.socket then
    pcall(conn.socket.shutdown, conn.socket, "rw")
  end
  pcall(conn.close, conn)
end

local function write_response(stream, req, res, fault)
  local h = http_headers.new()
  h:append(":status", tostring(res.status))
  for k, v in pairs(res.headers) do h:append(k, v) end
  local no_body = req.method == "HEAD" or res.status == 204 or res.status == 304
  if fault and fault.name == "reset" then return drop(stream) end
  -- A body in parts (reply.parts) goes out part by part, never joined.
  local parts = not fault and not no_body and rawget(res, "parts")
  if parts then
    stream:write_headers(h, false)
    local n = #parts
    if n == 0 then return stream:write_chunk("", true) end
    for i = 1, n do
      -- A client gone mid-body: stop writing to it.
      if not stream:write_chunk(parts[i], i == n) then return end
    end
    return
  end
  local body = res.body or ""
  if not res.headers["content-length"] and not no_body then
    h:append("content-length", tostring(#body))
  end
  if no_body then
    stream:write_headers(h, true)
    return
  end
  stream:write_headers(h, false)
  if fault and fault.name == "truncate" and #body > 1 then
    stream:write_chunk(body:sub(1, #body // 2), false)
    stream.connection:flush(1)
    return drop(stream)
  end
  if fault and fault.name == "slow" and #body > 0 then
    local pieces = 8
    local step = math.max(1, math.ceil(#body / pieces))
    local pause = (fault.seconds or 2) / pieces
    for i = 1, #body, step do
      stream:write_chunk(body:sub(i, i + step - 1), false)
      stream.connection:flush(1)
      cqueues.sleep(pause)
    end
    stream:write_chunk("", true)
    return
  end
  stream:write_chunk(body, true)
end

-- opts: app, host, port, tls_ctx (nil: plain HTTP), cq (optional shared
-- controller).  Returns the server (listening) and its port.
function M.listen(opts)
  local app = opts.app
  local scheme = opts.tls_ctx and "https" or "http"
  local srv, err = http_server.listen{
    host = opts.host or "127.0.0.1", port = opts.port or 0,
    tls = opts.tls_ctx ~= nil, ctx = opts.tls_ctx, cq = opts.cq,
    reuseaddr = true, version = 1.1,
    onstream = function(_, stream)
      local ok, headers = pcall(stream.get_headers, stream, BODY_TIMEOUT)
      if not ok or not headers then return end
      local req = request_of(stream, headers, scheme)
      local res = app:handle(req)
      write_response(stream, req, res, req.fault_transport)
    end,
    onerror = function(_, context, op, e)
      -- A client that goes away mid-request is not the emulator's error.
      if opts.verbose then
        io.stderr:write(string.format("emulator: %s %s: %s\n", tostring(context), tostring(op), tostring(e)))
      end
    end,
  }
  if not srv then return nil, err end
  local ok, lerr = srv:listen()
  if not ok then return nil, lerr end
  local _, _, port = srv:localname()
  return srv, port
end

return M
