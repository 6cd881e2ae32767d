--- azrp.workflow.outage: says which region a request that got no answer
-- was about, so that a run stopped by a regional outage fails naming the
-- region instead of only a URL that timed out.
--
-- The region comes from the run's config: every field ending in
-- "location" (with the resource group of the same prefix: dr_location
-- and dr_resource_group), and lists of { location | name, resource_group }
-- (targets, target_regions).  The request's resource group picks one;
-- otherwise every region of the run is named as a suspect.
local azrp = require "azrp"

local M = {}

-- Errors that mean no answer came: the core's timeout and transport kinds.
M.KINDS = { timeout = true, transport = true }

local function norm(region)
  local ok, v = pcall(azrp.location, region)
  return ok and v or (tostring(region):lower():gsub("%s+", ""))
end

--- regions(config) -> { { region, resource_group?, field }, ... } in field order.
function M.regions(config)
  local out, seen = {}, {}
  local function add(region, rg, field)
    if type(region) ~= "string" or region == "" then return end
    local r = norm(region)
    local key = r .. "|" .. tostring(rg and rg:lower())
    if seen[key] then return end
    seen[key] = true
    out[#out + 1] = { region = r, resource_group = type(rg) == "string" and rg or nil, field = field }
  end
  local keys = {}
  for k in pairs(config or {}) do if type(k) == "string" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = config[k]
    if type(v) == "string" and k:match("location$") then
      add(v, config[k:match("^(.-)location$") .. "resource_group"], k)
    elseif type(v) == "table" and (k:match("region") or k:match("target")) then
      for i, t in ipairs(v) do
        if type(t) == "string" then add(t, nil, string.format("%s[%d]", k, i))
        elseif type(t) == "table" then
          add(t.location or t.name, t.resource_group, string.format("%s[%d].%s", k, i, t.location and "location" or "name"))
        end
      end
    end
  end
  return out
end

--- explain(config, err) -> err, or a copy of it whose message names the
-- region (or regions) the unanswered request was about.
function M.explain(config, err)
  if type(err) ~= "table" or not M.KINDS[err.kind] then return err end
  local list = M.regions(config)
  if #list == 0 then return err end
  local msg = tostring(err.message or "")
  local rg = msg:match("/[Rr]esource[Gg]roups/([^/?%s]+)")
  local hit
  for _, r in ipairs(list) do
    if rg and r.resource_group and r.resource_group:lower() == rg:lower() then hit = r; break end
  end
  local hint
  if hit then
    hint = string.format("no answer from region %s (%s, resource group %s): is the region out?", hit.region, hit.field,
      hit.resource_group)
  else
    local names = {}
    for _, r in ipairs(list) do names[#names + 1] = r.region .. " (" .. r.field .. ")" end
    hint = "no answer within the client's timeout; this run's regions: " .. table.concat(names, ", ")
  end
  local copy = {}
  for k, v in pairs(err) do copy[k] = v end
  copy.message = msg .. " -- " .. hint
  copy.region = hit and hit.region or nil
  return setmetatable(copy, getmetatable(err))
end

return M
