--- azrp.workflow.disks: the step every workflow that restores a VM's disks
-- shares: one managed disk per disk restore point, all created at once
-- (each journalled by ctx:create_all, kind "disk", key "disk:os" or
-- "disk:lun<N>", named ctx:name("os" | "lun<N>")), and the list of what was
-- made kept as ctx.data.disks.
--
--     local disks = require "azrp.workflow.disks"
--     return disks.restore(ctx, {
--       disks = ctx.data.copy.disks,          -- { lun = n | nil, ... }
--       scope = rg_id, rg = "rg-dr",          -- where the disks go
--       keep = false,                         -- what cleanup does with them
--       body = function(d) return {...} end,  -- the Disks_CreateOrUpdate body
--       entry = function(d, id, name) return {...} end,  -- what ctx.data.disks holds
--       error = my_error })                   -- error(code, fmt, ...) -> err
local M = {}

--- suffix(d) -> the name suffix of a restored disk: "os" or "lun<N>".
-- The journal keeps numbers as JSON does: a LUN may come back as 0.0.
function M.suffix(d) return d.lun and string.format("lun%d", d.lun) or "os" end

local function check(o)
  for _, k in ipairs({ "disks", "body", "entry", "error" }) do
    if o[k] == nil then error("azrp.workflow.disks.restore: option " .. k .. " is required", 3) end
  end
  if type(o.scope) ~= "string" or type(o.rg) ~= "string" then
    error("azrp.workflow.disks.restore: options scope and rg must be strings", 3)
  end
end

--- restore(ctx, o) -> true | nil, err: creates a disk of each of o.disks
-- in o.scope (a resource group's ARM id; o.rg its name), with the body
-- o.body(d, name), keep = o.keep; on success ctx:set("disks", entries),
-- entries[i] = o.entry(d, id, name).  A disk that failed: its own error,
-- or o.error("RestoreFailed", "restoring disk %s failed", name).
function M.restore(ctx, o)
  check(o)
  local specs, made = {}, {}
  for _, d in ipairs(o.disks) do
    local sfx = M.suffix(d)
    local name = ctx:name(sfx)
    local id = o.scope .. "/providers/Microsoft.Compute/disks/" .. name
    specs[#specs + 1] = { key = "disk:" .. sfx, kind = "disk", id = id, name = name, op = "Disks_CreateOrUpdate",
      keep = o.keep, params = { resource_group_name = o.rg, disk_name = name, body = o.body(d, name) } }
    made[#made + 1] = o.entry(d, id, name)
  end
  local out, err = ctx:create_all(specs)
  if not out then return nil, err end
  for i, r in ipairs(out) do
    if not r[1] then return nil, r[2] or o.error("RestoreFailed", "restoring disk %s failed", specs[i].name) end
  end
  ctx:set("disks", made)
  return true
end

return M
