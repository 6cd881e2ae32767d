--- azrp: Azure VM restore points, scriptable from Lua.
--
--     local azrp = require "azrp"
--     local client = azrp.client{ subscription_id = SUB, credential = azrp.credentials.default() }
--     local rp, err = client:call("RestorePoints_Create", { resource_group_name = "rg",
--       restore_point_collection_name = "rpc", restore_point_name = "rp1", body = { properties = {} } })
--
-- Every REST operation of the registry is also a method named after its
-- operationId in snake case (client:restore_points_create{...}) returning
-- a pollable azrp.Operation.  Nothing here does network I/O at require time.
local core = require "azrp.core"
local client = require "azrp.client"
local wait = require "azrp.wait"

local azrp = {
  _VERSION = core._VERSION,
  MIN_API_VERSION = core.MIN_API_VERSION,
  core = core,
  credentials = require "azrp.credentials",
}

--- A client (see azrp.client).
-- @function client
-- @tparam table opts subscription_id, credential, endpoint and azrp.core's client options
-- @return a client; raises on bad options
-- @usage local client = azrp.client{ subscription_id = SUB, credential = azrp.credentials.default() }
azrp.client = client.new

--- Waits for every operation of ops (from any clients); returns the list
-- of { value, err } pairs in the same order.
-- @function wait_all
-- @tparam {operation,...} ops the operations
-- @tparam[opt] number timeout seconds
-- @treturn table { { value, err }, ... }
azrp.wait_all = wait.all

--- The operation registry: { { id, method, path, provider, api_version, lro, kind, pageable, ... } }.
-- @function operations
-- @treturn table the operations
azrp.operations = core.operations

--- ARM's form of a location name ("North Europe" -> "northeurope"); see azrp.location.
-- @function location
-- @string name a location name
-- @treturn ?string the normalized name, or nil when name cannot be one
azrp.location = require("azrp.location").normalize

--- azrp.error{ kind, code, message, ... } -> an azrp error value (as the
-- client returns); workflows make theirs with it.
-- @function error
-- @tparam table fields kind, code, message, ...
-- @return the error value
azrp.error = core.error

--- Monotonic seconds (for durations) and Unix seconds (for timestamps).
-- @function now
-- @treturn number seconds
azrp.now = core.now

--- Unix seconds (fractional), for timestamps.
-- @function wall
-- @treturn number seconds since the epoch
azrp.wall = core.wall

--- What a long-running unattended workflow needs of its host process:
-- fsync(file), isatty(file), trap("INT", "TERM") (signals become a flag),
-- signal([clear]) -> "INT" | "TERM" | "HUP" | nil, pid(), alive(pid),
-- image_truncate(file, size) (a sparse file of that length) and
-- image_sha256(file, size [, prefix]) -> hex [, prefix_hex] (holes hashed
-- as zeros, not read; the prefix's digest in the same pass),
-- image_copy(from, to, size) -> bytes written (a sparse copy: holes not
-- read, zeros not written) and image_zero(file, offset, length) (a hole
-- punched, or zeros written where the file system cannot punch).
-- While a trapped signal is pending, op:wait() and wait_all() return an
-- "interrupted" error instead of waiting on.
azrp.host = { fsync = core.fsync, isatty = core.isatty, trap = core.trap, signal = core.signal,
  pid = core.pid, alive = core.alive, image_truncate = core.image_truncate, image_sha256 = core.image_sha256,
  image_copy = core.image_copy, image_zero = core.image_zero }

--- suggest(word, candidates) -> the candidate nearest to word (a
-- did-you-mean), or nil: the core's, which names mistyped parameters.
-- @function suggest
-- @string word the mistyped word
-- @tparam {string,...} candidates the known words
azrp.suggest = core.suggest

--- redact(text) -> text with every URL in it redacted as the core's own
-- errors show URLs: user-info and every query value but api-version
-- become REDACTED (a SAS URL keeps its shape, not its signature).
-- @function redact
-- @string text any text
-- @treturn string the redacted text
azrp.redact = core.redact

--- Is v an azrp error?
-- @param v any value
-- @treturn boolean
function azrp.is_error(v)
  return type(v) == "table" and getmetatable(v) == getmetatable(core.error({}))
end

return azrp
