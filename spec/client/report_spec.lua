-- azrp.report: a run's report as report.json, report.md and timeline.svg.
-- The report here is a DR drill that failed, made of what the emulator
-- hands out: a real restore point collection, a disk restore point's SAS
-- URL quoted by the failed step, the client's access token, and the
-- error a missing disk gets.  It has a failed step with substeps, a
-- skipped and an interrupted step, and a disk left behind.  The SVG is
-- checked by the tool a user would open it with: rsvg-convert (Debian
-- librsvg2-bin) renders it to PNG.
local C = require "support.client"
local azrp = require "azrp"
local report = require "azrp.report"
local json = require "cjson.safe"
local shell = require "support.shell"
local sh, capture = shell.sh, shell.capture

local SCOPE = "https://management.azure.com/.default"
local T = 1796584800.25                 -- 2026-12-06 19:20:00.25 UTC
local RUN_ID = "drill-20261206T192000-a1b2c3"
local ASSERTION = "eyJhbGciOiJQUzI1NiJ9.eyJhdWQiOiJyZXBvcnQifQ.c2lnbmVk"

local tmp = require "support.tmp"
local read = require("support.files").read

local function exists(path) return read(path) ~= nil end

local function png_size(path)
  local s = assert(read(path), "no PNG at " .. path)
  assert.are.equal("\137PNG\r\n\26\n", s:sub(1, 8))
  assert.are.equal("IHDR", s:sub(13, 16))
  local function be32(i)
    local a, b, c, d = s:byte(i, i + 3)
    return ((a * 256 + b) * 256 + c) * 256 + d
  end
  return be32(17), be32(21)
end

local function svg_size(svg)
  local w, h = svg:match('<svg[^>]- width="(%d+)" height="(%d+)"')
  return tonumber(w), tonumber(h)
end

-- rsvg-convert svg -> png; true when it succeeded.
local function rsvg(svg_path, png_path)
  assert(capture("command -v rsvg-convert") ~= "", "rsvg-convert is missing: apt-get install librsvg2-bin")
  local out = capture("rsvg-convert -f png -o '" .. png_path .. "' '" .. svg_path .. "' 2>&1; echo rc=$?")
  return out:match("rc=0%s*$") ~= nil, out
end

-- The bar of the row named name: its x and width.
local function bar(svg, name)
  local x, w = svg:match("<title>" .. name:gsub("%p", "%%%0") .. " · [^<]*</title>\n<text[^\n]*</text>\n" ..
    '<rect x="([%d.]+)" y="[%d.]+" width="([%d.]+)"')
  return tonumber(x), tonumber(w)
end

-- The Markdown section that starts with heading, up to the next one.
local function section(md, heading)
  local s = md:find(heading, 1, true)
  if not s then return nil end
  local e = md:find("\n## ", s + 1, true)
  return md:sub(s, e or #md)
end

describe("azrp.report", function()
  local em, client, cred, token, sas, rpc_id, not_found, base
  local r            -- the drill's report
  local secrets      -- what no output may show

  local function http_of(c)
    return function(req) return c:request(req):wait(30) end
  end

  local function drill_report()
    local rg = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Compute/"
    return {
      workflow = "dr_drill", run_id = RUN_ID, state = "failed", ok = false, exit_code = 1,
      error = not_found,
      started_at = T, ended_at = T + 95.5, seconds = 95.5, time_scale = 0.01,
      figures = { rpo_seconds = 42, rto_seconds = 190.4, disks_restored = 1 },
      access_token = token,
      target = { vm_id = C.VM_ID, dr_location = "northeurope", client_secret = C.SECRET,
        credential = { tenant_id = C.TENANT, client_assertion = ASSERTION } },
      steps = {
        { name = "source_collection", started = T, ended = T + 1.2, seconds = 1.2, ok = true, state = "done" },
        { name = "restore_point", started = T + 1.2, ended = T + 20, seconds = 18.8, ok = true, state = "done" },
        { name = "copy", started = T + 20, ended = T + 80, seconds = 60, ok = false, state = "failed",
          error = "copy stuck at 40%: GET " .. sas .. " returned 403",
          substeps = {
            { name = "start_copy", started = T + 20, ended = T + 22, seconds = 2, ok = true, state = "done" },
            { name = "wait <&> replication", started = T + 22, ended = T + 80, seconds = 58, ok = false,
              state = "failed", error = "timed out waiting for 100 % <&> \"done\"" },
          } },
        { name = "restore_disks", seconds = 0, ok = false, state = "skipped" },
        { name = "cleanup", started = T + 80, ended = T + 95.5, seconds = 15.5, ok = false, state = "interrupted",
          error = "SIGTERM",
          substeps = {
            { name = "delete os disk", started = T + 80, ended = T + 90, seconds = 10, ok = true, state = "done" },
            { name = "delete data disk", started = T + 90, ended = T + 95.5, seconds = 5.5, ok = false,
              state = "interrupted", error = "interrupted" },
          } },
      },
      resources = {
        { kind = "restorePointCollection", id = rpc_id, name = "rpc-report", step = "source_collection", state = "kept" },
        { kind = "disk", id = rg .. "disks/drill-a1b2c3-os", name = "drill-a1b2c3-os", step = "copy", state = "deleted" },
        { kind = "disk", id = rg .. "disks/drill-a1b2c3-data0", name = "drill-a1b2c3-data0", step = "copy",
          state = "left", error = "delete interrupted \1 \255 (409 Conflict)" },
        { kind = "snapshot", id = rg .. "snapshots/snap-x", name = "snap <&> \"q\"", step = "copy",
          state = "unverified", error = "GET after delete timed out" },
      },
    }
  end

  setup(function()
    base = tmp.name()
    em = C.start("--time-scale 0.01")
    cred = azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = C.CLIENT_ID,
      client_secret = C.SECRET, authority_host = em.url }
    client = C.client(em, { credential = cred })
    local coll, err = client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = C.RG,
      restore_point_collection_name = "rpc-report", body = { location = "westeurope",
        properties = { source = { id = C.VM_ID } } } })
    assert.is_table(coll, tostring(err))
    rpc_id = coll.id
    local rp, rerr = client:call("RestorePoints_Create", { resource_group_name = C.RG,
      restore_point_collection_name = "rpc-report", restore_point_name = "rp1", body = { properties = {} } })
    assert.is_table(rp, tostring(rerr))
    local drp = rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id
    local grant, gerr = client:disk_restore_point_grant_access{ id = drp,
      body = { access = "Read", durationInSeconds = 600 } }:wait(30)
    assert.is_table(grant, tostring(gerr))
    sas = grant.accessSAS
    assert.matches("[?&]sig=[^&]+", sas)
    assert.is_true(client:call("DiskRestorePoint_RevokeAccess", { id = drp }))
    token = cred:get_token(SCOPE, http_of(client))
    assert.matches("^eyJ", token)
    local missing
    missing, not_found = client:call("Disks_Get", { resource_group_name = C.RG, disk_name = "drill-a1b2c3-gone" })
    assert.is_nil(missing)
    assert.is_true(azrp.is_error(not_found))
    secrets = { token, token:sub(-40), sas:match("[?&]sig=([^&]+)"), C.SECRET, ASSERTION, ASSERTION:sub(-20) }
    r = drill_report()
  end)

  teardown(function()
    if client then client:close() end
    if em then em.stop() end
    tmp.remove(base)
  end)

  describe("write", function()
    local dir, paths

    setup(function()
      dir = base .. "/runs/" .. RUN_ID
      local err
      paths, err = report.write(dir, r)
      assert.is_table(paths, tostring(err))
    end)

    it("creates the directory and writes report.json, report.md and timeline.svg, with no .tmp left", function()
      assert.are.same({ json = dir .. "/report.json", markdown = dir .. "/report.md", svg = dir .. "/timeline.svg" },
        paths)
      for _, p in pairs(paths) do assert.is_true(exists(p), p) end
      assert.are.equal("report.json\nreport.md\ntimeline.svg\n", capture("ls -A '" .. dir .. "'"))
      for fmt, p in pairs(paths) do assert.are.equal(report.render(r, fmt), read(p)) end
    end)

    it("report.md has the title, the summary, the steps, the resources and what was left behind", function()
      local md = read(paths.markdown)
      assert.are.equal("# dr_drill run " .. RUN_ID .. "\n", md:match("^[^\n]*\n"))
      -- summary: state, duration (and the emulated one), exit code, figures (RPO and RTO first)
      assert.matches("\n%*%*failed%*%* · in 1m 36s %(2h 39m 10s emulated%) · exit code 1 · RPO 42 s · " ..
        "RTO 3m 10s · disks restored 1\n", md)
      assert.matches("Started 2026%-12%-06 19:20:00 UTC, ended 2026%-12%-06 19:21:35 UTC%.", md)
      assert.matches("emulated seconds = wall / 0.01", md, 1, true)
      assert.matches("**Error:** `azure` `ResourceNotFound` (HTTP 404): The Resource", md, 1, true)
      assert.matches("- vm_id: `" .. C.VM_ID .. "`", md, 1, true)

      local steps = assert(section(md, "## Steps"))
      assert.matches("| Step | State | Seconds | Emulated | Error |", steps, 1, true)
      assert.matches("| source_collection | done | 1.20 | 2m 00s |  |", steps, 1, true)
      assert.matches("| copy | failed | 60 | 1h 40m 00s | copy stuck at 40%: GET https://", steps, 1, true)
      assert.matches("| ↳ start_copy | done | 2 | 3m 20s |  |", steps, 1, true)
      assert.matches("| ↳ wait \\<&\\> replication | failed | 58 | 1h 36m 40s | timed out waiting for 100 % " ..
        "\\<&\\> \"done\" |", steps, 1, true)
      assert.matches("| restore_disks | skipped | – | – |  |", steps, 1, true)
      assert.matches("| cleanup | interrupted | 15.5 | 25m 50s | SIGTERM |", steps, 1, true)
      assert.matches("| ↳ delete data disk | interrupted | 5.50 | 9m 10s | interrupted |", steps, 1, true)
      -- the rows in run order, each substep under its step
      local order = {}
      for name in steps:gmatch("\n| ([^|]-) | ") do order[#order + 1] = name end
      assert.are.same({ "Step", "source_collection", "restore_point", "copy", "↳ start_copy",
        "↳ wait \\<&\\> replication", "restore_disks", "cleanup", "↳ delete os disk", "↳ delete data disk" },
        order)

      local res = assert(section(md, "## Resources"))
      assert.matches("| Kind | Name | State |", res, 1, true)
      assert.matches("| restorePointCollection | rpc-report | kept |", res, 1, true)
      assert.matches("| disk | drill-a1b2c3-os | deleted |", res, 1, true)
      assert.matches("| disk | drill-a1b2c3-data0 | left |", res, 1, true)
      assert.matches("| snapshot | snap \\<&\\> \"q\" | unverified |", res, 1, true)

      local left = assert(section(md, "## ⚠ Left behind"), "no left-behind section")
      assert.matches("**Warning:** 2 resources may still exist", left, 1, true)
      assert.matches("- disk `drill-a1b2c3-data0` — left (step copy): delete interrupted", left, 1, true)
      assert.matches("(409 Conflict)", left, 1, true)
      assert.matches("  `/subscriptions/" .. C.SUB .. "/resourceGroups/rg-dr/providers/Microsoft.Compute/disks/" ..
        "drill-a1b2c3-data0`", left, 1, true)
      assert.matches("- snapshot `snap <&> \"q\"` — unverified (step copy): GET after delete timed out", left, 1, true)
      assert.is_nil(left:find("drill-a1b2c3-os", 1, true))
      assert.is_nil(left:find("rpc-report", 1, true))
      -- the invalid byte became U+FFFD, the control character too
      assert.is_nil(md:find("[\1\255]"))
    end)

    it("report.json parses back into the report, keys sorted, secrets dropped", function()
      local text = read(paths.json)
      local back = assert(json.decode(text))
      assert.are.same(report.clean(r), back)
      assert.are.equal(RUN_ID, back.run_id)
      assert.are.equal("wait <&> replication", back.steps[3].substeps[2].name)
      assert.are.equal("interrupted", back.steps[5].substeps[2].state)
      assert.are.equal("left", back.resources[3].state)
      assert.are.equal(404, back.error.status)
      assert.are.equal("ResourceNotFound", back.error.code)
      assert.are.equal(190.4, back.figures.rto_seconds)
      assert.are.equal(T, back.started_at)
      -- fields that look like secrets are gone, their neighbours stay
      assert.is_nil(back.access_token)
      assert.is_nil(back.target.client_secret)
      assert.is_nil(back.target.credential.client_assertion)
      assert.are.equal(C.TENANT, back.target.credential.tenant_id)
      -- the SAS URL keeps its shape, not its signature
      assert.matches("?sv=", back.steps[3].error, 1, true)
      assert.matches("sig=REDACTED", back.steps[3].error, 1, true)
      -- pretty and sorted: each object's keys in order, two spaces a level
      local keys = {}
      for k in text:gmatch('\n  "([%w_]+)": ') do keys[#keys + 1] = k end
      assert.are.same({ "ended_at", "error", "exit_code", "figures", "ok", "resources", "run_id", "seconds",
        "started_at", "state", "steps", "target", "time_scale", "workflow" }, keys)
      local err_keys = {}
      for k in text:match('\n  "error": (%b{})'):gmatch('\n    "([%w_]+)": ') do err_keys[#err_keys + 1] = k end
      local sorted = {}
      for i, k in ipairs(err_keys) do sorted[i] = k end
      table.sort(sorted)
      assert.are.same(sorted, err_keys)
      assert.is_true(#err_keys >= 5)
    end)

    it("report.json is the same text whatever order the report was built in", function()
      local a = report.render(r, "json")
      -- the same report, every table rebuilt with its keys inserted in reverse order
      local function rebuilt(t)
        if type(t) ~= "table" then return t end
        local keys, out = {}, {}
        for k in pairs(t) do keys[#keys + 1] = k end
        table.sort(keys, function(a, b) return tostring(a) > tostring(b) end)
        for i = 1, 20 do out["pad" .. i] = true end
        for _, k in ipairs(keys) do out[k] = rebuilt(t[k]) end
        for i = 1, 20 do out["pad" .. i] = nil end
        return out
      end
      local copy = rebuilt(report.clean(r))
      assert.are.equal(a, report.render(copy, "json"))
      assert.are.equal(a, report.render(r, "json"))
      -- lists stay lists when empty
      local empty = report.render({ workflow = "dr_drill", run_id = "x", steps = {}, resources = {}, figures = {} }, "json")
      assert.matches('"steps": []', empty, 1, true)
      assert.matches('"resources": []', empty, 1, true)
      assert.matches('"figures": {}', empty, 1, true)
      -- a table with holes is an object, NaN and infinity are null: still JSON
      local odd = report.render({ workflow = "w", target = { [2] = "b", [3] = "c", [4] = "d" },
        figures = { nan = 0 / 0, inf = math.huge } }, "json")
      local back = assert(json.decode(odd))
      assert.are.same({ ["2"] = "b", ["3"] = "c", ["4"] = "d" }, back.target)
      assert.are.equal(json.null, back.figures.nan)
      assert.are.equal(json.null, back.figures.inf)
    end)

    it("timeline.svg renders with rsvg-convert to a PNG of the size it states", function()
      local svg = read(paths.svg)
      assert.matches('^<%?xml version="1.0" encoding="UTF%-8"%?>\n<svg xmlns="http://www.w3.org/2000/svg"', svg)
      local png = base .. "/timeline.png"
      local ok, out = rsvg(paths.svg, png)
      assert.is_true(ok, out)
      local w, h = png_size(png)
      local sw, sh_ = svg_size(svg)
      assert.are.equal(require("azrp.report.svg").WIDTH, w)
      assert.are.equal(sw, w)
      assert.are.equal(sh_, h)
      -- two more steps, two more rows: taller, as wide
      local more = drill_report()
      table.insert(more.steps, { name = "extra_1", started = T + 95, ended = T + 95.5, seconds = 0.5, ok = true, state = "done" })
      table.insert(more.steps, { name = "extra_2", started = T + 95, ended = T + 95.5, seconds = 0.5, ok = true, state = "done" })
      local p2 = assert(report.write(base .. "/more", more))
      assert.is_true((rsvg(p2.svg, base .. "/more.png")))
      local w2, h2 = png_size(base .. "/more.png")
      assert.are.equal(w, w2)
      assert.is_true(h2 > h, h2 .. " > " .. h)
    end)

    it("timeline.svg draws bars in proportion to time, coloured by state", function()
      local svg = read(paths.svg)
      local x_src, w_src = bar(svg, "source_collection")
      local x_rp, w_rp = bar(svg, "restore_point")
      local x_copy, w_copy = bar(svg, "copy")
      local x_wait, w_wait = bar(svg, "wait &lt;&amp;&gt; replication")
      assert.is_number(w_copy)
      assert.is_number(w_wait)
      -- widths as the seconds, positions as the start times (to the 0.1 px the SVG is written in)
      assert.is_true(math.abs(w_copy / w_rp - 60 / 18.8) < 0.02, w_copy .. " / " .. w_rp)
      assert.is_true(math.abs(w_wait / w_copy - 58 / 60) < 0.01)
      assert.is_true(math.abs((x_copy - x_src) / w_copy - 20 / 60) < 0.01)
      assert.is_true(math.abs((x_wait - x_copy) / w_copy - 2 / 60) < 0.01)
      assert.is_true(x_rp > x_src and w_src > 0)
      -- colours: the failed step red, done green, interrupted orange; the skipped one has no bar
      assert.matches('<title>copy · failed[^<]*</title>\n<text[^\n]*</text>\n<rect [^>]*fill="#c62828"', svg)
      assert.matches('<title>restore_point · done[^<]*</title>\n<text[^\n]*</text>\n<rect [^>]*fill="#2e7d32"', svg)
      assert.matches('<title>cleanup · interrupted[^<]*</title>\n<text[^\n]*</text>\n<rect [^>]*fill="#ef6c00"', svg)
      assert.is_nil(bar(svg, "restore_disks"))
      assert.matches(">skipped</text>", svg, 1, true)
      -- an axis in seconds
      assert.matches(">0 s</text>", svg, 1, true)
      assert.matches(">90 s</text>", svg, 1, true)
      assert.matches("seconds since start (wall; emulated = wall / 0.01)", svg, 1, true)
    end)

    it("timeline.svg escapes <&> in names and errors", function()
      local svg = read(paths.svg)
      assert.matches(">↳ wait &lt;&amp;&gt; replication</text>", svg, 1, true)
      assert.matches("<title>wait &lt;&amp;&gt; replication · failed · 58 s · timed out waiting for 100 % " ..
        "&lt;&amp;&gt; &quot;done&quot;</title>", svg, 1, true)
      assert.is_nil(svg:find("<&>", 1, true))
      -- every '&' starts an entity
      for amp in svg:gmatch("&[^;%s]*;?") do
        assert.truthy(({ ["&amp;"] = 1, ["&lt;"] = 1, ["&gt;"] = 1, ["&quot;"] = 1, ["&apos;"] = 1 })[amp], amp)
      end
      -- a name that is all markup renders as text
      local odd = drill_report()
      odd.run_id = "</svg><script>alert(1)</script>"
      odd.steps[1].name = "]]><!-- & \"'"
      local p = assert(report.write(base .. "/odd", odd))
      assert.is_true((rsvg(p.svg, base .. "/odd.png")))
      local text = read(p.svg)
      assert.is_nil(text:find("<script", 1, true))
      assert.matches("&lt;/svg&gt;&lt;script&gt;", text, 1, true)
    end)

    it("no output shows a secret: token, SAS signature, client secret, assertion", function()
      for fmt, p in pairs(paths) do
        local text = read(p)
        for _, s in ipairs(secrets) do
          assert.is_nil(text:find(s, 1, true), fmt .. " shows a secret (" .. s:sub(1, 6) .. "...)")
        end
        assert.is_nil(text:find("access_token", 1, true), fmt)
        assert.is_nil(text:find("client_secret", 1, true), fmt)
        assert.is_nil(text:find("client_assertion", 1, true), fmt)
      end
      assert.matches("sig=REDACTED", read(paths.markdown), 1, true)
      -- secrets in strings wherever they show
      local leaky = { workflow = "dr_drill", run_id = "x", steps = {
        { name = "auth", state = "failed", ok = false, seconds = 1, started = T, ended = T + 1,
          error = "sent Authorization: Bearer " .. token .. " to https://user:" .. C.SECRET .. "@h/p?a=1&client_secret=" ..
            C.SECRET .. "&next=" .. sas:gsub("[:/?&=]", function(c) return string.format("%%%02X", c:byte()) end) },
      } }
      for _, fmt in ipairs{ "json", "markdown", "svg" } do
        local text = report.render(leaky, fmt)
        for _, s in ipairs(secrets) do
          assert.is_nil(text:find(s, 1, true), fmt .. " shows a secret (" .. s:sub(1, 6) .. "...)")
        end
        assert.matches("Bearer REDACTED", text, 1, true)
      end
    end)

    it("a second write replaces the report", function()
      local again = drill_report()
      again.state, again.ok, again.exit_code = "cleaned", true, 0
      local p = assert(report.write(dir, again))
      assert.are.equal("cleaned", json.decode(read(p.json)).state)
      assert.matches("**cleaned**", read(p.markdown), 1, true)
      assert.are.equal("report.json\nreport.md\ntimeline.svg\n", capture("ls -A '" .. dir .. "'"))
    end)
  end)

  it("a report without steps or resources still renders", function()
    local bare = { workflow = "dr_drill", run_id = "drill-bare", state = "interrupted", ok = false }
    local md = report.render(bare, "markdown")
    assert.matches("No steps ran.", md, 1, true)
    assert.matches("No resources were created.", md, 1, true)
    assert.is_nil(md:find("Left behind", 1, true))
    local p = assert(report.write(base .. "/bare", bare))
    assert.is_true((rsvg(p.svg, base .. "/bare.png")))
  end)

  it("labels the axis of a run of a few seconds in whole seconds (on LuaJIT too)", function()
    local short = { workflow = "export_disk", run_id = "export-short", state = "succeeded", ok = true,
      started_at = T, ended_at = T + 12, seconds = 12,
      steps = { { name = "download", started = T, ended = T + 12, seconds = 12, ok = true, state = "done" } } }
    local svg = require("azrp.report.svg").render(short)
    assert.matches(">2 s</text>", svg, 1, true)
    assert.matches(">12 s</text>", svg, 1, true)
  end)

  it("returns nil, err when the directory cannot be made", function()
    local file = base .. "/a-file"
    sh("mkdir -p '" .. base .. "' && : > '" .. file .. "'")
    local p, err = report.write(file .. "/sub", r)
    assert.is_nil(p)
    assert.matches("cannot write " .. file .. "/sub/report.json", err, 1, true)
    for _, s in ipairs(secrets) do assert.is_nil(err:find(s, 1, true)) end
  end)

  it("raises for programmer mistakes", function()
    local ok0, err0 = pcall(report.render, r, "pdf")
    assert.is_false(ok0)
    assert.matches("azrp.report.render: unknown format pdf (json, markdown or svg)", err0, 1, true)
    assert.has_error(function() report.render("r", "json") end)
    assert.has_error(function() report.write(nil, r) end)
    assert.has_error(function() report.write(base, nil) end)
    local loop = { workflow = "dr_drill", steps = {} }
    loop.steps[1] = { name = "a", substeps = { loop } }
    local ok, err = pcall(report.render, loop, "json")
    assert.is_false(ok)
    assert.matches("cycle at r.steps.1.substeps.1", err, 1, true)
  end)
end)
