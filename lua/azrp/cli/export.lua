--- azrp export: a disk restore point (or a disk, a snapshot) read out
-- through its SAS into a local image, resumable, checksummed.
--
--   azrp export --source ID --image FILE [--format raw|vhd] [--chunk-mib N] [--parallel N]
--               [--base-image FILE --base-source ID [--base-sha256 HEX]]
--   azrp export CONFIG.lua|CONFIG.json [--plan]
local command = require "azrp.cli.command"
local common = require "azrp.cli.run_common"
local export = require "azrp.workflows.export_disk"

local SETTINGS = { source = "source_id", image = "output", format = "format", chunk_mib = "chunk_mib",
  parallel = "parallel", sas_seconds = "sas_seconds", base_image = "base_image", base_source = "base_source_id",
  base_sha256 = "base_sha256" }

local function config(opts, pos)
  local cfg, err = common.settings(opts, pos, SETTINGS)
  if not cfg then return nil, err end
  if opts.overwrite then cfg.overwrite = true end
  return export.check(cfg)
end

return command.action{
  name = "export",
  summary = "read a disk restore point, disk or snapshot out to a local image (only its allocated ranges)",
  description = "Read access (SAS) is granted on the source and revoked at the end, also on failure or interrupt.\n"
    .. "Only the allocated page ranges are read, in parallel, into a sparse file; an interrupted export\n"
    .. "resumes ('azrp resume RUN') without reading a finished range again.  The SHA-256 of the image\n"
    .. "is reported.  The image is FILE.azrp-part until it is complete.",
  positionals = true,
  options = common.options{
    { "source", metavar = "ID", help = "the disk restore point's (or disk's, snapshot's) resource id" },
    { "image", metavar = "FILE", help = "the image file to write" },
    { "format", metavar = "FORMAT", help = "raw (the disk's bytes, default) or vhd (a fixed VHD: the bytes and a footer)" },
    { "chunk-mib", number = true, metavar = "N", help = "the largest span one request reads, in MiB (default 4)" },
    { "parallel", number = true, metavar = "N", help = "requests in flight (default 8)" },
    { "sas-seconds", number = true, metavar = "N", help = "how long the SAS is granted for (default 3600; it is renewed)" },
    { "overwrite", flag = true, help = "replace FILE if it exists" },
    { "base-image", metavar = "FILE", help = "an earlier image of the same disk: read only what changed since (incremental)" },
    { "base-source", metavar = "ID", help = "the disk restore point (or snapshot) the base image was read from" },
    { "base-sha256", metavar = "HEX", help = "the base image's SHA-256 (its export's report), checked first" },
    { "plan", flag = true, help = "check the source and say what would be done, read nothing" },
  },
  examples = { "azrp export --source /subscriptions/S/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/C/\\",
    "restorePoints/RP/diskRestorePoints/DRP --image os.img" },
  columns = common.columns,
  run = common.runner(export, config),
}
