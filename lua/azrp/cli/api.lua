--- The one-off commands' way to the facade: each call logged with
-- --verbose (operation, path parameters, outcome, time, request ids; never
-- a body or a result, so never a SAS URL or a token), and the few waits a
-- command needs beyond op:wait().
--
--   local api = require("azrp.cli.api").new(client, info, { verbose = true, log = io.stderr })
--   api:call(id, params [, wait_opts]) / api:list(id, params) / api:begin(id, params)
--   api:accepted(op)   -- waits only until Azure has accepted the request (--no-wait)
--   api:sleep(seconds)
local azrp = require "azrp"

local M = {}
local Api = {}
Api.__index = Api

-- The facade's clock and errors (from azrp.core until the facade exports
-- azrp.now and azrp.error).
local now = azrp.now or azrp.core.now
local new_error = azrp.error or azrp.core.error

function M.new(client, info, opts)
  opts = opts or {}
  return setmetatable({ client = client, info = info or {}, verbose = opts.verbose, out = opts.log or io.stderr,
    started = setmetatable({}, { __mode = "k" }) }, Api)
end

function Api:log(fmt, ...)
  if not self.verbose then return end
  self.out:write("azrp: ", string.format(fmt, ...), "\n")
  self.out:flush()
end

-- "resource_group_name=rg-prod restore_point_collection_name=rpc": the
-- string parameters (names and ids) only, sorted; bodies are left out.
local function describe(params)
  local parts = {}
  for k, v in pairs(params or {}) do
    if type(v) == "string" and k ~= "body" then parts[#parts + 1] = k .. "=" .. v end
  end
  table.sort(parts)
  return table.concat(parts, " ")
end

local function outcome(op, err, seconds)
  local i = op and op:info() or {}
  local parts = { string.format("%.3f s", seconds) }
  if i.last_status and i.last_status > 0 then parts[#parts + 1] = "HTTP " .. i.last_status end
  if i.attempts and i.attempts > 1 then parts[#parts + 1] = i.attempts .. " attempts" end
  if i.client_request_id then parts[#parts + 1] = "client-request-id " .. i.client_request_id end
  local rid = (err and err.request_id) or i.request_id
  if rid then parts[#parts + 1] = "request-id " .. rid end
  return table.concat(parts, ", ")
end

--- begin(id, params) -> op | nil, err
function Api:begin(id, params)
  self:log("%s %s", id, describe(params))
  local op, err = self.client:begin(id, params)
  if not op then self:log("%s refused before sending: %s", id, tostring(err)) end
  if op then self.started[op] = now() end
  return op, err
end

--- finish(op [, wait_opts]) -> result | nil, err: waits for op and logs how it ended.
function Api:finish(op, wait_opts)
  local t0 = self.started[op] or now()
  local id = op:info().operation
  -- A copy reports its replication as it grows.
  if self.verbose and not (type(wait_opts) == "table" and wait_opts.progress) then
    local last
    wait_opts = { timeout = type(wait_opts) == "table" and wait_opts.timeout or tonumber(wait_opts),
      progress = function(pct)
        if pct ~= last then last = pct; self:log("%s replication %d %%", id, pct) end
      end }
  end
  local res, err = op:wait(wait_opts)
  if res ~= nil then self:log("%s succeeded in %s", id, outcome(op, nil, now() - t0))
  else self:log("%s failed in %s: %s", id, outcome(op, err, now() - t0), err and err.code or "?") end
  return res, err
end

--- call(id, params [, wait_opts]) -> result | nil, err
function Api:call(id, params, wait_opts)
  local op, err = self:begin(id, params)
  if not op then return nil, err end
  return self:finish(op, wait_opts)
end

--- list(id, params) -> items (every page) | nil, err
function Api:list(id, params)
  self:log("%s %s", id, describe(params))
  local t0 = now()
  local items, err = self.client:list(id, params)
  if items then self:log("%s: %d items in %.3f s", id, #items, now() - t0)
  else self:log("%s failed in %.3f s: %s", id, now() - t0, tostring(err)) end
  return items, err
end

--- accepted(op [, timeout]) -> true | nil, err: waits until Azure has
-- answered op's first request (an LRO then runs on in Azure), or op ended.
function Api:accepted(op, timeout)
  local c = self.client
  local deadline = now() + (timeout or 600)
  while not op:done() and op:info().phase == "initial" do
    c:step()
    if op:done() or op:info().phase ~= "initial" then break end
    if now() >= deadline then
      return nil, new_error{ kind = "timeout", code = "WaitTimeout", operation = op:info().operation,
        message = "Azure did not answer the request in time", retryable = true }
    end
    c:wait(0.25)
  end
  if op:done() then
    local res, err = op:result()
    if res == nil then return nil, err end
  end
  local t0 = self.started[op] or now()
  self:log("%s accepted in %s; not waiting for it to finish (--no-wait)", op:info().operation,
    outcome(op, nil, now() - t0))
  return true
end

--- sleep(seconds): waits on the client (its transfers go on meanwhile).
function Api:sleep(seconds)
  local deadline = now() + seconds
  repeat
    self.client:step()
    local left = deadline - now()
    if left <= 0 then break end
    self.client:wait(left)
  until now() >= deadline
end

Api.now = now
M.error = new_error

return M
