-- `azrp emulator`: command line, start-up and shutdown of the emulator.
local M = {}

M.USAGE = [[
usage: azrp emulator [options]

  --host HOST          address to listen on (default 127.0.0.1)
  --port N             HTTPS port (default 8443; 0 picks a free one)
  --tls | --no-tls     serve HTTPS with the emulator's private CA (default) or plain HTTP
  --http-port N        also serve plain HTTP on N (IMDS clients use http://)
  --seed FILE          starting fleet (.lua or .json); default: the built-in demo fleet
  --time-scale X       multiply every nominal duration by X (default 1; 0.01 = 100x faster)
  --faults SPEC        inject faults, e.g. "429=0.05,500=0.02,reset=0.01,seed=7"; also 429bare,
                       503, truncate, slow, failed, canceled, expired, region_down=REGION
                       (see lua/azrp/emulator/faults.lua)
  --no-throttle        turn ARM's request-rate limits off
  --throttle SPEC      ARM's limits per subscription and principal, KIND=SIZE/RATE for read,
                       write or delete (default "read=250/25,write=200/10,delete=200/10")
  --lro-style STYLE    how long-running operations are announced: async (Azure-AsyncOperation
                       and Location, the default), location (Location only) or state (neither:
                       clients follow provisioningState), to test every ARM polling style
  --state FILE         load the model (resources and disk bytes) from FILE if it exists,
                       and save it there on SIGTERM/SIGINT and on POST /_emulator/state/save
  --state-dir DIR      where the CA (ca.pem, ca.key) is kept (default ~/.cache/azrp-emulator)
  --ready-file FILE    write {"url", "ca_file", "tenant", "subscription", "client_id",
                       "client_secret", "time_scale"} there (mode 0600) once listening
  --log FILE           append the request log as JSON lines ("-" = stderr)
  --page-size N        items per page of list operations (default 50)
  -h, --help           this text
]]

local FLAGS = { tls = true, ["no-tls"] = true, ["no-throttle"] = true, help = true, h = true, verbose = true }
local VALUED = { host = true, port = true, ["http-port"] = true, seed = true, ["time-scale"] = true,
  faults = true, throttle = true, state = true, ["lro-style"] = true, ["state-dir"] = true, ["ready-file"] = true, log = true, ["page-size"] = true }

-- Parses argv; returns options or nil and a message naming the bad one.
function M.parse(argv)
  local o = { host = "127.0.0.1", port = 8443, tls = true, time_scale = 1, page_size = 50 }
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^%-%-?([%w%-]+)=(.*)$")
    name = name or a:match("^%-%-?([%w%-]+)$")
    if not name then return nil, string.format("unexpected argument '%s'", a) end
    local value
    if VALUED[name] then
      value = inline
      if value == nil then
        i = i + 1
        value = argv[i]
        if value == nil then return nil, string.format("option --%s needs a value", name) end
      end
    elseif not FLAGS[name] then
      return nil, string.format("unknown option --%s (see --help)", name)
    end
    local function int(label, lo, hi)
      local n = tonumber(value)
      if not n or n ~= math.floor(n) or n < lo or n > hi then
        return nil, string.format("--%s must be an integer from %d to %d, got '%s'", label, lo, hi, value)
      end
      return math.tointeger(n)
    end
    local err
    if name == "help" or name == "h" then o.help = true
    elseif name == "tls" then o.tls = true
    elseif name == "no-tls" then o.tls = false
    elseif name == "no-throttle" then
      if type(o.throttle) == "table" then return nil, "--throttle and --no-throttle: one or the other" end
      o.throttle = false
    elseif name == "verbose" then o.verbose = true
    elseif name == "host" then o.host = value
    elseif name == "port" then o.port, err = int("port", 0, 65535)
    elseif name == "http-port" then o.http_port, err = int("http-port", 0, 65535)
    elseif name == "page-size" then o.page_size, err = int("page-size", 1, 1000)
    elseif name == "time-scale" then
      local x = tonumber(value)
      if not x or x <= 0 or x > 1000 then
        return nil, string.format("--time-scale must be a number above 0 and at most 1000, got '%s'", value)
      end
      o.time_scale = x
    elseif name == "seed" then o.seed_file = value
    elseif name == "faults" then o.faults = value
    elseif name == "throttle" then
      if o.throttle == false then return nil, "--throttle and --no-throttle: one or the other" end
      o.throttle, err = require("azrp.emulator.throttle").parse(value)
    elseif name == "lro-style" then
      if value ~= "async" and value ~= "location" and value ~= "state" then
        return nil, string.format("--lro-style must be async, location or state, got '%s'", value)
      end
      o.lro_style = value
    elseif name == "state-dir" then o.state_dir = value
    elseif name == "state" then o.state_file = value
    elseif name == "ready-file" then o.ready_file = value
    elseif name == "log" then o.log = value
    end
    if err then return nil, err end
    if (name == "port" or name == "http-port" or name == "page-size") and not o[name:gsub("%-", "_")] then
      return nil, string.format("--%s: bad value '%s'", name, value)
    end
    i = i + 1
  end
  return o
end

local function mkdir_p(dir)
  os.execute(string.format("mkdir -p '%s'", dir:gsub("'", "'\\''")))
end

local function default_state_dir()
  local base = os.getenv("XDG_CACHE_HOME") or ((os.getenv("HOME") or "/tmp") .. "/.cache")
  return base .. "/azrp-emulator"
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Writes text to path with mode 0600 (it holds a secret), through a
-- temporary file renamed into place so that a reader never sees half of
-- it.  The file is created empty under umask 077 before the secret is
-- written: no moment when it is readable by others.
local function write_private(path, text)
  local tmp = path .. ".tmp"
  os.remove(tmp)
  local made = os.execute("umask 077 && : > " .. shell_quote(tmp))
  if made ~= true and made ~= 0 then return nil, "cannot create " .. tmp end
  local f, err = io.open(tmp, "w")
  if not f then return nil, err end
  local ok, werr = f:write(text)
  f:close()
  if not ok then os.remove(tmp); return nil, werr end
  local moved, merr = os.rename(tmp, path)
  if not moved then os.remove(tmp); return nil, merr end
  return true
end

local function fail(msg)
  io.stderr:write("azrp emulator: ", msg, "\n")
  return 2
end

-- Runs the emulator until SIGTERM or SIGINT; returns an exit code.
function M.run(argv)
  local o, perr = M.parse(argv)
  if not o then return fail(perr) end
  if o.help then io.stdout:write(M.USAGE); return 0 end
  local ok, derr = require("azrp.emulator.deps").setup()
  if not ok then return fail(derr) end

  local cqueues = require "cqueues"
  local signal = require "cqueues.signal"
  local json = require "azrp.emulator.json"
  local app_mod = require "azrp.emulator.app"
  local seed_mod = require "azrp.emulator.seed"
  local server = require "azrp.emulator.server"

  local seed
  if o.seed_file then
    local s, serr = seed_mod.load(o.seed_file)
    if not s then return fail(serr) end
    seed = s
  end
  local sink
  if o.log == "-" then sink = io.stderr
  elseif o.log then
    local f, ferr = io.open(o.log, "a")
    if not f then return fail("--log: " .. tostring(ferr)) end
    sink = f
  end
  -- The token signing key is kept in the state directory (mode 0600), as
  -- the CA is: tokens minted before a restart still verify, and an
  -- emulator started on a directory that has one does not spend 0.15 s
  -- making an RSA key (the specs start hundreds of emulators).
  local state_dir = o.state_dir or default_state_dir()
  mkdir_p(state_dir)
  local signing_key
  do
    local key_path = state_dir .. "/signing.key"
    local f = io.open(key_path, "rb")
    local pem = f and f:read("a")
    if f then f:close() end
    local pkey = require "openssl.pkey"
    local ok, key = pcall(pkey.new, pem or "", "PEM")
    if pem and ok and key:type() == "rsaEncryption" then
      signing_key = key
    else
      signing_key = pkey.new{ type = "RSA", bits = 2048 }
      local wok, werr = write_private(key_path, signing_key:toPEM("privateKey"))
      if not wok then return fail("signing key " .. key_path .. ": " .. tostring(werr)) end
    end
  end
  local built, app = pcall(app_mod.new, { time_scale = o.time_scale, seed = seed, faults = o.faults,
    throttle = o.throttle, log_sink = sink, page_size = o.page_size, state_file = o.state_file, lro_style = o.lro_style,
    signing_key = signing_key })
  if not built then return fail(tostring(app)) end

  local cq = cqueues.new()
  local tls_ctx, ca_file
  if o.tls then
    local dir = state_dir
    local hosts = { "localhost", "127.0.0.1", "::1" }
    if o.host ~= "127.0.0.1" and o.host ~= "localhost" and o.host ~= "::1" then table.insert(hosts, 1, o.host) end
    local tok, ctx, file = pcall(require("azrp.emulator.tls").context, dir, hosts)
    if not tok then return fail("TLS setup failed: " .. tostring(ctx)) end
    tls_ctx, ca_file = ctx, file
  end
  local srv, port = server.listen{ app = app, host = o.host, port = o.port, tls_ctx = tls_ctx, cq = cq,
    verbose = o.verbose }
  if not srv then return fail(string.format("cannot listen on %s:%d: %s", o.host, o.port, tostring(port))) end
  local plain, plain_port
  if o.http_port then
    plain, plain_port = server.listen{ app = app, host = o.host, port = o.http_port, cq = cq, verbose = o.verbose }
    if not plain then return fail(string.format("cannot listen on %s:%d: %s", o.host, o.http_port, tostring(plain_port))) end
  end
  local host = o.host:find(":", 1, true) and ("[" .. o.host .. "]") or o.host
  local url = string.format("%s://%s:%d", o.tls and "https" or "http", host, port)
  -- The ready file is how clients find the emulator, and it names the
  -- seeded app whose secret the emulator accepts, so that nothing else
  -- needs to carry that secret.
  local demo_app
  for _, a in ipairs(app.seed.apps or {}) do
    if a.secret then demo_app = a; break end
  end
  local ready = { url = url, ca_file = ca_file,
    http_url = plain_port and string.format("http://%s:%d", host, plain_port) or nil,
    tenant = app.seed.tenants[1].id, subscription = app.seed.subscriptions[1].id,
    client_id = demo_app and demo_app.client_id, client_secret = demo_app and demo_app.secret,
    time_scale = o.time_scale }
  if o.ready_file then
    local ok, werr = write_private(o.ready_file, json.encode(ready) .. "\n")
    if not ok then return fail("--ready-file: " .. tostring(werr)) end
  end
  io.stdout:write(string.format("azrp emulator ready url=%s ca_file=%s%s\n", url, ca_file or "-",
    plain_port and (" http_url=" .. ready.http_url) or ""))
  io.stdout:flush()

  signal.block(signal.SIGTERM, signal.SIGINT)
  local stop = signal.listen(signal.SIGTERM, signal.SIGINT)
  local running = true
  cq:wrap(function()
    stop:wait()
    running = false
    srv:close()
    if plain then plain:close() end
  end)
  while running do
    local sok, serr = cq:step(1)
    if not sok and running then io.stderr:write("azrp emulator: ", tostring(serr), "\n") end
  end
  if sink and sink ~= io.stderr then sink:close() end
  if o.state_file then
    local sok, serr = app:save_state(o.state_file)
    if not sok then return fail("--state: could not save: " .. tostring(serr)) end
  end
  return 0
end

return M
