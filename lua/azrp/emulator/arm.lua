-- Helpers every resource provider handler uses: request bodies, the
-- resource-group and parent checks ARM makes, name rules, resource
-- documents and paged lists.
local json = require "azrp.emulator.json"
local reply = require "azrp.emulator.reply"
local ids = require "azrp.emulator.ids"
local clock_mod = require "azrp.emulator.clock"
local regions = require "azrp.emulator.regions"

local M = {}

M.RG_TYPE = "Microsoft.Resources/resourceGroups"

-- The decoded JSON body, or nil and a 400 response.
function M.body(req, required)
  if req.body == nil or req.body == "" then
    if required == false then return {} end
    return nil, reply.error(400, "InvalidRequestContent",
      "The request content was invalid and could not be deserialized: the body is empty.")
  end
  local v, err = json.decode(req.body)
  if type(v) ~= "table" then
    return nil, reply.error(400, "InvalidRequestContent",
      "The request content was invalid and could not be deserialized: " .. tostring(err or "not an object") .. ".")
  end
  return v
end

function M.rg_id(req)
  return ids.rg_id(req.params.sub, req.params.rg)
end

-- Returns nil when the request's subscription ({sub}) is one the seed
-- has, or a 404 SubscriptionNotFound.
function M.unknown_subscription(em, req)
  local sub = req.params.sub
  for _, s in ipairs(em.seed.subscriptions or {}) do
    if s.id:lower() == sub:lower() then return nil end
  end
  return reply.error(404, "SubscriptionNotFound", string.format("The subscription '%s' could not be found.", sub))
end

-- The resource group entry, or nil and a 404 ResourceGroupNotFound.
function M.resource_group(em, req)
  local e = em.store:get(M.rg_id(req))
  if not e then return nil, reply.not_found("resourcegroup", req.params.rg) end
  return e
end

-- Name rules.  rule = { max = n, min = 1, pattern = Lua pattern of allowed
-- characters (a set), no_end = chars a name may not end with,
-- start = pattern of the first character }
M.NAME_RULES = {
  disk = { max = 80, set = "^[%w_%-]+$", what = "letters, numbers, _ and -" },
  generic = { max = 80, set = "^[%w_%-%.]+$", start = "^%w", no_end = "%.$",
    what = "letters, numbers, _, - and ., starting with a letter or number and not ending with ." },
  vm = { max = 64, set = "^[%w_%-%.]+$", start = "^[%w]", no_end = "[%.%-]$",
    what = "letters, numbers, _, - and ., not ending with . or -" },
  rg = { max = 90, set = "^[%w_%-%.%(%)]+$", no_end = "%.$",
    what = "letters, numbers, _, -, ., ( and ), not ending with ." },
  version = { max = 32, set = "^%d+%.%d+%.%d+$", what = "Major.Minor.Patch" },
}

-- Returns nil when name is valid, or a 400 InvalidParameter naming field.
function M.check_name(name, rule_name, field)
  local rule = M.NAME_RULES[rule_name]
  local bad = not name or #name < 1 or #name > rule.max or not name:match(rule.set)
    or (rule.start and not name:match(rule.start)) or (rule.no_end and name:match(rule.no_end))
  if bad then
    return reply.error(400, "InvalidParameter", string.format(
      "The value '%s' of parameter '%s' is invalid: a name is 1 to %d characters of %s.",
      tostring(name), field, rule.max, rule.what), field)
  end
  return nil
end

-- A required field of a body, by dotted path; returns value or nil, 400.
function M.need(body, path, label)
  local v = body
  for part in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then v = nil; break end
    v = v[part]
  end
  if v == nil or v == json.null or v == "" then
    return nil, reply.error(400, "InvalidParameter", string.format(
      "Required parameter '%s' is missing (null).", label or path), label or path)
  end
  return v
end

-- One of an enum (case-insensitive as ARM compares), or nil, 400.
function M.enum(value, allowed, field)
  if type(value) == "string" then
    for _, a in ipairs(allowed) do
      if a:lower() == value:lower() then return a end
    end
  end
  return nil, reply.error(400, "InvalidParameter", string.format(
    "The value '%s' of parameter '%s' is not allowed. Allowed values are: %s.",
    tostring(value), field, table.concat(allowed, ", ")), field)
end

function M.now_iso(em) return clock_mod.iso(em.clock:now()) end

-- The resource document a GET returns: a copy, so that handlers may add
-- $expand parts without touching the store.
function M.doc(entry) return json.copy(entry.body) end

-- ARM's own refusal of a tracked resource's PUT without a location, on
-- create and on update alike (a PUT replaces the resource): ARM answers
-- it before the resource provider sees the request, in ARM's shape, with
-- no target.
local function location_required()
  return reply.error(400, "LocationRequired", "The location property is required for this definition.")
end

-- The location of a tracked resource of type rtype that a PUT body names:
-- the region's name ("North Europe" -> "northeurope"), or nil and ARM's
-- 400 (missing, not a string, or not a region the type is offered in).
function M.location(body, rtype)
  local loc = body.location
  if loc == nil or loc == json.null or loc == "" then return nil, location_required() end
  return M.region(loc, rtype, "location")
end

-- A region name given in a request (a location, a target region) at
-- field: its canonical name, or nil and ARM's 400 -- InvalidRequestContent
-- when it is not a string (ARM cannot deserialize it), else the refusal
-- regions.refusal gives for rtype (without a target, as ARM's has none).
function M.region(name, rtype, field)
  if type(name) ~= "string" then
    return nil, reply.error(400, "InvalidRequestContent", string.format(
      "The request content was invalid and could not be deserialized: '%s' must be a string.", field), field)
  end
  local canonical = regions.canonical(name)
  if canonical then return canonical end
  local r = regions.refusal(name, rtype)
  return nil, reply.error(r.status, r.code, r.message)
end

-- A PUT on an existing resource e: nil when the body names e's location,
-- else ARM's 400 for a missing location (a PUT is a whole resource, not a
-- PATCH) or an unknown region, or its 409 for a move (a tracked resource
-- never changes region).  Checked before any update.
function M.same_location(e, body)
  local loc, lerr = M.location(body, e.body.type)
  if not loc then return lerr end
  if loc == e.body.location then return nil end
  return reply.error(409, "InvalidResourceLocation", string.format(
    "The resource '%s' already exists in location '%s'. A resource with the same name cannot be created in location '%s'.",
    e.body.name, e.body.location, loc), "location")
end

-- Paged list: items are documents; page_size from the emulator's options.
-- nextLink is absolute, on the scheme/host/port the client used, and keeps
-- every query parameter (Python rebuilds it, JS uses it verbatim).
function M.list(em, req, docs)
  local size = em.opts.page_size or 50
  local skip = tonumber(req.query["$skiptoken"] or "0") or 0
  local page = json.array()
  for i = skip + 1, math.min(#docs, skip + size) do page[#page + 1] = docs[i] end
  local out = { value = page }
  if skip + size < #docs then
    local function enc(s)
      return (s:gsub("[^%w%-%._~%$]", function(c) return string.format("%%%02X", c:byte()) end))
    end
    local q = {}
    for k, v in pairs(req.query) do
      if k ~= "$skiptoken" then q[#q + 1] = enc(k) .. "=" .. enc(v) end
    end
    table.sort(q)
    q[#q + 1] = "$skiptoken=" .. tostring(skip + size)
    out.nextLink = req.base_url .. req.path .. "?" .. table.concat(q, "&")
  end
  return reply.json(200, out)
end

-- Standard tracked-resource fields for a new document.
function M.tracked(id, rtype, name, location, tags)
  return { id = id, name = name, type = rtype, location = location,
    tags = tags or {} }
end

-- The entry of type rtype at id, or nil and ARM's 404: the resource
-- group's when it is missing, else the resource's (name as displayed).
function M.find(em, req, id, rtype, name)
  local e = em.store:get_typed(id, rtype)
  if e then return e end
  local rg, rerr = M.resource_group(em, req)
  if not rg then return nil, rerr end
  return nil, reply.not_found(rtype, name, req.params.rg)
end

-- A GET handler: the document of the entry find(em, req) returns, or its error.
function M.getter(find)
  return function(em, req)
    local e, err = find(em, req)
    if not e then return err end
    return reply.json(200, M.doc(e))
  end
end

-- What a DELETE of a resource that does not exist answers: 204, unless
-- its resource group is missing too (404 ResourceGroupNotFound).
function M.absent(em, req)
  local rg, rerr = M.resource_group(em, req)
  if not rg then return rerr end
  return reply.empty(204)
end

-- Applies a PATCH body's tags to entry e; nil, or a 400 when malformed.
function M.patch_tags(e, body)
  if body.tags == nil then return nil end
  local tags, terr = M.tags(body)
  if not tags then return terr end
  e.body.tags = tags
  return nil
end

-- A handler listing the entries of rtype in the request's subscription and,
-- when the path names one, resource group (which must exist).
function M.lister(rtype)
  return function(em, req)
    if req.params.rg then
      local rg, rerr = M.resource_group(em, req)
      if not rg then return rerr end
    end
    local docs = {}
    for _, e in ipairs(em.store:list(rtype, { sub = req.params.sub, rg = req.params.rg })) do
      docs[#docs + 1] = M.doc(e)
    end
    return M.list(em, req, docs)
  end
end

-- The finish function of a create or update: the resource's
-- provisioningState (in props) becomes Succeeded, or Failed when the
-- request carried an injected provisioning failure.  With em and id, a
-- resource deleted meanwhile ends the operation Canceled.
function M.provisioned(props, em, id)
  return function(op)
    if em and not em.store:get(id) then
      return "Canceled", { code = "Canceled", message = "The resource was deleted while it was being created." }
    end
    if op.fail_with then
      props.provisioningState = "Failed"
      return "Failed", op.fail_with
    end
    props.provisioningState = "Succeeded"
    return "Succeeded"
  end
end

-- Deletes entry e after `duration` nominal seconds, as a DELETE LRO (202).
function M.delete_later(em, req, e, duration)
  e.body.properties.provisioningState = "Deleting"
  local _, headers = em.lro:start{
    sub = req.params.sub, location = e.body.location, api_version = req.query["api-version"],
    base_url = req.base_url, duration = duration, kind = "delete",
    finish = function()
      for _, child in ipairs(em.store:under(e.id)) do em.store:delete(child.id) end
      em.store:delete(e.id)
      return "Succeeded"
    end }
  return reply.empty(202, headers)
end

-- Copies tags from a request body, checking their shape.
function M.tags(body)
  local t = body.tags
  if t == nil or t == json.null then return {} end
  if type(t) ~= "table" then
    return nil, reply.error(400, "InvalidParameter", "tags must be an object of strings.", "tags")
  end
  for k, v in pairs(t) do
    if type(k) ~= "string" or type(v) ~= "string" then
      return nil, reply.error(400, "InvalidParameter", "tags must be an object of strings.", "tags")
    end
  end
  return t
end

return M
