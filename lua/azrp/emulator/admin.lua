-- The emulator-only admin API under /_emulator/: what tests, benchmarks
-- and rehearsals need that Azure has no API for — writing a disk's bytes as
-- the guest would (or filling them with pseudo-random extents), reading
-- their SHA-256, counting requests and the bytes the blob endpoint served,
-- moving time, minting tokens.  Resource ids in paths are percent-encoded as one segment.
local reply = require "azrp.emulator.reply"
local json = require "azrp.emulator.json"

local M = {}

local function b64decode(s)
  local basexx = require "basexx"
  return basexx.from_base64(s)
end

local function b64encode(s)
  local basexx = require "basexx"
  return basexx.to_base64(s)
end

local function body_of(req)
  if req.body == nil or req.body == "" then return {} end
  local v, err = json.decode(req.body)
  if type(v) ~= "table" then return nil, reply.error(400, "InvalidRequestContent", "admin: body must be a JSON object: " .. tostring(err)) end
  return v
end

-- A disk, snapshot or disk restore point entry with content, by id.
local function content_of(em, id)
  local e = em.store:get(id)
  if not e or not e.x then return nil end
  return e, e.x.content or e.x.snap
end

local function missing(id)
  return reply.error(404, "NotFound", "admin: no disk, snapshot or disk restore point '" .. tostring(id) .. "'.")
end

local function write(em, req)
  local e, c = content_of(em, req.params.id)
  if not e then return missing(req.params.id) end
  if not e.x.content then return reply.error(409, "ReadOnly", "admin: only disks can be written.") end
  local body, err = body_of(req)
  if not body then return err end
  if math.type(body.offset) ~= "integer" or body.offset < 0 then
    return reply.error(400, "InvalidParameter", "admin: offset must be a non-negative integer.", "offset")
  end
  if body.clear == true then
    -- What a guest's TRIM does: the pages are released (Put Page clear).
    if math.type(body.length) ~= "integer" or body.length < 0 then
      return reply.error(400, "InvalidParameter", "admin: clear needs length, a non-negative integer.", "length")
    end
    local ok, cerr = c:clear(body.offset, body.length)
    if not ok then return reply.error(400, "InvalidParameter", "admin: " .. tostring(cerr), "offset") end
    return reply.json(200, { cleared = body.length, version = c.version })
  end
  local data
  if type(body.data) == "string" then
    data = b64decode(body.data)
    if not data then return reply.error(400, "InvalidParameter", "admin: data must be base64.", "data") end
  elseif type(body.pattern) == "string" and math.type(body.length) == "integer" then
    data = string.rep(body.pattern, math.ceil(body.length / #body.pattern)):sub(1, body.length)
  else
    return reply.error(400, "InvalidParameter", "admin: give data (base64) or pattern and length.", "data")
  end
  local ok, werr = c:write(body.offset, data)
  if not ok then return reply.error(400, "InvalidParameter", "admin: " .. tostring(werr), "offset") end
  return reply.json(200, { written = #data, version = c.version })
end

-- Deterministic pseudo-random extents (fill.lua): { extents, length,
-- seed, start?, stride? } -> the extents written.
local function fill(em, req)
  local e, c = content_of(em, req.params.id)
  if not e then return missing(req.params.id) end
  if not e.x.content then return reply.error(409, "ReadOnly", "admin: only disks can be written.") end
  local body, err = body_of(req)
  if not body then return err end
  local fill_mod = require "azrp.emulator.fill"
  local plan, why, field = fill_mod.plan(body, c.size)
  if not plan then return reply.error(400, "InvalidParameter", "admin: " .. why .. ".", field) end
  local extents = fill_mod.fill(c, plan)
  return reply.json(200, { extents = extents, written = plan.extents * plan.length,
    stride = plan.stride, version = c.version })
end

-- What the blob endpoint served, per grant and per resource.
local function blobs(em, req)
  if not em.blob then return reply.error(501, "NotImplemented", "admin: no blob endpoint.") end
  return reply.json(200, em.blob:report(req.query.resource))
end

local function sha256(em, req)
  local e, c = content_of(em, req.params.id)
  if not e then return missing(req.params.id) end
  -- ?form=sparse: the digest of the bytes' sparse form (content.lua's
  -- sparse_sha256), cheap, for comparing disk against disk
  if req.query.form == "sparse" then
    return reply.json(200, { id = e.body.id, size = c.size, sparse_sha256 = c:sparse_sha256() })
  elseif req.query.form ~= nil then
    return reply.error(400, "InvalidParameter", "admin: form must be sparse or absent.", "form")
  end
  return reply.json(200, { id = e.body.id, size = c.size, sha256 = c:sha256() })
end

local function read(em, req)
  local e, c = content_of(em, req.params.id)
  if not e then return missing(req.params.id) end
  local off = tonumber(req.query.offset or "0")
  local len = tonumber(req.query.length or "512")
  if not off or not len or len > 16 * 1024 * 1024 then
    return reply.error(400, "InvalidParameter", "admin: offset and length (at most 16 MiB) must be numbers.", "length")
  end
  local data = c:read(math.floor(off), math.floor(len)) or ""
  return reply.json(200, { offset = off, length = #data, data = b64encode(data) })
end

-- Incremental sizes of a restore point's disk restore points.
local function rp_sizes(em, req)
  local rp = em.store:get(req.params.id)
  if not rp then return missing(req.params.id) end
  local out = json.array()
  for _, drp in ipairs(em.store:list("Microsoft.Compute/restorePointCollections/restorePoints/diskRestorePoints",
    { parent = rp.id })) do
    out[#out + 1] = { id = drp.body.id, size = drp.x.size, changed_bytes = drp.x.delta and drp.x.delta.changed_bytes,
      changed_blocks = drp.x.delta and drp.x.delta.changed_blocks, source_disk = drp.x.disk_id }
  end
  return reply.json(200, { id = rp.body.id, disks = out })
end

local function advance(em, req)
  local body, err = body_of(req)
  if not body then return err end
  if type(body.seconds) ~= "number" or body.seconds < 0 then
    return reply.error(400, "InvalidParameter", "admin: seconds must be a non-negative number.", "seconds")
  end
  em.clock:advance(body.seconds)
  em.lro:settle()
  return reply.json(200, { now = em.clock:now() })
end

local function token(em, req)
  if not em.identity then return reply.error(501, "NotImplemented", "admin: no identity endpoint.") end
  local body, err = body_of(req)
  if not body then return err end
  local seed = em.seed
  local t = em.identity:mint{ client_id = body.client_id or seed.apps[1].client_id,
    tenant = body.tenant or seed.tenants[1].id, expires_in = body.expires_in or 3600 }
  return reply.json(200, { access_token = t, token_type = "Bearer", expires_in = body.expires_in or 3600 })
end

-- A federated token (what a platform writes to AZURE_FEDERATED_TOKEN_FILE).
local function federated_token(em, req)
  if not em.identity then return reply.error(501, "NotImplemented", "admin: no identity endpoint.") end
  local body, err = body_of(req)
  if not body then return err end
  if type(body.issuer) ~= "string" or type(body.subject) ~= "string" then
    return reply.error(400, "InvalidParameter", "admin: issuer and subject are required.", "issuer")
  end
  local t = em.identity:mint_federated{ issuer = body.issuer, subject = body.subject,
    audience = body.audience, expires_in = body.expires_in }
  return reply.json(200, { token = t })
end

local function faults(em, req)
  if not em.faults then return reply.error(501, "NotImplemented", "admin: no fault injection.") end
  local body, err = body_of(req)
  if not body then return err end
  local ok, ferr = em.faults:configure(body.spec or "", body.seed)
  if not ok then return reply.error(400, "InvalidParameter", "admin: " .. tostring(ferr), "spec") end
  return reply.json(200, { spec = body.spec or "" })
end

function M.routes(em)
  local A = "/_emulator/"
  local r = {
    { method = "GET", path = A .. "health", op = "Admin_Health", handler = function()
      return reply.json(200, { status = "ok" }) end },
    { method = "GET", path = A .. "counters", op = "Admin_Counters", handler = function(e)
      return reply.json(200, e.log:counters()) end },
    { method = "POST", path = A .. "counters/reset", op = "Admin_ResetCounters", handler = function(e)
      e.log:reset(); return reply.json(200, { reset = true }) end },
    { method = "GET", path = A .. "requests", op = "Admin_Requests", handler = function(e, q)
      return reply.json(200, { value = e.log:recent(tonumber(q.query.n or "100")) }) end },
    { method = "POST", path = A .. "disks/{id}/write", op = "Admin_DiskWrite", handler = write },
    { method = "POST", path = A .. "disks/{id}/fill", op = "Admin_DiskFill", handler = fill },
    { method = "GET", path = A .. "disks/{id}/sha256", op = "Admin_DiskSha256", handler = sha256 },
    { method = "GET", path = A .. "blobs", op = "Admin_Blobs", handler = blobs },
    { method = "GET", path = A .. "disks/{id}/read", op = "Admin_DiskRead", handler = read },
    { method = "GET", path = A .. "restorePoints/{id}/sizes", op = "Admin_RestorePointSizes", handler = rp_sizes },
    { method = "POST", path = A .. "clock/advance", op = "Admin_ClockAdvance", handler = advance },
    { method = "POST", path = A .. "tokens", op = "Admin_Token", handler = token },
    { method = "POST", path = A .. "federated-tokens", op = "Admin_FederatedToken", handler = federated_token },
    { method = "POST", path = A .. "faults", op = "Admin_Faults", handler = faults },
    { method = "POST", path = A .. "state/save", op = "Admin_StateSave", handler = function(e)
      local file = e.opts.state_file
      if not file then return reply.error(409, "NoStateFile", "admin: the emulator runs without --state FILE.") end
      local ok, err = e:save_state(file)
      if not ok then return reply.error(500, "StateSaveFailed", "admin: " .. tostring(err)) end
      return reply.json(200, { saved = file })
    end },
  }
  for _, x in ipairs(r) do x.admin = true end
  return r
end

return M
