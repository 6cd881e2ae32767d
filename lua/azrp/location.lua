--- Azure location names as ARM stores them: "North Europe", "northEurope"
-- and "north europe" all mean "northeurope".  Compare and send locations
-- through normalize(), never as typed.
local M = {}

--- normalize(name) -> ARM's form of a location name, or nil when name is
-- not a string or cannot be one (ARM's names are letters and digits).
function M.normalize(name)
  if type(name) ~= "string" then return nil end
  local n = name:gsub("%s+", ""):lower()
  if not n:match("^%l[%l%d]*$") then return nil end
  return n
end

return M
