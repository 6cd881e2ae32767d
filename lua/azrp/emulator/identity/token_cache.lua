-- What verify() remembers about tokens it has checked, so that a token seen
-- before costs a table lookup rather than an RSA verification.
--
-- Two generations of at most settings.CACHE_GENERATION entries: lookups
-- promote from the old one; when the new one fills, the old one is
-- dropped.  Bounded, and the tokens in use stay.
local settings = require "azrp.emulator.identity.settings"

local M = {}
M.__index = M

function M.new()
  return setmetatable({ new = {}, old = {}, count = 0 }, M)
end

-- The limit is read on every call, not kept, so that changing it takes
-- effect at once.
local function turn_over_if_full(self)
  if self.count >= settings.CACHE_GENERATION then
    self.old, self.new, self.count = self.new, {}, 0
  end
end

function M:put(token, entry)
  turn_over_if_full(self)
  self.new[token] = entry
  self.count = self.count + 1
end

function M:get(token)
  local e = self.new[token]
  if e then return e end
  e = self.old[token]
  if e then
    self.old[token] = nil
    self:put(token, e)
  end
  return e
end

return M
