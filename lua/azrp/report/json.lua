--- azrp.report.json: a cleaned report (azrp.report.clean) as pretty JSON
-- with its keys sorted (azrp.json), so that two runs' reports diff line
-- by line.
local json = require "azrp.json"

local M = {}

-- Fields that are lists even when empty (an empty Lua table is ambiguous).
local LISTS = { steps = true, substeps = true, resources = true }

--- render(r) -> r as JSON text, ending in a newline.
function M.render(r)
  return json.encode(r, LISTS) .. "\n"
end

return M
