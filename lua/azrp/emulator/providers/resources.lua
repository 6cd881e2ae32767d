-- Microsoft.Resources: resource groups.
local reply = require "azrp.emulator.reply"
local arm = require "azrp.emulator.arm"
local ids = require "azrp.emulator.ids"

local M = {}

local RG = "/subscriptions/{sub}/resourcegroups/{rg}"

-- Creates or updates a resource group; shared with the seed.
function M.put_group(em, sub, name, location, tags)
  local id = ids.rg_id(sub, name)
  local e = em.store:get(id)
  if e then
    e.body.tags = tags or e.body.tags
    return e, false
  end
  return em.store:put{ id = id, type = arm.RG_TYPE, body = {
    id = id, name = name, type = "Microsoft.Resources/resourceGroups",
    location = location, tags = tags or {},
    properties = { provisioningState = "Succeeded" } } }, true
end

local function put(em, req)
  local unknown = arm.unknown_subscription(em, req)
  if unknown then return unknown end
  local bad = arm.check_name(req.params.rg, "rg", "resourceGroupName")
  if bad then return bad end
  local body, err = arm.body(req)
  if not body then return err end
  local loc, lerr = arm.location(body, arm.RG_TYPE)
  if not loc then return lerr end
  local tags, terr = arm.tags(body)
  if not tags then return terr end
  local existing = em.store:get(arm.rg_id(req))
  if existing and existing.body.location ~= loc then
    return reply.error(409, "InvalidResourceGroupLocation", string.format(
      "Invalid resource group location '%s'. The Resource group already exists in location '%s'.",
      loc, existing.body.location))
  end
  local e, created = M.put_group(em, req.params.sub, req.params.rg, loc, tags)
  return reply.json(created and 201 or 200, arm.doc(e))
end

local function get(em, req)
  local e, err = arm.resource_group(em, req)
  if not e then return err end
  return reply.json(200, arm.doc(e))
end

local function head(em, req)
  local e = em.store:get(arm.rg_id(req))
  return reply.empty(e and 204 or 404)
end

-- Deleting a group deletes everything in it, as ARM does, after a while.
local function delete(em, req)
  local e = em.store:get(arm.rg_id(req))
  if not e then return reply.empty(204) end
  e.body.properties.provisioningState = "Deleting"
  local prefix = e.id
  local _, headers = em.lro:start{
    sub = req.params.sub, location = e.body.location, namespace = "Microsoft.Resources",
    api_version = req.query["api-version"], base_url = req.base_url, duration = 20,
    kind = "delete",
    finish = function()
      for _, child in ipairs(em.store:under(prefix)) do
        if child.x and child.x.on_delete then child.x.on_delete(em, child) end
        em.store:delete(child.id)
      end
      em.store:delete(prefix)
      return "Succeeded"
    end }
  headers["azure-asyncoperation"] = nil
  return reply.empty(202, headers)
end

local function list(em, req)
  local unknown = arm.unknown_subscription(em, req)
  if unknown then return unknown end
  local docs = {}
  for _, e in ipairs(em.store:list(arm.RG_TYPE, { sub = req.params.sub })) do
    docs[#docs + 1] = arm.doc(e)
  end
  return arm.list(em, req, docs)
end

function M.routes(em)
  return {
    { method = "PUT", path = RG, op = "ResourceGroups_CreateOrUpdate", arm = true, kind = "write", handler = put },
    { method = "GET", path = RG, op = "ResourceGroups_Get", arm = true, kind = "read", handler = get },
    { method = "HEAD", path = RG, op = "ResourceGroups_CheckExistence", arm = true, kind = "read", handler = head },
    { method = "DELETE", path = RG, op = "ResourceGroups_Delete", arm = true, kind = "delete", handler = delete },
    { method = "GET", path = "/subscriptions/{sub}/resourcegroups", op = "ResourceGroups_List", arm = true, kind = "read", handler = list },
  }
end

return M
