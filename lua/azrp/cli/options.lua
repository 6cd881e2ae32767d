--- Options and helpers shared by the one-off commands (collection, rp,
-- disk-rp), named as `az restore-point` names them.  Each option's param
-- is the facade parameter (or body field) it fills, so that an error about
-- that field names the option.
local M = {}

M.RESOURCE_GROUP = { "resource-group", short = "g", required = true, metavar = "NAME",
  param = "resource_group_name", help = "resource group" }

M.COLLECTION = { "collection-name", required = true, metavar = "NAME", param = "restore_point_collection_name",
  help = "restore point collection" }

M.NO_WAIT = { "no-wait", flag = true, help = "return once Azure has accepted the request, without waiting for it to finish" }

M.TAGS = { "tags", list = true, metavar = "KEY=VALUE", param = "body.tags",
  help = "tags, space-separated (\"\" clears them)" }

--- tags(list) -> { key = value } | nil, message.  "k=v", "k" (empty
-- value) or "" alone (no tags).
function M.tags(list)
  local t = {}
  for _, kv in ipairs(list or {}) do
    if kv ~= "" then
      local k, v = kv:match("^([^=]*)=(.*)$")
      k, v = k or kv, v or ""
      if k == "" then return nil, string.format("--tags: '%s' has no key (KEY=VALUE)", kv) end
      t[k] = v
    end
  end
  return t
end

--- The resource group named in an ARM id.
function M.resource_group_of(id)
  return type(id) == "string" and id:match("/[Rr][Ee][Ss][Oo][Uu][Rr][Cc][Ee][Gg][Rr][Oo][Uu][Pp][Ss]/([^/]+)") or nil
end

--- The last segment (the name) of an ARM id.
function M.name_of(id)
  return type(id) == "string" and id:match("([^/]+)/*$") or nil
end

--- Is err Azure's "there is no such resource"?
function M.not_found(err)
  return type(err) == "table" and (err.status == 404 or err.code == "ResourceNotFound" or err.code == "NotFound")
end

--- A positive whole number, or nil.
function M.positive_integer(v)
  return type(v) == "number" and v > 0 and v == math.floor(v) and v < 2 ^ 31
end

return M
