-- The azrp command end to end: bin/azrp run as a subprocess, under Lua 5.4
-- and LuaJIT, against an emulator; its output, exit codes, and the
-- resources it leaves, read back through the emulator.
local C = require "support.client"
local json = require "cjson.safe"
local small_seed = require "support.small_seed"

local INTERPRETERS = { "lua5.4", "luajit" }

local files = require "support.files"
local tmp = require "support.tmp"
local q = require("support.shell").q
local spit = files.write

local function slurp(path) return files.read(path) or "" end

local tmpdir
local function scratch(name)
  tmpdir = tmpdir or tmp.dir()
  return tmpdir .. "/" .. name
end

-- run(interp, argv [, env]) -> { code, out, err }.  The command sees only
-- the variables given (AZRP_EMULATOR unless env.AZRP_EMULATOR = false)
-- and a HOME with no Azure CLI profile.
local em
local function run(interp, argv, env)
  env = env or {}
  local vars = { "HOME=" .. q(scratch("home")) }
  if env.AZRP_EMULATOR ~= false then
    vars[#vars + 1] = "AZRP_EMULATOR=" .. q(env.AZRP_EMULATOR or (em.dir .. "/ready.json"))
  end
  for k, v in pairs(env) do
    if k ~= "AZRP_EMULATOR" then vars[#vars + 1] = k .. "=" .. q(v) end
  end
  local words = {}
  for i, a in ipairs(argv) do words[i] = q(a) end
  local out, err = scratch("stdout"), scratch("stderr")
  local cmd = string.format("env -u LD_PRELOAD -u AZRP_EMULATOR -u AZURE_SUBSCRIPTION_ID -u AZURE_CONFIG_DIR " ..
    "-u AZURE_TENANT_ID -u AZURE_CLIENT_ID -u AZURE_CLIENT_SECRET -u AZURE_FEDERATED_TOKEN_FILE %s %s bin/azrp %s " ..
    ">%s 2>%s; echo $?", table.concat(vars, " "), interp, table.concat(words, " "), out, err)
  local p = io.popen(cmd)
  local code = tonumber(p:read("*a"))
  p:close()
  return { code = code, out = slurp(out), err = slurp(err) }
end

local function ok(r, what)
  assert.are.equal(0, r.code, (what or "") .. "\nstdout: " .. r.out .. "\nstderr: " .. r.err)
  return r
end

local function decoded(r)
  local v = json.decode(r.out)
  assert.is_table(v, "not JSON: " .. r.out)
  return v
end

-- Requests the emulator has answered, but for its admin API's (the
-- counters themselves are counted once answered).
local function requests()
  local n = 0
  for op, count in pairs(C.counters(em).operations) do
    if not op:match("^Admin_") then n = n + count end
  end
  return n
end

local SUB = C.SUB
local RG_ID = "/subscriptions/" .. SUB .. "/resourceGroups/"
local function coll_id(rg, name) return RG_ID .. rg .. "/providers/Microsoft.Compute/restorePointCollections/" .. name end

describe("the azrp command", function()
  local client, secret
  setup(function()
    em = C.start("--time-scale 0.002 --seed " .. small_seed.file())
    client = C.client(em)
    secret = json.decode(slurp(em.dir .. "/ready.json")).client_secret
  end)
  teardown(function()
    client:close()
    em.stop()
    tmp.remove(tmpdir)
  end)

  it("the emulator's ready file names the app, the secret and the time scale, readable by its owner only", function()
    local ready = json.decode(slurp(em.dir .. "/ready.json"))
    assert.are.equal(C.CLIENT_ID, ready.client_id)
    assert.are.equal(C.SECRET, ready.client_secret)
    assert.are.equal(C.TENANT, ready.tenant)
    assert.are.equal(SUB, ready.subscription)
    assert.are.equal(0.002, ready.time_scale)
    local p = io.popen("stat -c %a " .. q(em.dir .. "/ready.json"))
    assert.are.equal("600", p:read("*l"))
    p:close()
  end)

  for _, lua in ipairs(INTERPRETERS) do
    -- Each interpreter works on resources of its own.
    local tag = lua:gsub("[^%w]", "")
    local function azrp(argv, env) return run(lua, argv, env) end

    describe("on " .. lua, function()
      it("prints help at every level with exit 0", function()
        local r = ok(azrp{ "--help" })
        assert.matches("usage: azrp <command>", r.out, 1, true)
        for _, word in ipairs{ "collection", "rp", "disk-rp", "emulator", "drill", "runs",
          "4 interrupted", "5 cleanup incomplete" } do
          assert.matches(word, r.out, 1, true)
        end
        local tree = {
          collection = { "create", "show", "list", "list-all", "update", "delete" },
          rp = { "create", "show", "list", "delete", "wait" },
          ["disk-rp"] = { "list", "show", "grant", "revoke" },
        }
        for group, subs in pairs(tree) do
          local g = ok(azrp{ group, "--help" })
          assert.matches("usage: azrp " .. group .. " <command>", g.out, 1, true)
          for _, sub in ipairs(subs) do
            assert.matches("\n  " .. sub .. " ", g.out, 1, true)
            r = ok(azrp{ group, sub, "-h" })
            assert.matches("usage: azrp " .. group .. " " .. sub .. " [options]", r.out, 1, true)
            assert.matches("--output FORMAT", r.out, 1, true)
            assert.matches("Exit status:", r.out, 1, true)
          end
        end
        r = ok(azrp{ "rp", "create", "--help" })
        for _, opt in ipairs{ "--exclude-disks", "--consistency-mode", "--source-restore-point", "--no-wait" } do
          assert.matches(opt, r.out, 1, true)
        end
        assert.are.equal("", r.err)
      end)

      it("refuses an unknown command or option with exit 2 and a suggestion", function()
        local before = requests()
        local r = azrp{ "rp", "craete" }
        assert.are.equal(2, r.code)
        assert.matches("did you mean 'create'?", r.err, 1, true)
        r = azrp{ "colection" }
        assert.are.equal(2, r.code)
        assert.matches("did you mean 'collection'?", r.err, 1, true)
        r = azrp{ "rp", "show", "-g", "rg-prod", "--collection-nme", "x", "-n", "y" }
        assert.are.equal(2, r.code)
        assert.matches("unknown option --collection-nme (did you mean --collection-name?)", r.err, 1, true)
        r = azrp{ "rp" }
        assert.are.equal(2, r.code)
        assert.matches("usage: azrp rp <command>", r.err, 1, true)
        assert.are.equal(before, requests())
      end)

      it("says which commands this build or this Lua lacks, with exit 2", function()
        if not io.open("lua/azrp/cli/drill.lua") then
          local r = azrp{ "drill", "--help" }
          assert.are.equal(2, r.code)
          assert.are.equal("azrp drill: not available in this build\n", r.err)
        end
        if lua == "luajit" then
          local r = azrp{ "emulator", "--help" }
          assert.are.equal(2, r.code)
          assert.matches("azrp emulator: needs Lua 5.3 or 5.4", r.err, 1, true)
        else
          local r = ok(azrp{ "emulator", "--help" })
          assert.matches("usage: azrp emulator", r.out, 1, true)
        end
      end)

      it("collection create, show, list, list-all, update and delete", function()
        local name = "rpc-cli-" .. tag
        local r = ok(azrp{ "collection", "create", "-g", "rg-prod", "--collection-name", name,
          "--source-id", C.VM_ID, "--tags", "env=test", "owner=cli" })
        local coll = decoded(r)
        assert.are.equal(name, coll.name)
        assert.are.equal("westeurope", coll.location)          -- the resource group's
        assert.are.same({ env = "test", owner = "cli" }, coll.tags)
        local seen = assert(client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
          restore_point_collection_name = name }))
        assert.are.equal(C.VM_ID:lower(), seen.properties.source.id:lower())

        coll = decoded(ok(azrp{ "collection", "show", "-g", "rg-prod", "--collection-name", name }))
        assert.are.equal(seen.id, coll.id)
        assert.is_nil(coll.properties.restorePoints)
        coll = decoded(ok(azrp{ "collection", "show", "-g", "rg-prod", "--collection-name", name, "--restore-points" }))
        assert.are.equal(seen.id, coll.id)
        assert.is_table(coll.properties.restorePoints)   -- --restore-points: $expand=restorePoints

        local found = false
        for _, c in ipairs(decoded(ok(azrp{ "collection", "list", "-g", "rg-prod" }))) do
          if c.name == name then found = true end
        end
        assert.is_true(found)
        found = false
        for _, c in ipairs(decoded(ok(azrp{ "collection", "list-all" }))) do
          if c.id == seen.id then found = true end
        end
        assert.is_true(found)

        coll = decoded(ok(azrp{ "collection", "update", "-g", "rg-prod", "--collection-name", name, "--tags", "env=prod" }))
        assert.are.same({ env = "prod" }, coll.tags)
        seen = assert(client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
          restore_point_collection_name = name }))
        assert.are.same({ env = "prod" }, seen.tags)

        r = ok(azrp{ "collection", "delete", "-g", "rg-prod", "--collection-name", name })
        assert.are.equal("", r.out)
        local gone, err = client:call("RestorePointCollections_Get", { resource_group_name = "rg-prod",
          restore_point_collection_name = name })
        assert.is_nil(gone)
        assert.are.equal(404, err.status)
      end)

      it("rp create, show, list, wait and delete, and a copy to another region with --source-restore-point", function()
        local src, dr = "rpc-rp-" .. tag, "rpc-rp-" .. tag .. "-dr"
        ok(azrp{ "collection", "create", "-g", "rg-prod", "--collection-name", src, "--source-id", C.VM_ID })
        ok(azrp{ "collection", "create", "-g", "rg-dr", "--collection-name", dr, "--source-id", coll_id("rg-prod", src),
          "--location", "North Europe" })

        local rp = decoded(ok(azrp{ "rp", "create", "-g", "rg-prod", "--collection-name", src, "-n", "rp-1",
          "--consistency-mode", "crashconsistent" }))
        assert.are.equal("Succeeded", rp.properties.provisioningState)
        assert.are.equal("CrashConsistent", rp.properties.consistencyMode)

        rp = decoded(ok(azrp{ "rp", "show", "-g", "rg-prod", "--collection-name", src, "-n", "rp-1", "--instance-view" }))
        assert.is_table(rp.properties.instanceView)
        assert.are.equal(3, #rp.properties.instanceView.diskRestorePoints)

        -- A data disk left out.
        local vm = assert(client:call("VirtualMachines_Get", { id = C.VM_ID }))
        local data1 = vm.properties.storageProfile.dataDisks[2].managedDisk.id
        rp = decoded(ok(azrp{ "rp", "create", "-g", "rg-prod", "--collection-name", src, "-n", "rp-2",
          "--exclude-disks", data1 }))
        assert.are.equal(1, #rp.properties.excludeDisks)
        local drps = assert(client:list("DiskRestorePoint_ListByRestorePoint", { resource_group_name = "rg-prod",
          restore_point_collection_name = src, restore_point_name = "rp-2" }))
        assert.are.equal(2, #drps)

        -- --no-wait returns once Azure has accepted; wait --created follows it.
        local r = ok(azrp{ "rp", "create", "-g", "rg-prod", "--collection-name", src, "-n", "rp-3", "--no-wait" })
        assert.are.equal("", r.out)
        ok(azrp{ "rp", "wait", "-g", "rg-prod", "--collection-name", src, "-n", "rp-3", "--created" })
        local seen = assert(client:call("RestorePoints_Get", { resource_group_name = "rg-prod",
          restore_point_collection_name = src, restore_point_name = "rp-3" }))
        assert.are.equal("Succeeded", seen.properties.provisioningState)

        local names = {}
        for _, x in ipairs(decoded(ok(azrp{ "rp", "list", "-g", "rg-prod", "--collection-name", src }))) do
          names[#names + 1] = x.name
        end
        table.sort(names)
        assert.are.same({ "rp-1", "rp-2", "rp-3" }, names)

        -- The copy: create waits until every disk has replicated.
        local copy = decoded(ok(azrp{ "rp", "create", "-g", "rg-dr", "--collection-name", dr, "-n", "rp-1",
          "--source-restore-point", coll_id("rg-prod", src) .. "/restorePoints/rp-1" }))
        assert.are.equal("Succeeded", copy.properties.provisioningState)
        assert.are.equal((coll_id("rg-prod", src) .. "/restorePoints/rp-1"):lower(),
          copy.properties.sourceRestorePoint.id:lower())
        seen = assert(client:call("RestorePoints_Get", { resource_group_name = "rg-dr",
          restore_point_collection_name = dr, restore_point_name = "rp-1", expand = "instanceView" }))
        for _, d in ipairs(seen.properties.instanceView.diskRestorePoints) do
          assert.are.equal(100, d.replicationStatus.completionPercent)
        end

        -- A copy started with --no-wait; wait --created waits for 100 %.
        ok(azrp{ "rp", "create", "-g", "rg-dr", "--collection-name", dr, "-n", "rp-3", "--no-wait",
          "--source-restore-point", coll_id("rg-prod", src) .. "/restorePoints/rp-3" })
        ok(azrp{ "rp", "wait", "-g", "rg-dr", "--collection-name", dr, "-n", "rp-3", "--created" })
        seen = assert(client:call("RestorePoints_Get", { resource_group_name = "rg-dr",
          restore_point_collection_name = dr, restore_point_name = "rp-3", expand = "instanceView" }))
        for _, d in ipairs(seen.properties.instanceView.diskRestorePoints) do
          assert.are.equal(100, d.replicationStatus.completionPercent)
        end
        ok(azrp{ "rp", "wait", "-g", "rg-dr", "--collection-name", dr, "-n", "rp-3",
          "--custom", "properties.provisioningState=Succeeded" })

        r = ok(azrp{ "rp", "delete", "-g", "rg-prod", "--collection-name", src, "-n", "rp-2" })
        assert.are.equal("", r.out)
        ok(azrp{ "rp", "delete", "-g", "rg-prod", "--collection-name", src, "-n", "rp-3", "--no-wait" })
        ok(azrp{ "rp", "wait", "-g", "rg-prod", "--collection-name", src, "-n", "rp-3", "--deleted" })
        for _, n in ipairs{ "rp-2", "rp-3" } do
          local gone, err = client:call("RestorePoints_Get", { resource_group_name = "rg-prod",
            restore_point_collection_name = src, restore_point_name = n })
          assert.is_nil(gone)
          assert.are.equal(404, err.status)
        end

        ok(azrp{ "collection", "delete", "-g", "rg-dr", "--collection-name", dr })
        ok(azrp{ "collection", "delete", "-g", "rg-prod", "--collection-name", src })
      end)

      it("disk-rp list, show, grant and revoke; the SAS URL goes to stdout only", function()
        local coll = "rpc-drp-" .. tag
        ok(azrp{ "collection", "create", "-g", "rg-prod", "--collection-name", coll, "--source-id", C.VM_ID })
        ok(azrp{ "rp", "create", "-g", "rg-prod", "--collection-name", coll, "-n", "rp-1" })
        local base = { "-g", "rg-prod", "--collection-name", coll, "--restore-point-name", "rp-1" }
        local function with(...)
          local argv = {}
          for _, a in ipairs{ ... } do argv[#argv + 1] = a end
          local n = #argv
          for i, a in ipairs(base) do argv[n + i] = a end
          return argv
        end
        local list = decoded(ok(azrp(with("disk-rp", "list"))))
        assert.are.equal(3, #list)
        local name = list[1].name
        local drp = decoded(ok(azrp(with("disk-rp", "show", "-n", name))))
        assert.are.equal(list[1].id, drp.id)

        local r = ok(azrp(with("disk-rp", "grant", "-n", name, "--duration-in-seconds", "600", "--verbose")))
        local sas = decoded(r).accessSAS
        assert.is_string(sas)
        assert.matches("sig=", sas, 1, true)
        assert.matches("DiskRestorePoint_GrantAccess succeeded", r.err, 1, true)
        assert.is_nil(r.err:find(sas, 1, true))
        assert.is_nil(r.err:find("sig=", 1, true))
        assert.is_nil(r.err:find(secret, 1, true))
        local function fetch()
          local p = io.popen("env -u LD_PRELOAD curl -s -o /dev/null -w '%{http_code}' --cacert " .. q(em.ca_file) ..
            " -H 'x-ms-range: bytes=0-511' " .. q(sas))
          local code = tonumber(p:read("*a"))
          p:close()
          return code
        end
        local status = fetch()
        assert.is_true(status == 200 or status == 206, "SAS GET answered " .. tostring(status))

        r = ok(azrp(with("disk-rp", "revoke", "-n", name)))
        assert.are.equal("", r.out)
        assert.are.equal(403, fetch())

        ok(azrp{ "collection", "delete", "-g", "rg-prod", "--collection-name", coll })
      end)

      it("prints -o table with aligned columns and -o tsv without a header", function()
        local name = "rpc-out-" .. tag
        ok(azrp{ "collection", "create", "-g", "rg-prod", "--collection-name", name, "--source-id", C.VM_ID })
        local r = ok(azrp{ "collection", "show", "-g", "rg-prod", "--collection-name", name, "-o", "table" })
        local lines = {}
        for line in r.out:gmatch("[^\n]+") do lines[#lines + 1] = line end
        assert.are.equal(3, #lines)
        assert.matches("^Name +ResourceGroup +Location +ProvisioningState +Source$", lines[1])
        assert.matches("^%-+  %-+  %-+  %-+  %-+$", lines[2])
        assert.matches("^" .. name:gsub("%-", "%%-") .. " +rg%-prod +westeurope +Succeeded +/subscriptions/", lines[3])
        -- Every column starts where its header does.
        local col = lines[1]:find("Location", 1, true)
        assert.are.equal("westeurope", lines[3]:sub(col, col + 9))

        r = ok(azrp{ "collection", "list", "-g", "rg-prod", "--output=tsv" })
        local row
        for line in r.out:gmatch("[^\n]+") do
          if line:sub(1, #name + 1) == name .. "\t" then row = line end
        end
        assert.is_string(row, r.out)
        local fields = {}
        for f in (row .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = f end
        assert.are.same({ name, "rg-prod", "westeurope", "Succeeded", C.VM_ID }, {
          fields[1], fields[2], fields[3], fields[4], fields[5] })
        assert.is_nil(r.out:find("ProvisioningState", 1, true))

        r = ok(azrp{ "rp", "list", "-g", "rg-prod", "--collection-name", name, "-o", "json" })
        assert.are.equal("[]\n", r.out)
        ok(azrp{ "collection", "delete", "-g", "rg-prod", "--collection-name", name })
      end)

      it("refuses bad input with exit 2, naming the option, before sending anything", function()
        local before = requests()
        local cases = {
          { { "rp", "create", "-g", "rg-prod", "--collection-name", "c" }, "--name is required" },
          { { "rp", "create", "-g", "rg/prod", "--collection-name", "c", "-n", "r" }, "--resource-group: resource_group_name 'rg/prod'" },
          { { "rp", "create", "-g", "rg-prod", "--collection-name", "c", "-n", "r", "--consistency-mode", "Eventual" },
            "--consistency-mode must be one of CrashConsistent, ApplicationConsistent" },
          { { "rp", "create", "-g", "rg-prod", "--collection-name", "c", "-n", "r", "--exclude-disks", "disk-1" },
            "--exclude-disks: body.properties.excludeDisks[1].id must be an ARM resource id" },
          { { "rp", "create", "-g", "rg-prod", "--collection-name", "c", "-n", "r", "--source-restore-point",
            coll_id("rg-prod", "c") .. "/restorePoints/r", "--consistency-mode", "CrashConsistent" },
            "--source-restore-point copies a restore point as it is" },
          { { "collection", "create", "-g", "rg-prod", "--collection-name", "c" }, "--source-id is required" },
          { { "collection", "create", "-g", "rg-prod", "--collection-name", "c", "--source-id", C.VM_ID, "--tags", "=x" },
            "--tags: '=x' has no key" },
          { { "collection", "list", "-g", "rg-prod", "--subscription", "not-a-guid" },
            "--subscription: subscription_id 'not-a-guid' must be a GUID" },
          { { "collection", "list", "-g", "rg-prod", "-o", "yaml" }, "--output must be one of json, table, tsv" },
          { { "collection", "list", "-g" }, "--resource-group needs a value" },
          { { "disk-rp", "grant", "-g", "rg-prod", "--collection-name", "c", "--restore-point-name", "r", "-n", "d",
            "--duration-in-seconds", "soon" }, "--duration-in-seconds must be a number, got 'soon'" },
          { { "disk-rp", "grant", "-g", "rg-prod", "--collection-name", "c", "--restore-point-name", "r", "-n", "d",
            "--duration-in-seconds", "0" }, "--duration-in-seconds must be a whole number of seconds above 0" },
          { { "disk-rp", "grant", "-g", "rg-prod", "--collection-name", "c", "--restore-point-name", "r", "-n", "d",
            "--access", "Write" }, "--access must be one of Read" },
          { { "rp", "wait", "-g", "rg-prod", "--collection-name", "c", "-n", "r" }, "give one of --created, --deleted or --custom" },
          { { "rp", "list", "-g", "rg-prod", "--collection-name", "c", "stray" }, "unexpected argument 'stray'" },
          { { "collection", "list", "-g", "rg-prod" }, "cannot read the emulator's ready file",
            { AZRP_EMULATOR = scratch("missing.json") } },
        }
        for _, case in ipairs(cases) do
          local r = azrp(case[1], case[3])
          assert.are.equal(2, r.code, table.concat(case[1], " ") .. ": " .. r.err)
          assert.matches(case[2], r.err, 1, true)
          assert.matches("^azrp [%w%-]+ [%w%-]+: ", r.err)
          assert.are.equal("", r.out)
        end
        assert.are.equal(before, requests())
      end)

      it("exits 1 with Azure's message, code and status when the emulator refuses", function()
        local r = azrp{ "rp", "show", "-g", "rg-prod", "--collection-name", "rpc-none-" .. tag, "-n", "rp-1" }
        assert.are.equal(1, r.code)
        assert.matches("^azrp rp show: .*'rpc%-none%-" .. tag .. "' not found%. %(ParentResourceNotFound, HTTP 404, " ..
          "request%-id [%w%-]+%)\n$", r.err)
        assert.are.equal("", r.out)
        r = azrp{ "collection", "create", "-g", "rg-prod", "--collection-name", "rpc-bad-" .. tag,
          "--source-id", RG_ID .. "rg-prod/providers/Microsoft.Compute/virtualMachines/vm-none" }
        assert.are.equal(1, r.code)
        assert.matches("^azrp collection create: .*vm%-none.*HTTP 404", r.err)
      end)

      it("takes the subscription from --subscription, AZURE_SUBSCRIPTION_ID, the ready file or azureProfile.json", function()
        -- A ready file that names no subscription.
        local ready = json.decode(slurp(em.dir .. "/ready.json"))
        ready.subscription = nil
        local bare = scratch("ready-" .. tag .. ".json")
        spit(bare, json.encode(ready))
        local OTHER = "00000000-0000-4000-8000-0000000000ff"

        local r = azrp({ "collection", "list-all", "--verbose" }, { AZRP_EMULATOR = bare })
        assert.are.equal(2, r.code)
        assert.matches("no subscription: give --subscription ID, set AZURE_SUBSCRIPTION_ID", r.err, 1, true)

        r = ok(azrp({ "collection", "list-all", "--verbose" }, { AZRP_EMULATOR = bare, AZURE_SUBSCRIPTION_ID = SUB }))
        assert.matches("subscription " .. SUB .. " (from AZURE_SUBSCRIPTION_ID)", r.err, 1, true)
        assert.is_nil(r.err:find(secret, 1, true))

        r = ok(azrp({ "collection", "list-all", "--subscription", SUB, "--verbose" },
          { AZRP_EMULATOR = bare, AZURE_SUBSCRIPTION_ID = OTHER }))
        assert.matches("(from --subscription)", r.err, 1, true)

        -- AZURE_SUBSCRIPTION_ID comes before the ready file's: a subscription
        -- the emulator does not have.
        r = azrp({ "collection", "list", "-g", "rg-prod" }, { AZURE_SUBSCRIPTION_ID = OTHER })
        assert.are.equal(1, r.code)
        assert.matches("HTTP 404", r.err, 1, true)

        -- The Azure CLI's default, with its byte order mark, in AZURE_CONFIG_DIR.
        local cfg = scratch("azure-" .. tag)
        assert(os.execute("mkdir -p " .. q(cfg)))
        spit(cfg .. "/azureProfile.json", "\239\187\191" .. json.encode{ installationId = "x", subscriptions = {
          { id = OTHER, name = "other", isDefault = false, tenantId = C.TENANT, state = "Enabled" },
          { id = SUB, name = "azrp-emulator", isDefault = true, tenantId = C.TENANT, state = "Enabled" } } })
        r = ok(azrp({ "collection", "list-all", "--verbose" }, { AZRP_EMULATOR = bare, AZURE_CONFIG_DIR = cfg }))
        assert.matches("subscription " .. SUB .. " (from the Azure CLI's default)", r.err, 1, true)
        -- ... or in ~/.azure.
        local home = scratch("home-" .. tag)
        assert(os.execute("mkdir -p " .. q(home .. "/.azure") .. " && cp " .. q(cfg .. "/azureProfile.json") .. " " ..
          q(home .. "/.azure/")))
        r = ok(azrp({ "collection", "list-all", "--verbose" }, { AZRP_EMULATOR = bare, HOME = home }))
        assert.matches("(from the Azure CLI's default)", r.err, 1, true)
      end)

      it("exits 4 when interrupted by SIGINT", function()
        local coll = "rpc-int-" .. tag
        local before = requests()
        local pidfile, codefile = scratch("pid-" .. tag), scratch("code-" .. tag)
        -- A wait that never ends on its own (it would give up after 60 s, exit 1).
        os.execute(string.format("(env -u LD_PRELOAD AZRP_EMULATOR=%s HOME=%s %s bin/azrp rp wait -g rg-prod" ..
          " --collection-name %s -n rp-1 --custom properties.provisioningState=Never --interval 0.05 --timeout 60" ..
          " >/dev/null 2>%s & echo $! >%s; wait $!; echo $? >%s) &", q(em.dir .. "/ready.json"), q(scratch("home")),
          lua, coll, q(scratch("int-err-" .. tag)), q(pidfile), q(codefile)))
        -- SIGINT once it is polling (so once Lua's handler is in place).
        local gets
        repeat
          os.execute("sleep 0.05")
          gets = requests() - before
        until gets >= 2
        assert(os.execute("kill -INT " .. slurp(pidfile):match("%d+")))
        local code
        repeat
          os.execute("sleep 0.05")
          code = slurp(codefile):match("%d+")
        until code
        assert.are.equal("4", code)
        assert.are.equal("azrp: interrupted\n", slurp(scratch("int-err-" .. tag)))
      end)

      it("without --emulator, uses Azure's endpoint and the default credential chain", function()
        local r = ok(azrp({ "collection", "--help" }, { AZRP_EMULATOR = false }))
        assert.matches("list-all", r.out, 1, true)
        -- No subscription anywhere: a usage error, before any request.
        r = azrp({ "collection", "list-all" }, { AZRP_EMULATOR = false })
        assert.are.equal(2, r.code)
        assert.matches("no subscription", r.err, 1, true)
      end)
    end)
  end
end)
