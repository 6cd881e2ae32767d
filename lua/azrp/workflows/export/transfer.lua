--- azrp.workflows.export.transfer: ranged GETs of a blob through its SAS,
-- many at once, each span written at its offset in a local file.
--
--     local ok, err = transfer.run{ client = c, url = url, file = f, chunks = list,
--       parallel = 8, on_done = function(chunk, bytes) end, regrant = function() -> url | nil, err,
--       interrupted = function() -> err | nil }
--
-- The core retries what HTTP allows it to (resets, 5xx, 429 with their
-- Retry-After); a span that still fails is tried again here, after a
-- backoff, up to `attempts` times, and a 403 (the SAS expired or was
-- revoked) asks for a new URL once per span.  The SAS URL is never put
-- in an error: the core's errors carry it redacted, and ours name the
-- span.  Returns when every span is written, or with the first error
-- once the spans in flight have landed (so that each one written is
-- reported to on_done and none is lost).
local azrp = require "azrp"

local M = {}

M.VERSION = "2020-10-02"   -- x-ms-version: Get Page Ranges pages with marker
M.ATTEMPTS = 6

local GC_EVERY = 64 * 1024 * 1024

local function transfer_error(code, fmt, ...)
  return azrp.error{ kind = "transfer", code = code, message = string.format(fmt, ...), retryable = true }
end

--- get(client, url, headers) -> operation of a GET through the SAS.
function M.get(client, url, headers, timeout)
  local h = { ["x-ms-version"] = M.VERSION }
  for k, v in pairs(headers or {}) do h[k] = v end
  return client:request{ method = "GET", url = url, headers = h, timeout = timeout or 300 }
end

local function span(c) return string.format("bytes=%d-%d", c[2], c[3]) end

function M.run(t)
  local client, file = t.client, t.file
  local parallel = t.parallel or 8
  local attempts = t.attempts or M.ATTEMPTS
  local url = t.url
  local queue, qi = {}, 1
  for i, c in ipairs(t.chunks) do queue[i] = { chunk = c, tries = 0, regranted = false } end
  local flying, failure = {}, nil
  local since_gc = 0
  local delayed = {}   -- { item, due }

  local function launch(item)
    local op, err = M.get(client, url, { ["x-ms-range"] = span(item.chunk) })
    if not op then failure = failure or err; return end
    item.tries = item.tries + 1
    flying[#flying + 1] = { item = item, op = op }
  end

  local function retry_later(item, err)
    if item.tries >= attempts then
      failure = failure or transfer_error("RangeFailed", "%s of the blob failed %d times, last: %s", span(item.chunk),
        item.tries, tostring(err))
      return
    end
    local backoff = math.min(30, 0.1 * 2 ^ (item.tries - 1)) * (0.5 + math.random() * 0.5)
    delayed[#delayed + 1] = { item = item, due = azrp.now() + backoff }
  end

  local function landed(item, res, err)
    local c = item.chunk
    local want = c[3] - c[2] + 1
    if not res then return retry_later(item, err) end
    if res.status == 403 and t.regrant and not item.regranted then
      -- The SAS expired or was revoked: a new grant, once per span.
      item.regranted = true
      local u, gerr = t.regrant()
      if not u then failure = failure or gerr; return end
      url = u
      item.tries = item.tries - 1
      delayed[#delayed + 1] = { item = item, due = azrp.now() }
      return
    end
    if res.status ~= 206 and res.status ~= 200 then
      local code = res.headers and res.headers["x-ms-error-code"] or ""
      return retry_later(item, string.format("HTTP %d %s", res.status, code))
    end
    if #res.body ~= want then
      return retry_later(item, string.format("%d bytes instead of %d", #res.body, want))
    end
    local ok, werr = file:seek("set", c[2] - (t.base or 0))
    if ok then ok, werr = file:write(res.body) end
    if not ok then
      failure = failure or azrp.error{ kind = "io", code = "WriteFailed", retryable = false,
        message = "writing the image: " .. tostring(werr) }
      return
    end
    if t.on_done then t.on_done(c, want) end
    -- A span's body is garbage once written; LuaJIT's collector lets such
    -- large strings pile up (an export of 4 GiB peaked at 1.8 GB), so a
    -- full collection every 64 MiB bounds the heap to the spans in flight
    -- (the live heap is small: a collection costs about a millisecond).
    res.body = nil
    since_gc = since_gc + want
    if since_gc >= GC_EVERY then
      since_gc = 0
      collectgarbage("collect")
    end
  end

  while true do
    if not failure and t.interrupted then failure = t.interrupted() end
    local now = azrp.now()
    -- Launch: what is due from the backoff list, then the queue.
    if not failure then
      local keep = {}
      for _, d in ipairs(delayed) do
        if d.due <= now and #flying < parallel then launch(d.item) else keep[#keep + 1] = d end
      end
      delayed = keep
      while not failure and #flying < parallel and qi <= #queue do
        launch(queue[qi])
        qi = qi + 1
      end
    end
    if #flying == 0 and (failure or (#delayed == 0 and qi > #queue)) then break end
    client:step()
    local still = {}
    for _, f in ipairs(flying) do
      if f.op:done() then landed(f.item, f.op:result()) else still[#still + 1] = f end
    end
    flying = still
    if #flying > 0 or #delayed > 0 then
      local wait = 1
      for _, d in ipairs(delayed) do wait = math.min(wait, math.max(0, d.due - azrp.now())) end
      if #flying > 0 then client:wait(wait) elseif wait > 0 then client:wait(wait) end
    end
  end
  if failure then return nil, failure end
  return true
end

return M
