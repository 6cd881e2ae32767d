--- azrp.core: the C module (src/*.c) under the Lua facade.
--
-- This file is a documentation stub for LDoc: it is never loaded.  Each
-- function below is one that `require "azrp.core"` exposes; the docs spec
-- (spec/client/docs_spec.lua) checks that this list and the loaded module
-- agree, both ways.  Most scripts use the facade (azrp, azrp.client,
-- azrp.host) rather than the core directly.
-- @module azrp.core

local M = {}

--- The library's version string.
M._VERSION = "x.y.z"

--- The oldest Azure API version the registry uses.
M.MIN_API_VERSION = "yyyy-mm-dd"

--- Monotonic seconds (fractional), for durations.
-- @treturn number seconds
function M.now() end

--- Unix seconds (fractional), for timestamps.
-- @treturn number seconds since the epoch
function M.wall() end

--- An azrp error value, as the client returns.
-- @tparam table fields kind, code, message, status, operation, target, retryable, ...
-- @return the error (its metatable is the one azrp.is_error looks for)
function M.error(fields) end

--- The candidate nearest to word (a did-you-mean), or nil.
-- @string word the mistyped word
-- @tparam {string,...} candidates the known words
-- @treturn ?string the nearest candidate
function M.suggest(word, candidates) end

--- text with every URL in it redacted: user-info and every query value
-- but api-version become REDACTED.
-- @string text any text
-- @treturn string the redacted text
function M.redact(text) end

--- The versions of azrp and of what it is built on.
-- @treturn table { azrp = ..., curl = ..., openssl = ..., lua = ... }
function M.versions() end

--- The operation registry.
-- @treturn table { { id, method, path, provider, lro, kind, pageable, body, query }, ... }
function M.operations() end

--- Lets the Lua facade add or wrap methods of a core class.
-- @string class the class ("client", "operation", ...)
-- @string name the method's name
-- @func fn the new method
-- @return the previous method
function M.interpose(class, name, fn) end

--- A core client (connection pool, retries, throttling, polling); the
-- facade's azrp.client wraps it.
-- @tparam table opts endpoint, ca_file, timeout, connect_timeout, retry, poll, throttle, ...
-- @return the core client
function M.client(opts) end

--- A signer for client assertions (a certificate and its private key).
-- @tparam table opts the certificate and key
-- @return a signer with x5t(), x5t_s256(), x5c(), sign(data) and close()
function M.signer(opts) end

--- A random version 4 UUID.
-- @treturn string the UUID
function M.uuid() end

--- s encoded in base64url, without padding.
-- @string s bytes
-- @treturn string the encoding
function M.base64url(s) end

--- Flushes the stdio buffer of file, then the kernel's.
-- @param file an open file
-- @return true, or nil and a message
function M.fsync(file) end

--- Is file a terminal?
-- @param file an open file
-- @treturn boolean
function M.isatty(file) end

--- From now on these signals set a flag instead of killing the process.
-- @string ... signal names: "INT", "TERM", "HUP"
-- @return true
function M.trap(...) end

--- The last trapped signal.
-- @bool[opt] clear forget it
-- @treturn ?string "INT", "TERM", "HUP" or nil
function M.signal(clear) end

--- This process's id.
-- @treturn integer
function M.pid() end

--- Is process pid alive?
-- @int pid a process id
-- @treturn boolean
function M.alive(pid) end

--- Makes file a sparse file of size bytes.
-- @param file an open file
-- @int size its length
function M.image_truncate(file, size) end

--- The SHA-256 of the first size bytes of file, holes hashed as zeros
-- without being read.
-- @param file an open file
-- @int size bytes to hash
-- @int[opt] prefix also the digest of the first prefix bytes
-- @treturn string hex digest
-- @treturn ?string the prefix's hex digest
function M.image_sha256(file, size, prefix) end

--- A sparse copy of size bytes: holes not read, zeros not written.
-- @param from an open file
-- @param to an open file
-- @int size bytes to copy
-- @treturn integer bytes written
function M.image_copy(from, to, size) end

--- Punches a hole (or writes zeros where it cannot) in file.
-- @param file an open file
-- @int offset where
-- @int length how many bytes
-- @return true
function M.image_zero(file, offset, length) end

return M
