-- Regions: ARM refuses a location that is not an Azure region (400
-- LocationNotAvailableForResourceType, listing the regions it offers;
-- LocationNotAvailableForResourceGroup for a resource group) and creates
-- nothing; it accepts a display name ("North Europe") and stores the
-- region's name ("northeurope").
local H = require "support.emu"
local regions = require "azrp.emulator.regions"

local DISKS = H.RG .. H.COMPUTE .. "/disks/"
local SNAPS = H.RG .. H.COMPUTE .. "/snapshots/"
local VMS = H.RG .. H.COMPUTE .. "/virtualMachines/"
local RPCS = H.RG .. H.COMPUTE .. "/restorePointCollections/"
local GROUPS = "/subscriptions/" .. H.SUB .. "/resourceGroups/"
local GAL = H.RG .. H.COMPUTE .. "/galleries/gal_regions"
local DEF = GAL .. "/images/app"
local GALLERY_API = { api = "2025-03-03" }
local OS_DISK = H.RG .. H.COMPUTE .. "/disks/vm-app-01-osdisk"

local function empty_disk(location)
  return { location = location, sku = { name = "Premium_LRS" },
    properties = { creationData = { createOption = "Empty" }, diskSizeGB = 1 } }
end

local function snapshot(location)
  return { location = location, properties = { creationData = {
    createOption = "Copy", sourceResourceId = OS_DISK } } }
end

local function vm(location)
  return { location = location, properties = { hardwareProfile = { vmSize = "Standard_D2s_v5" } } }
end

local function collection(location)
  return { location = location, properties = { source = { id = H.VM } } }
end

local function group(location) return { location = location } end

local function version(target)
  return { location = "westeurope", properties = {
    publishingProfile = { targetRegions = { { name = "westeurope" }, { name = target } } },
    storageProfile = { osDiskImage = { source = { id = OS_DISK } } } } }
end

describe("regions", function()
  local t
  before_each(function() t = H.app() end)

  -- A refusal lists every region, as ARM's does.
  local function assert_refused(st, body, code, location)
    assert.are.equal(400, st)
    assert.are.equal(code, body.error.code, body.error.message)
    assert.truthy(body.error.message:find("'" .. location .. "'", 1, true), body.error.message)
    assert.truthy(body.error.message:find(regions.available(), 1, true), body.error.message)
  end

  local function make_gallery()
    assert.are.equal(201, (t.call("PUT", GAL, { location = "westeurope" }, GALLERY_API)))
    assert.are.equal(201, (t.call("PUT", DEF, { location = "westeurope", properties = {
      osType = "Linux", osState = "Specialized", hyperVGeneration = "V2",
      -- vm-app-01 is a Trusted Launch VM: its disks need the feature.
      features = { { name = "SecurityType", value = "TrustedLaunchSupported" } },
      identifier = { publisher = "contoso", offer = "app", sku = "prod" } } }, GALLERY_API)))
    t.advance(10)
  end

  describe("known", function()
    it("by their name, display name and any case or spacing", function()
      assert.are.equal("northeurope", regions.canonical("northeurope"))
      assert.are.equal("northeurope", regions.canonical("North Europe"))
      assert.are.equal("northeurope", regions.canonical(" NORTH  europe "))
      assert.are.equal("westus2", regions.canonical("West US 2"))
      assert.is_nil(regions.canonical("northeurop"))
      assert.is_nil(regions.canonical("mars"))
      assert.is_nil(regions.canonical(5))
      assert.are.equal(49, #regions.LIST)
    end)
  end)

  describe("an unknown location", function()
    local cases = {
      { "a restore point collection", RPCS .. "rpc-x", collection, "LocationNotAvailableForResourceType" },
      { "a disk", DISKS .. "d-x", empty_disk, "LocationNotAvailableForResourceType" },
      { "a snapshot", SNAPS .. "s-x", snapshot, "LocationNotAvailableForResourceType" },
      { "a VM", VMS .. "vm-x", vm, "LocationNotAvailableForResourceType" },
      { "a resource group", GROUPS .. "rg-x", group, "LocationNotAvailableForResourceGroup" },
    }
    for _, c in ipairs(cases) do
      local what, path, body, code = c[1], c[2], c[3], c[4]
      it("is refused for " .. what .. ", which is not created", function()
        for _, loc in ipairs({ "northeurop", "Mars Central" }) do
          local st, b = t.call("PUT", path, body(loc))
          assert_refused(st, b, code, loc)
          t.advance(60)
          assert.are.equal(404, (t.call("GET", path)))
        end
      end)
    end

    it("names the resource type", function()
      local _, b = t.call("PUT", DISKS .. "d-x", empty_disk("northeurop"))
      assert.truthy(b.error.message:find("resource type 'Microsoft.Compute/disks'", 1, true))
    end)

    it("is refused as a gallery image version's target region, which is not created", function()
      make_gallery()
      local st, b = t.call("PUT", DEF .. "/versions/1.0.0", version("northeurop"), GALLERY_API)
      assert_refused(st, b, "LocationNotAvailableForResourceType", "northeurop")
      t.advance(600)
      assert.are.equal(404, (t.call("GET", DEF .. "/versions/1.0.0", nil, GALLERY_API)))
    end)

    it("is refused on a PUT to an existing disk or snapshot, which is unchanged", function()
      assert.are.equal(202, (t.call("PUT", DISKS .. "d1", empty_disk("westeurope"))))
      assert.are.equal(202, (t.call("PUT", SNAPS .. "s1", snapshot("westeurope"))))
      t.advance(60)
      for _, path in ipairs({ DISKS .. "d1", SNAPS .. "s1" }) do
        local body = path:find("/disks/") and empty_disk("northeurop") or snapshot("northeurop")
        body.tags = { changed = "yes" }
        local st, b = t.call("PUT", path, body)
        assert_refused(st, b, "LocationNotAvailableForResourceType", "northeurop")
        -- A real region but another one: a resource never moves.
        body.location = "northeurope"
        st, b = t.call("PUT", path, body)
        assert.are.equal(409, st)
        assert.are.equal("InvalidResourceLocation", b.error.code)
        local _, got = t.call("GET", path)
        assert.are.equal("westeurope", got.location)
        assert.is_nil(got.tags.changed)
        -- Its own region, in its display name, updates it.
        body.location = "West Europe"
        st = t.call("PUT", path, body)
        assert.are.equal(200, st)
        _, got = t.call("GET", path)
        assert.are.equal("yes", got.tags.changed)
      end
    end)
  end)

  describe("a display name", function()
    it("is accepted and stored as the region's name", function()
      local st, b = t.call("PUT", GROUPS .. "rg-ne", group("North Europe"))
      assert.are.equal(201, st, b)
      assert.are.equal("northeurope", b.location)
      assert.are.equal("northeurope", select(2, t.call("GET", GROUPS .. "rg-ne")).location)

      local disk = H.DR .. H.COMPUTE .. "/disks/d-ne"
      assert.are.equal(202, (t.call("PUT", disk, empty_disk("North Europe"))))
      t.advance(60)
      assert.are.equal("northeurope", select(2, t.call("GET", disk)).location)

      -- The VM is in westeurope: "West Europe" is its region.
      st, b = t.call("PUT", RPCS .. "rpc-we", collection("West Europe"))
      assert.are.equal(201, st)
      assert.are.equal("westeurope", select(2, t.call("GET", RPCS .. "rpc-we")).location)

      st = t.call("PUT", SNAPS .. "s-we", snapshot("WEST EUROPE"))
      assert.are.equal(202, st)
      t.advance(60)
      assert.are.equal("westeurope", select(2, t.call("GET", SNAPS .. "s-we")).location)
    end)

    it("is accepted as a gallery target region", function()
      make_gallery()
      local st, b = t.call("PUT", DEF .. "/versions/1.0.0", version("North Europe"), GALLERY_API)
      assert.are.equal(201, st, b and b.error and b.error.message)
      t.advance(3600)
      local _, got = t.call("GET", DEF .. "/versions/1.0.0", nil, GALLERY_API)
      assert.are.equal("westeurope", got.location)
      assert.is_true(t.app.store:get(got.id).x.replicated(t.app, "northeurope"))
    end)
  end)

  describe("a location that is not a string", function()
    local cases = {
      { "a restore point collection", RPCS .. "rpc-x", collection },
      { "a disk", DISKS .. "d-x", empty_disk },
      { "a snapshot", SNAPS .. "s-x", snapshot },
      { "a VM", VMS .. "vm-x", vm },
      { "a resource group", GROUPS .. "rg-x", group },
    }
    for _, c in ipairs(cases) do
      it("is refused with InvalidRequestContent for " .. c[1], function()
        local st, b = t.call("PUT", c[2], c[3](5))
        assert.are.equal(400, st)
        assert.are.equal("InvalidRequestContent", b.error.code)
        assert.are.equal(404, (t.call("GET", c[2])))
      end)
    end

    it("is refused with InvalidRequestContent as a gallery target region", function()
      make_gallery()
      local st, b = t.call("PUT", DEF .. "/versions/1.0.0", version(5), GALLERY_API)
      assert.are.equal(400, st)
      assert.are.equal("InvalidRequestContent", b.error.code)
    end)
  end)
end)
