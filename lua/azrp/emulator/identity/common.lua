-- Small helpers the identity parts share.
local digest = require "openssl.digest"

local M = {}

function M.sha256(s) return digest.new("sha256"):final(s) end

-- Compares digests rather than the strings, so that the time taken says
-- nothing about how much of a guessed secret was right.
function M.same_secret(given, expected)
  return type(given) == "string" and type(expected) == "string"
    and M.sha256(given) == M.sha256(expected)
end

-- Lower case, or nil for anything that is not a string (absent headers,
-- claims of the wrong type), so that callers can compare without checks.
function M.lower(s) return type(s) == "string" and s:lower() or nil end

return M
