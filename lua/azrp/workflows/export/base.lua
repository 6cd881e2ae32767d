--- azrp.workflows.export.base: an incremental export's base, the image
-- an earlier export wrote of the same disk.  Checked in the config (the
-- fields together, a base of the source's kind), against Azure (the same
-- disk, taken earlier, an image of the right size and, given, digest),
-- and made the starting point of the new image: a sparse copy, with the
-- ranges cleared since punched out.
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local pages = require "azrp.workflows.export.pages"
local sources = require "azrp.workflows.export.sources"
local vhd = require "azrp.workflows.export.vhd"

local M = {}

local config_error = workflow.config_error

local function io_error(code, msg)
  return azrp.error{ kind = "io", code = code, retryable = false, message = tostring(msg) }
end

--- file_size(path) -> bytes | nil when it cannot be read.
function M.file_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

local file_size = M.file_size

--- check(config) -> true | nil, err: the incremental fields, all of
-- base_image and base_source_id or none; the base a source of the same
-- kind as the source, and not the source.
function M.check(c)
  if not c.base_image and not c.base_source_id then
    if c.base_sha256 then return nil, config_error("base_sha256", "is given without base_image") end
    return true
  end
  if not c.base_image then return nil, config_error("base_image", "is required with base_source_id (the earlier image)") end
  if not c.base_source_id then
    return nil, config_error("base_source_id", "is required with base_image (what the earlier image was read from)")
  end
  local src, base = sources.of(c.source_id), sources.of(c.base_source_id)
  if not base or base.kind == "sas_disk" then
    return nil, config_error("base_source_id", "%q is not the id of a disk restore point or a snapshot", c.base_source_id)
  end
  if src.kind ~= base.kind then
    return nil, config_error("base_source_id", "%s is not of the same kind as source_id %s", c.base_source_id, c.source_id)
  end
  if c.base_source_id:lower() == c.source_id:lower() then
    return nil, config_error("base_source_id", "is source_id itself: nothing would change")
  end
  if c.base_sha256 and not c.base_sha256:match("^" .. string.rep("%x", 64) .. "$") then
    return nil, config_error("base_sha256", "must be 64 hexadecimal digits")
  end
  if not file_size(c.base_image) then return nil, config_error("base_image", "%s cannot be read", c.base_image) end
  if c.base_image == c.output then return nil, config_error("base_image", "is the output: the copy is patched, not the base") end
  return true
end

-- The disk a restore point's or a snapshot's bytes came from.
local function origin(p)
  return p.sourceResourceId or (p.creationData and p.creationData.sourceResourceId)
end

--- check_source(ctx, src, props) -> true | nil, err: the base is of the
-- same disk as the source (props), taken earlier, and the image the size
-- of this export's (a disk resized since cannot be patched); its digest
-- when the config gives one.
function M.check_source(ctx, src, p)
  local cfg = ctx.config
  local body, err = ctx.client:call(src.get, { id = cfg.base_source_id })
  if not body then
    if err.status == 404 then return nil, config_error("base_source_id", "no %s", cfg.base_source_id) end
    return nil, err
  end
  local bp = body.properties or {}
  local a, b = origin(p), origin(bp)
  if a and b and a:lower() ~= b:lower() then
    return nil, config_error("base_source_id", "was taken of disk %s, source_id of disk %s: a diff needs the same disk", b, a)
  end
  if bp.timeCreated and p.timeCreated and bp.timeCreated > p.timeCreated then
    return nil, config_error("base_source_id", "was taken at %s, after source_id (%s): the base must be the earlier one",
      bp.timeCreated, p.timeCreated)
  end
  local size = ctx.data.source.size_bytes
  local want = size and size + (cfg.format == "vhd" and vhd.SIZE or 0)
  local have = file_size(cfg.base_image)
  if want and have ~= want then
    return nil, config_error("base_image", "%s has %d bytes; a %s image of this disk has %d", cfg.base_image, have,
      cfg.format, want)
  end
  if cfg.base_sha256 then
    local f = io.open(cfg.base_image, "rb")
    local hex = f and azrp.host.image_sha256(f, have)
    if f then f:close() end
    if hex ~= cfg.base_sha256:lower() then
      return nil, config_error("base_sha256", "%s's SHA-256 is %s, not %s", cfg.base_image, tostring(hex), cfg.base_sha256)
    end
  end
  return true
end

--- start(ctx, file, cleared, disk_bytes) -> true | nil, err: the part
-- file a sparse copy of the base image (journalled once on disk), then
-- the ranges cleared since the base punched out (again on a resume: they
-- meet no changed range).
function M.start(ctx, f, cleared, disk_bytes)
  if not ctx.data.base_copied then
    local base, err = io.open(ctx.config.base_image, "rb")
    if not base then return nil, io_error("OpenFailed", err) end
    local size = base:seek("end")
    local n, cerr = azrp.host.image_copy(base, f, size)
    base:close()
    if not n then return nil, io_error("CopyFailed", cerr) end
    local ok, ferr = azrp.host.fsync(f)
    if not ok then return nil, azrp.error{ kind = "io", code = "FsyncFailed", message = tostring(ferr) } end
    ctx:set("base_copied", true)
  end
  local bytes = 0
  for _, r in ipairs(pages.merge(cleared)) do
    local a, b = r[1], math.min(r[2], disk_bytes - 1)
    if a <= b then
      local ok, zerr = azrp.host.image_zero(f, a, b - a + 1)
      if not ok then return nil, io_error("ZeroFailed", zerr) end
      bytes = bytes + b - a + 1
    end
  end
  ctx:set("figure.cleared_bytes", bytes)
  return true
end

return M
