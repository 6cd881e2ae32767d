-- Helpers of the host specs (real nginx, real Neovim, a cqueues server):
-- a free loopback port, a minimal HTTP/1.1 client over cqueues sockets
-- (keep-alive, chunked bodies), latency figures and the BENCHMARKS.md
-- sections the specs write.
local cqueues = require "cqueues"
local socket = require "cqueues.socket"

local H = {}

-- The emulator's service principal and subscription (its seed).
H.SUB = "00000000-0000-4000-8000-000000000001"
H.TENANT = "11111111-1111-4111-8111-111111111111"
H.CLIENT_ID = "22222222-2222-4222-8222-222222222222"
H.SECRET = "azrp-emulator-secret"

H.now = cqueues.monotime

function H.sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("*a")
  p:close()
  return out
end

-- needs(path_or_command, packages): fails with what to install when absent.
function H.needs(what, packages)
  local found = what:find("/", 1, true) and H.read(what) ~= nil or
    H.sh("command -v " .. what .. " 2>/dev/null") ~= ""
  assert(found, what .. " is missing: apt-get install " .. packages .. " (make deps-test installs them)")
end

function H.is_root() return H.sh("id -u"):match("^0") ~= nil end

function H.tmpdir()
  return (H.sh("mktemp -d"):gsub("%s+$", ""))
end

function H.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function H.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- A loopback port nothing listens on (asked of the kernel, then freed).
function H.free_port()
  local l = assert(socket.listen{ host = "127.0.0.1", port = 0 })
  assert(l:listen())
  local _, _, port = l:localname()
  l:close()
  return port
end

-- A keep-alive HTTP/1.1 connection.  conn:get(path) -> status, headers,
-- body; with on_chunk(text), a chunked body is handed over chunk by chunk.
function H.connect(port, timeout)
  local deadline = H.now() + (timeout or 10)
  local s, err
  repeat
    s, err = socket.connect{ host = "127.0.0.1", port = port }
    if s then
      local pok, ok, cerr = pcall(s.connect, s, 1)
      if pok and ok then break end
      cerr = pok and cerr or ok
      s:close(); s, err = nil, cerr
    end
    cqueues.sleep(0.05)
  until H.now() > deadline
  if not s then return nil, err end
  s:setmode("b", "b")
  local conn = {}
  local function line()
    local l, lerr = s:read("*L")
    if not l then error("connection lost: " .. tostring(lerr), 0) end
    return (l:gsub("\r?\n$", ""))
  end
  function conn.get(path, on_chunk)
    assert(s:write("GET " .. path .. " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    assert(s:flush())
    local status = tonumber(line():match("^HTTP/1%.%d (%d+)"))
    local headers = {}
    while true do
      local l = line()
      if l == "" then break end
      local k, v = l:match("^([^:]+):%s*(.*)$")
      headers[k:lower()] = v
    end
    local parts = {}
    if headers["transfer-encoding"] == "chunked" then
      while true do
        local n = tonumber(line():match("^%x+"), 16)
        if n == 0 then line(); break end
        local data = assert(s:read(n))
        line()
        parts[#parts + 1] = data
        if on_chunk then on_chunk(data) end
      end
    else
      local n = tonumber(headers["content-length"] or 0)
      if n > 0 then parts[1] = assert(s:read(n)) end
    end
    return status, headers, table.concat(parts)
  end
  function conn.close() s:close() end
  return conn
end

-- load(port, path) -> stream, pings, idle, busy: pings the server on
-- port 200 times at rest (idle latencies), then GETs path (a streamed
-- body, read line by line) on a second connection while pinging every 2 ms
-- until that body ends (busy latencies).  pings = { sent, ok, bad = {} }.
function H.load(port, path)
  local cq = cqueues.new()
  local stream = { lines = {}, chunks = 0 }
  local idle, busy = {}, {}
  local pings = { sent = 0, ok = 0, bad = {} }
  local done = false
  local conn
  local function ping(into)
    local t0 = H.now()
    local ok, st, headers, body = pcall(conn.get, "/ping")
    local dt = H.now() - t0
    pings.sent = pings.sent + 1
    -- nginx ends a keep-alive connection after 1000 requests (keepalive_requests)
    if ok and headers.connection == "close" then conn.close(); conn = assert(H.connect(port)) end
    if ok and st == 200 and body == "pong\n" then
      pings.ok = pings.ok + 1
      into[#into + 1] = dt
    else
      pings.bad[#pings.bad + 1] = tostring(st) .. " " .. tostring(body)
    end
  end
  cq:wrap(function()
    conn = assert(H.connect(port))
    for _ = 1, 200 do ping(idle); cqueues.sleep(0.002) end
    cq:wrap(function()
      local c2 = assert(H.connect(port))
      local st, headers = c2.get(path, function(chunk)
        stream.chunks = stream.chunks + 1
        for l in chunk:gmatch("[^\n]+") do stream.lines[#stream.lines + 1] = l end
      end)
      stream.status, stream.headers = st, headers
      c2.close()
      done = true
    end)
    while not done do ping(busy); cqueues.sleep(0.002) end
    conn.close()
  end)
  assert(cq:loop(120))
  assert(cq:empty(), "still busy after 120 s")
  return stream, pings, idle, busy
end

-- cpu(pid) -> seconds of CPU (user + system) the process has used.
function H.cpu(pid)
  local stat = H.read("/proc/" .. pid .. "/stat")
  if not stat then return nil end
  local fields = {}
  for f in stat:match("%) (.*)$"):gmatch("%S+") do fields[#fields + 1] = f end
  -- after "pid (comm)": utime and stime are fields 12 and 13 (clock ticks)
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

-- figures(samples in seconds) -> { n, p50, p99, max } in milliseconds.
function H.figures(samples)
  local t = {}
  for i, v in ipairs(samples) do t[i] = v * 1000 end
  table.sort(t)
  local function pct(p)
    if #t == 0 then return 0 end
    return t[math.max(1, math.ceil(#t * p))]
  end
  return { n = #t, p50 = pct(0.50), p99 = pct(0.99), max = t[#t] or 0 }
end

function H.fmt(f)
  return string.format("p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d requests", f.p50, f.p99, f.max, f.n)
end

-- Replaces (or appends) the section between <!-- BEGIN key --> and
-- <!-- END key --> of BENCHMARKS.md at the repository root.
function H.record(key, text)
  local path = "BENCHMARKS.md"
  local doc = H.read(path) or "# Benchmarks\n\nFigures written by the specs and bench/ scripts " ..
    "that measure them (each section names its source).\n"
  local begin_m, end_m = "<!-- BEGIN " .. key .. " -->", "<!-- END " .. key .. " -->"
  local block = begin_m .. "\n" .. text:gsub("%s+$", "") .. "\n" .. end_m
  local a = doc:find(begin_m, 1, true)
  local _, b = doc:find(end_m, 1, true)
  if a and b then
    doc = doc:sub(1, a - 1) .. block .. doc:sub(b + 1)
  else
    doc = doc:gsub("%s+$", "") .. "\n\n" .. block .. "\n"
  end
  H.write(path, doc)
end

function H.machine()
  local cpus = H.sh("nproc"):gsub("%s+", "")
  return string.format("%s CPUs, %s", cpus, os.date("!%Y-%m-%d"))
end

-- start_nginx(em, conf_path, app_dir) -> { port, pid, dir, log(), stop() }:
-- real nginx on a free loopback port (the conf's only listen line changed)
-- in a prefix directory laid out as examples/openresty/nginx.conf
-- describes (conf/, lua/, lib/ = build/jit, app/ = app_dir, logs/), with
-- the emulator's credential in the environment.
function H.start_nginx(em, conf_path, app_dir, extra_env)
  local dir = H.tmpdir()
  local port = H.free_port()
  local conf = assert(H.read(conf_path))
  local n
  conf, n = conf:gsub("listen 127%.0%.0%.1:%d+;", "listen 127.0.0.1:" .. port .. ";")
  assert(n == 1, "the example's listen line was not found")
  local cwd = H.sh("pwd"):gsub("%s+$", "")
  assert(os.execute(string.format("mkdir -p %s/conf %s/logs && ln -s %s/lua %s/lua && " ..
    "ln -s %s/build/jit %s/lib && ln -s %s/%s %s/app",
    dir, dir, cwd, dir, cwd, dir, cwd, app_dir, dir)))
  H.write(dir .. "/conf/nginx.conf", conf)
  -- As root the workers would run as nobody, who cannot read the
  -- private temporary directories: keep them root for the test.
  local globals = "daemon off;" .. (H.is_root() and " user root;" or "")
  local env = string.format("AZURE_TENANT_ID=%s AZURE_CLIENT_ID=%s AZURE_CLIENT_SECRET=%s " ..
    "AZURE_AUTHORITY_HOST=%s AZURE_SUBSCRIPTION_ID=%s AZRP_ENDPOINT=%s AZRP_CA_FILE=%s",
    H.TENANT, H.CLIENT_ID, H.SECRET, em.url, H.SUB, em.url, em.ca_file) .. " " .. (extra_env or "")
  local cmd = string.format("env %s nginx -p %s/ -c %s/conf/nginx.conf -e %s/logs/error.log -g '%s' " ..
    "> %s/logs/stdout.log 2>&1 & echo $!", env, dir, dir, dir, globals, dir)
  local pid = tonumber(H.sh(cmd):match("%d+"))
  local ng = { dir = dir, port = port, pid = pid }
  function ng.log() return H.read(dir .. "/logs/error.log") or ng.last_log or "" end
  -- The worker's pid (nginx -g 'daemon off;' with one worker).
  function ng.worker() return tonumber(H.sh("pgrep -P " .. pid):match("%d+")) end
  -- stop() -> true when nginx ended on its own after a graceful stop
  -- (SIGQUIT) within 10 s; it is killed otherwise.
  function ng.stop()
    if ng.stopped ~= nil then return ng.stopped end
    os.execute("kill -QUIT " .. pid .. " 2>/dev/null")
    ng.stopped = false
    for _ = 1, 200 do
      if not H.sh("kill -0 " .. pid .. " 2>&1 && echo alive"):find("alive") then ng.stopped = true; break end
      os.execute("sleep 0.05")
    end
    ng.last_log = H.read(dir .. "/logs/error.log")
    os.execute("kill -9 " .. pid .. " 2>/dev/null; rm -rf " .. dir)
    return ng.stopped
  end
  return ng
end

return H
