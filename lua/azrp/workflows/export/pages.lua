--- azrp.workflows.export.pages: the page ranges of a page blob (Get Page
-- Ranges' XML) and the chunks an export reads.
--
-- Spans lie within a fixed grid of chunk_size bytes and are named by their
-- first byte, so that a disk's spans are the same however its page list
-- came in pages: a resumed export skips the spans its journal says are
-- done.  What no allocated page covers is never read (the image keeps a
-- hole there).
local M = {}

M.SECTOR = 512
M.JOIN_GAP = 64 * 1024

local function int(s)
  local n = tonumber(s)
  if not n or n < 0 or n ~= math.floor(n) then return nil end
  return n
end

--- parse(xml) -> { { first, last } ... }, next_marker | nil, err: one
-- page of Get Page Ranges.  ClearRange elements (in a diff) come back in
-- clear = { ... }.
function M.parse(xml)
  if type(xml) ~= "string" or not xml:find("<PageList", 1, true) then
    return nil, "the page list is not a PageList document"
  end
  local ranges, clear = {}, {}
  for tag, body in xml:gmatch("<(%a+Range)>(.-)</%1>") do
    local a, b = int(body:match("<Start>%s*(%d+)%s*</Start>")), int(body:match("<End>%s*(%d+)%s*</End>"))
    if not a or not b or b < a then return nil, "a page range has no valid Start and End" end
    if tag == "PageRange" then ranges[#ranges + 1] = { a, b }
    elseif tag == "ClearRange" then clear[#clear + 1] = { a, b } end
  end
  local marker = xml:match("<NextMarker>(.-)</NextMarker>")
  if marker == "" then marker = nil end
  return ranges, marker, clear
end

--- merge(ranges) -> ranges sorted, overlapping and adjacent ones joined.
function M.merge(ranges)
  local list = {}
  for i, r in ipairs(ranges) do list[i] = { r[1], r[2] } end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  local out = {}
  for _, r in ipairs(list) do
    local last = out[#out]
    if last and r[1] <= last[2] + 1 then
      if r[2] > last[2] then last[2] = r[2] end
    else
      out[#out + 1] = r
    end
  end
  return out
end

--- chunks(ranges, limit, chunk_size [, join_gap]) -> { { key, first, last } ... }:
-- the spans to read.  Ranges are clipped at limit (the image's end: a raw
-- image stops before the VHD footer) and cut at every multiple of
-- chunk_size; within one window, spans less than join_gap bytes apart
-- (default 64 KiB) are read as one, so that a fragmented disk costs few
-- requests and a sparse one few bytes.  key is the span's first byte:
-- the same for the same page ranges, however they were paged.
function M.chunks(ranges, limit, chunk_size, join_gap)
  join_gap = join_gap or M.JOIN_GAP
  local out = {}
  for _, r in ipairs(M.merge(ranges)) do
    local a, b = r[1], math.min(r[2], limit - 1)
    while a <= b do
      local window = math.floor(a / chunk_size)
      local stop = math.min(b, (window + 1) * chunk_size - 1)
      local last = out[#out]
      if last and math.floor(last[2] / chunk_size) == window and a - last[3] - 1 <= join_gap then
        last[3] = stop
      else
        out[#out + 1] = { a, a, stop }
      end
      a = stop + 1
    end
  end
  return out
end

--- bytes(chunks) -> how many bytes the chunks read.
function M.bytes(chunks)
  local n = 0
  for _, c in ipairs(chunks) do n = n + c[3] - c[2] + 1 end
  return n
end

return M
