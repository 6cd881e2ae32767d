--- azrp.workflow.run: one run of a workflow, rebuilt from its journal.
--
-- A Run is what a step sees as ctx: the client, the config, the data
-- earlier steps kept (ctx:set), and the ways to create resources so that a
-- crash, a signal or a resume never duplicates, orphans or deletes what is
-- not the run's:
--
--   ctx:create(spec) / ctx:create_all(specs): a GET first (a name already
--     taken is never overwritten nor adopted unless this run's journal
--     says it made it), the intent journalled (fsync) before the PUT, the
--     PUT, then the result journalled.  On resume, a resource whose intent
--     is journalled is looked up and adopted when it exists.
--   ctx:ensure(spec, accept): a shared resource (a restore point
--     collection) reused when it exists and accept(body) agrees, created
--     and kept otherwise.
--   ctx:set(key, value) / ctx.data[key]: step results, kept for resume.
--   ctx:substep(name, fn), ctx:emit(event), ctx:sleep(seconds).
--
-- Cleanup deletes, phase by phase (azrp.workflow.kinds), every resource
-- the run created and its policy does not keep, after checking each is
-- still this run's.
local azrp = require "azrp"
local kinds = require "azrp.workflow.kinds"

local M = {}
local Run = {}
Run.__index = Run

local function round(x) return math.floor(x * 1000 + 0.5) / 1000 end
M.round = round

local function wf_error(code, fmt, ...)
  return azrp.error{ kind = "workflow", code = code, message = string.format(fmt, ...), retryable = false }
end
M.error = wf_error

local TERMINAL = { Succeeded = true, Failed = true, Canceled = true }

-- ---------------------------------------------------------------------
-- Replay

-- Applies one journal record to the run's state.
local function apply(self, rec)
  local t = rec.type
  if t == "set" then
    self.data[rec.key] = rec.value
  elseif t == "step" then
    local s = self.steps[rec.name] or { name = rec.name, substeps = {} }
    self.steps[rec.name] = s
    s.state, s.error = rec.state, rec.error
    if rec.state == "start" then s.started = rec.t
    else s.ended, s.seconds = rec.t, rec.seconds end
  elseif t == "substep" then
    local s = self.steps[rec.step]
    if s then s.substeps[#s.substeps + 1] = { name = rec.name, started = rec.started, ended = rec.t,
      seconds = rec.seconds, ok = rec.ok, state = rec.ok and "done" or "failed", error = rec.error } end
  elseif t == "intent" then
    local r = self.resources[rec.key]
    if not r then
      r = { key = rec.key }
      self.resources[rec.key] = r
      self.order[#self.order + 1] = r
    end
    r.kind, r.id, r.name, r.step, r.keep = rec.kind, rec.id, rec.name, rec.step, rec.keep
    r.state = r.state == "created" and "created" or "intent"
  elseif t == "created" then
    local r = self.resources[rec.key]
    if r then r.state = "created"; r.id = rec.id or r.id end
  elseif t == "keep" then
    local r = self.resources[rec.key]
    if r then r.keep = rec.keep end
  elseif t == "deleting" or t == "deleted" or t == "left" or t == "unverified" then
    local r = self.resources[rec.key]
    if r then r.state = t; r.error = rec.error end
  elseif t == "state" then
    self.state = rec.state
    self.error = rec.error
  end
end

--- new(def, client, journal, opts) -> run, its state replayed from the journal.
function M.new(def, client, journal, opts)
  local self = setmetatable({ def = def, client = client, journal = journal, opts = opts or {},
    run_id = journal.run_id, config = journal.meta.config, base = journal.meta.base,
    time_scale = journal.meta.time_scale or 1, data = {}, steps = {}, resources = {}, order = {},
    state = journal.meta.state or "running", step_list = {} }, Run)
  for _, rec in ipairs(journal.records) do apply(self, rec) end
  return self
end

--- dry(def, client, config [, opts]) -> a run that journals nothing, for
-- a workflow's plan: its steps' reads, ctx:set, ctx:name ("<run>-os"),
-- ctx:await and ctx:emit work; it must create nothing.
function M.dry(def, client, config, opts)
  local j = { run_id = "<run>", records = {}, meta = { config = config, base = "<run>", time_scale = 1 },
    append = function() return true end }
  return M.new(def, client, j, opts)
end

-- Appends a record and applies it.  A journal that cannot be written
-- stops the run: going on would send a request no journal announces.
function Run:record(rec)
  local ok, err = self.journal:append(rec)
  if not ok then
    self.journal_error = err
    error(setmetatable({ journal_error = err }, { __tostring = function() return tostring(err) end }), 0)
  end
  apply(self, rec)
end

--- The progress hook, protected: a failing hook must not stop a run.
function Run:emit(event)
  local hook = self.opts.progress
  if not hook then return end
  event.run_id = self.run_id
  local ok, e = pcall(hook, event)
  if not ok then self.hook_error = self.hook_error or e end
end

--- Keeps value under key for the rest of the run and for a resume.
function Run:set(key, value)
  self:record{ type = "set", key = key, value = value }
end

--- A name for a resource of this run: "<base>-<suffix>".
function Run:name(suffix)
  return suffix and (self.base .. "-" .. suffix) or self.base
end

--- Seconds as Azure counts them: the emulator runs time_scale times faster.
function Run:scaled(seconds) return seconds * self.time_scale end

--- A signal (SIGINT, SIGTERM) is pending: the error a step returns.
function Run:interrupted()
  local sig = azrp.host.signal()
  if sig then
    return azrp.error{ kind = "interrupted", code = "SIG" .. sig,
      message = "interrupted by SIG" .. sig, retryable = false }
  end
end

--- sleep(seconds) -> true | nil, err: waits on the client (its transfers
-- go on), cut short by a signal.
function Run:sleep(seconds)
  local deadline = azrp.now() + seconds
  while true do
    local e = self:interrupted()
    if e then return nil, e end
    local left = deadline - azrp.now()
    if left <= 0 then return true end
    self.client:step()
    self.client:wait(math.min(left, 1))
  end
end

-- Waits for every operation of ops; on_done(i, value, err) as each ends
-- (its own timing), progress(i, pct, disks) as copies replicate, tick(i)
-- for each operation still running once a round (optional: a workflow
-- that follows the resource itself).  Returns the interrupted error when
-- a signal comes first (the operations go on).
function Run:await(ops, on_done, progress, tick)
  local left, last = #ops, {}
  local done = {}
  while left > 0 do
    self.client:step()
    for i, op in ipairs(ops) do
      if not done[i] then
        if progress then
          local pct, disks = op:progress()
          if pct and pct ~= last[i] then last[i] = pct; progress(i, pct, disks) end
        end
        if op:done() then
          done[i] = true
          left = left - 1
          on_done(i, op:result())
        end
      end
    end
    if left == 0 then break end
    local ended = false
    if tick then
      for i in ipairs(ops) do if not done[i] then tick(i) end end
      -- A tick's own call steps the client: an operation may have ended
      -- in it, and the wait below would then sleep its whole second.
      for i, op in ipairs(ops) do if not done[i] and op:done() then ended = true end end
    end
    local e = self:interrupted()
    if e then return nil, e end
    if not ended then self.client:wait(1) end
  end
  return true
end

-- GETs ids concurrently -> { { body, err }, ... }.
function Run:get_all(items)
  local ops, out = {}, {}
  for i, it in ipairs(items) do
    local op, err = self.client:begin(kinds.get(it.kind).get, { id = it.id })
    if op then ops[#ops + 1] = { i = i, op = op } else out[i] = { nil, err } end
  end
  local list = {}
  for j, o in ipairs(ops) do list[j] = o.op end
  local ok, err = self:await(list, function(j, v, e) out[ops[j].i] = { v, e } end)
  if not ok then return nil, err end
  return out
end

-- A restore point copy's replication: the lowest completionPercent of
-- its disk restore points (nil when it reports none).
function M.replication(body)
  local iv = body.properties and body.properties.instanceView
  local low
  for _, d in ipairs(iv and iv.diskRestorePoints or {}) do
    local p = d.replicationStatus and tonumber(d.replicationStatus.completionPercent)
    if p and (not low or p < low) then low = p end
  end
  return low
end

-- Polls a resource until its provisioning ends, and a restore point copy
-- until it has replicated: one adopted on resume may still be creating,
-- and Azure refuses to delete or restore from one that is.
function Run:settle(kind, id)
  local interval = math.max(0.02, self:scaled(5))
  local params = { id = id }
  if kind == "restore_point" then params.expand = "instanceView" end
  while true do
    local body, err = self.client:call(kinds.get(kind).get, params)
    if not body then return nil, err end
    local ps = body.properties and body.properties.provisioningState
    local pct = kind == "restore_point" and M.replication(body)
    if pct then self:emit{ type = "progress", step = self.current, id = id, percent = pct } end
    if (ps == nil or TERMINAL[ps]) and (not pct or pct >= 100 or ps ~= "Succeeded") then
      if ps == "Failed" or ps == "Canceled" then
        return nil, azrp.error{ kind = "lro", code = "Provisioning" .. ps, status = 200,
          message = string.format("%s %s is %s", kind, id, ps), retryable = false }
      end
      return body
    end
    local ok, e = self:sleep(interval)
    if not ok then return nil, e end
  end
end

-- ---------------------------------------------------------------------
-- Creating

local function copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return o
end

-- The spec's params with the run's stamp in body.tags.
local function stamped_params(self, spec)
  local p = copy(spec.params)
  if kinds.get(spec.kind, 3).tags and type(p.body) == "table" then
    local body = copy(p.body)
    local tags = copy(body.tags or {})
    tags[kinds.TAG] = self.run_id
    body.tags, p.body = tags, body
  end
  return p
end

local function check_spec(spec, level)
  if type(spec) ~= "table" then error("ctx:create: expected a spec table", level) end
  for _, k in ipairs({ "key", "kind", "id", "op" }) do
    if type(spec[k]) ~= "string" then error("ctx:create: spec." .. k .. " must be a string", level) end
  end
  kinds.get(spec.kind, level)
  if type(spec.params) ~= "table" then error("ctx:create: spec.params must be a table", level) end
end

-- Looks first, concurrently, at what the specs name -> out, todo | nil,
-- err.  out[i] = { body, nil, adopted = true } for a resource this run's
-- journal says it made, { nil, err } for a GET that failed; todo lists
-- the indices of those that do not exist.  A name taken by something not
-- of this run refuses the lot.
local function probe(self, specs)
  local probes, err = self:get_all(specs)
  if not probes then return nil, err end
  local out, todo = {}, {}
  for i, spec in ipairs(specs) do
    local body, gerr = probes[i][1], probes[i][2]
    local known = self.resources[spec.key]
    local ours = known and known.state ~= "deleted" and known.id == spec.id
    if body then
      if not ours or (kinds.get(spec.kind).tags and not kinds.stamped(body, self.run_id)) then
        return nil, wf_error("NameInUse", "%s %s already exists and is not this run's (%s): it is left alone",
          spec.kind, spec.id, self.run_id)
      end
      out[i] = { body, nil, adopted = true }
    elseif not kinds.not_found(gerr) then
      out[i] = { nil, gerr }
    else
      todo[#todo + 1] = i
    end
  end
  return out, todo
end

-- Adopts what probe found of this run's -> true | nil, err (interrupted).
-- An adopted resource may still be provisioning: it is followed to the
-- end, and its outcome journalled as if this call had made it.
local function adopt(self, specs, out)
  for i, r in pairs(out) do
    if r.adopted then
      local spec = specs[i]
      local ps = r[1].properties and r[1].properties.provisioningState
      if (ps and not TERMINAL[ps]) or spec.kind == "restore_point" then r[1], r[2] = self:settle(spec.kind, spec.id)
      elseif ps == "Failed" then
        r[1], r[2] = nil, azrp.error{ kind = "lro", code = "ProvisioningFailed", status = 200,
          message = spec.kind .. " " .. spec.id .. " failed to provision", retryable = false }
      end
      if r[2] and r[2].kind == "interrupted" then return nil, r[2] end
      if r[1] and self.resources[spec.key].state ~= "created" then
        self:record{ type = "created", key = spec.key, id = r[1].id or spec.id }
      end
      if r[2] then self:record{ type = "keep", key = spec.key, keep = false } end
      self:emit{ type = "resource", kind = spec.kind, name = spec.name, id = spec.id,
        state = r[1] and "adopted" or "failed" }
    end
  end
  return true
end

-- Journals the outcome of one create begun at started: created, or never
-- kept (cleanup deletes what a failed create left), and its substep.
local function journal_create(self, spec, started, v, verr)
  if v then
    self:record{ type = "created", key = spec.key, id = type(v) == "table" and v.id or spec.id }
  else
    self:record{ type = "keep", key = spec.key, keep = false }
  end
  self:record{ type = "substep", step = self.current, name = spec.key, started = started,
    seconds = round(azrp.wall() - started), ok = v ~= nil, error = verr and tostring(verr) or nil }
  self:emit{ type = "resource", kind = spec.kind, name = spec.name, id = spec.id,
    state = v and "created" or "failed", error = verr and tostring(verr) or nil }
end

-- Creates the specs at the indices todo, concurrently, into out -> true |
-- nil, err (interrupted).  Intents first, all on disk; then the PUTs.
local function create_rest(self, specs, todo, out)
  for _, i in ipairs(todo) do
    local spec = specs[i]
    self:record{ type = "intent", key = spec.key, kind = spec.kind, id = spec.id, name = spec.name,
      step = self.current, keep = spec.keep or false }
  end
  local ops, which, started = {}, {}, {}
  for _, i in ipairs(todo) do
    local spec = specs[i]
    local op, berr = self.client:begin(spec.op, stamped_params(self, spec))
    if op then
      ops[#ops + 1], which[#ops + 1], started[#ops + 1] = op, i, azrp.wall()
      self:emit{ type = "resource", kind = spec.kind, name = spec.name, id = spec.id, state = "creating" }
    else
      out[i] = { nil, berr }
    end
  end
  return self:await(ops, function(j, v, verr)
    out[which[j]] = { v, verr }
    journal_create(self, specs[which[j]], started[j], v, verr)
  end, function(j, pct, disks)
    local spec = specs[which[j]]
    if spec.progress then spec.progress(pct, disks) end
    self:emit{ type = "progress", step = self.current, name = spec.name, percent = pct, disks = disks }
  end, function(j)
    local spec = specs[which[j]]
    if spec.watch then spec.watch() end
  end)
end

--- create_all(specs) -> { { body, err }, ... } | nil, err (interrupted, or
-- a name taken by something not of this run).  spec = { key (unique in
-- the run), kind, id (the ARM id the PUT makes), name, op (the create
-- operation), params, keep = bool (cleanup leaves it), progress =
-- function(pct, disks), watch = function() (called while the create
-- runs, to follow the resource: it paces itself) }.  The resources are created concurrently, each
-- a substep of the current step.
function Run:create_all(specs)
  for _, s in ipairs(specs) do check_spec(s, 3) end
  local e = self:interrupted()
  if e then return nil, e end
  local out, todo = probe(self, specs)
  if not out then return nil, todo end
  local ok, err = adopt(self, specs, out)
  if ok then ok, err = create_rest(self, specs, todo, out) end
  if not ok then return nil, err end
  return out
end

--- create(spec) -> body | nil, err: one resource (see create_all).
function Run:create(spec)
  check_spec(spec, 3)
  local out, err = self:create_all({ spec })
  if not out then return nil, err end
  return out[1][1], out[1][2]
end

--- ensure(spec, accept) -> body, created | nil, err: a resource shared
-- with other runs (a restore point collection): reused when it exists and
-- accept(body) -> true | nil, msg agrees; created (and kept) otherwise.
function Run:ensure(spec, accept)
  check_spec(spec, 3)
  local known = self.resources[spec.key]
  if not (known and known.id == spec.id) then
    local body, err = self.client:call(kinds.get(spec.kind).get, { id = spec.id })
    if body then
      local ok, msg = accept(body)
      if not ok then return nil, wf_error("InUse", "%s", msg) end
      return body, false
    end
    if not kinds.not_found(err) then return nil, err end
  end
  local s = copy(spec)
  s.keep = true
  local body, err = self:create(s)
  if not body and type(err) == "table" and err.code == "NameInUse" then
    -- Another run made it between our look and our create: share it.
    body, err = self.client:call(kinds.get(spec.kind).get, { id = spec.id })
    if not body then return nil, err end
    local ok, msg = accept(body)
    if not ok then return nil, wf_error("InUse", "%s", msg) end
    return body, false
  end
  if not body then return nil, err end
  return body, true
end

local function pack(...) return { n = select("#", ...), ... } end

--- substep(name, fn, ...) -> fn's results, timed into the current step.
function Run:substep(name, fn, ...)
  local t0 = azrp.wall()
  local r = pack(fn(...))
  self:record{ type = "substep", step = self.current, name = name, started = t0, seconds = round(azrp.wall() - t0),
    ok = r[1] ~= nil and r[1] ~= false, error = r[1] == nil and r[2] and tostring(r[2]) or nil }
  return (table.unpack or unpack)(r, 1, r.n)
end

-- ---------------------------------------------------------------------
-- Cleanup

-- Deletes one phase's resources concurrently, after checking each.
function Run:delete_phase(phase)
  local list = {}
  for _, r in ipairs(self.order) do
    if kinds.get(r.kind).phase == phase and not r.keep and r.state ~= "deleted" and r.state ~= "unverified" then
      list[#list + 1] = r
    end
  end
  if #list == 0 then return true end
  local probes, err = self:get_all(list)
  if not probes then return nil, err end
  local ops, which = {}, {}
  for i, r in ipairs(list) do
    local body, gerr = probes[i][1], probes[i][2]
    if not body and kinds.not_found(gerr) then
      self:record{ type = "deleted", key = r.key }
      self:emit{ type = "resource", kind = r.kind, name = r.name, id = r.id, state = "deleted" }
    elseif not body then
      self:record{ type = "left", key = r.key, error = tostring(gerr) }
    elseif kinds.get(r.kind).tags and not kinds.stamped(body, self.run_id) then
      -- Not stamped by this run: someone else's, whatever the journal says.
      self:record{ type = "unverified", key = r.key, error = "not tagged " .. kinds.TAG .. "=" .. self.run_id }
    else
      local ps = body.properties and body.properties.provisioningState
      if ps and not TERMINAL[ps] and ps ~= "Deleting" then
        -- Still being made (a copy replicating): Azure refuses the delete
        -- until it ends.  A failure to settle is no reason not to try.
        local _, serr = self:settle(r.kind, r.id)
        if serr and serr.kind == "interrupted" then return nil, serr end
      end
      self:record{ type = "deleting", key = r.key }
      local op, derr = self.client:begin(kinds.get(r.kind).delete, { id = r.id })
      if op then ops[#ops + 1], which[#ops + 1] = op, r
      else self:record{ type = "left", key = r.key, error = tostring(derr) } end
    end
  end
  local ok, aerr = self:await(ops, function(j, v, derr)
    local r = which[j]
    if v ~= nil or kinds.not_found(derr) then
      self:record{ type = "deleted", key = r.key }
      self:emit{ type = "resource", kind = r.kind, name = r.name, id = r.id, state = "deleted" }
    else
      self:record{ type = "left", key = r.key, error = tostring(derr) }
      self:emit{ type = "resource", kind = r.kind, name = r.name, id = r.id, state = "left", error = tostring(derr) }
    end
  end)
  if not ok then return nil, aerr end
  return true
end

--- cleanup() -> true | nil, err: every phase; err when something is left.
function Run:cleanup()
  for phase = 1, kinds.PHASES do
    local ok, err = self:delete_phase(phase)
    if not ok then return nil, err end
  end
  local left = {}
  for _, r in ipairs(self.order) do
    if not r.keep and r.state ~= "deleted" then left[#left + 1] = r end
  end
  if #left > 0 then
    return nil, wf_error("CleanupIncomplete", "%d resource(s) left behind, first %s (%s)", #left, left[1].id,
      tostring(left[1].error or left[1].state))
  end
  return true
end

--- The resources as a report lists them.
function Run:resource_list()
  local out = {}
  for _, r in ipairs(self.order) do
    local state = r.state
    if state == "created" or state == "intent" then state = r.keep and "kept" or (state == "intent" and "unverified" or "left") end
    if state == "deleting" then state = "left" end
    if state == "deleted" then state = kinds.get(r.kind).gone or state end
    out[#out + 1] = { kind = r.kind, id = r.id, name = r.name, step = r.step, state = state, error = r.error }
  end
  return out
end

M.Run = Run
return M
