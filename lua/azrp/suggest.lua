--- Did-you-mean: the closest of some known words to a mistyped one.
local M = {}

-- Optimal string alignment distance (Damerau-Levenshtein with adjacent
-- transpositions), on bytes.
function M.distance(a, b)
  local la, lb = #a, #b
  local d = {}
  for i = 0, la do d[i] = { [0] = i } end
  for j = 0, lb do d[0][j] = j end
  for i = 1, la do
    for j = 1, lb do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[la][lb]
end

--- closest(word, candidates) -> the candidate that differs from word only
-- in case, else the nearest within 2 edits (1 for words of up to 4
-- characters), ignoring case; nil if none.  Ties go to the first in
-- sorted order, so the answer does not depend on a table's order.
function M.closest(word, candidates)
  local lw = word:lower()
  local limit = #word <= 4 and 1 or 2
  local sorted = {}
  for _, c in ipairs(candidates) do sorted[#sorted + 1] = c end
  table.sort(sorted)
  local best, best_d
  for _, c in ipairs(sorted) do
    local lc = c:lower()
    if lc == lw then return c end
    if math.abs(#lc - #lw) <= limit then
      local dist = M.distance(lw, lc)
      if dist <= limit and (not best_d or dist < best_d) then best, best_d = c, dist end
    end
  end
  return best
end

--- hint(word, candidates) -> " (did you mean 'x'?)" or "".
function M.hint(word, candidates)
  local c = M.closest(word, candidates)
  return c and string.format(" (did you mean '%s'?)", c) or ""
end

return M
