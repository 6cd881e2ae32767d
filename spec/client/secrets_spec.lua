-- Issue 11's secrets check, for the workflows a user runs from the azrp
-- command: a DR drill, a restore as a new VM, a disk export (through a
-- SAS) and a rotation, each with every progress event as JSON on stdout,
-- a report written and a journal kept; then every byte they wrote (stdout,
-- stderr, report.json, report.md, timeline.svg, meta.json, journal.jsonl)
-- is searched for the secrets the run used: the client secret, any JWT
-- (every access token and assertion is one), and any SAS signature that is
-- not redacted.  The SAS URLs of the export's grants are also looked for
-- whole, from the emulator's side.
local C = require "support.client"
local azrp_cmd = require "support.azrp_cmd"
local files = require "support.files"
local json = require "cjson.safe"
local small_seed = require "support.small_seed"
local tmp = require "support.tmp"

local SUBNET = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Network/virtualNetworks/vnet-prod/subnets/default"

-- Every file below dir, by path.
local function tree(dir)
  local out = {}
  local p = io.popen("find " .. require("support.shell").q(dir) .. " -type f")
  for path in p:lines() do out[#out + 1] = path end
  p:close()
  return out
end

describe("secrets in what the azrp command writes", function()
  local em, client, secret, root
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file())
    client = C.client(em)
    local ready = assert(json.decode((assert(files.read(em.dir .. "/ready.json")))))
    secret = ready.client_secret or ready.secret
    assert.is_string(secret, "the ready file names no client secret")
    root = tmp.dir()
  end)
  teardown(function() client:close(); em.stop(); tmp.remove(root) end)

  -- Runs azrp with a state folder and a report folder of the run's own;
  -- -> the texts it wrote, by name.
  local function run(name, args)
    local state, report = root .. "/" .. name .. "/state", root .. "/" .. name .. "/report"
    local all = { "--json", "--state-dir", state, "--report", report }
    for i = #args, 1, -1 do table.insert(all, 1, args[i]) end
    local r = azrp_cmd.run(em, all)
    assert.are.equal(0, r.code, name .. ": " .. r.err)
    local texts = { [name .. " stdout"] = r.out, [name .. " stderr"] = r.err }
    local n = 0
    for _, path in ipairs(tree(root .. "/" .. name)) do
      if not path:match("%.img$") then
        texts[path] = (assert(files.read(path)))
        n = n + 1
      end
    end
    assert.is_true(n >= 5, name .. " wrote only " .. n .. " files")   -- meta, journal, report.json, .md, .svg
    return texts, r
  end

  local function clean(texts)
    for where, text in pairs(texts) do
      assert.is_nil(text:find(secret, 1, true), where .. " shows the client secret")
      local jwt = text:match("eyJ[%w_%-]+%.eyJ[%w_%-]+%.[%w_%-]*")
      assert.is_nil(jwt, where .. " shows a JWT: " .. tostring(jwt and jwt:sub(1, 12)))
      for sig in text:gmatch("[?&]sig=([^&\"'%s<]*)") do
        assert.is_truthy(sig == "" or sig:match("^REDACTED") or sig:match("^%*+$"), where .. " shows a SAS signature")
      end
    end
  end

  it("the scan finds each kind of secret it looks for", function()
    for _, text in ipairs({ "x " .. secret .. " y", "Bearer eyJhbGciOi.eyJzdWIiOi.c2ln",
      "https://md-x.blob/abcd?sv=2018-03-28&sr=b&si=1&sig=AbCd%2Bef" }) do
      assert.is_false(pcall(clean, { text = text }), text)
    end
    assert.is_true(pcall(clean, { text = "https://md-x.blob/abcd?sv=2018-03-28&sig=REDACTED" }))
  end)

  it("a DR drill", function()
    local texts, r = run("drill", { "drill", "--vm", C.VM_ID, "--dr-location", "northeurope", "--dr-resource-group", "rg-dr" })
    assert.matches('"type":"progress"', r.out, 1, true)
    clean(texts)
  end)

  it("a restore as a new VM", function()
    clean(run("restore", { "restore", "--vm", C.VM_ID, "--subnet", SUBNET, "--name", "vm-app-01-secrets" }))
  end)

  it("an export through a SAS: no signature, and no URL the emulator granted", function()
    local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
    assert(client:call("RestorePointCollections_CreateOrUpdate", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-secrets", body = { location = "westeurope", properties = { source = { id = C.VM_ID } } } }))
    local rp = assert(client:call("RestorePoints_Create", { resource_group_name = "rg-prod",
      restore_point_collection_name = "rpc-secrets", restore_point_name = "rp-secrets", body = {} }))
    local drp = rp.properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id
    assert.is_string(vm.id)
    local texts = run("export", { "export", "--source", drp, "--image", root .. "/os.img" })
    clean(texts)
    -- The grant the export made, from the emulator's side: its URL (with
    -- its signature) is nowhere either.
    local status, blobs = C.admin(em, "GET", "/_emulator/blobs?resource=" .. C.enc(drp))
    assert.are.equal(200, status)
    assert.is_true(#blobs.grants >= 1, json.encode(blobs))
    local grant = assert(client:call("DiskRestorePoint_GrantAccess", { id = drp,
      body = { access = "Read", durationInSeconds = 600 } }))
    local sig = grant.accessSAS:match("[?&]sig=([^&]+)")
    assert.is_string(sig)
    assert(client:call("DiskRestorePoint_RevokeAccess", { id = drp }))
    for where, text in pairs(texts) do assert.is_nil(text:find(sig, 1, true), where) end
  end)

  it("a rotation", function()
    local cfg = root .. "/rotate.json"
    files.write(cfg, json.encode({ vm_ids = { C.VM_ID }, targets = { { location = "northeurope", resource_group = "rg-dr" } },
      retention = { keep_last = 2 } }))
    clean(run("rotate", { "rotate", cfg }))
  end)
end)
