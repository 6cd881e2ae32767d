--- Tries credentials in order and keeps the first that works.
local core = require "azrp.core"

local M = {}

--- A credential that tries list's credentials in order and keeps the first that works.
-- @tparam {credential,...} list the credentials
-- @return a credential (get_token(scope, http [, opts]))
function M.new(list)
  if type(list) ~= "table" or #list == 0 then error("credentials.chain: a list of credentials expected", 2) end
  for i, c in ipairs(list) do
    if type(c) ~= "table" or type(c.get_token) ~= "function" then
      error("credentials.chain: entry " .. i .. " is not a credential", 2)
    end
  end
  local chosen
  return setmetatable({ kind = "chain" }, {
    __index = {
      get_token = function(_, scope, http, opts)
        if chosen then return chosen:get_token(scope, http, opts) end
        local why = {}
        for _, c in ipairs(list) do
          local token, exp = c:get_token(scope, http, opts)
          if token then chosen = c; return token, exp end
          why[#why + 1] = tostring(c) .. ": " .. tostring(exp and (exp.message or exp))
        end
        return nil, core.error{ kind = "auth", code = "CredentialUnavailable", retryable = false,
          message = "no credential of the chain gave a token:\n  " .. table.concat(why, "\n  ") }
      end,
      credentials = function() return list end,
    },
    __tostring = function() return "azrp credential (chain of " .. #list .. ")" end,
  })
end

return M
