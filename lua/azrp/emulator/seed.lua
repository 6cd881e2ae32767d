-- Starting fleets: the built-in demo fleet, seed files, and applying a seed.
--
-- A seed is a Lua table (a .lua file returning one, or the same as JSON):
--   tenants, apps, subscriptions, managed_identities   identity (identity.lua)
--   resource_groups = { { name, location, subscription?, tags? } }
--   networks = { { resource_group, name, location, address_prefix,
--                  subnets = { { name, prefix } } } }
--   disk_encryption_sets = { { resource_group, name, location, encryption_type?, key_url? } }
--   disks = { { resource_group, name, location, sku, size_gb, max_shares?, os_type?,
--               hyper_v?, zones?, disk_encryption_set?, network_access_policy?,
--               disk_access? } }   network_access_policy AllowAll | AllowPrivate |
--               DenyAll; disk_access (a name in the group or an id) defaults to
--               "<disk>-access" for AllowPrivate
--   vms = { { resource_group, name, location, size, os_type, image?,
--             os_disk = { size_gb, sku, ephemeral?, disk_encryption_set? },
--             data_disks = { { lun, size_gb, sku, caching?, disk_encryption_set? }
--                            | { lun, disk = "<name in disks>", caching? } },
--             subnet = "<vnet>/<subnet>", security_type?, tags?,
--             zones?, hyper_v?, disk_encryption_set?, ade? } }
--   resources = { { path = "<ARM id>", body = { ... } } }   any other PUT
--   restore_points = { { resource_group, vm, name, collection?,
--                        without_sku? } }   a restore point of a seeded VM
--               (in collection, default "rpc-<vm>", made in the VM's
--               region), taken through the API once the VMs exist;
--               without_sku = true or a list of "os" / "lun<N>": those
--               disks' storageAccountType is absent from its
--               sourceMetadata, as in points taken before Azure recorded
--               it (a restore must then be told the SKU)
--   quotas = { { location, name = "cores" | "<family>", limit, subscription? } }
--               vCPU limits Usage_List reports and VM creates are held to:
--               "cores" is Total Regional vCPUs, a family is Usage_List's
--               name.value ("standardDSv5Family", see vm_sizes.lua); unset
--               ones are 350 (providers/locations.lua)
--
-- What a restore must match, per VM (each also checked by the API as
-- Azure checks it, see vm_rules.lua):
--   zones = { "1" }            the VM and the disks it creates in zone 1
--   hyper_v = "V1" | "V2"      the generation, through the image: V1 picks
--                              the Gen1 Ubuntu SKU (22_04-lts), V2 (the
--                              default) the Gen2 one; with image given it
--                              must agree with the image's SKU
--   security_type = "TrustedLaunch" | "ConfidentialVM"   securityProfile
--                              with uefiSettings (secure boot, vTPM); the
--                              OS disk gets the matching securityType
--   disk_encryption_set = "des-prod"   a set of disk_encryption_sets (its
--                              name in the VM's resource group, or an id)
--                              for every disk the VM creates; os_disk. and
--                              data_disks[i].disk_encryption_set per disk
--   ade = true                 Azure Disk Encryption: the
--                              AzureDiskEncryption(ForLinux) extension, all
--                              volumes
--   size, os_disk.sku, data_disks[i].sku   VM size and disk SKUs (a
--                              Premium disk needs a size like
--                              Standard_D2s_v3, not Standard_D2_v3)
-- e.g. { resource_group = "rg-prod", name = "vm-z", location = "westeurope",
--        size = "Standard_D2s_v3", os_type = "Linux", zones = { "1" },
--        hyper_v = "V2", security_type = "TrustedLaunch",
--        disk_encryption_set = "des-prod", ade = false,
--        os_disk = { size_gb = 1, sku = "Premium_LRS" },
--        data_disks = { { lun = 0, size_gb = 1, sku = "StandardSSD_LRS" } } }
-- Everything but identity is created through the emulator's own API
-- handlers, so seeded resources have exactly the shapes the API makes, and
-- a bad seed fails with the same message the API would give, naming the
-- seed entry.
local json = require "azrp.emulator.json"
local ids = require "azrp.emulator.ids"

local M = {}

M.TENANT = "11111111-1111-4111-8111-111111111111"
M.SUBSCRIPTION = "00000000-0000-4000-8000-000000000001"
M.CLIENT_ID = "22222222-2222-4222-8222-222222222222"
M.CLIENT_SECRET = "azrp-emulator-secret"

local UBUNTU = { publisher = "Canonical", offer = "0001-com-ubuntu-server-jammy",
  sku = "22_04-lts-gen2", version = "latest" }
local UBUNTU_GEN1 = { publisher = "Canonical", offer = "0001-com-ubuntu-server-jammy",
  sku = "22_04-lts", version = "latest" }

-- The demo fleet: a production VM to protect, one with disks restore points
-- must exclude (Ultra, shared), one with an ephemeral OS disk, in
-- westeurope; an empty DR resource group in northeurope.
function M.default()
  return {
    tenants = { { id = M.TENANT, name = "azrp-emulator" } },
    subscriptions = { { id = M.SUBSCRIPTION, name = "azrp-emulator-subscription", tenant = M.TENANT } },
    apps = { { client_id = M.CLIENT_ID, tenant = M.TENANT, secret = M.CLIENT_SECRET,
      object_id = "33333333-3333-4333-8333-333333333333" } },
    managed_identities = {
      { client_id = "44444444-4444-4444-8444-444444444444", object_id = "55555555-5555-4555-8555-555555555555",
        tenant = M.TENANT, system = true },
      { client_id = "66666666-6666-4666-8666-666666666666", object_id = "77777777-7777-4777-8777-777777777777",
        tenant = M.TENANT, resource_id = "/subscriptions/" .. M.SUBSCRIPTION ..
          "/resourceGroups/rg-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-azrp" },
    },
    resource_groups = {
      { name = "rg-prod", location = "westeurope", tags = { env = "prod" } },
      { name = "rg-dr", location = "northeurope", tags = { env = "dr" } },
    },
    networks = {
      { resource_group = "rg-prod", name = "vnet-prod", location = "westeurope", address_prefix = "10.10.0.0/16",
        subnets = { { name = "default", prefix = "10.10.1.0/24" } } },
      { resource_group = "rg-dr", name = "vnet-dr", location = "northeurope", address_prefix = "10.20.0.0/16",
        subnets = { { name = "default", prefix = "10.20.1.0/24" } } },
    },
    disks = {
      { resource_group = "rg-prod", name = "disk-shared-01", location = "westeurope", sku = "Premium_LRS",
        size_gb = 1, max_shares = 2 },
    },
    vms = {
      { resource_group = "rg-prod", name = "vm-app-01", location = "westeurope", size = "Standard_D2s_v5",
        os_type = "Linux", image = UBUNTU, subnet = "vnet-prod/default", security_type = "TrustedLaunch",
        os_disk = { size_gb = 4, sku = "Premium_LRS" },
        data_disks = { { lun = 0, size_gb = 2, sku = "Premium_LRS" }, { lun = 1, size_gb = 1, sku = "StandardSSD_LRS" } },
        tags = { app = "shop", tier = "web" } },
      { resource_group = "rg-prod", name = "vm-sql-01", location = "westeurope", size = "Standard_E4s_v5",
        os_type = "Linux", image = UBUNTU, subnet = "vnet-prod/default",
        os_disk = { size_gb = 4, sku = "Premium_LRS" },
        data_disks = { { lun = 0, size_gb = 1, sku = "UltraSSD_LRS" }, { lun = 1, disk = "disk-shared-01" },
          { lun = 2, size_gb = 1, sku = "Premium_LRS" } },
        tags = { app = "shop", tier = "db" } },
      { resource_group = "rg-prod", name = "vm-eph-01", location = "westeurope", size = "Standard_D4ds_v5",
        os_type = "Linux", image = UBUNTU, subnet = "vnet-prod/default",
        os_disk = { size_gb = 4, sku = "Standard_LRS", ephemeral = true }, data_disks = {} },
    },
  }
end

-- Reads a seed file (.lua returning a table, or .json); returns the table
-- or nil and a message naming the file and the problem.
function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "seed file: " .. tostring(err) end
  local text = f:read("a")
  f:close()
  local seed
  if path:match("%.json$") then
    local v, jerr = json.decode(text)
    if type(v) ~= "table" then return nil, string.format("seed file %s: invalid JSON: %s", path, tostring(jerr)) end
    seed = v
  else
    local chunk, lerr = load(text, "@" .. path, "t", {})
    if not chunk then return nil, string.format("seed file %s: %s", path, lerr) end
    local ok, v = pcall(chunk)
    if not ok then return nil, string.format("seed file %s: %s", path, tostring(v)) end
    if type(v) ~= "table" then return nil, string.format("seed file %s: must return a table, got %s", path, type(v)) end
    seed = v
  end
  local ok, verr = M.check(seed)
  if not ok then return nil, string.format("seed file %s: %s", path, verr) end
  return seed
end

local KNOWN = { tenants = true, apps = true, subscriptions = true, managed_identities = true,
  resource_groups = true, networks = true, disk_encryption_sets = true, disks = true, vms = true, resources = true,
  quotas = true, restore_points = true }

local function is_list(v) return type(v) == "table" and (next(v) == nil or v[1] ~= nil) end

-- Checks the seed's shape; returns true or nil and "field: problem".
function M.check(seed)
  for k in pairs(seed) do
    if not KNOWN[k] then return nil, string.format("unknown section '%s'", tostring(k)) end
  end
  for k in pairs(KNOWN) do
    if seed[k] ~= nil and not is_list(seed[k]) then return nil, k .. " must be a list" end
  end
  if not seed.tenants or #seed.tenants == 0 then return nil, "tenants: at least one tenant is required" end
  if not seed.subscriptions or #seed.subscriptions == 0 then
    return nil, "subscriptions: at least one subscription is required"
  end
  local function need(section, i, item, field, kind)
    local v = item[field]
    if kind == "integer" then
      if math.type(v) ~= "integer" and not (type(v) == "number" and v == math.floor(v)) or (v or 0) < 0 then
        return string.format("%s[%d].%s must be a non-negative integer", section, i, field)
      end
    elseif type(v) ~= kind then
      return string.format("%s[%d].%s must be a %s", section, i, field, kind)
    end
  end
  local rules = {
    tenants = { { "id", "string" } },
    subscriptions = { { "id", "string" } },
    apps = { { "client_id", "string" }, { "tenant", "string" } },
    resource_groups = { { "name", "string" }, { "location", "string" } },
    networks = { { "resource_group", "string" }, { "name", "string" }, { "location", "string" } },
    disk_encryption_sets = { { "resource_group", "string" }, { "name", "string" }, { "location", "string" } },
    disks = { { "resource_group", "string" }, { "name", "string" }, { "location", "string" }, { "size_gb", "integer" } },
    vms = { { "resource_group", "string" }, { "name", "string" }, { "location", "string" }, { "size", "string" },
      { "os_disk", "table" } },
    resources = { { "path", "string" }, { "body", "table" } },
    quotas = { { "location", "string" }, { "name", "string" }, { "limit", "integer" } },
    restore_points = { { "resource_group", "string" }, { "vm", "string" }, { "name", "string" } },
  }
  for section, fields in pairs(rules) do
    for i, item in ipairs(seed[section] or {}) do
      if type(item) ~= "table" then return nil, string.format("%s[%d] must be a table", section, i) end
      for _, f in ipairs(fields) do
        local e = need(section, i, item, f[1], f[2])
        if e then return nil, e end
      end
    end
  end
  local function zones_ok(v) return v == nil or (is_list(v) and #v == 1 and type(v[1]) == "string") end
  local function string_or_nil(v) return v == nil or type(v) == "string" end
  for i, d in ipairs(seed.disks or {}) do
    if not zones_ok(d.zones) then return nil, string.format("disks[%d].zones must be a list of one zone, e.g. { \"1\" }", i) end
    if d.hyper_v ~= nil and d.hyper_v ~= "V1" and d.hyper_v ~= "V2" then
      return nil, string.format("disks[%d].hyper_v must be \"V1\" or \"V2\"", i)
    end
    if not string_or_nil(d.disk_encryption_set) or not string_or_nil(d.network_access_policy)
      or not string_or_nil(d.disk_access) then
      return nil, string.format("disks[%d].disk_encryption_set, network_access_policy and disk_access must be strings", i)
    end
  end
  for i, vm in ipairs(seed.vms or {}) do
    if not zones_ok(vm.zones) then return nil, string.format("vms[%d].zones must be a list of one zone, e.g. { \"1\" }", i) end
    if vm.hyper_v ~= nil and vm.hyper_v ~= "V1" and vm.hyper_v ~= "V2" then
      return nil, string.format("vms[%d].hyper_v must be \"V1\" or \"V2\"", i)
    end
    if vm.security_type ~= nil and vm.security_type ~= "TrustedLaunch" and vm.security_type ~= "ConfidentialVM" then
      return nil, string.format("vms[%d].security_type must be \"TrustedLaunch\" or \"ConfidentialVM\"", i)
    end
    if vm.hyper_v == "V1" and vm.security_type then
      return nil, string.format("vms[%d]: security_type %s needs hyper_v \"V2\"", i, vm.security_type)
    end
    if vm.hyper_v and vm.image and not vm.image.id
      and require("azrp.emulator.vm_rules").image_generation(vm.image) ~= vm.hyper_v then
      return nil, string.format("vms[%d]: image SKU '%s' is not Hyper-V generation %s", i, tostring(vm.image.sku), vm.hyper_v)
    end
    if not string_or_nil(vm.disk_encryption_set) or (vm.ade ~= nil and type(vm.ade) ~= "boolean") then
      return nil, string.format("vms[%d]: disk_encryption_set must be a string and ade a boolean", i)
    end
    if math.type(vm.os_disk.size_gb) ~= "integer" and not (type(vm.os_disk.size_gb) == "number") then
      return nil, string.format("vms[%d].os_disk.size_gb must be a positive integer", i)
    end
    for j, d in ipairs(vm.data_disks or {}) do
      if type(d.lun) ~= "number" then return nil, string.format("vms[%d].data_disks[%d].lun must be an integer", i, j) end
      if not d.disk and type(d.size_gb) ~= "number" then
        return nil, string.format("vms[%d].data_disks[%d] needs size_gb (or disk, the name of a seeded disk)", i, j)
      end
    end
  end
  for i, r in ipairs(seed.restore_points or {}) do
    if not string_or_nil(r.collection) then return nil, string.format("restore_points[%d].collection must be a string", i) end
    local w = r.without_sku
    if w ~= nil and w ~= true then
      local ok = is_list(w)
      for _, k in ipairs(ok and w or {}) do
        if type(k) ~= "string" or not (k == "os" or k:match("^lun%d+$")) then ok = false end
      end
      if not ok then
        return nil, string.format("restore_points[%d].without_sku must be true or a list of \"os\" and \"lun<N>\"", i)
      end
    end
  end
  return true
end

----------------------------------------------------------------------------
-- Applying a seed through the API handlers
----------------------------------------------------------------------------

local API = { compute = "2025-11-01", disks = "2026-03-02", network = "2024-05-01", resources = "2021-04-01" }

local function request(em, where, method, path, body, api)
  local route, params = em.router:match(method, path)
  if not route then error(string.format("seed %s: no API route for %s %s", where, method, path), 0) end
  local req = { method = method, path = path, params = params, route = route,
    query = { ["api-version"] = api }, headers = {}, base_url = "https://seed.invalid",
    body = body and json.encode(body) or "" }
  local res = route.handler(em, req)
  if res.status >= 300 then
    local v = json.decode(res.body)
    local msg = type(v) == "table" and v.error and (v.error.code .. ": " .. v.error.message) or res.body
    error(string.format("seed %s: %s", where, msg), 0)
  end
  -- Seeding happens before time starts: finish whatever it started.
  for _, op in pairs(em.lro.ops) do
    if op.status == "InProgress" then em.lro:finish_now(op) end
  end
  return res
end

local function rid(sub, rg, ...) return ids.resource_id(sub, rg, ...) end

-- A disk encryption set named in a seed: an id, or a name in rg.
local function des_ref(sub, rg, name)
  if not name then return nil end
  if name:sub(1, 1) == "/" then return { id = name } end
  return { id = rid(sub, rg, "Microsoft.Compute", "diskEncryptionSets", name) }
end

function M.apply(em, seed)
  local sub0 = seed.subscriptions[1].id
  for i, g in ipairs(seed.resource_groups or {}) do
    request(em, string.format("resource_groups[%d]", i), "PUT",
      ids.rg_id(g.subscription or sub0, g.name), { location = g.location, tags = g.tags }, API.resources)
  end
  for i, n in ipairs(seed.networks or {}) do
    local sub = n.subscription or sub0
    local subnets = {}
    for _, s in ipairs(n.subnets or {}) do
      subnets[#subnets + 1] = { name = s.name, properties = { addressPrefix = s.prefix } }
    end
    request(em, string.format("networks[%d]", i), "PUT",
      rid(sub, n.resource_group, "Microsoft.Network", "virtualNetworks", n.name),
      { location = n.location, properties = { addressSpace = { addressPrefixes = { n.address_prefix or "10.0.0.0/16" } },
        subnets = subnets } }, API.network)
  end
  for i, s in ipairs(seed.disk_encryption_sets or {}) do
    local sub = s.subscription or sub0
    request(em, string.format("disk_encryption_sets[%d]", i), "PUT",
      rid(sub, s.resource_group, "Microsoft.Compute", "diskEncryptionSets", s.name),
      { location = s.location, identity = { type = "SystemAssigned" }, properties = {
        encryptionType = s.encryption_type or "EncryptionAtRestWithCustomerKey",
        activeKey = { keyUrl = s.key_url or ("https://kv-azrp.vault.azure.net/keys/" .. s.name ..
          "/0123456789abcdef0123456789abcdef") } } }, API.disks)
  end
  for i, d in ipairs(seed.disks or {}) do
    local sub = d.subscription or sub0
    local set = des_ref(sub, d.resource_group, d.disk_encryption_set)
    local disk_access = d.disk_access or (d.network_access_policy == "AllowPrivate" and d.name .. "-access") or nil
    if disk_access and disk_access:sub(1, 1) ~= "/" then
      disk_access = rid(sub, d.resource_group, "Microsoft.Compute", "diskAccesses", disk_access)
    end
    request(em, string.format("disks[%d]", i), "PUT",
      rid(sub, d.resource_group, "Microsoft.Compute", "disks", d.name),
      { location = d.location, sku = { name = d.sku or "Premium_LRS" }, zones = d.zones, properties = {
        creationData = { createOption = "Empty" }, diskSizeGB = math.tointeger(d.size_gb),
        maxShares = d.max_shares and math.tointeger(d.max_shares), osType = d.os_type,
        hyperVGeneration = d.hyper_v, networkAccessPolicy = d.network_access_policy, diskAccessId = disk_access,
        encryption = set and { diskEncryptionSetId = set.id } or nil } }, API.disks)
  end
  for i, vm in ipairs(seed.vms or {}) do
    local where = string.format("vms[%d] (%s)", i, vm.name)
    local sub = vm.subscription or sub0
    local nics = {}
    if vm.subnet then
      local vnet, subnet = vm.subnet:match("^([^/]+)/([^/]+)$")
      if not vnet then error(string.format("seed %s: subnet must be '<vnet>/<subnet>'", where), 0) end
      local nic_id = rid(sub, vm.resource_group, "Microsoft.Network", "networkInterfaces", vm.name .. "-nic")
      request(em, where .. ".nic", "PUT", nic_id, { location = vm.location, properties = { ipConfigurations = {
        { name = "ipconfig1", properties = { privateIPAllocationMethod = "Dynamic", subnet = {
          id = rid(sub, vm.resource_group, "Microsoft.Network", "virtualNetworks", vnet, "subnets", subnet) } } } } } },
        API.network)
      nics[1] = { id = nic_id, properties = { primary = true, deleteOption = "Delete" } }
    end
    local data = {}
    for _, d in ipairs(vm.data_disks or {}) do
      if d.disk then
        data[#data + 1] = { lun = math.tointeger(d.lun), createOption = "Attach", caching = d.caching or "None",
          managedDisk = { id = rid(sub, vm.resource_group, "Microsoft.Compute", "disks", d.disk) } }
      else
        data[#data + 1] = { lun = math.tointeger(d.lun), createOption = "Empty", name = d.name or
          string.format("%s-data%d", vm.name, d.lun), diskSizeGB = math.tointeger(d.size_gb),
          caching = d.caching or "ReadOnly", managedDisk = { storageAccountType = d.sku or "Premium_LRS",
            diskEncryptionSet = des_ref(sub, vm.resource_group, d.disk_encryption_set or vm.disk_encryption_set) } }
      end
    end
    local os_disk = { name = vm.name .. "-osdisk", createOption = "FromImage", caching = "ReadWrite",
      osType = vm.os_type or "Linux", diskSizeGB = math.tointeger(vm.os_disk.size_gb),
      managedDisk = { storageAccountType = vm.os_disk.sku or "Premium_LRS",
        diskEncryptionSet = des_ref(sub, vm.resource_group, vm.os_disk.disk_encryption_set or vm.disk_encryption_set) } }
    if vm.security_type == "ConfidentialVM" then
      os_disk.managedDisk.securityProfile = { securityEncryptionType = "VMGuestStateOnly" }
    end
    if vm.os_disk.ephemeral then
      os_disk.diffDiskSettings = { option = "Local", placement = "CacheDisk" }
      os_disk.caching = "ReadOnly"
    end
    local image = vm.image or (vm.hyper_v == "V1" and UBUNTU_GEN1) or UBUNTU
    local body = { location = vm.location, tags = vm.tags, zones = vm.zones, properties = {
      hardwareProfile = { vmSize = vm.size },
      storageProfile = { imageReference = image, osDisk = os_disk, dataDisks = data },
      osProfile = { computerName = vm.name, adminUsername = "azureuser",
        linuxConfiguration = { disablePasswordAuthentication = true } },
      networkProfile = { networkInterfaces = nics },
      diagnosticsProfile = { bootDiagnostics = { enabled = true } },
    } }
    if vm.security_type then
      body.properties.securityProfile = { securityType = vm.security_type,
        uefiSettings = { secureBootEnabled = true, vTpmEnabled = true } }
    end
    local vm_path = rid(sub, vm.resource_group, "Microsoft.Compute", "virtualMachines", vm.name)
    request(em, where, "PUT", vm_path, body, API.compute)
    if vm.ade then
      local windows = (vm.os_type or "Linux") == "Windows"
      local ext = windows and "AzureDiskEncryption" or "AzureDiskEncryptionForLinux"
      request(em, where .. ".ade", "PUT", vm_path .. "/extensions/" .. ext, { location = vm.location, properties = {
        publisher = "Microsoft.Azure.Security", type = ext, typeHandlerVersion = windows and "2.2" or "1.1",
        autoUpgradeMinorVersion = true, settings = { EncryptionOperation = "EnableEncryption", VolumeType = "All",
          KeyVaultURL = "https://kv-azrp.vault.azure.net/",
          KeyVaultResourceId = rid(sub, vm.resource_group, "Microsoft.KeyVault", "vaults", "kv-azrp") } } },
        API.compute)
    end
  end
  for i, r in ipairs(seed.resources or {}) do
    local p = ids.parse(r.path)
    local api = r.api_version or (p and p.namespace and p.namespace:lower() == "microsoft.network" and API.network)
      or API.compute
    request(em, string.format("resources[%d]", i), "PUT", r.path, r.body, api)
  end
  for i, r in ipairs(seed.restore_points or {}) do
    M.restore_point(em, string.format("restore_points[%d]", i), r.subscription or sub0, r)
  end
end

-- A seeded restore point (see restore_points above): the collection and
-- the point through the API, then the SKUs without_sku names taken out of
-- its sourceMetadata.
function M.restore_point(em, where, sub, r)
  local vm_path = rid(sub, r.resource_group, "Microsoft.Compute", "virtualMachines", r.vm)
  local vm = em.store:get(vm_path)
  if not vm then error(string.format("seed %s: no VM %s in %s", where, r.vm, r.resource_group), 0) end
  local coll = rid(sub, r.resource_group, "Microsoft.Compute", "restorePointCollections", r.collection or ("rpc-" .. r.vm))
  if not em.store:get(coll) then
    request(em, where .. ".collection", "PUT", coll, { location = vm.body.location,
      properties = { source = { id = vm.body.id } } }, API.compute)
  end
  local rp_path = coll .. "/restorePoints/" .. r.name
  request(em, where, "PUT", rp_path, { properties = {} }, API.compute)
  local w = r.without_sku
  if not w then return end
  local drop = {}
  if w ~= true then for _, k in ipairs(w) do drop[k] = true end end
  local sp = em.store:get(rp_path).body.properties.sourceMetadata.storageProfile
  local entries = { { key = "os", d = sp.osDisk } }
  for _, d in ipairs(sp.dataDisks or {}) do entries[#entries + 1] = { key = "lun" .. math.tointeger(d.lun), d = d } end
  for _, e in ipairs(entries) do
    if e.d and (w == true or drop[e.key]) then
      e.d.managedDisk.storageAccountType = nil
      drop[e.key] = nil
    end
  end
  local left = next(drop)
  if left then error(string.format("seed %s: without_sku names %s, which the restore point does not hold", where, left), 0) end
end

return M
