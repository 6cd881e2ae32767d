-- The emulator's HTTP(S) front end on lua-http.
--
-- It turns each HTTP/1.1 request (keep-alive, many connections at once,
-- one coroutine each under cqueues) into the plain request table app.lua
-- handles, and writes the answer back.  Transport faults chosen by the app
-- (connection drop, truncated body, slow body, a region that does not
-- answer) are carried out here, since
-- only the socket layer can produce them.
local cqueues = require "cqueues"
local http_server = require "http.server"
local http_headers = require "http.headers"
local router = require "azrp.emulator.router"

local M = {}

local BODY_TIMEOUT = 30
local YIELD_BYTES = 4 * 1024 * 1024   -- body bytes written between two yields

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

-- The pieces of a response's body as an iterator: a stream's (reply.stream,
-- made while it is sent), a list of parts' (reply.parts), or the body.
local function pieces_of(res)
  local body = rawget(res, "body")
  local stream = body == nil and rawget(res, "stream")
  if stream then return stream end
  local parts = body == nil and rawget(res, "parts")
  if parts then
    local i = 0
    return function() i = i + 1; return parts[i] end
  end
  local done = false
  return function()
    if done then return nil end
    done = true
    return body or ""
  end
end

local function write_response(stream, req, res, fault)
  local h = http_headers.new()
  h:append(":status", tostring(res.status))
  for k, v in pairs(res.headers) do h:append(k, v) end
  local no_body = req.method == "HEAD" or res.status == 204 or res.status == 304
  if fault and fault.name == "reset" then return drop(stream) end
  if fault and fault.name == "down" then
    -- A region out: no answer at all, until the client gives up (or the
    -- fault's seconds pass and the connection is dropped).
    cqueues.sleep(fault.seconds or 60)
    return drop(stream)
  end
  if no_body then
    stream:write_headers(h, true)
    return
  end
  local length = rawget(res, "length")
  if not length then
    length = #(res.body or "")
    if not res.headers["content-length"] then h:append("content-length", tostring(length)) end
  end
  stream:write_headers(h, false)
  -- Never joined: a body in pieces goes out piece by piece, each written as
  -- the socket drains, so that a body of gigabytes costs a few pieces.
  local name = fault and fault.name
  local cut = name == "truncate" and length > 1 and length // 2
  local slow = name == "slow" and length > 0
  local step = slow and math.max(1, math.ceil(length / 8))
  local pause = slow and (fault.seconds or 2) / 8
  local sent, mark, unyielded = 0, step, 0
  for piece in pieces_of(res) do
    if cut and sent + #piece >= cut then
      -- truncate: half the body, then the connection goes away
      stream:write_chunk(piece:sub(1, cut - sent), false)
      stream.connection:flush(1)
      return drop(stream)
    end
    if slow then
      -- slow: a pause each time another eighth of the body has gone out
      while #piece > 0 do
        local take = math.min(#piece, mark - sent)
        if not stream:write_chunk(piece:sub(1, take), false) then return end
        sent, piece = sent + take, piece:sub(take + 1)
        if sent >= mark then
          stream.connection:flush(1)
          cqueues.sleep(pause)
          mark = mark + step
        end
      end
    else
      -- A client gone mid-body: stop writing to it.
      if not stream:write_chunk(piece, false) then return end
      sent = sent + #piece
      -- A client that reads as fast as the body is made never blocks a
      -- write: let the other connections in between (a whole disk takes
      -- seconds).
      unyielded = unyielded + #piece
      if unyielded >= YIELD_BYTES then
        unyielded = 0
        cqueues.sleep(0)
      end
    end
  end
  stream:write_chunk("", true)
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
    -- lua-http's defaults, 10 s for a client's TLS handshake and 10 s
    -- between two requests of a kept-alive connection, are shorter than
    -- a client under valgrind on a loaded machine needs (spec/c/run.sh's
    -- 300 concurrent transfers saw resets and reconnections).  Azure's
    -- front ends keep an idle connection for minutes.
    connection_setup_timeout = 60, intra_stream_timeout = 60,
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
