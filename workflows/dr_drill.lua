-- The DR drill from the command line (logic: lua/azrp/workflows/dr_drill.lua).
--
--   lua5.4 workflows/dr_drill.lua --ready-file F --vm ID --dr-location northeurope
--          --dr-resource-group rg-dr [--drill-id ID] [--keep] [--json]
--
-- --ready-file is the emulator's ({"url","ca_file","tenant","subscription",
-- "client_id","client_secret"}); the client authenticates as the app it names.  Steps print as
-- they finish; the report follows (JSON on stdout with --json, the steps
-- then going to stderr).  Exit status 0 when the drill passed, 1 otherwise.

-- Run from a checkout: find lua/ and the built core next to this script.
local root = (arg and arg[0] or ""):match("^(.*)/workflows/[^/]*$") or "."
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. (jit and "/build/jit/?.so;" or "/build/5.4/?.so;") .. package.cpath

local json = require "cjson.safe"
local azrp = require "azrp"
local drill = require "azrp.workflows.dr_drill"

local USAGE = "usage: dr_drill.lua --ready-file F --vm ID --dr-location LOC --dr-resource-group RG"
  .. " [--drill-id ID] [--keep] [--json]"

local function die(msg)
  io.stderr:write(msg, "\n")
  os.exit(2)
end

local function parse_args(argv)
  local o = {}
  local flags = { ["--keep"] = "keep", ["--json"] = "json" }
  local values = { ["--ready-file"] = "ready_file", ["--vm"] = "vm", ["--dr-location"] = "dr_location",
    ["--dr-resource-group"] = "dr_resource_group", ["--drill-id"] = "drill_id" }
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if flags[a] then
      o[flags[a]] = true
    elseif values[a] then
      if not argv[i + 1] then die(a .. " needs a value\n" .. USAGE) end
      o[values[a]] = argv[i + 1]
      i = i + 1
    elseif a == "-h" or a == "--help" then
      print(USAGE); os.exit(0)
    else
      die("unknown argument " .. a .. "\n" .. USAGE)
    end
    i = i + 1
  end
  for _, k in ipairs({ "ready_file", "vm", "dr_location", "dr_resource_group" }) do
    if not o[k] then die("missing --" .. k:gsub("_", "-") .. "\n" .. USAGE) end
  end
  return o
end

local function read_ready(path)
  local f, err = io.open(path, "rb")
  if not f then die("cannot read the ready file: " .. tostring(err)) end
  local ready = json.decode(f:read("*a"))
  f:close()
  if type(ready) ~= "table" or not ready.url then die("the ready file " .. path .. " is not an emulator's") end
  if type(ready.client_id) ~= "string" or type(ready.client_secret) ~= "string" then
    die("the ready file " .. path .. " names no client_id and client_secret (an older emulator: restart it)")
  end
  return ready
end

local function make_client(ready)
  return azrp.client{ endpoint = ready.url, ca_file = ready.ca_file, subscription_id = ready.subscription,
    credential = azrp.credentials.client_secret{ tenant_id = ready.tenant, authority_host = ready.url,
      client_id = ready.client_id, client_secret = ready.client_secret },
    poll = { default = 1 } }
end

-- Prints each step as it ends, and the copy's replication as it grows.
local function progress_printer(out)
  return function(step, info)
    if info.state == "progress" then
      out:write(string.format("  %-18s replication %3d %%\n", step, info.percent or 0))
    elseif info.state == "done" then
      out:write(string.format("  %-18s %-4s %7.3f s%s\n", step, info.ok and "ok" or "FAIL", info.seconds,
        info.error and ("  " .. tostring(info.error)) or ""))
    end
    out:flush()
  end
end

local function print_report(r)
  print(string.format("DR drill %s of %s: %s", r.drill_id, r.vm_id, r.ok and "PASSED" or "FAILED"))
  if r.failed_step then print("  failed step:      " .. r.failed_step) end
  print("  restore point:    " .. tostring(r.restore_point_id))
  print("  copy:             " .. tostring(r.copy_id))
  print("  RPO:              " .. (r.rpo_seconds and string.format("%.1f s", r.rpo_seconds) or "-"))
  print("  RTO:              " .. (r.rto_seconds and string.format("%.1f s", r.rto_seconds) or "-"))
  print("  total:            " .. string.format("%.1f s", r.seconds or 0))
  print("  resources created: " .. #r.resources_created)
  for _, res in ipairs(r.resources_created) do
    print(string.format("    %-14s %s%s", res.kind, res.id, res.deleted and " (deleted)" or ""))
  end
  local c = r.cleanup or { ok = false, leftovers = {} }
  print("  cleanup:          " .. (c.ok and "complete" or "INCOMPLETE"))
  for _, l in ipairs(c.leftovers or {}) do print("    left: " .. l.id .. (l.error and ("  " .. l.error) or "")) end
end

local function main(argv)
  local o = parse_args(argv)
  local client = make_client(read_ready(o.ready_file))
  local progress_out = o.json and io.stderr or io.stdout
  progress_out:write("DR drill of ", o.vm, " to ", o.dr_resource_group, " (", o.dr_location, ")\n")
  local report, err, partial = drill.run(client, { vm_id = o.vm, dr_location = o.dr_location,
    dr_resource_group = o.dr_resource_group, drill_id = o.drill_id, keep = o.keep,
    progress = progress_printer(progress_out) })
  report = report or partial
  client:close()
  if o.json then
    print(json.encode(report))
  else
    print_report(report)
  end
  if err then io.stderr:write("error: ", tostring(err), "\n") end
  return report.ok and 0 or 1
end

os.exit(main(arg))
