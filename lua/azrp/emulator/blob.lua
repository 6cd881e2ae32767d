-- The blob endpoint behind the SAS URLs that beginGetAccess returns.
--
-- Azure serves a managed disk or a disk restore point as a page blob named
-- "abcd" in a per-grant container, reachable through a URL that carries a
-- signed identifier (si) and a signature.  A grant here is that SAS: it binds
-- an id to a content or snapshot, an access level and an expiry.  The expiry
-- lives in the grant, like the stored access policy si names in Azure, so
-- that extend() can move it without changing the URL; the signature stops
-- anyone from altering the query (sp, se, sv) or inventing an id.
--
-- Only what a disk export or upload uses is served: Get Blob (ranged),
-- Get Blob Properties, Get Page Ranges and Put Page.
local hmac = require "openssl.hmac"
local rand = require "openssl.rand"
local clock_mod = require "azrp.emulator.clock"
local ids = require "azrp.emulator.ids"
local reply = require "azrp.emulator.reply"
local util = require "azrp.emulator.util"

local M = {}
M.__index = M

M.VERSION = "2018-03-28"        -- the sv of Azure's managed-disk SAS URLs
M.BLOB_NAME = "abcd"            -- Azure's name for every disk export blob
M.MAX_GET_BYTES = 256 * 1024 * 1024
M.MAX_PAGE_WRITE = 4 * 1024 * 1024   -- Put Page's limit in Azure

local SECTOR = 512

---------------------------------------------------------------------------
-- Encoding helpers.
---------------------------------------------------------------------------
local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local quad = {}
    for k = 1, 4 do
      local v = (n >> (6 * (4 - k))) & 63
      quad[k] = B64:sub(v + 1, v + 1)
    end
    if not b then quad[3] = "=" end
    if not c then quad[4] = "=" end
    out[#out + 1] = table.concat(quad)
  end
  return table.concat(out)
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function xml_escape(s)
  return (s:gsub("[<>&\"']", { ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;",
    ['"'] = "&quot;", ["'"] = "&apos;" }))
end

-- Compares a presented signature with the expected one in time independent
-- of where they differ, so that timing cannot be used to forge one byte by
-- byte.  The length of a signature is public.
local function same_secret(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do diff = diff | (a:byte(i) ~ b:byte(i)) end
  return diff == 0
end

-- SAS times have whole seconds and a Z, as in the URLs Azure hands out.
local function sas_time(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

---------------------------------------------------------------------------
-- Grants.
---------------------------------------------------------------------------
function M.new(opts)
  opts = opts or {}
  if not opts.clock then error("blob.new needs a clock", 2) end
  return setmetatable({
    clock = opts.clock,
    key = rand.bytes(32),
    grants = {},          -- id -> grant
    by_resource = {},     -- ids.key(resource_id) -> grant id
    max_get_bytes = opts.max_get_bytes or M.MAX_GET_BYTES,
  }, M)
end

function M:sign(id, sp, se, sv)
  local canonical = table.concat({ id, sp, se, sv }, "\n")
  return base64(hmac.new(self.key, "sha256"):final(canonical))
end

-- What callers see of a grant: never the source, never the key.
local function public(g)
  return { id = g.id, url = g.url, expires = g.expires, access = g.access,
    resource_id = g.resource_id }
end

local ACCESS = { read = { "Read", "r" }, write = { "Write", "rw" } }

local function check_spec(spec)
  if type(spec) ~= "table" then error("grant needs a table", 3) end
  local src = spec.source
  if type(src) ~= "table" or type(src.read) ~= "function" or type(src.page_ranges) ~= "function" then
    error("grant: source must be a content or a snapshot", 3)
  end
  if type(spec.duration) ~= "number" or spec.duration <= 0 then
    error("grant: duration must be a positive number of seconds", 3)
  end
  local access = type(spec.access) == "string" and ACCESS[spec.access:lower()]
  if not access then error("grant: access must be \"Read\" or \"Write\"", 3) end
  if access[2] ~= "r" and type(src.write) ~= "function" then
    error("grant: Write access needs a writable content, not a snapshot", 3)
  end
  if type(spec.resource_id) ~= "string" or type(spec.base_url) ~= "string" then
    error("grant: resource_id and base_url must be strings", 3)
  end
  return access
end

-- Issues a SAS for a resource that has none (the ARM handler asks active()
-- first and calls extend() when there is one, as Azure does).
function M:grant(spec)
  local access = check_spec(spec)
  if self:active(spec.resource_id) then
    error("grant: " .. spec.resource_id .. " already has an active grant; extend it", 2)
  end
  local now = self.clock:now()
  local id = util.guid()
  local g = {
    id = id, source = spec.source, access = access[1], sp = access[2],
    sv = M.VERSION, expires = now + spec.duration, created = now, modified = now,
    seen_version = spec.source.version, resource_id = spec.resource_id,
  }
  g.se = sas_time(g.expires)
  g.url = string.format("%s/_blob/md-%s/%s?sv=%s&sr=b&si=%s&sp=%s&se=%s&sig=%s",
    (spec.base_url:gsub("/+$", "")), id, M.BLOB_NAME, urlencode(g.sv), id, g.sp,
    urlencode(g.se), urlencode(self:sign(id, g.sp, g.se, g.sv)))
  self.grants[id] = g
  self.by_resource[ids.key(spec.resource_id)] = id
  return public(g)
end

local function live(self, g)
  return g and self.clock:now() <= g.expires
end

local function forget(self, g)
  self.grants[g.id] = nil
  local k = ids.key(g.resource_id)
  if self.by_resource[k] == g.id then self.by_resource[k] = nil end
end

-- The live grant of a resource, or nil.
function M:active(resource_id)
  local id = self.by_resource[ids.key(resource_id)]
  local g = id and self.grants[id]
  if not g then return nil end
  if not live(self, g) then forget(self, g); return nil end
  return public(g)
end

-- A second beginGetAccess: same URL, expiry now + duration.
function M:extend(grant_id, duration)
  if type(duration) ~= "number" or duration <= 0 then
    error("extend: duration must be a positive number of seconds", 2)
  end
  local g = self.grants[grant_id]
  if not live(self, g) then
    if g then forget(self, g) end
    return nil, "no active grant " .. tostring(grant_id)
  end
  g.expires = self.clock:now() + duration
  return public(g)
end

-- endGetAccess.  Returns whether a grant was revoked; revoking twice is
-- harmless, as endGetAccess on a resource without a SAS is in Azure.
function M:revoke(grant_id)
  local g = self.grants[grant_id]
  if not g then return false end
  forget(self, g)
  return true
end

---------------------------------------------------------------------------
-- Responses.
---------------------------------------------------------------------------
-- The service version that answers: the client's x-ms-version when it names
-- one, else the SAS's.  Only a well-formed date is echoed back.
local function version_of(req)
  local v = req.headers["x-ms-version"]
  if v and v:match("^%d%d%d%d%-%d%d%-%d%d$") then return v end
  return M.VERSION
end

-- A Storage error: XML, not ARM's JSON.  extra holds further elements in
-- order ({ {"HeaderName", "x-ms-range"} }).  Nothing from the request's
-- query goes into it, so a signature cannot leak through an error body or a
-- log of one.
local function storage_error(self, req, status, code, message, extra)
  local request_id = util.guid()
  local text = string.format("%s\nRequestId:%s\nTime:%s", message, request_id,
    (clock_mod.iso(self.clock:now()):gsub("%+00:00$", "Z")))
  local headers = { ["x-ms-error-code"] = code, ["x-ms-request-id"] = request_id,
    ["x-ms-version"] = version_of(req) }
  if req.method == "HEAD" then return reply.empty(status, headers) end
  local parts = { '<?xml version="1.0" encoding="utf-8"?><Error><Code>', code,
    "</Code><Message>", xml_escape(text), "</Message>" }
  for _, e in ipairs(extra or {}) do
    parts[#parts + 1] = string.format("<%s>%s</%s>", e[1], xml_escape(e[2]), e[1])
  end
  parts[#parts + 1] = "</Error>"
  local body = table.concat(parts)
  return reply.text(status, body, "application/xml", headers)
end

local AUTH_MESSAGE = "Server failed to authenticate the request. Make sure the value " ..
  "of Authorization header is formed correctly including the signature."

local function auth_failed(self, req, detail)
  return storage_error(self, req, 403, "AuthenticationFailed", AUTH_MESSAGE,
    { { "AuthenticationErrorDetail", detail } })
end

local function invalid_range(self, req)
  return storage_error(self, req, 416, "InvalidRange",
    "The range specified is invalid for the current size of the resource.")
end

local function bad_header(self, req, name)
  return storage_error(self, req, 400, "InvalidHeaderValue",
    "The value for one of the HTTP headers is not in the correct format.",
    { { "HeaderName", name } })
end

-- The grant a request's SAS names, or nil and the 403/404 to answer.
-- The signature is checked first, so that a forged URL learns nothing about
-- which grants exist.
function M:authorize(req)
  local q = req.query
  if not (q.si and q.sig and q.sp and q.se and q.sv) then
    return nil, auth_failed(self, req, "The request carries no complete shared access signature.")
  end
  if not same_secret(self:sign(q.si, q.sp, q.se, q.sv), q.sig) then
    return nil, auth_failed(self, req, "Signature did not match.")
  end
  local g = self.grants[q.si]
  if not g then
    return nil, auth_failed(self, req, "The specified signed identifier does not exist (access was revoked).")
  end
  local now = self.clock:now()
  if now > g.expires then
    forget(self, g)
    return nil, auth_failed(self, req, string.format(
      "Signature not valid in the specified time frame: Start [%s] - Expiry [%s] - Current [%s]",
      clock_mod.http_date(g.created), clock_mod.http_date(g.expires), clock_mod.http_date(now)))
  end
  -- The signature does not cover the path: bind it through the container.
  if (req.params.container or ""):lower() ~= "md-" .. g.id then
    return nil, auth_failed(self, req, "The signed identifier does not match the resource.")
  end
  if req.params.blob ~= M.BLOB_NAME then
    return nil, storage_error(self, req, 404, "BlobNotFound", "The specified blob does not exist.")
  end
  return g
end

-- Reads the requested range.  x-ms-range wins over Range, as in Azure; a
-- malformed Range is ignored (HTTP says so) while a malformed x-ms-range is
-- an error.  Returns first, last (inclusive, last clamped to the end), or
-- nil when there is no range, or false and the response to send.
local function requested_range(self, req, size)
  local value, name = req.headers["x-ms-range"], "x-ms-range"
  if not value then value, name = req.headers["range"], "range" end
  if not value then return nil end
  local a, b = value:match("^%s*bytes=(%d+)%-(%d*)%s*$")
  a = a and math.tointeger(tonumber(a))
  b = b and b ~= "" and math.tointeger(tonumber(b)) or nil
  if not a or (b and b < a) then
    if name == "range" then return nil end
    return false, bad_header(self, req, name)
  end
  if a >= size then return false, invalid_range(self, req) end
  return a, math.min(b or size - 1, size - 1)
end

-- Keeps Last-Modified true for a live disk that the guest writes under the
-- grant.
local function touch(self, g)
  local v = g.source.version
  if v ~= g.seen_version then
    g.seen_version, g.modified = v, self.clock:now()
  end
end

local function blob_headers(self, req, g)
  touch(self, g)
  return {
    ["etag"] = string.format('"0x8D%X%08X"', math.floor(g.created) & 0xFFFFFFFF,
      (g.source.version or 0) & 0xFFFFFFFF),
    ["last-modified"] = clock_mod.http_date(g.modified),
    ["x-ms-version"] = version_of(req),
    ["x-ms-blob-type"] = "PageBlob",
    ["x-ms-blob-sequence-number"] = "0",
    ["x-ms-server-encrypted"] = "true",
    ["accept-ranges"] = "bytes",
  }
end

local function page_list(self, req, g)
  local size = g.source.size
  local first, last = requested_range(self, req, size)
  if first == false then return last end
  local ranges = first and g.source:page_ranges(first, last - first + 1)
    or g.source:page_ranges(0, size)
  local parts = { '<?xml version="1.0" encoding="utf-8"?><PageList>' }
  for _, r in ipairs(ranges) do
    parts[#parts + 1] = string.format("<PageRange><Start>%d</Start><End>%d</End></PageRange>",
      r.first, r.last)
  end
  parts[#parts + 1] = "</PageList>"
  local headers = blob_headers(self, req, g)
  headers["accept-ranges"] = nil
  headers["x-ms-blob-content-length"] = tostring(size)
  return reply.text(200, table.concat(parts), "application/xml", headers)
end

function M:handle_get(req)
  local g, denied = self:authorize(req)
  if not g then return denied end
  local comp = req.query.comp
  if comp == "pagelist" then return page_list(self, req, g) end
  if comp ~= nil then
    return storage_error(self, req, 400, "InvalidQueryParameterValue",
      "Value for one of the query parameters specified in the request URI is invalid.")
  end
  local size = g.source.size
  local first, last = requested_range(self, req, size)
  if first == false then return last end
  local status = first and 206 or 200
  first, last = first or 0, last or size - 1
  if last - first + 1 > self.max_get_bytes then
    -- An emulator limit, not Azure's: the body is built in memory.
    return storage_error(self, req, 416, "InvalidRange", string.format(
      "The emulator serves at most %d bytes per request; ask for a range.", self.max_get_bytes))
  end
  local headers = blob_headers(self, req, g)
  if status == 206 then
    headers["content-range"] = string.format("bytes %d-%d/%d", first, last, size)
  end
  return reply.text(status, g.source:read(first, last - first + 1),
    "application/octet-stream", headers)
end

function M:handle_head(req)
  local g, denied = self:authorize(req)
  if not g then return denied end
  local headers = blob_headers(self, req, g)
  headers["content-length"] = tostring(g.source.size)
  headers["content-type"] = "application/octet-stream"
  return reply.empty(200, headers)
end

-- Put Page: x-ms-page-write update (body) or clear (zeros) over a
-- 512-aligned range, on a grant with Write access.
function M:handle_put(req)
  local g, denied = self:authorize(req)
  if not g then return denied end
  if not g.sp:find("w", 1, true) then
    return storage_error(self, req, 403, "AuthorizationPermissionMismatch",
      "This request is not authorized to perform this operation using this permission.")
  end
  if req.query.comp ~= "page" then
    return storage_error(self, req, 400, "InvalidQueryParameterValue",
      "Value for one of the query parameters specified in the request URI is invalid.")
  end
  local mode = (req.headers["x-ms-page-write"] or ""):lower()
  if mode ~= "update" and mode ~= "clear" then return bad_header(self, req, "x-ms-page-write") end
  local value = req.headers["x-ms-range"] or req.headers["range"] or ""
  local a, b = value:match("^%s*bytes=(%d+)%-(%d+)%s*$")
  a, b = math.tointeger(tonumber(a)), math.tointeger(tonumber(b))
  if not a or b < a or a % SECTOR ~= 0 or (b + 1) % SECTOR ~= 0 or b >= g.source.size then
    return storage_error(self, req, 416, "InvalidPageRange", "The page range specified is invalid.")
  end
  local length = b - a + 1
  if length > M.MAX_PAGE_WRITE then
    return storage_error(self, req, 413, "RequestBodyTooLarge",
      "The request body is too large and exceeds the maximum permissible limit.")
  end
  local data = mode == "clear" and string.rep("\0", length) or (req.body or "")
  if #data ~= length then return bad_header(self, req, "content-length") end
  local ok, err = g.source:write(a, data)
  if not ok then
    return storage_error(self, req, 416, "InvalidPageRange", "The page range specified is invalid. " .. err)
  end
  local headers = blob_headers(self, req, g)
  headers["accept-ranges"], headers["x-ms-blob-type"] = nil, nil
  headers["x-ms-request-server-encrypted"] = "true"
  return reply.empty(201, headers)
end

function M:routes()
  local path = "/_blob/{container}/{blob}"
  return {
    { method = "GET", path = path, op = "Blob_Get", kind = "read",
      handler = function(_, req) return self:handle_get(req) end },
    { method = "HEAD", path = path, op = "Blob_GetProperties", kind = "read",
      handler = function(_, req) return self:handle_head(req) end },
    { method = "PUT", path = path, op = "PageBlob_UploadPages", kind = "write",
      handler = function(_, req) return self:handle_put(req) end },
  }
end

return M
