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
-- Only what a disk export or upload uses is served: Get Blob (whole or ranged, streamed),
-- Get Blob Properties, Get Page Ranges (paged from x-ms-version 2020-10-02,
-- and as a diff against an earlier point's SAS URL) and Put Page.
--
-- A read grant's blob is, as in Azure, a fixed VHD: the source's bytes and
-- then a 512-byte footer (vhd.lua), which the grant carries.  A grant on a
-- resource whose networkAccessPolicy is AllowPrivate answers only requests
-- that arrive "through its private endpoint": here, that carry the header
-- x-azrp-private-endpoint: 1.  What each grant served is counted
-- (blob_stats.lua).
local hmac = require "openssl.hmac"
local rand = require "openssl.rand"
local clock_mod = require "azrp.emulator.clock"
local content = require "azrp.emulator.content"
local ids = require "azrp.emulator.ids"
local reply = require "azrp.emulator.reply"
local router = require "azrp.emulator.router"
local stats_mod = require "azrp.emulator.blob_stats"
local util = require "azrp.emulator.util"

local M = {}
M.__index = M

M.VERSION = "2018-03-28"        -- the sv of Azure's managed-disk SAS URLs
M.BLOB_NAME = "abcd"            -- Azure's name for every disk export blob
M.STREAM_WINDOW = 4 * 1024 * 1024  -- bytes of the source read at a time by a GET
M.MAX_PAGE_WRITE = 4 * 1024 * 1024   -- Put Page's limit in Azure
M.MAX_PAGE_RANGES = 10000       -- Get Page Ranges' page size limit in Azure
M.PAGED_VERSION = "2020-10-02"  -- first x-ms-version with marker/maxresults
M.PRIVATE_HEADER = "x-azrp-private-endpoint"

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
    stats = stats_mod.new(),
  }, M)
end

function M:sign(id, sp, se, sv)
  local canonical = table.concat({ id, sp, se, sv }, "\n")
  return base64(hmac.new(self.key, "sha256"):final(canonical))
end

-- What callers see of a grant: never the source, never the key.
local function public(g)
  return { id = g.id, url = g.url, expires = g.expires, access = g.access,
    resource_id = g.resource_id, size = g.size, private = g.private }
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
  if spec.footer ~= nil and (type(spec.footer) ~= "string" or #spec.footer ~= SECTOR) then
    error("grant: footer must be a string of 512 bytes", 3)
  end
  local l = spec.lineage
  if l ~= nil and (type(l) ~= "table" or type(l.family) ~= "string" or type(l.point) ~= "number") then
    error("grant: lineage must be { family = string, point = number }", 3)
  end
  return access
end

-- Issues a SAS for a resource that has none (the ARM handler asks active()
-- first and calls extend() when there is one, as Azure does).
-- spec = { source (a content or snapshot), duration (seconds), access
-- ("Read" or "Write"), resource_id, base_url, footer? (512 bytes served
-- after the source's: the blob's last sector), private? (the
-- resource's networkAccessPolicy is AllowPrivate), lineage? ({ family,
-- point }: grants of one family can be diffed, the earlier point against
-- the later) }.
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
    footer = spec.footer, private = spec.private and true or false, lineage = spec.lineage,
  }
  g.size = spec.source.size + (g.footer and #g.footer or 0)
  g.se = sas_time(g.expires)
  g.url = string.format("%s/_blob/md-%s/%s?sv=%s&sr=b&si=%s&sp=%s&se=%s&sig=%s",
    (spec.base_url:gsub("/+$", "")), id, M.BLOB_NAME, urlencode(g.sv), id, g.sp,
    urlencode(g.se), urlencode(self:sign(id, g.sp, g.se, g.sv)))
  self.grants[id] = g
  self.by_resource[ids.key(spec.resource_id)] = id
  self.stats:open(g)
  return public(g)
end

local function live(self, g)
  return g and self.clock:now() <= g.expires
end

local function forget(self, g, how)
  self.grants[g.id] = nil
  local k = ids.key(g.resource_id)
  if self.by_resource[k] == g.id then self.by_resource[k] = nil end
  self.stats:close(g.id, how or "expired")
end

-- The live grant of a resource, or nil.
function M:active(resource_id)
  local id = self.by_resource[ids.key(resource_id)]
  local g = id and self.grants[id]
  if not g then return nil end
  if not live(self, g) then forget(self, g); return nil end
  return public(g)
end

-- What the endpoint served (blob_stats.report), for every resource or
-- for resource_id; grants that have expired since say so.
function M:report(resource_id)
  local stale = {}
  for _, g in pairs(self.grants) do
    if not live(self, g) then stale[#stale + 1] = g end
  end
  for _, g in ipairs(stale) do forget(self, g, "expired") end
  return self.stats:report(resource_id)
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
  forget(self, g, "revoked")
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

local function bad_query(self, req, name, out_of_range)
  if out_of_range then
    return storage_error(self, req, 400, "OutOfRangeQueryParameterValue",
      "One of the query parameters specified in the request URI is outside the permissible range.",
      { { "QueryParameterName", name } })
  end
  return storage_error(self, req, 400, "InvalidQueryParameterValue",
    "Value for one of the query parameters specified in the request URI is invalid.",
    { { "QueryParameterName", name } })
end

-- The grant a SAS query names, or nil and why: the signature is checked
-- first, so that a forged URL learns nothing about which grants exist.
-- A grant that has expired is forgotten here.
local function grant_of(self, q)
  if not (q.si and q.sig and q.sp and q.se and q.sv) then
    return nil, "The request carries no complete shared access signature."
  end
  if not same_secret(self:sign(q.si, q.sp, q.se, q.sv), q.sig) then
    return nil, "Signature did not match."
  end
  local g = self.grants[q.si]
  if not g then
    return nil, "The specified signed identifier does not exist (access was revoked)."
  end
  local now = self.clock:now()
  if now > g.expires then
    forget(self, g, "expired")
    return nil, string.format(
      "Signature not valid in the specified time frame: Start [%s] - Expiry [%s] - Current [%s]",
      clock_mod.http_date(g.created), clock_mod.http_date(g.expires), clock_mod.http_date(now))
  end
  return g
end

-- The grant a request's SAS names, or nil and the 403/404 to answer.
function M:authorize(req)
  local g, why = grant_of(self, req.query)
  if not g then
    self.stats:denied(nil)
    return nil, auth_failed(self, req, why)
  end
  -- The signature does not cover the path: bind it through the container.
  if (req.params.container or ""):lower() ~= "md-" .. g.id then
    self.stats:denied(nil)
    return nil, auth_failed(self, req, "The signed identifier does not match the resource.")
  end
  if req.params.blob ~= M.BLOB_NAME then
    self.stats:denied(nil)
    return nil, storage_error(self, req, 404, "BlobNotFound", "The specified blob does not exist.")
  end
  -- AllowPrivate: only through the disk access's private endpoint.
  if g.private and req.headers[M.PRIVATE_HEADER] ~= "1" then
    self.stats:denied(g.id)
    return nil, storage_error(self, req, 403, "AuthorizationFailure",
      "This request is not authorized to perform this operation.")
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

-- The blob's bytes [first, last] as an iterator of strings: the
-- source's, read a window at a time as the body is sent (whole blocks are
-- the stored strings, not copies), then the footer's.  A GET of any size,
-- the whole blob included, holds one window of pieces at a time.
local function pieces(g, first, last)
  local size, window = g.source.size, M.STREAM_WINDOW
  local at, list, i = first, {}, 0
  local footer_done = not (g.footer and last >= size)
  return function()
    i = i + 1
    if list[i] then return list[i] end
    if at <= last and at < size then
      local n = math.min(window, math.min(last, size - 1) - at + 1)
      list, i = assert(g.source:read_parts(at, n)), 1
      at = at + n
      return list[1]
    end
    if not footer_done then
      footer_done = true
      local a = math.max(first, size) - size
      return g.footer:sub(a + 1, last - size + 1)
    end
    return nil
  end
end

---------------------------------------------------------------------------
-- Get Page Ranges.
---------------------------------------------------------------------------
-- An opaque continuation marker: the offset the next page starts at,
-- bound to the grant by a MAC so that a client can neither make one up
-- nor carry one over to another blob.
local function marker_mac(self, g, offset)
  return util.hex(hmac.new(self.key, "sha256"):final("marker\n" .. g.id .. "\n" .. offset)):sub(1, 16)
end

local function encode_marker(self, g, offset)
  return "2!" .. base64(string.format("%d!%s", offset, marker_mac(self, g, offset)))
end

local B64_INDEX = {}
for i = 1, #B64 do B64_INDEX[B64:sub(i, i)] = i - 1 end

local function unbase64(s)
  if #s % 4 ~= 0 or s:find("[^%w%+/=]") then return nil end
  local out = {}
  for i = 1, #s, 4 do
    local n, pad = 0, 0
    for k = i, i + 3 do
      local c = s:sub(k, k)
      if c == "=" then pad = pad + 1; n = n << 6
      else
        if pad > 0 then return nil end
        n = (n << 6) | B64_INDEX[c]
      end
    end
    local bytes = string.char((n >> 16) & 255, (n >> 8) & 255, n & 255)
    out[#out + 1] = bytes:sub(1, 3 - pad)
  end
  return table.concat(out)
end

local function decode_marker(self, g, marker)
  local body = marker:match("^2!(.+)$")
  local text = body and unbase64(body)
  local offset, mac = (text or ""):match("^(%d+)!(%x+)$")
  offset = offset and math.tointeger(tonumber(offset))
  if not offset or not same_secret(mac, marker_mac(self, g, offset)) then return nil end
  return offset
end

-- The grant an x-ms-previous-snapshot-url names, if it is a live grant of
-- an earlier point of the same disk as g; else nil.
local function previous_grant(self, g, url)
  local container, blob, query = url:match("^https?://[^/]+/_blob/([^/?]+)/([^/?]+)%?(.*)$")
  if not container then return nil end
  local prev = grant_of(self, router.parse_query(query))
  if not prev or container:lower() ~= "md-" .. prev.id or blob ~= M.BLOB_NAME then return nil end
  local a, b = prev.lineage, g.lineage
  if not a or not b or a.family ~= b.family or not (a.point < b.point) then return nil end
  return prev
end

-- The items of the page list of g (diffed against prev when given) over
-- the blob's bytes [lo, hi): { first, last, clear }, sorted.  The footer
-- is a written page (in a diff, when it differs from prev's).
local function page_items(g, prev, lo, hi)
  local size = g.source.size
  local items = {}
  if lo < size then
    local len = math.min(hi, size) - lo
    if prev then
      items = content.diff(g.source, prev.source, lo, len)
    else
      for i, r in ipairs(g.source:page_ranges(lo, len)) do
        items[i] = { first = r.first, last = r.last, clear = false }
      end
    end
  end
  local footer_changed = g.footer and not (prev and prev.footer == g.footer and prev.source.size == size)
  if footer_changed and hi > size then
    local first, last = math.max(lo, size), math.min(hi + (-hi) % SECTOR - 1, g.size - 1)
    first = first - first % SECTOR
    local tail = items[#items]
    if tail and not tail.clear and tail.last + 1 == first then
      tail.last = last
    else
      items[#items + 1] = { first = first, last = last, clear = false }
    end
  end
  return items
end

local function page_list(self, req, g)
  local first, last = requested_range(self, req, g.size)
  if first == false then return last end
  local lo, hi = first or 0, (last or g.size - 1) + 1
  local prev
  local prev_url = req.headers["x-ms-previous-snapshot-url"]
  if prev_url then
    prev = previous_grant(self, g, prev_url)
    if not prev then
      return storage_error(self, req, 409, "PreviousSnapshotNotFound", "The previous snapshot is not found.")
    end
  end
  -- From 2020-10-02 a page holds at most maxresults (at most 10,000)
  -- items and NextMarker says where the next one starts; older versions
  -- get every item at once.
  local paged = version_of(req) >= M.PAGED_VERSION
  local limit
  if paged then
    limit = M.MAX_PAGE_RANGES
    local mr = req.query.maxresults
    if mr ~= nil then
      local n = mr:match("^%d+$") and math.tointeger(tonumber(mr))
      if not n then return bad_query(self, req, "maxresults") end
      if n < 1 then return bad_query(self, req, "maxresults", true) end
      limit = math.min(n, M.MAX_PAGE_RANGES)
    end
    if req.query.marker ~= nil and req.query.marker ~= "" then
      local at = decode_marker(self, g, req.query.marker)
      if not at then return bad_query(self, req, "marker") end
      lo = math.max(lo, at)
    end
  end
  local items = lo < hi and page_items(g, prev, lo, hi) or {}
  local parts = { '<?xml version="1.0" encoding="utf-8"?><PageList>' }
  local n = limit and math.min(#items, limit) or #items
  for i = 1, n do
    local r = items[i]
    local tag = r.clear and "ClearRange" or "PageRange"
    parts[#parts + 1] = string.format("<%s><Start>%d</Start><End>%d</End></%s>", tag, r.first, r.last, tag)
  end
  if paged then
    if n < #items then
      parts[#parts + 1] = "<NextMarker>" .. xml_escape(encode_marker(self, g, items[n + 1].first)) .. "</NextMarker>"
    else
      parts[#parts + 1] = "<NextMarker/>"
    end
  end
  parts[#parts + 1] = "</PageList>"
  self.stats:request(g.id, "pagelist")
  local headers = blob_headers(self, req, g)
  headers["accept-ranges"] = nil
  headers["x-ms-blob-content-length"] = tostring(g.size)
  return reply.text(200, table.concat(parts), "application/xml", headers)
end

---------------------------------------------------------------------------
-- Get Blob, Get Blob Properties, Put Page.
---------------------------------------------------------------------------
function M:handle_get(req)
  local g, denied = self:authorize(req)
  if not g then return denied end
  local comp = req.query.comp
  if comp == "pagelist" then return page_list(self, req, g) end
  if comp ~= nil then
    return bad_query(self, req, "comp")
  end
  local size = g.size
  local first, last = requested_range(self, req, size)
  if first == false then return last end
  local status = first and 206 or 200
  first, last = first or 0, last or size - 1
  self.stats:request(g.id, "get")
  self.stats:served(g.id, first, last)
  local headers = blob_headers(self, req, g)
  if status == 206 then
    headers["content-range"] = string.format("bytes %d-%d/%d", first, last, size)
  end
  -- Any range, the whole blob included, as Azure serves it: streamed.
  return reply.stream(status, pieces(g, first, last), last - first + 1, "application/octet-stream", headers)
end

function M:handle_head(req)
  local g, denied = self:authorize(req)
  if not g then return denied end
  self.stats:request(g.id, "head")
  local headers = blob_headers(self, req, g)
  headers["content-length"] = tostring(g.size)
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
    return bad_query(self, req, "comp")
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
  if mode == "update" and length > M.MAX_PAGE_WRITE then
    return storage_error(self, req, 413, "RequestBodyTooLarge",
      "The request body is too large and exceeds the maximum permissible limit.")
  end
  local ok, err
  if mode == "clear" then
    ok, err = g.source:clear(a, length)
  else
    local data = req.body or ""
    if #data ~= length then return bad_header(self, req, "content-length") end
    ok, err = g.source:write(a, data)
  end
  if not ok then
    return storage_error(self, req, 416, "InvalidPageRange", "The page range specified is invalid. " .. err)
  end
  self.stats:request(g.id, "put")
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
