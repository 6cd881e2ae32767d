-- azrp drill, resume, cleanup and runs: bin/azrp as a subprocess (Lua 5.4
-- and LuaJIT) against an emulator, killed and signalled as cron, CI and
-- an operator's ^C would.
local C = require "support.client"
local I = require "support.inventory"
local json = require "cjson.safe"
local small_seed = require "support.small_seed"

local files = require "support.files"
local shell = require "support.shell"
local tmp = require "support.tmp"
local q = shell.q

local function slurp(path) return files.read(path) or "" end

local em, client, dir
local ENV = "env -u LD_PRELOAD -u AZURE_SUBSCRIPTION_ID -u AZURE_CLIENT_SECRET HOME=%s AZRP_EMULATOR=%s"

-- azrp(interp, args...) -> { code, out, err }
local function azrp(interp, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  local out, err = dir .. "/stdout", dir .. "/stderr"
  local p = io.popen(string.format(ENV .. " %s bin/azrp %s >%s 2>%s; echo $?", q(dir), q(em.dir .. "/ready.json"),
    interp, table.concat(words, " "), out, err))
  local code = tonumber(p:read("*a"))
  p:close()
  return { code = code, out = slurp(out), err = slurp(err) }
end

-- Starts azrp in the background -> pid, stdout path, stderr path.
local function azrp_bg(interp, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  local out, err = os.tmpname(), os.tmpname()
  local p = io.popen(string.format(ENV .. " %s bin/azrp %s >%s 2>%s & echo $!", q(dir), q(em.dir .. "/ready.json"),
    interp, table.concat(words, " "), out, err))
  local pid = tonumber(p:read("*l"))
  p:close()
  return pid, out, err
end

-- Waits until a journal of state holds a record matching pattern -> run id.
local function wait_journal(state, pattern)
  for _ = 1, 600 do
    local h = io.popen("grep -lE " .. q(pattern) .. " " .. state .. "/runs/*/journal.jsonl 2>/dev/null | head -1")
    local f = h:read("*l")
    h:close()
    if f and f ~= "" then return f:match("/runs/([^/]+)/journal%.jsonl$") end
    os.execute("sleep 0.02")
  end
  error("no journal record " .. pattern)
end

local function wait_exit(pid)
  for _ = 1, 600 do
    if not shell.ok("kill -0 " .. pid .. " 2>/dev/null") then return end
    os.execute("sleep 0.05")
  end
  error("process " .. pid .. " did not end")
end

local DRILL = { "--vm", C.VM_ID, "--dr-location", "northeurope", "--dr-resource-group", "rg-dr" }
local function drill_args(state, ...)
  local a = { "drill" }
  for _, x in ipairs(DRILL) do a[#a + 1] = x end
  a[#a + 1] = "--state-dir"; a[#a + 1] = state
  for _, x in ipairs({ ... }) do a[#a + 1] = x end
  return (table.unpack or unpack)(a)
end

describe("azrp drill", function()
  local before
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file())
    client = C.client(em)
    dir = tmp.dir()
    before = I.dr(em, client)
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(dir) end)

  for _, interp in ipairs({ "lua5.4", "luajit" }) do
    it("runs a drill end to end under " .. interp .. ": run id first, JSON report, report files, exit 0", function()
      local state, rep = tmp.dir(), tmp.dir()
      local r = azrp(interp, drill_args(state, "--report", rep))
      assert.are.equal(0, r.code, r.err)
      local first = r.err:match("^[^\n]*")
      local run_id = first:match("^azrp: run (drill%-%d+T%d+%-%x+) started")
      assert.is_string(run_id, first)
      local report = json.decode(r.out)
      assert.are.equal(run_id, report.run_id)
      assert.are.equal("succeeded", report.state)
      assert.is_true(report.figures.rto_seconds > 0)
      assert.matches("RPO [%d.]+ s, RTO [%d.]+ s", r.err)
      assert.are.same(before, I.dr(em, client))
      local runs = azrp(interp, "runs", "--state-dir", state)
      assert.are.equal(0, runs.code, runs.err)
      local list = json.decode(runs.out)
      assert.are.equal(run_id, list[1].run_id)
      assert.are.equal("succeeded", list[1].state)
      -- No secret in the journal, the report or the output: neither the
      -- client secret nor a token (JWTs start eyJ) nor a SAS signature.
      local h = io.popen("grep -rlE 'azrp-emulator-secret|eyJ[A-Za-z0-9_-]{10}|sig=' " .. state .. " " .. rep .. " 2>/dev/null")
      assert.are.equal("", h:read("*a"))
      h:close()
      assert.is_nil(r.out:find(C.SECRET, 1, true))
      assert.is_nil(r.err:find(C.SECRET, 1, true))
      -- The report's files, when azrp.report is there to write them.
      if pcall(require, "azrp.report") then assert.is_true(#slurp(rep .. "/report.json") > 0) end
    end)
  end

  it("--plan lists what it would create and creates nothing", function()
    local state = tmp.dir()
    local r = azrp("lua5.4", drill_args(state, "--plan", "-o", "tsv"))
    assert.are.equal(0, r.code, r.err)
    assert.matches("restore_disks\tdisk\t<run>%-lun0", r.out)
    assert.are.same(before, I.dr(em, client))
    assert.are.same({}, json.decode(azrp("lua5.4", "runs", "--state-dir", state).out))
  end)

  it("refuses a bad config with exit 2, naming the field, sending nothing", function()
    local n0 = C.counters(em).total
    local r = azrp("lua5.4", "drill", "--vm", "vm-app-01", "--dr-location", "northeurope", "--dr-resource-group", "rg-dr",
      "--state-dir", tmp.dir())
    assert.are.equal(2, r.code)
    assert.matches("vm_id: \"vm%-app%-01\" is not a virtual machine id", r.err)
    local cfg = dir .. "/bad.json"
    files.write(cfg, '{"vm_id":"' .. C.VM_ID .. '","dr_location":"northeurope","dr_resource_grop":"rg-dr"}')
    r = azrp("lua5.4", "drill", cfg, "--state-dir", tmp.dir())
    assert.are.equal(2, r.code)
    assert.matches("dr_resource_grop: unknown setting %(did you mean dr_resource_group%?%)", r.err)
    assert.are.equal(n0 + 1, C.counters(em).total)
  end)

  it("resume and cleanup of an unknown run: exit 2", function()
    local state = tmp.dir()
    assert.are.equal(2, azrp("lua5.4", "resume", "drill-nope", "--state-dir", state).code)
    assert.are.equal(2, azrp("lua5.4", "cleanup", "../etc", "--state-dir", state).code)
  end)

  for _, interp in ipairs({ "lua5.4", "luajit" }) do
    it("killed with SIGKILL while restoring disks, 'azrp resume' finishes it (" .. interp .. ")", function()
      local state = tmp.dir()
      local pid = azrp_bg(interp, drill_args(state))
      local run_id = wait_journal(state, '"key":"disk:os"')
      os.execute("kill -KILL " .. pid)
      wait_exit(pid)
      local runs = json.decode(azrp(interp, "runs", "--state-dir", state).out)
      assert.are.equal("running", runs[1].state)
      local r = azrp(interp, "resume", run_id, "--state-dir", state)
      assert.are.equal(0, r.code, r.err)
      assert.matches("run " .. run_id:gsub("%-", "%%-") .. " resumed", r.err)
      assert.are.equal("succeeded", json.decode(r.out).state)
      assert.are.same(before, I.dr(em, client))
    end)
  end

  it("killed with SIGKILL while creating the VM, 'azrp cleanup' deletes what it made", function()
    local state = tmp.dir()
    local pid = azrp_bg("lua5.4", drill_args(state))
    local run_id = wait_journal(state, '"name":"vm-app-01-[^"]*-vm"')
    os.execute("kill -KILL " .. pid)
    wait_exit(pid)
    local r = azrp("lua5.4", "cleanup", run_id, "--state-dir", state, "-o", "tsv")
    assert.are.equal(0, r.code, r.err)
    assert.matches("vm\t[^\t]+%-vm\tdeleted", r.out)
    assert.are.same(before, I.dr(em, client))
    assert.are.equal("cleaned", json.decode(azrp("lua5.4", "runs", "--state-dir", state).out)[1].state)
  end)

  for _, sig in ipairs({ "TERM", "INT" }) do
    it("SIG" .. sig .. " during the copy stops it, cleans up and exits 4", function()
      local state = tmp.dir()
      local pid, out, err = azrp_bg("lua5.4", drill_args(state))
      wait_journal(state, '"name":"copy".*"state":"start"|"state":"start".*"name":"copy"')
      os.execute("kill -" .. sig .. " " .. pid)
      wait_exit(pid)
      local report = json.decode(slurp(out))
      assert.is_table(report, slurp(err))
      assert.are.equal(4, report.exit_code)
      assert.are.equal("interrupted", report.state)
      assert.are.same(before, I.dr(em, client))
      os.remove(out); os.remove(err)
    end)
  end
end)
