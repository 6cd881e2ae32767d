-- Seeded restore points, among them points whose disks' SKUs are not
-- recorded (taken before Azure recorded them), and the OS disk SKUs Azure
-- refuses (Ultra, Premium v2), which a seed cannot make either.
local H = require "support.emu"
local json = require "azrp.emulator.json"
local seed_mod = require "azrp.emulator.seed"
local small_seed = require "support.small_seed"

local RPC = H.RG .. H.COMPUTE .. "/restorePointCollections/"

local function fleet(extra)
  local s = small_seed.shrink(seed_mod.default())
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function storage_of(t, rp)
  local st, body = t.call("GET", rp)
  assert.are.equal(200, st, json.encode(body))
  return body.properties.sourceMetadata.storageProfile
end

describe("seeded restore points", function()
  it("are taken through the API, with every disk's SKU, unless without_sku drops some", function()
    local t = H.app{ seed = fleet{ restore_points = {
      { resource_group = "rg-prod", vm = "vm-app-01", name = "rp-full" },
      { resource_group = "rg-prod", vm = "vm-app-01", name = "rp-old", without_sku = { "os", "lun1" } },
      { resource_group = "rg-prod", vm = "vm-app-01", collection = "rpc-other", name = "rp-none", without_sku = true },
    } } }
    local full = storage_of(t, RPC .. "rpc-vm-app-01/restorePoints/rp-full")
    assert.are.equal("Premium_LRS", full.osDisk.managedDisk.storageAccountType)
    assert.are.equal("StandardSSD_LRS", full.dataDisks[2].managedDisk.storageAccountType)
    local old = storage_of(t, RPC .. "rpc-vm-app-01/restorePoints/rp-old")
    assert.is_nil(old.osDisk.managedDisk.storageAccountType)
    assert.are.equal("Premium_LRS", old.dataDisks[1].managedDisk.storageAccountType)
    assert.is_nil(old.dataDisks[2].managedDisk.storageAccountType)
    -- the rest of the point is whole: its disks, their restore points
    assert.are.equal(2, #old.dataDisks)
    local st, drp = t.call("GET", old.osDisk.diskRestorePoint.id)
    assert.are.equal(200, st)
    assert.are.equal("Linux", drp.properties.osType)
    local none = storage_of(t, RPC .. "rpc-other/restorePoints/rp-none")
    assert.is_nil(none.osDisk.managedDisk.storageAccountType)
    for _, d in ipairs(none.dataDisks) do assert.is_nil(d.managedDisk.storageAccountType) end
  end)

  it("refuse a bad without_sku, naming the entry", function()
    local ok, err = seed_mod.check(fleet{ restore_points = {
      { resource_group = "rg-prod", vm = "vm-app-01", name = "rp", without_sku = { "data0" } } } })
    assert.is_nil(ok)
    assert.matches("restore_points%[1%]%.without_sku", err)
    ok, err = seed_mod.check(fleet{ restore_points = { { resource_group = "rg-prod", name = "rp" } } })
    assert.is_nil(ok)
    assert.matches("restore_points%[1%]%.vm must be a string", err)
    assert.has_error(function()
      H.app{ seed = fleet{ restore_points = { { resource_group = "rg-prod", vm = "vm-app-01", name = "rp",
        without_sku = { "lun7" } } } } }
    end, "seed restore_points[1]: without_sku names lun7, which the restore point does not hold")
  end)

  it("cannot have an Ultra or Premium v2 OS disk, which Azure refuses", function()
    for _, sku in ipairs({ "UltraSSD_LRS", "PremiumV2_LRS" }) do
      local s = fleet()
      s.vms[#s.vms + 1] = { resource_group = "rg-prod", name = "vm-v2os", location = "westeurope",
        size = "Standard_D2s_v5", os_type = "Linux", subnet = "vnet-prod/default", os_disk = { size_gb = 1, sku = sku } }
      local ok, err = pcall(H.app, { seed = s })
      assert.is_false(ok)
      assert.matches("seed vms%[%d+%] %(vm%-v2os%): InvalidParameter: " .. sku .. " can only be used with data disks%.", err)
    end
  end)
end)
