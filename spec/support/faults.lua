-- The emulator's fault injection for the crash specs and the reliability
-- tools: the mixes they run under and a way to switch them per run.
--
--   local faults = require "support.faults"
--   faults.set(em, faults.spec(faults.ARM, 7))   -- 20 % of requests, seed 7
--   faults.set(em, "")                           -- off
local C = require "support.client"
local json = require "cjson.safe"

local F = {}

-- 20 % of requests answered 429, 500, 503 or dropped (rotate's mix).
F.ARM = "429=0.05,500=0.05,503=0.05,reset=0.05,retry_after=1"

-- 20 % again, with truncated bodies and failed provisioning (a
-- long-running operation that ends Failed) among them.
F.ARM_PROVISIONING = "429=0.04,500=0.03,503=0.03,reset=0.03,truncate=0.03,failed=0.04,retry_after=1"

--- spec(mix, seed) -> the spec string of mix with that seed.
function F.spec(mix, seed)
  return mix .. ",seed=" .. tostring(seed)
end

--- set(em, spec): the emulator's faults from now on ("" switches them off).
function F.set(em, spec)
  local status, body = C.admin(em, "POST", "/_emulator/faults", { spec = spec })
  if status ~= 200 then error("faults " .. spec .. ": " .. tostring(status) .. " " .. tostring(json.encode(body)), 2) end
end

return F
