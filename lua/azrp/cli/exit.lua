--- Exit codes of the azrp command (documented in `azrp --help` and the README).
return {
  ok = 0,           -- success
  failed = 1,       -- the command or workflow failed (Azure said no, a network error ...)
  usage = 2,        -- usage or config error, found before any request that changes anything
  check = 3,        -- the workflow ran but a check failed (a drill's VM was not healthy)
  interrupted = 4,  -- stopped by SIGINT or SIGTERM (a workflow can be resumed)
  cleanup = 5,      -- cleanup incomplete: resources were left behind
}
