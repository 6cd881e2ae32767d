--- A fixed token (tests, tokens obtained elsewhere).
local entra = require "azrp.credentials.entra"

local M = {}

--- A credential that answers a fixed token.
-- @tparam table opts token (required), expires_on (Unix seconds)
-- @return a credential (get_token(scope, http [, opts]))
function M.new(opts)
  if type(opts) ~= "table" or type(opts.token) ~= "string" or opts.token == "" then
    error("credentials.static: { token = <string>, expires_on = <unix seconds>? } expected", 2)
  end
  local token, exp = opts.token, opts.expires_on
  return setmetatable({ kind = "static" }, {
    __index = {
      get_token = function()
        if exp and exp <= require("azrp.core").wall() then
          return nil, entra.error("TokenExpired", "credentials.static: the token has expired")
        end
        return token, exp
      end,
    },
    __tostring = function() return "azrp credential (static)" end,
  })
end

return M
