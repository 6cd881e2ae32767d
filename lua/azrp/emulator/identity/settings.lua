-- The identity provider's constants.  The parts read them from this table
-- on every use rather than copying them, and the facade forwards
-- identity.X to it: a spec that shrinks identity.CACHE_GENERATION shrinks
-- the cache verify() uses.
return {
  ARM_RESOURCE = "https://management.azure.com/",
  TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange",
  APP_TOKEN_LIFETIME = 3599,     -- what Entra answers for client credentials
  MI_TOKEN_LIFETIME = 86399,     -- what IMDS answers
  SKEW = 300,                    -- Entra's allowance for client clock skew
  CACHE_GENERATION = 512,        -- verify() remembers at most 2x this many tokens
  JTI_LIMIT = 10000,             -- replay memory before expired jtis are swept
}
