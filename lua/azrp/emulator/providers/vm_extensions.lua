-- Microsoft.Compute/virtualMachines/extensions: installed on a running VM
-- and listed in the VM's resources.  One extension does something here:
-- Azure Disk Encryption (publisher Microsoft.Azure.Security, type
-- AzureDiskEncryption or AzureDiskEncryptionForLinux).  With
-- settings.EncryptionOperation EnableEncryption (the default) it marks the
-- VM as using ADE and gives the disks that settings.VolumeType names (OS,
-- Data or All, the default) encryptionSettingsCollection, as Azure does;
-- an ADE VM then refuses an OS disk swap (vm_rules.lua).
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local vm_rules = require "azrp.emulator.vm_rules"
local vms = require "azrp.emulator.providers.virtual_machines"
local disks = require "azrp.emulator.providers.disks"

local M = {}

local VM = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
local PATH = VM .. "/extensions/{ext}"

local function vm_of(em, req)
  local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute", "virtualMachines", req.params.vm)
  return arm.find(em, req, id, vms.TYPE, req.params.vm)
end

-- Applies ADE settings to the VM's disks; with enable false, removes them.
local function apply_ade(em, vm, settings, enable)
  local kind = tostring(settings.VolumeType or "All"):lower()
  local sp = vm.body.properties.storageProfile
  local targets = {}
  if kind == "os" or kind == "all" then targets[#targets + 1] = sp.osDisk end
  if kind == "data" or kind == "all" then
    for _, d in ipairs(sp.dataDisks or {}) do targets[#targets + 1] = d end
  end
  for _, ref in ipairs(targets) do
    local disk = ref.managedDisk and em.store:get_typed(ref.managedDisk.id, disks.TYPE)
    if disk then
      if enable then
        disk.body.properties.encryptionSettingsCollection = { enabled = true, encryptionSettingsVersion = "1.1",
          encryptionSettings = json.array{ { diskEncryptionKey = {
            secretUrl = tostring(settings.KeyVaultURL or "https://vault.invalid/") .. "secrets/ade-" .. disk.body.name,
            sourceVault = { id = settings.KeyVaultResourceId } } } } }
      else
        disk.body.properties.encryptionSettingsCollection = nil
      end
    end
  end
  vm.x.ade = enable or nil
end

local function put(em, req)
  local vm, err = vm_of(em, req)
  if not vm then return err end
  local body, berr = arm.body(req)
  if not body then return berr end
  local loc, lerr = arm.location(body, vms.TYPE)
  if not loc then return lerr end
  if vm.x.power ~= "running" then
    return reply.error(409, "OperationNotAllowed", "Cannot modify extensions in the VM when the VM is not running.")
  end
  local props = type(body.properties) == "table" and body.properties or {}
  for _, f in ipairs{ "publisher", "type", "typeHandlerVersion" } do
    local v, ferr = arm.need(body, "properties." .. f, "properties." .. f)
    if not v then return ferr end
  end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local id = vm.id .. "/extensions/" .. req.params.ext
  local existing = em.store:get_typed(id, vms.EXTENSION_TYPE)
  local doc = arm.tracked(id, vms.EXTENSION_TYPE, req.params.ext, loc, tags)
  doc.properties = { publisher = props.publisher, type = props.type, typeHandlerVersion = props.typeHandlerVersion,
    autoUpgradeMinorVersion = props.autoUpgradeMinorVersion == true, settings = json.copy(props.settings),
    provisioningState = existing and "Updating" or "Creating" }
  -- protectedSettings hold secrets: kept nowhere, returned never.
  local e = em.store:put{ id = id, type = vms.EXTENSION_TYPE, body = doc, x = {} }
  if vm_rules.is_ade_extension(props.publisher, props.type) then
    local settings = type(props.settings) == "table" and props.settings or {}
    local op = tostring(settings.EncryptionOperation or "EnableEncryption"):lower()
    apply_ade(em, vm, settings, op ~= "disableencryption")
  end
  local _, headers = em.lro:start{
    sub = req.params.sub, location = loc, api_version = req.query["api-version"], base_url = req.base_url,
    duration = 30, resource_id = id, fail_with = req.fault_provisioning,
    finish = arm.provisioned(doc.properties, em, id) }
  return reply.json(existing and 200 or 201, arm.doc(e), headers)
end

local function entry(em, req)
  local vm, err = vm_of(em, req)
  if not vm then return nil, err end
  local e = em.store:get_typed(vm.id .. "/extensions/" .. req.params.ext, vms.EXTENSION_TYPE)
  if not e then
    return nil, reply.not_found(vms.EXTENSION_TYPE, req.params.vm .. "/" .. req.params.ext, req.params.rg)
  end
  return e
end

local function list(em, req)
  local vm, err = vm_of(em, req)
  if not vm then return err end
  local docs = json.array()
  for _, e in ipairs(em.store:list(vms.EXTENSION_TYPE, { parent = vm.id })) do docs[#docs + 1] = arm.doc(e) end
  -- Azure answers this list in one piece, without paging.
  return reply.json(200, { value = docs })
end

local function delete(em, req)
  local vm = em.store:get_typed(ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Compute",
    "virtualMachines", req.params.vm), vms.TYPE)
  local e = vm and em.store:get_typed(vm.id .. "/extensions/" .. req.params.ext, vms.EXTENSION_TYPE)
  if not e then return arm.absent(em, req) end
  -- Removing the ADE extension does not decrypt anything: the VM stays an ADE VM.
  return arm.delete_later(em, req, e, 10)
end

function M.routes(em)
  return {
    { method = "PUT", path = PATH, op = "VirtualMachineExtensions_CreateOrUpdate", arm = true, kind = "write", handler = put },
    { method = "GET", path = PATH, op = "VirtualMachineExtensions_Get", arm = true, kind = "read", handler = arm.getter(entry) },
    { method = "DELETE", path = PATH, op = "VirtualMachineExtensions_Delete", arm = true, kind = "delete", handler = delete },
    { method = "GET", path = VM .. "/extensions", op = "VirtualMachineExtensions_List", arm = true, kind = "read", handler = list },
  }
end

return M
