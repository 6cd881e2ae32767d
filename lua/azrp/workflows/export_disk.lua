--- azrp.workflows.export_disk: the bytes of a disk restore point (or a
-- disk, or a snapshot) read out through a SAS into a local image.
--
--     local export = require "azrp.workflows.export_disk"
--     local report, err = export.run(client, { source_id = DRP_ID, output = "vm-app-01-os.img" })
--
-- Read access is granted on the source (refused early when its
-- networkAccessPolicy is DenyAll), the blob's page ranges are read
-- (following NextMarker), and only the allocated ranges are downloaded,
-- ranged and in parallel, into a sparse file: an 8 GiB disk holding
-- 1 GiB costs 1 GiB of reads and of local disk.  The image is raw (the
-- disk's bytes) or a fixed VHD (the disk then the 512-byte footer, as
-- Azure serves it).  Chunks done are journalled (after an fsync of the
-- image), so an interrupted export resumes without reading a finished
-- chunk again; a SAS that expired is granted again.  The image's SHA-256
-- is reported, with the throughput of allocated data, and the SAS is
-- revoked at the end, also on failure or interrupt (cleanup).  The image
-- is written as OUTPUT.azrp-part and renamed once hashed; `azrp cleanup
-- RUN` of an export that did not finish removes the part file.
--
-- Config: source_id (required), output (required), format ("raw" |
-- "vhd", default "raw"), chunk_mib (default 4), parallel (default 8),
-- sas_seconds (the grant's duration, default 3600), overwrite (default
-- false: an existing output is refused).
--
-- Incremental: base_image (an earlier export of the same disk, in the
-- same format) and base_source_id (the disk restore point or snapshot it
-- was read from), and optionally base_sha256 (its digest, from that
-- export's report: checked before anything is asked of Azure).  Only the
-- ranges changed since the base (Get Page Ranges with
-- x-ms-previous-snapshot-url: the base's SAS) are read, into a sparse
-- copy of the base image; the ranges the diff says were cleared become
-- holes.  A service that does not give such a diff for the source is
-- said to, and nothing is written.
local azrp = require "azrp"
local workflow = require "azrp.workflow"
local base = require "azrp.workflows.export.base"
local pages = require "azrp.workflows.export.pages"
local sources = require "azrp.workflows.export.sources"
local transfer = require "azrp.workflows.export.transfer"
local vhd = require "azrp.workflows.export.vhd"

local M = { error_kind = "export", name = "export_disk", id_prefix = "export" }

local MiB = 1024 * 1024

local config_error = workflow.config_error

local function export_error(code, fmt, ...)
  return azrp.error{ kind = "export", code = code, message = string.format(fmt, ...), retryable = false }
end

local round = require("azrp.workflow.run").round

-- ---------------------------------------------------------------------
-- Config

local KNOWN = { source_id = "string", output = "string", format = "string", chunk_mib = "number",
  parallel = "number", sas_seconds = "number", overwrite = "boolean", base_image = "string",
  base_source_id = "string", base_sha256 = "string" }

--- check(config) -> config | nil, err: every field, before any request.
function M.check(config)
  local known, kerr = workflow.check_settings(config, KNOWN)
  if not known then return nil, kerr end
  if not config.source_id then return nil, config_error("source_id", "is required (a disk restore point, disk or snapshot id)") end
  if not sources.of(config.source_id) then
    return nil, config_error("source_id", "%q is not the id of a disk restore point, a disk or a snapshot", config.source_id)
  end
  if not config.output or config.output == "" then return nil, config_error("output", "is required (the image's path)") end
  local c = {}
  for k, v in pairs(config) do c[k] = v end
  c.format = c.format or "raw"
  if c.format ~= "raw" and c.format ~= "vhd" then return nil, config_error("format", "must be \"raw\" or \"vhd\", not %q", c.format) end
  c.chunk_mib = c.chunk_mib or 4
  if c.chunk_mib ~= math.floor(c.chunk_mib) or c.chunk_mib < 1 or c.chunk_mib > 256 then
    return nil, config_error("chunk_mib", "must be a whole number of MiB from 1 to 256")
  end
  c.parallel = c.parallel or 8
  if c.parallel ~= math.floor(c.parallel) or c.parallel < 1 or c.parallel > 64 then
    return nil, config_error("parallel", "must be a whole number from 1 to 64")
  end
  c.sas_seconds = c.sas_seconds or 3600
  if c.sas_seconds ~= math.floor(c.sas_seconds) or c.sas_seconds < 60 then
    return nil, config_error("sas_seconds", "must be a whole number of seconds, at least 60")
  end
  if base.file_size(c.output) and not c.overwrite then
    return nil, config_error("output", "%s exists (set overwrite = true to replace it)", c.output)
  end
  local ok, berr = base.check(c)
  if not ok then return nil, berr end
  return c
end

function M.base_name(config)
  local _, name = sources.of(config.source_id)
  return name
end

function M.target(config)
  return { source_id = config.source_id, output = config.output, format = config.format }
end

local function part(ctx) return ctx.config.output .. ".azrp-part" end

-- ---------------------------------------------------------------------
-- Steps

local steps = {}

function steps.preflight(ctx)
  local src = sources.of(ctx.config.source_id)
  local body, err = ctx.client:call(src.get, { id = ctx.config.source_id })
  if not body then
    if err.status == 404 then return nil, config_error("source_id", "no %s", ctx.config.source_id) end
    return nil, err
  end
  local p = body.properties or {}
  if p.networkAccessPolicy == "DenyAll" then
    return nil, config_error("source_id", "%s cannot be exported: its networkAccessPolicy is DenyAll", ctx.config.source_id)
  end
  if p.networkAccessPolicy == "AllowPrivate" then
    ctx:emit{ type = "note", message = "networkAccessPolicy is AllowPrivate: the SAS works only through the disk access's "
      .. "private endpoint, so run the export from a network that reaches it" }
  end
  if p.dataAccessAuthMode == "AzureActiveDirectory" then
    ctx:emit{ type = "note", message = "dataAccessAuthMode is AzureActiveDirectory: reading needs the role "
      .. "\"Data Operator for Managed Disks\" and a bearer token on the blob, which this export does not send" }
  end
  ctx:set("source", { id = body.id or ctx.config.source_id, size_bytes = p.diskSizeBytes or
    (p.diskSizeGB and p.diskSizeGB * 1024 * MiB) })
  if ctx.config.base_image then return base.check_source(ctx, src, p) end
  return true
end

-- The SAS: granted (or extended: Azure hands back the same URL), never
-- journalled; the journal says a grant exists, so that cleanup revokes it.
local function grant(ctx, key, id)
  key, id = key or "sas", id or ctx.config.source_id
  local src = sources.of(id)
  local known = ctx.resources[key]
  if not known or known.state == "deleted" then
    ctx:record{ type = "intent", key = key, kind = src.kind, id = id,
      name = key == "sas" and "read access (SAS)" or "read access to the base (SAS)", step = ctx.current, keep = false }
  end
  local res, err = ctx.client:call(src.prefix .. "_GrantAccess", { id = id,
    body = { access = "Read", durationInSeconds = ctx.config.sas_seconds } })
  if not res then return nil, err end
  if type(res) ~= "table" or type(res.accessSAS) ~= "string" then
    return nil, export_error("NoAccessSAS", "the grant on %s answered without an accessSAS", id)
  end
  if ctx.resources[key].state ~= "created" then ctx:record{ type = "created", key = key, id = id } end
  return res.accessSAS
end

local function blob_error(what, res, err)
  if not res then return err end
  return export_error("Blob" .. res.status, "%s: HTTP %d %s", what, res.status,
    tostring(res.headers and res.headers["x-ms-error-code"] or ""))
end

-- The blob's length, and whether it ends in a VHD footer.
local function shape(ctx, url)
  local res, err = transfer.get(ctx.client, url, { ["x-ms-range"] = "bytes=0-0" }):wait()
  if not res or res.status ~= 206 then return nil, blob_error("reading the blob", res, err) end
  local total = tonumber((res.headers["content-range"] or ""):match("/(%d+)$"))
  if not total then return nil, export_error("NoLength", "the blob's Content-Range says no length") end
  local footer
  if total >= 1024 and total % 512 == 0 then
    res, err = transfer.get(ctx.client, url, { ["x-ms-range"] = string.format("bytes=%d-%d", total - 512, total - 1) }):wait()
    if not res or res.status ~= 206 then return nil, blob_error("reading the blob's end", res, err) end
    local f = vhd.parse(res.body)
    if f and f.size == total - 512 then footer = res.body end
  end
  return { blob_bytes = total, disk_bytes = footer and total - 512 or total, footer = footer }
end

-- Every page range, following NextMarker; with base_url, the ranges
-- changed since that earlier point, and those cleared.
local function page_ranges(ctx, url, base_url)
  local all, cleared, marker = {}, {}, nil
  local headers = base_url and { ["x-ms-previous-snapshot-url"] = base_url } or nil
  repeat
    local u = url .. "&comp=pagelist" .. (marker and ("&marker=" .. marker:gsub("[^%w%-%._~]", function(ch)
      return string.format("%%%02X", ch:byte()) end)) or "")
    local res, err = transfer.get(ctx.client, u, headers):wait()
    if base_url and res and res.status >= 400 and res.status < 500 and res.status ~= 403 then
      return nil, export_error("DiffNotSupported", "the service gives no changed ranges of %s since %s (HTTP %d %s); "
        .. "export it without base_image", ctx.config.source_id, ctx.config.base_source_id, res.status,
        tostring(res.headers and res.headers["x-ms-error-code"] or ""))
    end
    if not res or res.status ~= 200 then return nil, blob_error("Get Page Ranges", res, err) end
    local ranges, next_marker, clear = pages.parse(res.body)
    if not ranges then return nil, export_error("BadPageList", "%s", next_marker) end
    for _, r in ipairs(ranges) do all[#all + 1] = r end
    for _, r in ipairs(clear) do cleared[#cleared + 1] = r end
    marker = next_marker
  until not marker
  return all, cleared
end

function steps.download(ctx)
  local cfg = ctx.config
  local url, err = grant(ctx)
  if not url then return nil, err end
  local base_url
  if cfg.base_image then
    base_url, err = grant(ctx, "base_sas", cfg.base_source_id)
    if not base_url then return nil, err end
  end
  local s
  s, err = shape(ctx, url)
  if not s then return nil, err end
  local ranges, cleared
  ranges, cleared = page_ranges(ctx, url, base_url)
  if not ranges then return nil, cleared end
  local chunk_size = cfg.chunk_mib * MiB
  local list = pages.chunks(ranges, s.disk_bytes, chunk_size)
  -- What the journal says is done is not read again.
  local done = {}
  for k, v in pairs(ctx.data) do
    if type(k) == "string" and k:match("^chunks%.") then for _, first in ipairs(v) do done[first] = true end end
  end
  local todo, data_bytes, done_bytes = {}, pages.bytes(list), 0
  for _, c in ipairs(list) do
    if done[c[1]] then done_bytes = done_bytes + c[3] - c[2] + 1 else todo[#todo + 1] = c end
  end
  ctx:set("image", { disk_bytes = s.disk_bytes, blob_bytes = s.blob_bytes, footer = s.footer ~= nil,
    data_bytes = data_bytes, chunks = #list, chunk_size = chunk_size })
  local path = part(ctx)
  local f = io.open(path, "r+b")
  if not f then
    ctx:record{ type = "set", key = "part_created", value = true }
    f, err = io.open(path, "w+b")
    if not f then return nil, azrp.error{ kind = "io", code = "OpenFailed", retryable = false, message = tostring(err) } end
  end
  local size = s.disk_bytes + (cfg.format == "vhd" and vhd.SIZE or 0)
  local ok, terr
  if base_url then
    ok, terr = base.start(ctx, f, cleared, s.disk_bytes)
    if not ok then f:close(); return nil, terr end
  end
  ok, terr = azrp.host.image_truncate(f, size)
  if not ok then f:close(); return nil, azrp.error{ kind = "io", code = "TruncateFailed", retryable = false, message = terr } end
  -- Journal the chunks done in batches, each after an fsync of the image:
  -- a chunk the journal names is on disk.
  local batch, batches, last_flush = {}, 0, azrp.now()
  for k in pairs(ctx.data) do if type(k) == "string" and k:match("^chunks%.") then batches = batches + 1 end end
  local function flush()
    if #batch == 0 then return true end
    local fok, ferr = azrp.host.fsync(f)
    if not fok then return nil, ferr end
    batches = batches + 1
    ctx:set("chunks." .. batches, batch)
    batch, last_flush = {}, azrp.now()
    return true
  end
  local t0, read_bytes, last_emit, last_step = azrp.now(), 0, 0, -1
  -- An event every 0.25 s and at every 5 % of the data: a slow export
  -- shows it moves, a fast one still reports its way (the crash specs
  -- kill at a known share of the bytes).
  local function progress(final)
    local now = azrp.now()
    local got = done_bytes + read_bytes
    local step = data_bytes > 0 and math.floor(got * 20 / data_bytes) or 20
    if not final and now - last_emit < 0.25 and step == last_step then return end
    last_emit, last_step = now, step
    local rate = read_bytes / math.max(now - t0, 1e-6)
    ctx:emit{ type = "progress", step = "download", name = cfg.output, percent = data_bytes > 0 and got * 100 / data_bytes or 100,
      bytes = got, total = data_bytes, mbps = round(rate / 1e6),
      eta_seconds = rate > 0 and round((data_bytes - got) / rate) or nil }
  end
  local werr
  ok, err = transfer.run{ client = ctx.client, url = url, file = f, chunks = todo, parallel = cfg.parallel,
    on_done = function(c, n)
      batch[#batch + 1] = c[1]
      read_bytes = read_bytes + n
      if #batch >= 16 or azrp.now() - last_flush > 0.25 then
        local fok, ferr = flush()
        if not fok then werr = werr or ferr end
      end
      progress(false)
    end,
    regrant = function() return grant(ctx) end,
    interrupted = function() return werr and azrp.error{ kind = "io", code = "FsyncFailed", message = tostring(werr) }
      or ctx:interrupted() end }
  local fok, ferr = flush()
  if ok and not fok then ok, err = nil, azrp.error{ kind = "io", code = "FsyncFailed", message = tostring(ferr) } end
  if ok and cfg.format == "vhd" then
    -- Azure's own footer when the blob has one, else one made for the size.
    f:seek("set", s.disk_bytes)
    f:write(s.footer or vhd.footer(s.disk_bytes))
    azrp.host.fsync(f)
  end
  f:close()
  if not ok then return nil, err end
  progress(true)
  local seconds = azrp.now() - t0
  ctx:set("figure.data_bytes", data_bytes)
  ctx:set("figure.disk_bytes", s.disk_bytes)
  ctx:set("figure.bytes_read", read_bytes)
  ctx:set("figure.download_seconds", round(seconds))
  ctx:set("figure.mb_per_second", round(read_bytes / math.max(seconds, 1e-6) / 1e6))
  return true
end

function steps.verify(ctx)
  local img = ctx.data.image
  local v = ctx.data.verified
  -- The hash is journalled before the rename: a run killed after the
  -- rename (the part file gone, the image in its place) resumes from it.
  if not (v and not base.file_size(part(ctx)) and base.file_size(ctx.config.output)) then
    local f, err = io.open(part(ctx), "rb")
    if not f then return nil, azrp.error{ kind = "io", code = "OpenFailed", retryable = false, message = tostring(err) } end
    local size = img.disk_bytes + (ctx.config.format == "vhd" and vhd.SIZE or 0)
    local t0 = azrp.now()
    -- One pass: the image's digest and, for a VHD, its disk's (no footer).
    local hex, second = azrp.host.image_sha256(f, size, ctx.config.format == "vhd" and img.disk_bytes or nil)
    f:close()
    if not hex then return nil, azrp.error{ kind = "io", code = "HashFailed", retryable = false, message = tostring(second) } end
    v = { sha256 = hex, disk_sha256 = second or hex, seconds = round(azrp.now() - t0) }
    ctx:set("verified", v)
    local ok, rerr = os.rename(part(ctx), ctx.config.output)
    if not ok then return nil, azrp.error{ kind = "io", code = "RenameFailed", retryable = false, message = tostring(rerr) } end
  end
  ctx:set("figure.hash_seconds", v.seconds)
  ctx:set("report.sha256", v.sha256)
  ctx:set("report.disk_sha256", v.disk_sha256)
  ctx:set("report.image", ctx.config.output)
  ctx:set("report.format", ctx.config.format)
  if ctx.config.base_image then
    ctx:set("report.base_image", ctx.config.base_image)
    ctx:set("report.base_source_id", ctx.config.base_source_id)
  end
  return true
end

M.steps = workflow.steps({ "preflight", "download", "verify" }, steps)

M.on_interrupt = "cleanup"   -- the SAS is revoked; the part file stays for a resume

--- discard(ctx): what `azrp cleanup` removes besides the SAS: the part file.
function M.discard(ctx)
  if ctx.data.part_created then os.remove(part(ctx)) end
  return true
end

--- plan(client, config) -> what an export would do, from reads only.
function M.plan(client, config)
  local cfg, err = M.check(config)
  if not cfg then return nil, err end
  local ctx = { client = client, config = cfg, data = {}, set = function(self, k, v) self.data[k] = v end,
    emit = function() end }
  local ok
  ok, err = steps.preflight(ctx)
  if not ok then return nil, err end
  if cfg.base_image then
    return { { step = "download", kind = "sas", name = cfg.source_id, change = "read access granted, revoked at the end" },
      { step = "download", kind = "sas", name = cfg.base_source_id, change = "read access granted, revoked at the end" },
      { step = "download", kind = "image", name = cfg.output, change = string.format(
        "+ %s image: a copy of %s with the ranges changed since %s", cfg.format, cfg.base_image, cfg.base_source_id) } }
  end
  return { { step = "download", kind = "sas", name = cfg.source_id, change = "read access granted, revoked at the end" },
    { step = "download", kind = "image", name = cfg.output, change = string.format("+ %s image of %s bytes (allocated ranges only)",
      cfg.format, tostring(ctx.data.source.size_bytes)) } }
end

--- run(client, config [, opts]) -> report | nil, err, report.
function M.run(client, config, opts)
  return workflow.run(M, client, config, opts)
end

return M
