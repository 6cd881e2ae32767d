-- The block every crash spec runs after killing a workflow in a child
-- (support.child): recover the run from its journal (resume or cleanup),
-- check that the recovery succeeded, let the spec check what it left, then
-- prove that a second resume has nothing left to do and changes nothing.
--
--   local recover = require "support.recover"
--   local killed, run_id = recover.run{ client = client, state_dir = dir, scale = 0.002,
--     how = "resume" | "cleanup",
--     child = function() return child(em, dir, k, config) end,   -- -> run_id, rc, out
--     finished = function(run_id) ... end,  -- the child ended before its kill (rc 0)
--     step = "verify",                      -- done: that step of the report succeeded
--     check = function(run_id, report, done) ... end,
--     of_run = function(run_id) -> a comparable inventory of the run's resources }
local assert = require "luassert"
local workflow = require "azrp.workflow"

local M = {}

--- step_ok(report, name) -> whether report's step name succeeded.
function M.step_ok(report, name)
  for _, s in ipairs(report.steps) do if s.name == name and s.ok then return true end end
  return false
end

--- recover(client, state_dir, run_id, how, scale) -> the report of the
-- resume or cleanup of run_id, asserted a table with exit code 0.
function M.recover(client, state_dir, run_id, how, scale)
  local report, err
  if how == "resume" then
    report, err = workflow.resume(client, run_id, { state_dir = state_dir, time_scale = scale })
  else
    report, err = workflow.cleanup(client, run_id, { state_dir = state_dir })
  end
  assert.is_table(report, tostring(err))
  assert.are.equal(0, report.exit_code, tostring(report.error and report.error.message))
  return report
end

--- run(o) -> killed (false: the child ended before its kill), run_id.
function M.run(o)
  local run_id, rc, out = o.child()
  assert.is_string(run_id, out)
  if rc == 0 then
    -- This run had fewer progress events (polls vary): it ended before
    -- the event it was to be killed at.  Nothing to recover.
    if o.finished then o.finished(run_id) end
    return false, run_id
  end
  local report = M.recover(o.client, o.state_dir, run_id, o.how, o.scale)
  o.check(run_id, report, o.step ~= nil and M.step_ok(report, o.step))
  -- A second resume has nothing left to do and changes nothing.
  local snapshot = o.of_run(run_id)
  assert.is_table(workflow.resume(o.client, run_id, { state_dir = o.state_dir }))
  assert.are.same(snapshot, o.of_run(run_id))
  return true, run_id
end

return M
