-- Microsoft.Network: the few resources a test VM needs — virtual networks
-- with subnets, network security groups and network interfaces.  They are
-- created synchronously (200/201 with provisioningState Succeeded).
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"
local json = require "azrp.emulator.json"
local util = require "azrp.emulator.util"

local M = {}

local NS = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/"
M.VNET = "Microsoft.Network/virtualNetworks"
M.SUBNET = "Microsoft.Network/virtualNetworks/subnets"
M.NIC = "Microsoft.Network/networkInterfaces"
M.NSG = "Microsoft.Network/networkSecurityGroups"

local function etag() return 'W/"' .. util.guid() .. '"' end

local function subnet_doc(vnet_id, s)
  local id = vnet_id .. "/subnets/" .. s.name
  local props = s.properties or {}
  return { id = id, name = s.name, type = M.SUBNET, etag = etag(), properties = {
    addressPrefix = props.addressPrefix, provisioningState = "Succeeded",
    networkSecurityGroup = props.networkSecurityGroup and { id = props.networkSecurityGroup.id } or nil } }
end

local function put_vnet(em, req)
  local bad = arm.check_name(req.params.name, "generic", "virtualNetworkName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local loc, lerr = arm.location(body, M.VNET)
  if not loc then return lerr end
  local props = body.properties or {}
  local prefixes = props.addressSpace and props.addressSpace.addressPrefixes
  if type(prefixes) ~= "table" or #prefixes == 0 then
    return reply.error(400, "InvalidRequestFormat",
      "Cannot parse the request: properties.addressSpace.addressPrefixes is required.", "properties.addressSpace")
  end
  local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Network", "virtualNetworks", req.params.name)
  local existing = em.store:get(id)
  local doc = arm.tracked(id, M.VNET, req.params.name, loc, body.tags)
  doc.etag = etag()
  doc.properties = { addressSpace = { addressPrefixes = json.copy(prefixes) }, provisioningState = "Succeeded",
    resourceGuid = existing and existing.body.properties.resourceGuid or util.guid(), subnets = json.array() }
  for i, s in ipairs(props.subnets or {}) do
    if type(s) ~= "table" or type(s.name) ~= "string" then
      return reply.error(400, "InvalidRequestFormat", string.format("properties.subnets[%d].name is required.", i - 1),
        string.format("properties.subnets[%d].name", i - 1))
    end
    local sd = subnet_doc(id, s)
    doc.properties.subnets[#doc.properties.subnets + 1] = sd
    em.store:put{ id = sd.id, type = M.SUBNET, body = sd }
  end
  em.store:put{ id = id, type = M.VNET, body = doc }
  return reply.json(existing and 200 or 201, json.copy(doc))
end

local function put_subnet(em, req)
  local vnet_id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Network", "virtualNetworks", req.params.name)
  local vnet = em.store:get_typed(vnet_id, M.VNET)
  if not vnet then return reply.not_found(M.VNET, req.params.name, req.params.rg) end
  local body, err = arm.body(req)
  if not body then return err end
  local sd = subnet_doc(vnet_id, { name = req.params.subnet, properties = body.properties })
  local existed = em.store:get(sd.id)
  em.store:put{ id = sd.id, type = M.SUBNET, body = sd }
  local list = json.array()
  for _, s in ipairs(vnet.body.properties.subnets) do
    if not ids.same(s.id, sd.id) then list[#list + 1] = s end
  end
  list[#list + 1] = sd
  vnet.body.properties.subnets = list
  return reply.json(existed and 200 or 201, json.copy(sd))
end

local function put_nic(em, req)
  local bad = arm.check_name(req.params.name, "generic", "networkInterfaceName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local loc, lerr = arm.location(body, M.NIC)
  if not loc then return lerr end
  local props = body.properties or {}
  local configs = props.ipConfigurations
  if type(configs) ~= "table" or #configs == 0 then
    return reply.error(400, "InvalidRequestFormat", "properties.ipConfigurations is required.", "properties.ipConfigurations")
  end
  local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Network", "networkInterfaces", req.params.name)
  local out = json.array()
  for i, c in ipairs(configs) do
    local cp = c.properties or {}
    local sid = cp.subnet and cp.subnet.id
    local subnet = sid and em.store:get_typed(sid, M.SUBNET)
    if not subnet then
      return reply.error(400, "InvalidResourceReference", string.format(
        "Resource %s referenced by resource %s was not found.", tostring(sid), id),
        string.format("properties.ipConfigurations[%d].properties.subnet.id", i - 1))
    end
    local prefix = subnet.body.properties.addressPrefix or "10.0.0.0/24"
    local a, b, c3 = prefix:match("^(%d+)%.(%d+)%.(%d+)%.")
    em.nic_seq = (em.nic_seq or 3) + 1
    out[#out + 1] = { id = id .. "/ipConfigurations/" .. (c.name or "ipconfig1"), name = c.name or "ipconfig1",
      properties = { privateIPAddress = string.format("%s.%s.%s.%d", a or 10, b or 0, c3 or 0, em.nic_seq % 250 + 4),
        privateIPAllocationMethod = cp.privateIPAllocationMethod or "Dynamic", subnet = { id = subnet.body.id },
        primary = i == 1, provisioningState = "Succeeded" } }
  end
  local existing = em.store:get(id)
  local doc = arm.tracked(id, M.NIC, req.params.name, loc, body.tags)
  doc.etag = etag()
  doc.properties = { ipConfigurations = out, provisioningState = "Succeeded",
    networkSecurityGroup = props.networkSecurityGroup and { id = props.networkSecurityGroup.id } or nil,
    resourceGuid = existing and existing.body.properties.resourceGuid or util.guid(),
    virtualMachine = existing and existing.body.properties.virtualMachine or nil }
  em.store:put{ id = id, type = M.NIC, body = doc }
  return reply.json(existing and 200 or 201, json.copy(doc))
end

local function put_nsg(em, req)
  local body, err = arm.body(req)
  if not body then return err end
  local rg, rerr = arm.resource_group(em, req)
  if not rg then return rerr end
  local loc, lerr = arm.location(body, M.NSG)
  if not loc then return lerr end
  local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Network", "networkSecurityGroups", req.params.name)
  local existing = em.store:get(id)
  local doc = arm.tracked(id, M.NSG, req.params.name, loc, body.tags)
  doc.etag = etag()
  doc.properties = { securityRules = json.copy((body.properties or {}).securityRules) or json.array(),
    provisioningState = "Succeeded", resourceGuid = util.guid() }
  em.store:put{ id = id, type = M.NSG, body = doc }
  return reply.json(existing and 200 or 201, json.copy(doc))
end

local function getter(rtype, seg)
  return function(em, req)
    local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Network", seg, req.params.name)
    if req.params.subnet then id = id .. "/subnets/" .. req.params.subnet end
    local e = em.store:get_typed(id, rtype)
    if not e then
      local rg, rerr = arm.resource_group(em, req)
      if not rg then return rerr end
      return reply.not_found(rtype, req.params.name, req.params.rg)
    end
    return reply.json(200, arm.doc(e))
  end
end

local function deleter(rtype, seg)
  return function(em, req)
    local id = ids.resource_id(req.params.sub, req.params.rg, "Microsoft.Network", seg, req.params.name)
    if req.params.subnet then id = id .. "/subnets/" .. req.params.subnet end
    local e = em.store:get_typed(id, rtype)
    if not e then return reply.empty(204) end
    if rtype == M.NIC and e.body.properties.virtualMachine then
      return reply.error(400, "NicInUse", string.format(
        "Network Interface %s is used by existing resource %s.", id, e.body.properties.virtualMachine.id))
    end
    for _, child in ipairs(em.store:under(id)) do em.store:delete(child.id) end
    em.store:delete(id)
    local _, headers = em.lro:start{ sub = req.params.sub, location = e.body.location or "westeurope",
      namespace = "Microsoft.Network", api_version = req.query["api-version"], base_url = req.base_url,
      duration = 1, kind = "delete" }
    return reply.empty(202, headers)
  end
end

local lister = arm.lister

function M.routes(em)
  local out = {}
  local function add(method, path, op, kind, handler)
    out[#out + 1] = { method = method, path = NS .. path, op = op, arm = true, kind = kind, handler = handler }
  end
  add("PUT", "virtualNetworks/{name}", "VirtualNetworks_CreateOrUpdate", "write", put_vnet)
  add("GET", "virtualNetworks/{name}", "VirtualNetworks_Get", "read", getter(M.VNET, "virtualNetworks"))
  add("DELETE", "virtualNetworks/{name}", "VirtualNetworks_Delete", "delete", deleter(M.VNET, "virtualNetworks"))
  add("GET", "virtualNetworks", "VirtualNetworks_List", "read", lister(M.VNET))
  add("PUT", "virtualNetworks/{name}/subnets/{subnet}", "Subnets_CreateOrUpdate", "write", put_subnet)
  add("GET", "virtualNetworks/{name}/subnets/{subnet}", "Subnets_Get", "read", getter(M.SUBNET, "virtualNetworks"))
  add("DELETE", "virtualNetworks/{name}/subnets/{subnet}", "Subnets_Delete", "delete", deleter(M.SUBNET, "virtualNetworks"))
  add("PUT", "networkInterfaces/{name}", "NetworkInterfaces_CreateOrUpdate", "write", put_nic)
  add("GET", "networkInterfaces/{name}", "NetworkInterfaces_Get", "read", getter(M.NIC, "networkInterfaces"))
  add("DELETE", "networkInterfaces/{name}", "NetworkInterfaces_Delete", "delete", deleter(M.NIC, "networkInterfaces"))
  add("GET", "networkInterfaces", "NetworkInterfaces_List", "read", lister(M.NIC))
  add("PUT", "networkSecurityGroups/{name}", "NetworkSecurityGroups_CreateOrUpdate", "write", put_nsg)
  add("GET", "networkSecurityGroups/{name}", "NetworkSecurityGroups_Get", "read", getter(M.NSG, "networkSecurityGroups"))
  add("DELETE", "networkSecurityGroups/{name}", "NetworkSecurityGroups_Delete", "delete", deleter(M.NSG, "networkSecurityGroups"))
  return out
end

return M
