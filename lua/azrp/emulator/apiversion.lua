-- api-version rules ARM applies before a resource provider sees a request.
--
-- Restore points first shipped in Microsoft.Compute 2021-03-01, and azrp
-- (like Azure for these resource types) refuses anything older.  Versions
-- are compared as strings: "YYYY-MM-DD[-preview]" sorts by date.
local reply = require "azrp.emulator.reply"

local M = {}

M.MINIMUM = "2021-03-01"

-- Versions we advertise in NoRegisteredProviderFound messages.
M.SUPPORTED = {
  ["Microsoft.Compute"] = { "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01",
    "2022-03-01", "2022-07-02", "2022-08-01", "2022-11-01", "2023-03-01",
    "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01", "2025-01-02",
    "2025-04-01", "2025-11-01", "2026-03-01", "2026-03-02" },
}

local function well_formed(v)
  return v:match("^%d%d%d%d%-%d%d%-%d%d$") or v:match("^%d%d%d%d%-%d%d%-%d%d%-preview$")
end

-- Returns nil when the request may proceed, or an error response.
-- route.min_api (a version string) applies the minimum; route.rtype names
-- the resource type for messages.
function M.check(req, route)
  local v = req.query["api-version"]
  if not v or v == "" then
    return reply.error(400, "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.")
  end
  if not well_formed(v) then
    return reply.error(400, "InvalidApiVersionParameter", string.format(
      "The api-version '%s' is invalid. The supported versions are '%s'.",
      v, table.concat(M.SUPPORTED["Microsoft.Compute"], ",")))
  end
  if route.min_api and v:sub(1, 10) < route.min_api then
    return reply.error(400, "NoRegisteredProviderFound", string.format(
      "No registered resource provider found for location '%s' and API version '%s' " ..
      "for type '%s'. The supported api-versions are '%s'.",
      req.location or "westeurope", v, route.rtype or "restorePointCollections",
      table.concat(M.SUPPORTED["Microsoft.Compute"], ", ")))
  end
  return nil
end

return M
