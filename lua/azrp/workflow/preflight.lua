--- azrp.workflow.preflight: checks a workflow makes before it creates
-- anything -- the region exists for the subscription, and it has the
-- vCPUs a VM needs -- with errors that name the config field.
--
--     local preflight = require "azrp.workflow.preflight"
--     local ok, err = preflight.region(client, cfg.dr_location, "dr_location")
--     ok, err = preflight.cores(client, cfg.dr_location, size, 1,
--       { field = "dr_location", warn = function(msg) ctx:emit{ type = "note", message = msg } end })
--
-- region() reads Subscriptions_ListLocations once per client.  cores()
-- reads VirtualMachineSizes_List and Usage_List: a subscription or cloud
-- that does not offer them (404, 403) is only a warning ("where cheap"),
-- never a refusal.  Both return true, or nil and an azrp.error of kind
-- "invalid", code PreflightFailed, target the field.
local azrp = require "azrp"

local M = {}

local cache = setmetatable({}, { __mode = "k" })  -- client -> { region name -> true }

local function fail(field, fmt, ...)
  return nil, azrp.error{ kind = "invalid", code = "PreflightFailed", target = field,
    message = field .. ": " .. string.format(fmt, ...), retryable = false }
end

local function absent(err) return err and (err.status == 404 or err.status == 403) end

local function check_args(client, name, level)
  if type(client) ~= "table" then error("preflight: client expected", level + 1) end
  if type(name) ~= "string" then error("preflight: region name must be a string", level + 1) end
end

--- region(client, name [, field]) -> true | nil, err: name (any spelling
-- ARM accepts) is a region of the client's subscription.
function M.region(client, name, field)
  check_args(client, name, 2)
  field = field or "location"
  local want = azrp.location(name)
  if not want then return fail(field, "%q is not a region name", name) end
  local known = cache[client]
  if not known then
    local items, err = client:list("Subscriptions_ListLocations", {})
    if not items then return nil, err end
    known = {}
    for _, l in ipairs(items) do
      if type(l.name) == "string" then known[l.name:lower()] = true end
    end
    cache[client] = known
  end
  if known[want] then return true end
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  local near = azrp.suggest(want, names)
  return fail(field, "region %s does not exist for this subscription%s", want,
    near and string.format(" (did you mean %s?)", near) or "")
end

local function warn(opts, fmt, ...)
  local msg = string.format(fmt, ...)
  if opts.warn then opts.warn(msg) end
  return true, msg
end

--- cores(client, location, size, count [, opts]) -> true [, warning] | nil, err:
-- count VMs of size fit location's free Total Regional vCPUs and the
-- size family's.  opts.field names the config field (default
-- "location"), opts.warn(message) hears what could not be checked.
function M.cores(client, location, size, count, opts)
  check_args(client, location, 2)
  if type(size) ~= "string" then error("preflight.cores: size must be a string", 2) end
  opts = opts or {}
  count = count or 1
  local field = opts.field or "location"
  local loc = azrp.location(location) or location
  local sizes, err = client:list("VirtualMachineSizes_List", { location = loc })
  if not sizes then
    if absent(err) then return warn(opts, "VM sizes of %s not readable (%s): vCPU quota not checked", loc, tostring(err.code)) end
    return nil, err
  end
  local cores
  for _, s in ipairs(sizes) do
    if type(s.name) == "string" and s.name:lower() == size:lower() then cores = tonumber(s.numberOfCores) end
  end
  if not cores then return fail(field, "VM size %s is not offered in %s", size, loc) end
  local needed = cores * count
  local usages
  usages, err = client:list("Usage_List", { location = loc })
  if not usages then
    if absent(err) then return warn(opts, "vCPU usage of %s not readable (%s): quota not checked", loc, tostring(err.code)) end
    return nil, err
  end
  -- the family row: Azure names it after the size ("standardDSv5Family"
  -- for Standard_D2s_v5), from the letters and version of the size
  local letters, extra, version = size:gsub("^%a+_", "", 1):match("^(%a+)%d+[%-%d]*(%a*)_?(v?%d*)$")
  -- (Standard_D4ds_v5: DDSv5, Standard_B2ms: BS -- the m of memory is not in it)
  local fam_key = letters and ("standard" .. letters .. extra:gsub("m", "") .. version .. "family"):lower()
  for _, u in ipairs(usages) do
    local key = type(u.name) == "table" and type(u.name.value) == "string" and u.name.value:lower()
    local limit, used = tonumber(u.limit), tonumber(u.currentValue)
    if key and limit and used and (key == "cores" or key == fam_key) then
      local free = limit - used
      if needed > free then
        local what = key == "cores" and "Total Regional vCPUs" or u.name.value
        return fail(field, "%s in %s: %d vCPUs needed for %d x %s, %d free (limit %d, in use %d)",
          what, loc, needed, count, size, math.max(free, 0), limit, used)
      end
    end
  end
  return true
end

return M
