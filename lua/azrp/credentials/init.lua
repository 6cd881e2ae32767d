--- azrp.credentials: where bearer tokens come from.
--
-- Each credential has get_token(scope, http [, opts]) -> token, expires_on
-- | nil, err, where http(req) performs one request (azrp.client passes a
-- non-blocking one) and opts.force asks for a new token, not a cached one
-- (the server refused it).  Secrets live in closures, never in fields, so printing or dumping
-- a credential shows none.  Constructors read their options (and the
-- environment, for default()) at once and do no I/O.

local M = {}

--- A fixed token (azrp.credentials.static).
M.static = require("azrp.credentials.static").new
--- A service principal with a client secret (azrp.credentials.client_secret).
M.client_secret = require("azrp.credentials.client_secret").new
--- A service principal with a certificate (azrp.credentials.client_certificate).
M.client_certificate = require("azrp.credentials.client_certificate").new
--- Workload identity federation (azrp.credentials.workload_identity).
M.workload_identity = require("azrp.credentials.workload_identity").new
--- Managed identity (azrp.credentials.managed_identity).
M.managed_identity = require("azrp.credentials.managed_identity").new
--- The Azure CLI's signed-in account (azrp.credentials.azure_cli).
M.azure_cli = require("azrp.credentials.azure_cli").new
--- The first of several credentials that works (azrp.credentials.chain).
M.chain = require("azrp.credentials.chain").new
--- The AZURE_* environment variables (azrp.credentials.environment).
M.environment = require("azrp.credentials.environment").new
--- The default chain (azrp.credentials.default).
M.default = require("azrp.credentials.default").new

return M
