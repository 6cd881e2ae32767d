--- azrp.loop.ngx_poll: poll(2) on a client's descriptor through LuaJIT's
-- FFI, for azrp.loop.ngx.  readable(fd, ms) -> true when fd became
-- readable (or poll failed: the caller's step() finds out) within ms
-- milliseconds (0: look and return).  azrp.loop.ngx calls it with 0 in the
-- worker, and with a real wait in an nginx thread pool
-- (ngx.run_worker_thread), where blocking is what the thread is for.
local ffi = require "ffi"

pcall(ffi.cdef, [[
  struct azrp_pollfd { int fd; short events; short revents; };
  int poll(struct azrp_pollfd *fds, unsigned long nfds, int timeout);
]])

local M = {}

local POLLIN = 1
local pfd = ffi.new("struct azrp_pollfd[1]")

--- readable(fd [, ms]) -> true when fd is readable within ms milliseconds (default 0: no wait).
function M.readable(fd, ms)
  pfd[0].fd, pfd[0].events, pfd[0].revents = fd, POLLIN, 0
  return ffi.C.poll(pfd, 1, ms or 0) ~= 0
end

return M
