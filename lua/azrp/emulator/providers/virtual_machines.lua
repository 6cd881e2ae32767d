-- Microsoft.Compute/virtualMachines: enough of a VM for restore points and
-- for rebuilding a VM from restored disks.
--
-- A VM is created from a marketplace image (a new OS disk) or by attaching
-- an existing OS disk; data disks are attached by LUN, created Empty, or
-- created from a disk restore point / snapshot (createOption Restore/Copy
-- with sourceResource).  OS and data disks may be swapped while the VM is
-- deallocated, which is what an in-place restore does.
--
-- What Azure refuses when disks the VM did not create are attached or
-- swapped in (zones, premium storage, security type, Hyper-V generation,
-- disk encryption set, Azure Disk Encryption) is in vm_rules.lua; a VM
-- does not start while one of its disks has an active SAS.
--
-- Failing one update (to test a rollback): the provider fault "failed"
-- on this operation, once, through the admin API, e.g.
--   POST /_emulator/faults {"spec": "failed@VirtualMachines_CreateOrUpdate=1x1"}
-- The next VM PUT answers 200/201 as usual and its operation ends Failed
-- (InternalOperationError), the VM's provisioningState Failed; the model
-- it asked for is kept (disks swapped in stay attached, as on Azure, where
-- a failed update leaves the VM in the failed model), so a rollback must
-- PUT the original disks back.  Later PUTs succeed again ("x1": once).
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local util = require "azrp.emulator.util"
local content = require "azrp.emulator.content"
local disks = require "azrp.emulator.providers.disks"
local des = require "azrp.emulator.providers.disk_encryption_sets"
local access = require "azrp.emulator.providers.access"
local vm_rules = require "azrp.emulator.vm_rules"

local M = {}

M.TYPE = "Microsoft.Compute/virtualMachines"
M.EXTENSION_TYPE = "Microsoft.Compute/virtualMachines/extensions"
local NIC_TYPE = "Microsoft.Network/networkInterfaces"
local PATH = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
local GIB = 1024 * 1024 * 1024

M.DURATION = { create = 45, update = 10, delete = 20, deallocate = 15, start = 15, power_off = 10, attach = 10 }

-- Is the VM (by id) running?  Disks use it to refuse SAS and resizes.
function M.running(em, vm_id)
  local vm = em.store:get_typed(vm_id, M.TYPE)
  return vm ~= nil and vm.x.power == "running"
end

local function vm_id(req)
  return ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "virtualMachines", req.params.vm)
end

local function fail(field, fmt, ...)
  return nil, reply.error(400, "InvalidParameter", string.format(fmt, ...), field)
end

-- The image content a new OS disk gets: a recognisable boot sector, so
-- that restored OS disks can be told apart from empty ones.
local function image_content(size_gb, image)
  local c = content.new(size_gb * GIB)
  local label = string.format("AZRP-IMAGE %s:%s:%s:%s", image.publisher or "?", image.offer or "?",
    image.sku or "?", image.version or "latest")
  c:write(0, label .. string.rep("\0", 512 - #label))
  return c
end

-- The disks of a managed image or a Compute Gallery image version named by
-- imageReference.id, or nil and an error.  A gallery version must have
-- finished replicating to the VM's region.
local function image_source(em, id, location)
  local e = em.store:get_typed(id, "Microsoft.Compute/images")
    or em.store:get_typed(id, "Microsoft.Compute/galleries/images/versions")
  local field = "properties.storageProfile.imageReference.id"
  if not e or not e.x.disks then
    return fail(field, "imageReference.id '%s' is not a managed image or gallery image version.", tostring(id))
  end
  if e.body.properties.provisioningState ~= "Succeeded" and e.type == "microsoft.compute/images" then
    return nil, reply.error(409, "OperationNotAllowed", "The image is not ready yet.", field)
  end
  if e.x.replicated and not e.x.replicated(em, location) then
    return nil, reply.error(409, "OperationNotAllowed", string.format(
      "The image version has not finished replicating to region '%s'.", location), field)
  end
  if e.type == "microsoft.compute/images" and e.body.location ~= location then
    return fail(field, "The managed image is in region '%s', not the VM's '%s'.", e.body.location, location)
  end
  return { disks = e.x.disks, os_type = e.x.os_type, hyper_v = e.x.hyper_v }
end

-- The encryption a disk the VM PUT creates gets from managedDisk
-- (diskEncryptionSet.id, a set in the VM's region): the property, nil for
-- platform keys, or false and the error.
local function new_disk_encryption(em, md, location, field)
  local ref = type(md) == "table" and md.diskEncryptionSet
  local id = type(ref) == "table" and ref.id
  if not id then return nil end
  local set, err = des.resolve(em, id, location, field .. ".managedDisk.diskEncryptionSet.id")
  if not set then return false, err end
  return des.encryption(set)
end

-- Resolves one data disk of a VM PUT into a disk entry (attaching or
-- creating it).  plan collects disks to create once validation passed.
local function plan_data_disk(em, req, vm_name, location, d, i, plan)
  local field = string.format("properties.storageProfile.dataDisks[%d]", i - 1)
  if math.type(d.lun) ~= "integer" or d.lun < 0 or d.lun > 63 then
    return fail(field .. ".lun", "%s.lun must be an integer from 0 to 63.", field)
  end
  local option, oerr = arm.enum(d.createOption, { "Attach", "Empty", "FromImage", "Copy", "Restore" },
    field .. ".createOption")
  if not option then return nil, oerr end
  local md = d.managedDisk or {}
  if option == "Attach" then
    local disk = md.id and em.store:get_typed(md.id, disks.TYPE)
    if not disk then
      return fail(field .. ".managedDisk.id", "%s.managedDisk.id '%s' is not an existing managed disk.", field, tostring(md.id))
    end
    return { disk = disk, attach = true }
  end
  local enc, eerr = new_disk_encryption(em, md, location, field)
  if enc == false then return nil, eerr end
  if option == "Empty" then
    if math.type(d.diskSizeGB) ~= "integer" then
      return fail(field .. ".diskSizeGB", "%s.diskSizeGB is required for createOption Empty.", field)
    end
    local name = d.name or string.format("%s_DataDisk_%d", vm_name, d.lun)
    return { create = { name = name, size_gb = d.diskSizeGB, sku = md.storageAccountType or "Premium_LRS",
      create_option = "Empty", encryption = enc } }
  elseif option == "Copy" or option == "Restore" then
    local sid = d.sourceResource and d.sourceResource.id
    if not sid then return fail(field .. ".sourceResource.id", "%s.sourceResource.id is required for createOption %s.", field, option) end
    local src = em.store:get(sid)
    local snap
    if src and src.x and src.x.snap then
      if src.x.ready then
        local ok, why = src.x.ready(em)
        if not ok then return nil, reply.error(409, "OperationNotAllowed", why, field .. ".sourceResource.id") end
      end
      snap = src.x.snap
    elseif src and src.x and src.x.content then
      snap = src.x.content:snapshot()
    else
      return fail(field .. ".sourceResource.id", "%s.sourceResource.id '%s' was not found.", field, sid)
    end
    local name = d.name or string.format("%s_DataDisk_%d", vm_name, d.lun)
    local sp = src.body.properties or {}
    return { create = { name = name, content = content.from(snap), sku = md.storageAccountType or "Premium_LRS",
      create_option = option, source_id = src.body.id, encryption = enc or json.copy(sp.encryption),
      supported_capabilities = json.copy(sp.supportedCapabilities) } }
  end
  return fail(field .. ".createOption", "createOption FromImage is not supported for data disks by the emulator.")
end

-- Azure's refusals of the disks a VM PUT names (vm_rules.lua): zones and
-- premium storage for every disk, the OS disk's security type and, for a
-- new VM, the Hyper-V generation its security type needs; on a swap, the
-- swap rules.  Returns nil or the error.
function M.check_disks(em, req, body, plan, existing)
  local props = body.properties
  local size = props.hardwareProfile.vmSize
  local os_field = "properties.storageProfile.osDisk.managedDisk"
  if not existing then
    local bad = vm_rules.generation_refusal(props.securityProfile, plan.hyper_v, "properties.securityProfile.securityType")
    if bad then return bad end
  end
  local os_disk = plan.os.disk
  if plan.os.keep then
    os_disk = em.store:get_typed(existing.body.properties.storageProfile.osDisk.managedDisk.id, disks.TYPE)
  end
  if plan.os.create then
    local c = plan.os.create
    local bad = vm_rules.premium_refusal(size, c.sku, c.name, os_field .. ".storageAccountType")
    if bad then return bad end
  elseif os_disk then
    local bad = vm_rules.zone_refusal(os_disk, body.zones, os_field .. ".id")
      or vm_rules.premium_refusal(size, os_disk.body.sku.name, os_disk.body.name, os_field .. ".id")
      or vm_rules.security_refusal(props.securityProfile, os_disk, os_field .. ".id")
    if bad then return bad end
    if existing and plan.os.attach then
      local old_id = existing.body.properties.storageProfile.osDisk.managedDisk.id
      if not ids.same(old_id, os_disk.id) then
        bad = vm_rules.swap_refusal(existing, em.store:get_typed(old_id, disks.TYPE), os_disk)
        if bad then return bad end
      end
    end
  end
  for i, p in ipairs(plan.data) do
    local field = string.format("properties.storageProfile.dataDisks[%d].managedDisk", i - 1)
    local bad
    if p.disk then
      bad = vm_rules.zone_refusal(p.disk, body.zones, field .. ".id")
        or vm_rules.premium_refusal(size, p.disk.body.sku.name, p.disk.body.name, field .. ".id")
    else
      bad = vm_rules.premium_refusal(size, p.create.sku, p.create.name, field .. ".storageAccountType")
    end
    if bad then return bad end
  end
  return nil
end

-- Validates a VM body and works out its disks; returns plan or nil, err.
local function plan_vm(em, req, body, existing)
  local props = body.properties
  if type(props) ~= "table" then return fail("properties", "Required parameter 'properties' is missing (null).") end
  local size = props.hardwareProfile and props.hardwareProfile.vmSize
  if type(size) ~= "string" or size == "" then
    return fail("properties.hardwareProfile.vmSize", "Required parameter 'hardwareProfile.vmSize' is missing (null).")
  end
  local sp = props.storageProfile
  if type(sp) ~= "table" or type(sp.osDisk) ~= "table" then
    return fail("properties.storageProfile.osDisk", "Required parameter 'storageProfile.osDisk' is missing (null).")
  end
  local os = sp.osDisk
  local plan = { data = {} }
  local option, oerr = arm.enum(os.createOption, { "FromImage", "Attach" }, "properties.storageProfile.osDisk.createOption")
  if not option then return nil, oerr end
  if option == "Attach" then
    local id = os.managedDisk and os.managedDisk.id
    local disk = id and em.store:get_typed(id, disks.TYPE)
    if not disk then
      return fail("properties.storageProfile.osDisk.managedDisk.id",
        "osDisk.managedDisk.id '%s' is not an existing managed disk.", tostring(id))
    end
    local os_type = os.osType or disk.body.properties.osType
    if not os_type then
      return fail("properties.storageProfile.osDisk.osType", "osDisk.osType is required when attaching an OS disk.")
    end
    if props.osProfile then
      return fail("properties.osProfile", "osProfile may not be given when the OS disk is attached (specialized disk).")
    end
    plan.os = { disk = disk, attach = true, os_type = os_type }
    plan.hyper_v = disk.body.properties.hyperVGeneration or "V1"
  else
    if existing then
      plan.os = { keep = true }
    else
      local img = sp.imageReference
      if type(img) ~= "table" or not (img.id or (img.publisher and img.offer and img.sku)) then
        return fail("properties.storageProfile.imageReference",
          "storageProfile.imageReference (publisher, offer, sku, version) is required for osDisk createOption FromImage.")
      end
      local source
      if img.id then
        local serr
        source, serr = image_source(em, img.id, body.location)
        if not source then return nil, serr end
      end
      local osp = props.osProfile
      if type(osp) ~= "table" or type(osp.adminUsername) ~= "string" then
        return fail("properties.osProfile.adminUsername", "Required parameter 'osProfile.adminUsername' is missing (null).")
      end
      local os_type = os.osType or (source and source.os_type) or
        ((img.offer or ""):lower():find("windows") and "Windows") or "Linux"
      local ephemeral = type(os.diffDiskSettings) == "table" and os.diffDiskSettings.option == "Local"
      local enc, eerr = new_disk_encryption(em, os.managedDisk, body.location, "properties.storageProfile.osDisk")
      if enc == false then return nil, eerr end
      plan.hyper_v = source and source.hyper_v or vm_rules.image_generation(img)
      plan.os = { create = { name = os.name or (req.params.vm .. "_OsDisk_1_" .. util.guid():gsub("-", "")),
        size_gb = os.diskSizeGB or 30, sku = (os.managedDisk and os.managedDisk.storageAccountType) or "Premium_LRS",
        os_type = os_type, image = img, ephemeral = ephemeral, source = source and source.disks.os,
        hyper_v = plan.hyper_v, encryption = enc,
        security_type = vm_rules.new_disk_security(props.securityProfile, os.managedDisk) } }
      -- An image's data disks come with it, at their LUNs.
      for lun, snap in pairs(source and source.disks or {}) do
        if lun ~= "os" then
          plan.data[#plan.data + 1] = { ref = { lun = math.tointeger(tonumber(lun)), createOption = "FromImage" },
            create = { name = string.format("%s_DataDisk_%s", req.params.vm, lun), content = content.from(snap),
              sku = "Premium_LRS", create_option = "FromImage", source_id = img.id } }
        end
      end
      local os_sku = plan.os.create.sku
      if os_sku == "UltraSSD_LRS" or os_sku == "PremiumV2_LRS" then
        return fail("properties.storageProfile.osDisk.managedDisk.storageAccountType", "%s can only be used with data disks.", os_sku)
      end
    end
  end
  local luns = {}
  for i, d in ipairs(sp.dataDisks or {}) do
    if type(d) ~= "table" then return fail("properties.storageProfile.dataDisks", "dataDisks must be objects.") end
    if luns[d.lun] then
      return fail(string.format("properties.storageProfile.dataDisks[%d].lun", i - 1), "LUN %s is used twice.", tostring(d.lun))
    end
    local p, err = plan_data_disk(em, req, req.params.vm, body.location, d, i, plan)
    if not p then return nil, err end
    luns[d.lun or -1] = true
    p.ref = d
    plan.data[#plan.data + 1] = p
  end
  -- Attached disks must be free (or shareable) and in the VM's region.
  local this = vm_id(req)
  local function check_free(disk, field)
    if disk.body.location ~= body.location then
      return fail(field, "Disk '%s' is in region '%s', not the VM's '%s'.", disk.body.name, disk.body.location, body.location)
    end
    local owner = disk.body.managedBy
    if owner and not ids.same(owner, this) and (disk.body.properties.maxShares or 1) < 2 then
      return nil, reply.error(409, "OperationNotAllowed", string.format(
        "Disk '%s' is already attached to VM '%s'.", disk.body.name, owner), field)
    end
    return true
  end
  if plan.os.disk then
    local ok, err = check_free(plan.os.disk, "properties.storageProfile.osDisk.managedDisk.id")
    if not ok then return nil, err end
  end
  for i, p in ipairs(plan.data) do
    if p.disk then
      local ok, err = check_free(p.disk, string.format("properties.storageProfile.dataDisks[%d].managedDisk.id", i - 1))
      if not ok then return nil, err end
    end
  end
  local err = M.check_disks(em, req, body, plan, existing)
  if err then return nil, err end
  -- NICs must exist when the emulator knows networks at all.
  local np = props.networkProfile
  for i, nic in ipairs(np and np.networkInterfaces or {}) do
    if not (nic.id and em.store:get_typed(nic.id, NIC_TYPE)) then
      return nil, reply.error(404, "NotFound", string.format(
        "Resource '%s' was not found (networkProfile.networkInterfaces[%d]).", tostring(nic.id), i - 1),
        string.format("properties.networkProfile.networkInterfaces[%d].id", i - 1))
    end
  end
  return plan
end

-- A disk reference's managedDisk as a VM GET shows it: the disk's id,
-- storage type and encryption set, and the security profile asked for.
local function managed_disk_doc(disk, md_in)
  local set = vm_rules.disk_des(disk)
  return { id = disk.body.id, storageAccountType = disk.body.sku.name,
    diskEncryptionSet = set and { id = set } or nil,
    securityProfile = type(md_in) == "table" and json.copy(md_in.securityProfile) or nil }
end

-- Builds the osDisk / dataDisks documents, creating disks as planned.
local function realise(em, req, body, plan, existing)
  local sub, rg, loc = req.params.sub, req.params.rg, body.location
  local vid = vm_id(req)
  local sp_in = body.properties.storageProfile
  local os_doc
  if plan.os.keep then
    os_doc = existing.body.properties.storageProfile.osDisk
  else
    local disk = plan.os.disk
    if plan.os.create then
      local c = plan.os.create
      local bytes = c.source and content.from(c.source) or image_content(c.size_gb, c.image)
      disk = disks.create(em, { sub = sub, rg = rg, name = c.name, location = loc, sku = c.sku,
        content = bytes, os_type = c.os_type, create_option = "FromImage",
        source_id = c.image and c.image.id, hyper_v = c.hyper_v,
        zones = not vm_rules.ZRS_SKUS[c.sku] and json.copy(body.zones) or nil,
        encryption = c.encryption, security_type = c.security_type,
        supported_capabilities = { architecture = "x64", diskControllerTypes = "SCSI, NVMe", acceleratedNetwork = true } })
      disk.x.ephemeral = c.ephemeral or nil
    end
    local os_in = sp_in.osDisk
    os_doc = { osType = plan.os.os_type or disk.body.properties.osType, name = disk.body.name,
      createOption = os_in.createOption, caching = os_in.caching or "ReadWrite",
      managedDisk = managed_disk_doc(disk, os_in.managedDisk),
      diskSizeGB = disk.body.properties.diskSizeGB, deleteOption = os_in.deleteOption or "Detach",
      diffDiskSettings = json.copy(os_in.diffDiskSettings), encryptionSettings = json.copy(os_in.encryptionSettings),
      writeAcceleratorEnabled = os_in.writeAcceleratorEnabled == true }
    if existing then
      local old = existing.body.properties.storageProfile.osDisk
      os_doc.createOption = old.createOption
      if old and not ids.same(old.managedDisk.id, disk.body.id) then
        local od = em.store:get_typed(old.managedDisk.id, disks.TYPE)
        if od then disks.attach(em, od, nil) end
      end
    end
    disks.attach(em, disk, vid)
  end
  local data_docs = json.array()
  local keep = {}
  for _, p in ipairs(plan.data) do
    local disk = p.disk
    if p.create then
      local c = p.create
      disk = disks.create(em, { sub = sub, rg = rg, name = c.name, location = loc, sku = c.sku,
        size_gb = c.size_gb, content = c.content, create_option = c.create_option, source_id = c.source_id,
        -- a zone-redundant disk is in no one zone, whatever the VM's
        zones = not vm_rules.ZRS_SKUS[c.sku] and json.copy(body.zones) or nil,
        encryption = c.encryption, supported_capabilities = c.supported_capabilities })
    end
    disks.attach(em, disk, vid)
    keep[ids.key(disk.id)] = true
    data_docs[#data_docs + 1] = { lun = p.ref.lun, name = disk.body.name, createOption = p.ref.createOption,
      caching = p.ref.caching or "None", managedDisk = managed_disk_doc(disk, p.ref.managedDisk),
      diskSizeGB = disk.body.properties.diskSizeGB, toBeDetached = false,
      deleteOption = p.ref.deleteOption or "Detach", writeAcceleratorEnabled = p.ref.writeAcceleratorEnabled == true }
  end
  if existing then
    for _, d in ipairs(existing.body.properties.storageProfile.dataDisks or {}) do
      if not keep[ids.key(d.managedDisk.id)] then
        local od = em.store:get_typed(d.managedDisk.id, disks.TYPE)
        if od then disks.attach(em, od, nil) end
      end
    end
  end
  local sp = { osDisk = os_doc, dataDisks = data_docs,
    diskControllerType = sp_in.diskControllerType or "SCSI",
    imageReference = json.copy(sp_in.imageReference) or (existing and existing.body.properties.storageProfile.imageReference) }
  return sp
end

-- The VM's document: its extensions listed in resources, as Azure's GET has them.
function M.document(em, e)
  local doc = arm.doc(e)
  local exts = em.store:list(M.EXTENSION_TYPE, { parent = e.id })
  if #exts > 0 then
    doc.resources = json.array()
    for _, x in ipairs(exts) do doc.resources[#doc.resources + 1] = arm.doc(x) end
  end
  return doc
end

-- osProfile as Azure returns it: never the admin password or custom data.
local function os_profile(osp, computer)
  if type(osp) ~= "table" then return nil end
  local out = json.copy(osp)
  out.adminPassword = nil
  out.customData = nil
  out.computerName = out.computerName or computer
  out.secrets = out.secrets or json.array()
  out.allowExtensionOperations = out.allowExtensionOperations ~= false
  out.requireGuestProvisionSignal = true
  return out
end

local function put(em, req)
  local bad = arm.check_name(req.params.vm, "vm", "vmName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local loc, lerr = arm.location(body, M.TYPE)
  if not loc then return lerr end
  body.location = loc
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local id = vm_id(req)
  local existing = em.store:get_typed(id, M.TYPE)
  if existing and req.headers["if-none-match"] == "*" then
    return reply.error(412, "PreconditionFailed", "The VM already exists and If-None-Match is '*'.")
  end
  if existing and existing.body.location ~= loc then
    return reply.error(409, "InvalidResourceLocation", "A VM cannot move to another region.", "location")
  end
  local zones, zerr = vm_rules.check_zones(body.zones, "zones")
  if zones == false then return zerr end
  body.zones = zones
  if existing then
    -- A VM stays in its zone; a PUT without zones keeps them, and one
    -- without securityProfile keeps it (as a GET-modify-PUT would).
    local old = existing.body.zones
    if zones == nil then
      body.zones = json.copy(old)
    elseif (old and old[1]) ~= zones[1] then
      return reply.error(409, "PropertyChangeNotAllowed", "Changing property 'zones' is not allowed.", "zones")
    end
    if type(body.properties) == "table" and body.properties.securityProfile == nil then
      body.properties.securityProfile = json.copy(existing.body.properties.securityProfile)
    end
  end
  if existing then
    local old_os = existing.body.properties.storageProfile.osDisk
    local new_os = body.properties and body.properties.storageProfile and body.properties.storageProfile.osDisk
    local swapping = new_os and new_os.managedDisk and new_os.managedDisk.id
      and not ids.same(new_os.managedDisk.id, old_os.managedDisk.id)
    if swapping and existing.x.power ~= "deallocated" then
      return reply.error(409, "OperationNotAllowed",
        "The OS disk of a VM can be swapped only while the VM is deallocated.", "properties.storageProfile.osDisk.managedDisk.id")
    end
    -- A swap, like any update, keeps the VM's osDisk.createOption (Azure
    -- refuses a change, even to Attach); the emulator plans the OS disk
    -- as an attached one and the VM keeps showing its createOption.
    if new_os and new_os.createOption and tostring(new_os.createOption):lower() ~= old_os.createOption:lower() then
      return reply.error(409, "PropertyChangeNotAllowed",
        "Changing property 'osDisk.createOption' is not allowed.", "properties.storageProfile.osDisk.createOption")
    elseif new_os then
      new_os.managedDisk = new_os.managedDisk or {}
      new_os.managedDisk.id = new_os.managedDisk.id or old_os.managedDisk.id
      new_os.osType = new_os.osType or old_os.osType
      new_os.createOption = "Attach"
      body.properties.osProfile = nil
    end
  end
  local plan, perr = plan_vm(em, req, body, existing)
  if not plan then return perr end
  -- vCPU quota (providers/locations.lua): a new VM, or a running one resized.
  local new_size = body.properties.hardwareProfile.vmSize
  if em.quota_check and (not existing or (existing.x.power ~= "deallocated"
      and new_size:lower() ~= existing.body.properties.hardwareProfile.vmSize:lower())) then
    local qerr = em.quota_check(em, req.params.sub, loc, id, new_size)
    if qerr then return qerr end
  end
  local props = body.properties
  local sp = realise(em, req, body, plan, existing)
  local doc = arm.tracked(id, M.TYPE, req.params.vm, loc, tags)
  doc.zones = body.zones
  doc.identity = json.copy(body.identity)
  doc.properties = {
    vmId = existing and existing.body.properties.vmId or util.guid(),
    hardwareProfile = { vmSize = props.hardwareProfile.vmSize },
    storageProfile = sp,
    osProfile = existing and existing.body.properties.osProfile or os_profile(props.osProfile, req.params.vm),
    networkProfile = json.copy(props.networkProfile),
    securityProfile = json.copy(props.securityProfile),
    diagnosticsProfile = json.copy(props.diagnosticsProfile),
    licenseType = props.licenseType,
    provisioningState = existing and "Updating" or "Creating",
    timeCreated = existing and existing.body.properties.timeCreated or arm.now_iso(em),
  }
  local e = em.store:put{ id = id, type = M.TYPE, body = doc,
    x = existing and existing.x or { power = "starting", hyper_v = plan.hyper_v } }
  for _, nic in ipairs(props.networkProfile and props.networkProfile.networkInterfaces or {}) do
    local n = em.store:get_typed(nic.id, NIC_TYPE)
    if n then n.body.properties.virtualMachine = { id = id } end
  end
  e.x.on_delete = nil
  local _, headers = em.lro:start{
    sub = req.params.sub, location = loc, api_version = req.query["api-version"], base_url = req.base_url,
    duration = existing and M.DURATION.update or M.DURATION.create, resource_id = id,
    fail_with = req.fault_provisioning,
    finish = function(op)
      if op.fail_with then doc.properties.provisioningState = "Failed"; return "Failed", op.fail_with end
      doc.properties.provisioningState = "Succeeded"
      if e.x.power == "starting" then e.x.power = "running" end
      return "Succeeded"
    end }
  return reply.json(existing and 200 or 201, M.document(em, e), headers)
end

local function entry(em, req)
  return arm.find(em, req, vm_id(req), M.TYPE, req.params.vm)
end

local POWER = { running = "VM running", deallocated = "VM deallocated", stopped = "VM stopped",
  starting = "VM starting", deallocating = "VM deallocating" }

local function instance_view(em, e)
  local st = e.body.properties.provisioningState
  local when = arm.now_iso(em)
  local dl = json.array()
  local sp = e.body.properties.storageProfile
  local all = { sp.osDisk }
  for _, d in ipairs(sp.dataDisks or {}) do all[#all + 1] = d end
  for _, d in ipairs(all) do
    dl[#dl + 1] = { name = d.name, statuses = json.array{ { code = "ProvisioningState/succeeded",
      level = "Info", displayStatus = "Provisioning succeeded", time = when } } }
  end
  local os_ref = sp.osDisk.managedDisk
  return { computerName = e.body.properties.osProfile and e.body.properties.osProfile.computerName,
    hyperVGeneration = vm_rules.vm_generation(e, os_ref and em.store:get_typed(os_ref.id, disks.TYPE)),
    disks = dl, statuses = json.array{
      { code = "ProvisioningState/" .. st:lower(), level = st == "Failed" and "Error" or "Info",
        displayStatus = "Provisioning " .. st:lower(), time = when },
      { code = "PowerState/" .. e.x.power, level = "Info", displayStatus = POWER[e.x.power] or e.x.power } } }
end

local function get(em, req)
  local e, err = entry(em, req)
  if not e then return err end
  local doc = M.document(em, e)
  if (req.query["$expand"] or ""):lower() == "instanceview" then doc.properties.instanceView = instance_view(em, e) end
  return reply.json(200, doc)
end

local function instance_view_get(em, req)
  local e, err = entry(em, req)
  if not e then return err end
  return reply.json(200, instance_view(em, e))
end

local function patch(em, req)
  local e, err = entry(em, req)
  if not e then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  local terr = arm.patch_tags(e, body)
  if terr then return terr end
  local hp = body.properties and body.properties.hardwareProfile
  if hp and hp.vmSize then
    if em.quota_check and e.x.power ~= "deallocated" then
      local qerr = em.quota_check(em, req.params.sub, e.body.location, e.id, hp.vmSize)
      if qerr then return qerr end
    end
    local sp = e.body.properties.storageProfile
    local all = { sp.osDisk }
    for _, d in ipairs(sp.dataDisks or {}) do all[#all + 1] = d end
    for _, d in ipairs(all) do
      local disk = d.managedDisk and em.store:get_typed(d.managedDisk.id, disks.TYPE)
      local bad = disk and vm_rules.premium_refusal(hp.vmSize, disk.body.sku.name, disk.body.name,
        "properties.hardwareProfile.vmSize")
      if bad then return bad end
    end
    e.body.properties.hardwareProfile.vmSize = hp.vmSize
  end
  return reply.json(200, M.document(em, e))
end

-- Detaches (or, per deleteOption, deletes) a deleted VM's disks and NICs.
local function release(em, e)
  local sp = e.body.properties.storageProfile
  local all = { sp.osDisk }
  for _, d in ipairs(sp.dataDisks or {}) do all[#all + 1] = d end
  for _, d in ipairs(all) do
    local disk = d.managedDisk and em.store:get_typed(d.managedDisk.id, disks.TYPE)
    if disk then
      disks.attach(em, disk, nil)
      if d.deleteOption == "Delete" or disk.x.ephemeral then em.store:delete(disk.id) end
    end
  end
  for _, x in ipairs(em.store:under(e.id)) do em.store:delete(x.id) end
  local np = e.body.properties.networkProfile
  for _, nic in ipairs(np and np.networkInterfaces or {}) do
    local n = em.store:get_typed(nic.id, NIC_TYPE)
    if n then
      n.body.properties.virtualMachine = nil
      if nic.properties and nic.properties.deleteOption == "Delete" then em.store:delete(n.id) end
    end
  end
end

local function delete(em, req)
  local e = em.store:get_typed(vm_id(req), M.TYPE)
  if not e then return reply.empty(204) end
  e.body.properties.provisioningState = "Deleting"
  local _, headers = em.lro:start{
    sub = req.params.sub, location = e.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.DURATION.delete, kind = "delete",
    finish = function() release(em, e); em.store:delete(e.id); return "Succeeded" end }
  return reply.empty(202, headers)
end

-- A disk of VM e with an active SAS (a VM does not start on one), or nil.
local function disk_with_sas(em, e)
  local sp = e.body.properties.storageProfile
  local all = { sp.osDisk }
  for _, d in ipairs(sp.dataDisks or {}) do all[#all + 1] = d end
  for _, d in ipairs(all) do
    local disk = d.managedDisk and em.store:get_typed(d.managedDisk.id, disks.TYPE)
    if disk and access.active(em, disk) then return disk end
  end
  return nil
end

local function power_action(action, target, transient)
  return function(em, req)
    local e, err = entry(em, req)
    if not e then return err end
    if e.body.properties.provisioningState == "Deleting" then
      return reply.error(409, "OperationNotAllowed", "The VM is being deleted.")
    end
    local sas = target == "running" and disk_with_sas(em, e)
    if sas then
      return reply.error(409, "OperationNotAllowed", string.format(
        "There is an active shared access signature outstanding for disk %s. Call EndGetAccess on the disk " ..
        "before starting the VM.", sas.body.name))
    end
    local before = e.x.power
    if target == "running" and before == "deallocated" and em.quota_check then
      local qerr = em.quota_check(em, req.params.sub, e.body.location, e.id, e.body.properties.hardwareProfile.vmSize)
      if qerr then return qerr end
    end
    e.x.power = transient
    local _, headers = em.lro:start{
      sub = req.params.sub, location = e.body.location, api_version = req.query["api-version"],
      base_url = req.base_url, duration = M.DURATION[action], kind = "post",
      fail_with = req.fault_provisioning,
      finish = function(op)
        if op.fail_with then e.x.power = before; return "Failed", op.fail_with end
        e.x.power = target
        op.result = { status = 200 }
        return "Succeeded"
      end }
    return reply.empty(202, headers)
  end
end

local function attach_detach(em, req)
  local e, err = entry(em, req)
  if not e then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  local sp = e.body.properties.storageProfile
  local attach = body.dataDisksToAttach or {}
  local detach = body.dataDisksToDetach or {}
  if #attach == 0 and #detach == 0 then
    return reply.error(400, "InvalidParameter", "dataDisksToAttach or dataDisksToDetach must list at least one disk.",
      "dataDisksToAttach")
  end
  local used = {}
  for _, d in ipairs(sp.dataDisks) do used[d.lun] = d end
  local remove = {}
  for i, d in ipairs(detach) do
    local found
    for _, cur in ipairs(sp.dataDisks) do
      if d.diskId and ids.same(cur.managedDisk.id, d.diskId) then found = cur end
    end
    if not found then
      return reply.error(400, "InvalidParameter", string.format("dataDisksToDetach[%d].diskId is not attached to the VM.", i - 1),
        string.format("dataDisksToDetach[%d].diskId", i - 1))
    end
    remove[found] = true
    used[found.lun] = nil
  end
  local adds = {}
  for i, d in ipairs(attach) do
    local field = string.format("dataDisksToAttach[%d]", i - 1)
    local disk = d.diskId and em.store:get_typed(d.diskId, disks.TYPE)
    if not disk then
      return reply.error(400, "InvalidParameter", field .. ".diskId is not an existing managed disk.", field .. ".diskId")
    end
    if disk.body.managedBy and (disk.body.properties.maxShares or 1) < 2 then
      return reply.error(409, "OperationNotAllowed", string.format("Disk '%s' is already attached to VM '%s'.",
        disk.body.name, disk.body.managedBy), field .. ".diskId")
    end
    local bad = vm_rules.zone_refusal(disk, e.body.zones, field .. ".diskId")
      or vm_rules.premium_refusal(e.body.properties.hardwareProfile.vmSize, disk.body.sku.name, disk.body.name,
        field .. ".diskId")
    if bad then return bad end
    local lun = d.lun
    if lun == nil then lun = 0; while used[lun] do lun = lun + 1 end end
    if used[lun] then
      return reply.error(409, "OperationNotAllowed", string.format("LUN %d is already in use.", lun), field .. ".lun")
    end
    used[lun] = true
    adds[#adds + 1] = { disk = disk, lun = lun, caching = d.caching, deleteOption = d.deleteOption }
  end
  local keep = json.array()
  for _, cur in ipairs(sp.dataDisks) do
    if remove[cur] then
      local od = em.store:get_typed(cur.managedDisk.id, disks.TYPE)
      if od then disks.attach(em, od, nil) end
    else keep[#keep + 1] = cur end
  end
  for _, a in ipairs(adds) do
    disks.attach(em, a.disk, e.id)
    keep[#keep + 1] = { lun = a.lun, name = a.disk.body.name, createOption = "Attach", caching = a.caching or "None",
      managedDisk = managed_disk_doc(a.disk),
      diskSizeGB = a.disk.body.properties.diskSizeGB, toBeDetached = false, deleteOption = a.deleteOption or "Detach" }
  end
  table.sort(keep, function(a, b) return a.lun < b.lun end)
  sp.dataDisks = keep
  local _, headers = em.lro:start{
    sub = req.params.sub, location = e.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = M.DURATION.attach, kind = "post",
    finish = function(op) op.result = { status = 200, body = json.copy(sp) }; return "Succeeded" end }
  return reply.empty(202, headers)
end

local list = arm.lister(M.TYPE)

function M.routes(em)
  em.vm_running = M.running
  return {
    { method = "PUT", path = PATH, op = "VirtualMachines_CreateOrUpdate", arm = true, kind = "write", handler = put },
    { method = "PATCH", path = PATH, op = "VirtualMachines_Update", arm = true, kind = "write", handler = patch },
    { method = "GET", path = PATH, op = "VirtualMachines_Get", arm = true, kind = "read", handler = get },
    { method = "GET", path = PATH .. "/instanceView", op = "VirtualMachines_InstanceView", arm = true, kind = "read", handler = instance_view_get },
    { method = "DELETE", path = PATH, op = "VirtualMachines_Delete", arm = true, kind = "delete", handler = delete },
    { method = "POST", path = PATH .. "/deallocate", op = "VirtualMachines_Deallocate", arm = true, kind = "write",
      handler = power_action("deallocate", "deallocated", "deallocating") },
    { method = "POST", path = PATH .. "/start", op = "VirtualMachines_Start", arm = true, kind = "write",
      handler = power_action("start", "running", "starting") },
    { method = "POST", path = PATH .. "/powerOff", op = "VirtualMachines_PowerOff", arm = true, kind = "write",
      handler = power_action("power_off", "stopped", "stopping") },
    { method = "POST", path = PATH .. "/attachDetachDataDisks", op = "VirtualMachines_AttachDetachDataDisks", arm = true, kind = "write", handler = attach_detach },
    { method = "GET", path = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines",
      op = "VirtualMachines_List", arm = true, kind = "read", handler = list },
    { method = "GET", path = "/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines",
      op = "VirtualMachines_ListAll", arm = true, kind = "read", handler = list },
  }
end

return M
