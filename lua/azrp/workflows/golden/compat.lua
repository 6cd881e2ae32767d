--- azrp.workflows.golden.compat: can an image hold what a VM is?
--
--     local compat = require "azrp.workflows.golden.compat"
--     local traits = compat.traits(vm, os_disk)   -- what the VM is
--     local ok, what, msg = compat.gallery(definition.properties, traits, "Generalized")
--     local ok, what, msg = compat.managed_image(traits)
--
-- Pure functions of the documents Azure returns, so that the preflight
-- refuses, before anything is made, what Azure would refuse later (or,
-- worse, accept and publish an image that cannot boot): another OS type
-- or state, a Hyper-V generation the definition is not (Azure's
-- "different Hypervisor generation" Conflict), a Trusted Launch or
-- confidential VM in a definition without the SecurityType feature (or as
-- a managed image, which Azure does not make of one), another
-- architecture.  Each refusal names both values.
local M = {}

local function lower(s) return type(s) == "string" and s:lower() or nil end

--- traits(vm, os_disk) -> { os_type, hyper_v, security, arch }: the VM's
-- OS type, Hyper-V generation (V1 when its OS disk says none), security
-- type (Standard when it has none) and architecture (x64 when its OS
-- disk says none).
function M.traits(vm, os_disk)
  local vp = vm.properties or {}
  local ref = vp.storageProfile and vp.storageProfile.osDisk or {}
  local dp = os_disk and os_disk.properties or {}
  local sec = vp.securityProfile and vp.securityProfile.securityType
  local caps = dp.supportedCapabilities or {}
  return { os_type = ref.osType or dp.osType, hyper_v = dp.hyperVGeneration or "V1",
    security = (sec and sec ~= "") and sec or "Standard", arch = caps.architecture or "x64" }
end

-- The security types a definition's SecurityType feature admits, beyond
-- Standard; a definition with none admits Standard only.
local ADMITS = {
  trustedlaunch = { TrustedLaunch = true },
  trustedlaunchsupported = { TrustedLaunch = true },
  confidentialvm = { ConfidentialVM = true },
  confidentialvmsupported = { ConfidentialVM = true },
  trustedlaunchandconfidentialvmsupported = { TrustedLaunch = true, ConfidentialVM = true },
}

--- security_feature(definition_properties) -> the value of its
-- SecurityType feature, or nil.
function M.security_feature(dp)
  for _, f in ipairs(type(dp.features) == "table" and dp.features or {}) do
    if type(f) == "table" and lower(f.name) == "securitytype" and type(f.value) == "string" then return f.value end
  end
end

local function refuse(what, fmt, ...) return false, what, string.format(fmt, ...) end

--- gallery(definition_properties, traits, os_state) -> true | false,
-- what, message: what is the property that differs (osType, osState,
-- hyperVGeneration, securityType, architecture).
function M.gallery(dp, t, os_state)
  if t.os_type and dp.osType and lower(t.os_type) ~= lower(dp.osType) then
    return refuse("osType", "OS type: the image definition is %s, the VM is %s", dp.osType, t.os_type)
  end
  if dp.osState and lower(os_state) ~= lower(dp.osState) then
    return refuse("osState", "OS state: the image definition is %s, the VM is %s%s", dp.osState, os_state,
      lower(dp.osState) == "generalized" and " (set os_state = \"Generalized\" once the VM is generalized: sysprep or waagent -deprovision)" or "")
  end
  local hv = dp.hyperVGeneration or "V1"
  if lower(hv) ~= lower(t.hyper_v) then
    return refuse("hyperVGeneration", "hyperVGeneration: the image definition is %s, the VM is %s (Azure refuses a cross-generation source)",
      hv, t.hyper_v)
  end
  if t.security ~= "Standard" then
    local feature = M.security_feature(dp)
    local admits = feature and ADMITS[feature:lower()] or {}
    if not admits[t.security] then
      return refuse("securityType", "security type: the VM is %s, the image definition's SecurityType feature is %s (it needs %s)",
        t.security, feature or "none",
        t.security == "TrustedLaunch" and "TrustedLaunchSupported or TrustedLaunch" or "ConfidentialVmSupported or ConfidentialVM")
    end
  elseif lower(M.security_feature(dp)) == "confidentialvm" then
    return refuse("securityType", "security type: the image definition's SecurityType feature is ConfidentialVM, the VM is Standard")
  end
  local arch = dp.architecture or "x64"
  if lower(arch) ~= lower(t.arch) then
    return refuse("architecture", "architecture: the image definition is %s, the VM is %s", arch, t.arch)
  end
  return true
end

--- managed_image(traits) -> true | false, what, message: Azure makes no
-- managed image of a Trusted Launch or confidential VM.
function M.managed_image(t)
  if t.security ~= "Standard" then
    return refuse("securityType", "security type: the VM is %s, and managed images are Standard only "
      .. "(publish it to a gallery image definition with the SecurityType feature TrustedLaunchSupported instead)", t.security)
  end
  return true
end

--- version(s) -> { major, minor, patch } | nil: a Major.Minor.Patch name.
function M.version(s)
  if type(s) ~= "string" then return nil end
  local a, b, c = s:match("^(%d+)%.(%d+)%.(%d+)$")
  if not a or #a > 9 or #b > 9 or #c > 9 then return nil end
  return { tonumber(a), tonumber(b), tonumber(c) }
end

--- next_version(names) -> the version after the highest of names
-- (Major.Minor.Patch+1), "1.0.0" when there is none.
function M.next_version(names)
  local top
  for _, n in ipairs(names) do
    local v = M.version(n)
    if v and (not top or v[1] > top[1] or (v[1] == top[1] and (v[2] > top[2] or (v[2] == top[2] and v[3] > top[3])))) then
      top = v
    end
  end
  if not top then return "1.0.0" end
  return string.format("%d.%d.%d", top[1], top[2], top[3] + 1)
end

return M
