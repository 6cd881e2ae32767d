--- azrp.workflows.restore.plan: what a restore would do, from reads only
-- (`azrp restore --plan`): the preflight step run in a dry context of the
-- runner (no journal, nothing created), then the disks it would create
-- and the VM change as a diff: "+" what comes, "-" what goes, "~" what
-- changes in place.
local runmod = require "azrp.workflow.run"
local common = require "azrp.workflows.restore.common"
local preflight = require "azrp.workflows.restore.preflight"
local restore_disks = require "azrp.workflows.restore.restore_disks"

local M = {}

local function zone_text(zones) return type(zones) == "table" and zones[1] and (" in zone " .. zones[1]) or "" end

-- "+ Premium_LRS 4 GiB in zone 1, encrypted with des-prod, from <drp>"
local function disk_change(d, target)
  local body = restore_disks.body(d, target)
  local enc = body.properties.encryption
  local sec = body.properties.securityProfile
  return string.format("+ %s %s GiB%s%s%s, from %s", d.sku, tostring(d.size_gb), zone_text(body.zones),
    sec and (", " .. sec.securityType) or "",
    enc and (", encrypted with " .. enc.diskEncryptionSetId:match("[^/]+$")) or ", platform-managed keys",
    d.drp:match("[^/]+$"))
end

--- rows(def, client, config) -> { { step, kind, name, change } } | nil, err.
function M.rows(def, client, config)
  local cfg, err = def.check(config)
  if not cfg then return nil, err end
  local ctx = runmod.dry(def, client, cfg)
  local ok
  ok, err = preflight.step(ctx)
  if not ok then return nil, err end
  local d = ctx.data
  local out = {}
  local function add(step, kind, name, change) out[#out + 1] = { step = step, kind = kind, name = name, change = change } end
  add("preflight", "restore_point", d.restore_point.name, "restore from " .. d.restore_point.id)
  for _, x in ipairs(d.disk_plan) do
    add("restore_disks", "disk", ctx:name(common.suffix(x)), disk_change(x, d.target))
  end
  if cfg.mode == "new" then
    add("network", "nic", ctx:name("nic"), "+ in " .. cfg.subnet_id)
    add("create_vm", "vm", cfg.vm_name or ctx:name("vm"), "+ " .. tostring(d.shape.size) .. " in " .. d.target.location
      .. zone_text(d.target.zones))
    for _, x in ipairs(d.disk_plan) do
      add("create_vm", "vm", cfg.vm_name or ctx:name("vm"), x.lun
        and string.format("+ lun %d %s (%s)", x.lun, ctx:name(common.suffix(x)), tostring(x.caching))
        or string.format("+ osDisk %s", ctx:name("os")))
    end
  else
    local orig, vm = d.original, d.target.vm_name
    add("deallocate", "vm", vm, "~ power: " .. orig.power .. " -> deallocated")
    add("swap", "vm", vm, "- osDisk " .. orig.os.name)
    add("swap", "vm", vm, "+ osDisk " .. ctx:name("os"))
    local restored = {}
    for _, x in ipairs(d.disk_plan) do if x.lun then restored[x.lun] = x end end
    local had = {}
    for _, o in ipairs(orig.data) do
      had[o.lun] = true
      if restored[o.lun] then
        add("swap", "vm", vm, string.format("- lun %d %s", o.lun, o.name))
        add("swap", "vm", vm, string.format("+ lun %d %s", o.lun, ctx:name(common.suffix(restored[o.lun]))))
      end
    end
    for _, x in ipairs(d.disk_plan) do
      if x.lun and not had[x.lun] then add("swap", "vm", vm, string.format("+ lun %d %s", x.lun, ctx:name(common.suffix(x)))) end
    end
    local start = cfg.start
    if start == nil then start = orig.power == "running" end
    if start then add("start", "vm", vm, "~ power: deallocated -> running") end
    add("originals", "disk", orig.os.name .. " and the replaced data disks",
      cfg.delete_originals and "- deleted once the VM is healthy" or "kept")
  end
  return out
end

return M
