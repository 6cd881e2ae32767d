-- Issue 8's export acceptance: an 8 GiB disk restore point holding 1 GiB
-- of pseudo-random data in 256 scattered extents (the emulator's fill),
-- exported through its SAS.  The image's SHA-256 is the disk restore
-- point's; killed with SIGKILL half-way and resumed, the export reads no
-- span its journal holds (the emulator counts every byte it serves) and
-- ends with the same hash; the SAS is revoked.
--
-- The full size runs on one Lua of those spec/run.sh runs together (the
-- process with support.shard's lead(); all of them when a Lua runs
-- alone); the others run the same tests on a 1 GiB disk holding 128 MiB:
-- moving and hashing gigabytes tests no binding more.
local C = require "support.client"
local child = require "support.child"
local json = require "cjson.safe"
local seed_file = require "support.seed"
local small_seed = require "support.small_seed"
local tmp = require "support.tmp"
local export = require "azrp.workflows.export_disk"

local SCALE = 0.002
local MiB = 1024 * 1024
local GiB = 1024 * MiB
-- spec/run.sh: one job per Lua
local FULL = require("support.shard").lead()
local DISK_GB, EXTENTS = FULL and 8 or 1, FULL and 256 or 32
local DATA = EXTENTS * 4 * MiB
local SIZE = (FULL and "8 GiB" or "1 GiB") .. " disk restore point holding " .. (FULL and "1 GiB" or "128 MiB")

local function blobs(em, id)
  local status, body = C.admin(em, "GET", "/_emulator/blobs?resource=" .. C.enc(id))
  assert.are.equal(200, status, json.encode(body))
  assert.is_table(body.resources, json.encode(body))
  -- No grant yet: nothing served.
  return body.resources[1] or { served_bytes = 0, distinct_bytes = 0, reread_bytes = 0 }
end

-- Bytes the journal of run_id says are on disk: the spans it names.
local function journalled(state, run_id, size_of)
  local bytes = 0
  for line in io.lines(state .. "/runs/" .. run_id .. "/journal.jsonl") do
    local rec = json.decode(line)
    if rec and rec.type == "set" and type(rec.key) == "string" and rec.key:match("^chunks%.") then
      for _, first in ipairs(rec.value) do bytes = bytes + assert(size_of[first], "a span that is not the disk's") end
    end
  end
  return bytes
end

describe("export of a " .. SIZE .. " #crash", function()
  local em, client, drp, want, extents
  setup(function()
    local seed = small_seed.shrink(seed_file.demo())
    for _, vm in ipairs(seed.vms) do
      if vm.name == "vm-app-01" then vm.data_disks[2].size_gb = DISK_GB end
    end
    em = C.start("--time-scale " .. SCALE .. " --seed " .. seed_file.write(seed))
    client = C.client(em)
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    local disk = vm.properties.storageProfile.dataDisks[2].managedDisk.id
    local status, body = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(disk) .. "/fill",
      { extents = EXTENTS, length = 4 * MiB, seed = 8 })
    assert.are.equal(200, status, json.encode(body))
    assert.are.equal(DATA, body.written)
    extents = body.extents
    assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-large", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-large", restore_point_name = "rp-large", body = {} }))
    for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
      if d.lun == 1 then drp = d.diskRestorePoint.id end
    end
    want = C.disk_sha256(em, drp)
  end)
  teardown(function() client:close(); em.stop() end)

  it("reads exactly its data, once, and hashes like the disk restore point", function()
    local out = tmp.name() .. ".img"
    local before = blobs(em, drp)
    local report, err = export.run(client, { source_id = drp, output = out }, { state_dir = tmp.name(), time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(want, report.details.sha256)
    assert.are.equal(DISK_GB * GiB, report.figures.disk_bytes)
    assert.are.equal(DATA, report.figures.data_bytes)
    assert.are.equal(DATA, report.figures.bytes_read)
    local after = blobs(em, drp)
    -- Besides the data: the two probes of the blob's shape (byte 0 and
    -- the 512-byte footer).
    local served = after.served_bytes - before.served_bytes
    assert.are.equal(DATA + 513, served)
    for _, r in ipairs(report.resources) do assert.are.equal("revoked", r.state) end
    os.remove(out)
  end)

  it("killed with SIGKILL half-way and resumed, serves no journalled span twice and ends with the same hash", function()
    local out, state = tmp.name() .. ".img", tmp.dir()
    -- A restore point of its own, so that the emulator's counts of its
    -- disk restore point are this export's alone.
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-large", restore_point_name = "rp-large-2", body = {} }))
    local drp
    for _, d in ipairs(rp.properties.sourceMetadata.storageProfile.dataDisks) do
      if d.lun == 1 then drp = d.diskRestorePoint.id end
    end
    assert.are.equal(want, C.disk_sha256(em, drp))
    -- Progress comes at every 5 % of the data (and every 0.25 s): the
    -- 10th event is about half-way of 256 spans.  Of the small disk's 32
    -- spans the 10th event comes at the 15th, before the first batch of
    -- 16 is journalled when the run is fast: the 14th comes at the 21st.
    local run_id, rc, text = child.run{ em = em, state = state, n = FULL and 10 or 14, sig = "KILL", scale = SCALE, event = "progress",
      workflow = "export_disk", config = { source_id = drp, output = out } }
    assert.is_string(run_id, text)
    assert.are_not.equal(0, rc, text)
    local killed = blobs(em, drp)
    local size_of = {}
    for _, e in ipairs(extents) do
      local first = e.offset or e[1]
      size_of[first] = e.length or e[2]
    end
    local done = journalled(state, run_id, size_of)
    assert.is_true(done > 0 and done < DATA, "killed at " .. done .. " bytes journalled")
    local report, err = require("azrp.workflow").resume(client, run_id, { state_dir = state, time_scale = SCALE })
    assert.is_table(report, tostring(err))
    assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
    assert.are.equal(want, report.details.sha256)
    local after = blobs(em, drp)
    -- The resume served the spans the journal did not hold, and the two
    -- probes: nothing journalled.
    assert.are.equal(DATA - done + 513, after.served_bytes - killed.served_bytes)
    assert.are.equal(DATA - done, report.figures.bytes_read)
    -- Across both runs every byte was served (the footer too), and what
    -- was served twice is what the killed run had read but not yet
    -- journalled, plus the probes: less than the spans in flight and one
    -- batch (8 + 16 spans of 4 MiB).
    assert.are.equal(DATA + 512, after.distinct_bytes)   -- the data and the footer (byte 0 is data)
    local reread = after.reread_bytes
    assert.is_true(reread < 24 * 4 * MiB + 2 * 513, "re-read " .. reread)
    for _, r in ipairs(report.resources) do assert.are.equal("revoked", r.state) end
    assert.is_nil(io.open(out .. ".azrp-part", "rb"))
    os.remove(out)
  end)
end)
