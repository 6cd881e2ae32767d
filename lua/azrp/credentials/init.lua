--- azrp.credentials: where bearer tokens come from.
--
-- Each credential has get_token(scope, http [, opts]) -> token, expires_on
-- | nil, err, where http(req) performs one request (azrp.client passes a
-- non-blocking one) and opts.force asks for a new token, not a cached one
-- (the server refused it).  Secrets live in closures, never in fields, so printing or dumping
-- a credential shows none.  Constructors read their options (and the
-- environment, for default()) at once and do no I/O.
return {
  static = require("azrp.credentials.static").new,
  client_secret = require("azrp.credentials.client_secret").new,
  client_certificate = require("azrp.credentials.client_certificate").new,
  workload_identity = require("azrp.credentials.workload_identity").new,
  managed_identity = require("azrp.credentials.managed_identity").new,
  azure_cli = require("azrp.credentials.azure_cli").new,
  chain = require("azrp.credentials.chain").new,
  environment = require("azrp.credentials.environment").new,
  default = require("azrp.credentials.default").new,
}
