-- Regression (found by tools/reliability/crash_matrix.lua): an export
-- killed after its image was hashed and renamed into place, before its
-- verify step was journalled done, resumed to "OpenFailed: ... .azrp-part:
-- No such file or directory".  Killed right after each of the verify
-- step's records (the hash journalled before the rename, then after it),
-- a resume now ends with the image, hashing like the disk restore point.
local C = require "support.client"
local children = require "support.child"
local cases = require "support.crash_cases"
local json = require "cjson"
local workflow = require "azrp.workflow"
local tmp = require "support.tmp"
local shard = require "support.shard"

local SCALE = cases.SCALE
local case = cases.by_name.export

-- The three points are shared among the processes spec/run.sh starts
-- (support.shard), in `make test` among the five Luas.
local POINTS = 3
-- spec/run.sh: one job per Lua

if shard.any(1, POINTS) then describe("an export killed in its verify step #crash", function()
  local em, client, dir, want, records, source
  setup(function()
    em = C.start("--time-scale " .. SCALE .. " --no-throttle --seed " .. case.seed())
    client = C.client(em)
    dir = tmp.dir()
    local config = case.setup(em, client, dir)
    source = config.source_id
    want = C.disk_sha256(em, source)
    -- A whole run: the numbers of its verify step's records.
    local run_id, rc, out = children.run{ em = em, state = dir .. "/state", workflow = "export_disk", config = config,
      event = "journal", scale = SCALE }
    assert.are.equal(0, rc, out)
    records = {}
    local in_verify, seen = false, {}
    for line in io.lines(dir .. "/state/runs/" .. run_id .. "/journal.jsonl") do
      local rec = json.decode(line)
      if rec.type == "step" and rec.name == "verify" then in_verify = rec.state == "start" end
      if rec.type == "set" then seen[rec.key] = (seen[rec.key] or 0) + 1 end
      -- nth: which record setting this key it is, over the whole run
      if in_verify and rec.type == "set" then records[#records + 1] = { nth = seen[rec.key], key = rec.key } end
    end
    assert.are.equal("verified", records[1].key)
    os.remove(config.output)
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(dir) end)

  for i = 1, POINTS do if shard.mine(i) then
    it("right after its record " .. i .. " of the step (1: the hash, before the rename), then resumed", function()
      local rec = records[i]
      local config = { source_id = source, output = dir .. "/disk-" .. i .. ".img", chunk_mib = 1 }
      local run_id, rc, out = children.run{ em = em, state = dir .. "/state", n = rec.nth, workflow = "export_disk",
        config = config, event = "journal:" .. rec.key, scale = SCALE }
      assert.matches("event " .. rec.nth .. " journal set " .. rec.key, out, 1, true)
      assert.are_not.equal(0, rc, out)
      local report, err = workflow.resume(client, run_id, { state_dir = dir .. "/state", time_scale = SCALE })
      assert.is_table(report, tostring(err))
      assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
      assert.are.equal(want, report.details.sha256)
      assert.are.equal(want, C.file_sha256(config.output))
      assert.is_nil(io.open(config.output .. ".azrp-part", "rb"))
      os.remove(config.output)
    end)
  end end
end) end
