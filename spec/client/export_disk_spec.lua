-- A disk restore point exported through its SAS, end to end against the
-- emulator: only the allocated ranges are read, the image's SHA-256 is the
-- disk restore point's, the image is sparse, and the SAS is revoked.
local C = require "support.client"
local child = require "support.child"
local json = require "cjson.safe"
local export = require "azrp.workflows.export_disk"
local pages = require "azrp.workflows.export.pages"
local vhd = require "azrp.workflows.export.vhd"
local small_seed = require "support.small_seed"

local SCALE = 0.002
local MiB = 1024 * 1024

local function tmpname()
  local d = os.tmpname()
  os.remove(d)
  return d
end

local function sha(em, id)
  local status, body = C.admin(em, "GET", "/_emulator/disks/" .. C.enc(id) .. "/sha256")
  assert.are.equal(200, status, json.encode(body))
  return body.sha256
end

local function fill(em, id, offset, length, pattern)
  local status, body = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(id) .. "/write",
    { offset = offset, pattern = pattern, length = length })
  assert.are.equal(200, status, json.encode(body))
end

-- Blocks the file really holds on disk, in bytes.
local function allocated(path)
  local p = io.popen("du -B1 --apparent-size=no " .. path .. " 2>/dev/null || du -k " .. path)
  local n = tonumber(p:read("*a"):match("^(%d+)"))
  p:close()
  return n
end

describe("export pages", function()
  it("parses page lists with markers and clear ranges", function()
    local r, marker = pages.parse('<?xml version="1.0"?><PageList><PageRange><Start>0</Start><End>511</End></PageRange>'
      .. '<PageRange><Start>1048576</Start><End>2097151</End></PageRange><NextMarker>abc</NextMarker></PageList>')
    assert.are.same({ { 0, 511 }, { 1048576, 2097151 } }, r)
    assert.are.equal("abc", marker)
    local _, m2, clear = pages.parse("<PageList><ClearRange><Start>512</Start><End>1023</End></ClearRange><NextMarker /></PageList>")
    assert.is_nil(m2)
    assert.are.same({ { 512, 1023 } }, clear)
    assert.is_nil((pages.parse("<Error/>")))
    assert.is_nil((pages.parse("<PageList><PageRange><Start>9</Start><End>1</End></PageRange></PageList>")))
  end)
  it("reads the allocated ranges in spans cut at the grid, near ones joined, clipped at the image's end", function()
    local c = pages.chunks({ { 0, 511 }, { 4096, 8191 }, { 3 * MiB, 5 * MiB - 1 }, { 16 * MiB, 16 * MiB + 511 } }, 16 * MiB, 4 * MiB)
    assert.are.same({ { 0, 0, 8191 }, { 3 * MiB, 3 * MiB, 4 * MiB - 1 }, { 4 * MiB, 4 * MiB, 5 * MiB - 1 } }, c)
    assert.are.equal(8192 + 2 * MiB, pages.bytes(c))
    -- Adjacent and overlapping ranges are one.
    assert.are.same({ { 0, 1023 } }, pages.merge({ { 512, 1023 }, { 0, 511 }, { 100, 200 } }))
  end)
  it("writes and reads fixed VHD footers", function()
    local f = vhd.footer(4 * 1024 * MiB)
    assert.are.equal(512, #f)
    local p = assert(vhd.parse(f))
    assert.are.equal(4 * 1024 * MiB, p.size)
    assert.are.equal(2, p.type)
    assert.is_true(p.checksum_ok)
    assert.is_nil((vhd.parse(string.rep("\0", 512))))
  end)
end)

describe("export_disk", function()
  local em, client, drp_id, want
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --seed " .. small_seed.file())
    client = C.client(em)
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local data0 = vm.properties.storageProfile.dataDisks[1].managedDisk.id
    -- Scattered extents on a 1 GiB disk: 16 of 1 MiB, one odd sector.
    for i = 0, 15 do fill(em, data0, i * 61 * MiB + 4096, MiB, "azrp" .. i) end
    fill(em, data0, 1024 * MiB - 512, 512, "last")
    assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-export", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-export",
      restore_point_name = "rp-export", body = {} }))
    for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
      if d.lun == 0 then drp_id = d.diskRestorePoint.id end
    end
    want = sha(em, drp_id)
    -- The disk changes after the restore point: the export must not see it.
    fill(em, data0, 0, MiB, "later")
  end)
  teardown(function() client:close(); em.stop() end)

  it("checks its config, naming the field", function()
    local function refused(cfg, field)
      local ok, err = export.check(cfg)
      assert.is_nil(ok)
      assert.are.equal(field, err.target, err.message)
    end
    refused({}, "source_id")
    refused({ source_id = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v", output = "x" }, "source_id")
    refused({ source_id = drp_id }, "output")
    refused({ source_id = drp_id, output = "x", format = "qcow2" }, "format")
    refused({ source_id = drp_id, output = "x", chunk_mib = 0.5 }, "chunk_mib")
    refused({ source_id = drp_id, output = "x", parallel = 0 }, "parallel")
    refused({ source_id = drp_id, output = "x", sas_seconds = 5 }, "sas_seconds")
    refused({ source_id = drp_id, output = "/etc/passwd" }, "output")
    refused({ source_id = drp_id, output = "x", paralel = 2 }, "paralel")
  end)

  it("exports a disk restore point: allocated ranges only, SHA-256 equal to the restore point's, sparse, SAS revoked", function()
    local out = tmpname() .. ".img"
    local events = {}
    local report, err = export.run(client, { source_id = drp_id, output = out },
      { state_dir = tmpname(), time_scale = SCALE, progress = function(e) events[#events + 1] = e end })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code)
    assert.are.equal(want, report.details.sha256)
    assert.are.equal(want, C.file_sha256(out))
    -- 16 MiB and a sector of data, read in spans of whole 4 MiB windows at most.
    assert.is_true(report.figures.bytes_read >= 16 * MiB, report.figures.bytes_read)
    assert.is_true(report.figures.bytes_read <= 32 * MiB + 512, report.figures.bytes_read)
    assert.are.equal(1024 * MiB, report.figures.disk_bytes)
    assert.is_true(allocated(out) < 64 * MiB, "image not sparse: " .. tostring(allocated(out)))
    local saw_eta = false
    for _, e in ipairs(events) do if e.type == "progress" and e.mbps then saw_eta = true end end
    assert.is_true(saw_eta)
    for _, r in ipairs(report.resources) do assert.are.equal("revoked", r.state, r.kind) end
    os.remove(out)
  end)

  it("writes a fixed VHD: the disk's bytes, then a footer naming its size", function()
    local out = tmpname() .. ".vhd"
    local report, err = export.run(client, { source_id = drp_id, output = out, format = "vhd" },
      { state_dir = tmpname(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(want, report.details.disk_sha256)
    local f = assert(io.open(out, "rb"))
    assert.are.equal(1024 * MiB + 512, f:seek("end"))
    f:seek("set", 1024 * MiB)
    local footer = assert(vhd.parse(f:read(512)))
    f:close()
    assert.are.equal(1024 * MiB, footer.size)
    assert.is_true(footer.checksum_ok)
    os.remove(out)
  end)

  it("killed mid-download and resumed, reads only the spans its journal does not hold, and ends with the same hash", function()
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local data1 = vm.properties.storageProfile.dataDisks[2].managedDisk.id
    -- 192 MiB in 48 extents of 4 MiB, each in its own 16 MiB stretch.
    for i = 0, 47 do fill(em, data1, i * 20 * MiB + 65536, 4 * MiB, "x" .. i) end
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-export",
      restore_point_name = "rp-export-2", body = {} }))
    local drp
    for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
      if d.lun == 1 then drp = d.diskRestorePoint.id end
    end
    local expect = sha(em, drp)
    local out, state = tmpname() .. ".img", tmpname()
    -- Killed at the 12th progress event: events come at least every 5 %
    -- of the data, so it falls between 55 % and 60 % at the latest,
    -- after the first journalled batch (16 spans, or 0.25 s).
    local run_id, rc, text = child.run{ em = em, state = state, n = 12, sig = "KILL", scale = SCALE, event = "progress",
      workflow = "export_disk", config = { source_id = drp, output = out, parallel = 2, chunk_mib = 1 } }
    assert.is_string(run_id, text)
    assert.are_not.equal(0, rc, text)
    -- What the killed run journalled as done.
    -- The spans of this disk, by first byte, as the export cuts them.
    local extents = {}
    for i = 0, 47 do extents[#extents + 1] = { i * 20 * MiB + 65536, i * 20 * MiB + 65536 + 4 * MiB - 1 } end
    local size_of = {}
    for _, c in ipairs(pages.chunks(extents, 1024 * MiB, MiB)) do size_of[c[1]] = c[3] - c[2] + 1 end
    local done_bytes, spans = 0, 0
    for line in io.lines(state .. "/runs/" .. run_id .. "/journal.jsonl") do
      local rec = json.decode(line)
      if rec and rec.type == "set" and type(rec.key) == "string" and rec.key:match("^chunks%.") then
        for _, first in ipairs(rec.value) do
          spans = spans + 1
          done_bytes = done_bytes + assert(size_of[first], "a journalled span that is not the disk's")
        end
      end
    end
    assert.is_true(spans > 0, "nothing journalled before the kill")
    assert.is_true(done_bytes < 192 * MiB, "the run was not killed mid-download")
    local report, err = require("azrp.workflow").resume(client, run_id, { state_dir = state, time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
    assert.are.equal(expect, report.details.sha256)
    assert.are.equal(192 * MiB, report.figures.data_bytes)
    assert.are.equal(report.figures.data_bytes - done_bytes, report.figures.bytes_read)
    for _, r in ipairs(report.resources) do assert.are.equal("revoked", r.state) end
    assert.is_nil(io.open(out .. ".azrp-part", "rb"))
    os.remove(out)
  end)

  -- An export of rp-export taken as the base of later ones.
  local base_img, base_sha
  local function base_export()
    if base_img then return base_img, base_sha end
    base_img = tmpname() .. ".img"
    local report, err = export.run(client, { source_id = drp_id, output = base_img },
      { state_dir = tmpname(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    base_sha = report.details.sha256
    return base_img, base_sha
  end

  local function lun_drp(rp, lun)
    for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
      if d.lun == lun then return d.diskRestorePoint.id end
    end
  end

  it("refuses an incremental base that does not fit, naming the field, before any grant", function()
    local img, hex = base_export()
    local function refused(cfg, field)
      local ok, err = export.check(cfg)
      assert.is_nil(ok)
      assert.are.equal(field, err.target, err.message)
    end
    refused({ source_id = drp_id, output = "x", base_image = img }, "base_source_id")
    refused({ source_id = drp_id, output = "x", base_source_id = drp_id }, "base_image")
    refused({ source_id = drp_id, output = "x", base_image = img, base_source_id = drp_id }, "base_source_id")
    refused({ source_id = drp_id, output = "x", base_sha256 = hex }, "base_sha256")
    refused({ source_id = drp_id, output = "x", base_image = "/nonexistent/base.img", base_source_id = drp_id .. "x" }, "base_image")
    refused({ source_id = drp_id, output = "x", base_image = img, base_source_id = drp_id .. "x", base_sha256 = "abc" }, "base_sha256")
    -- Checked against Azure, but before any read access is granted: the
    -- base of another disk, a base that is not the image it claims.
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-export",
      restore_point_name = "rp-export-refusals", body = {} }))
    local other_disk = lun_drp(rp, 1)
    local function refused_run(cfg, field)
      C.admin(em, "POST", "/_emulator/counters/reset")
      local report, err = export.run(client, cfg, { state_dir = tmpname(), time_scale = SCALE })
      local e = report and report.error or err
      assert.is_table(e)
      assert.are.equal(field, e.target, e.message)
      local _, counters = C.admin(em, "GET", "/_emulator/counters")
      assert.is_true((counters.operations.DiskRestorePoint_Get or 0) >= 2, json.encode(counters.operations))
      for op, n in pairs(counters.operations) do
        assert.is_nil(op:match("GrantAccess"), op .. " was called " .. tostring(n))
      end
    end
    refused_run({ source_id = lun_drp(rp, 0), output = tmpname(), base_image = img, base_source_id = other_disk }, "base_source_id")
    refused_run({ source_id = lun_drp(rp, 0), output = tmpname(), base_image = img, base_source_id = drp_id,
      base_sha256 = string.rep("0", 64) }, "base_sha256")
    assert.is_string(vm.id)
  end)

  it("exports incrementally: only the ranges changed since the base, patched onto a sparse copy, same hash as a full export", function()
    local img, hex = base_export()
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local data0 = vm.properties.storageProfile.dataDisks[1].managedDisk.id
    -- Changes since rp-export: 1 MiB at 0 (setup's "later"), two extents
    -- rewritten, one new 2 MiB extent.
    fill(em, data0, 3 * 61 * MiB + 4096, MiB, "rewritten")
    fill(em, data0, 9 * 61 * MiB + 4096 + 65536, 65536, "patch")
    fill(em, data0, 700 * MiB, 2 * MiB, "new")
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod", restore_point_collection_name = "rpc-export",
      restore_point_name = "rp-export-incr", body = {} }))
    local newer = lun_drp(rp, 0)
    local expect = sha(em, newer)
    assert.are_not.equal(hex, expect)
    local out = tmpname() .. ".img"
    local report, err = export.run(client, { source_id = newer, output = out, base_image = img, base_source_id = drp_id,
      base_sha256 = hex }, { state_dir = tmpname(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
    assert.are.equal(expect, report.details.sha256)
    assert.are.equal(expect, C.file_sha256(out))
    -- 4 MiB and 64 KiB changed; the spans round to the emulator's 64 KiB
    -- pages, far from the 17 MiB a full export reads.
    assert.is_true(report.figures.bytes_read >= 4 * MiB + 65536, report.figures.bytes_read)
    assert.is_true(report.figures.bytes_read < 6 * MiB, report.figures.bytes_read)
    assert.is_true(allocated(out) < 64 * MiB, "image not sparse: " .. tostring(allocated(out)))
    -- Both grants, the source's and the base's, revoked.
    assert.are.equal(2, #report.resources)
    for _, r in ipairs(report.resources) do assert.are.equal("revoked", r.state, r.kind) end
    -- The base is untouched.
    local f = assert(io.open(img, "rb"))
    assert.are.equal(hex, (require "azrp").host.image_sha256(f, f:seek("end")))
    f:close()
    os.remove(out)
  end)

  it("revokes the SAS when interrupted (SIGTERM mid-download) and exits 4, keeping the part file for a resume", function()
    local out, state = tmpname() .. ".img", tmpname()
    local run_id, rc, text = child.run{ em = em, state = state, n = 3, sig = "TERM", scale = SCALE, event = "progress",
      workflow = "export_disk", config = { source_id = drp_id, output = out, parallel = 1, chunk_mib = 1 } }
    assert.is_string(run_id, text)
    assert.are.equal(4, rc, text)
    -- The journal: the grant was made, then deleted (revoked).
    local granted, revoked = false, false
    for line in io.lines(state .. "/runs/" .. run_id .. "/journal.jsonl") do
      local rec = json.decode(line)
      if rec and rec.key == "sas" and rec.type == "created" then granted = true end
      if rec and rec.key == "sas" and rec.type == "deleted" then revoked = granted end
    end
    assert.is_true(revoked, text)
    assert.is_nil(io.open(out, "rb"))
    local part = io.open(out .. ".azrp-part", "rb")
    assert.is_not_nil(part)
    part:close()
    os.remove(out .. ".azrp-part")
  end)

  it("revokes the SAS when the download fails", function()
    local out = tmpname() .. ".img"
    assert.are.equal(200, (C.admin(em, "POST", "/_emulator/faults", { spec = "500@Blob_Get=1" })))
    local ok, err, report = export.run(client, { source_id = drp_id, output = out }, { state_dir = tmpname(), time_scale = SCALE })
    C.admin(em, "POST", "/_emulator/faults", { spec = "" })
    assert.is_nil(ok)
    assert.are.equal("Blob500", err.code)
    assert.is_table(report)
    assert.are_not.equal(0, report.exit_code)
    assert.are.equal(1, #report.resources)
    assert.are.equal("revoked", report.resources[1].state)
    assert.is_nil(io.open(out, "rb"))
  end)
end)
