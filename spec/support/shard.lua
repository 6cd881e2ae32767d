-- Splits a spec's many like tests (a crash spec's kill points) among the
-- processes spec/run.sh starts for one spec file: with AZRP_SHARD=i/n
-- (1 <= i <= n) a process registers the points k with (k - 1) % n == i - 1,
-- so n processes together run each point once, side by side.  Without it
-- one process registers them all.
--
--   local shard = require "support.shard"
--   for k = 1, 60 do if shard.mine(k) then it(...) end end
local M = {}

local i, n = (os.getenv("AZRP_SHARD") or ""):match("^(%d+)/(%d+)$")
M.index, M.count = tonumber(i) or 1, tonumber(n) or 1
if M.index < 1 or M.index > M.count then
  error("AZRP_SHARD must be i/n with 1 <= i <= n, got " .. tostring(os.getenv("AZRP_SHARD")))
end

--- mine(k) -> whether point k belongs to this process.
function M.mine(k)
  return (k - 1) % M.count == M.index - 1
end

--- lead() -> whether this process is the one that runs a spec's full
-- size (point 1's), where the others run a smaller one.
function M.lead()
  return M.mine(1)
end

--- any(from, to) -> whether any of points from..to is this process's (a
-- describe with none skips its setup).
function M.any(from, to)
  for k = from, to do if M.mine(k) then return true end end
  return false
end

--- share(total) -> how many of points 1..total are this process's.
function M.share(total)
  local c = 0
  for k = 1, total do if M.mine(k) then c = c + 1 end end
  return c
end

return M
