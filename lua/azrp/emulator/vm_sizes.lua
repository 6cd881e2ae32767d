-- The VM sizes the emulator offers in every region, with the vCPUs and
-- memory Azure gives them and the quota family their cores count against
-- (the name.value of Usage_List: "standardDSv5Family").  A size that is
-- not listed is still accepted by a VM PUT; its cores are read from its
-- name (the digits after the family letters) and its family made from
-- the name's letters, so quotas still count it.
local M = {}

-- { name, cores, memoryInMB, family, maxDataDiskCount }
M.LIST = {
  { "Standard_A2_v2", 2, 4096, "standardAv2Family", 4 },
  { "Standard_B1s", 1, 1024, "standardBSFamily", 2 },
  { "Standard_B2ms", 2, 8192, "standardBSFamily", 4 },
  { "Standard_D2_v3", 2, 8192, "standardDv3Family", 4 },
  { "Standard_D2s_v3", 2, 8192, "standardDSv3Family", 4 },
  { "Standard_D4s_v3", 4, 16384, "standardDSv3Family", 8 },
  { "Standard_DS2_v2", 2, 7168, "standardDSv2Family", 8 },
  { "Standard_D2s_v5", 2, 8192, "standardDSv5Family", 4 },
  { "Standard_D4s_v5", 4, 16384, "standardDSv5Family", 8 },
  { "Standard_D8s_v5", 8, 32768, "standardDSv5Family", 16 },
  { "Standard_D4d_v5", 4, 16384, "standardDDv5Family", 8 },
  { "Standard_D4ds_v5", 4, 16384, "standardDDSv5Family", 8 },
  { "Standard_DC2as_v5", 2, 8192, "standardDCASv5Family", 4 },
  { "Standard_E4s_v5", 4, 32768, "standardESv5Family", 8 },
  { "Standard_E4ds_v5", 4, 32768, "standardEDSv5Family", 8 },
  { "Standard_E4as_v4", 4, 32768, "standardEASv4Family", 8 },
  { "Standard_F4", 4, 8192, "standardFFamily", 16 },
  { "Standard_F4s_v2", 4, 8192, "standardFSv2Family", 8 },
  { "Standard_GS5", 32, 458752, "standardGSFamily", 64 },
}

local by_key = {}
for _, s in ipairs(M.LIST) do by_key[s[1]:lower()] = s end

-- The size's row { name, cores, memory, family, disks } (names compare
-- case-insensitively), or nil.
function M.find(name)
  return type(name) == "string" and by_key[name:lower()] or nil
end

-- cores, family of any size name.
function M.cores(name)
  local s = M.find(name)
  if s then return s[2], s[4] end
  local rest = tostring(name):gsub("^%a+_", "", 1)
  local letters, digits, extra, version = rest:match("^(%a+)(%d+)[%-%d]*(%a*)_?(v?%d*)$")
  if not letters then return 1, "standardFamily" end
  local family = "standard" .. (letters .. extra:gsub("m", "")):upper() .. (version or "") .. "Family"
  return tonumber(digits) or 1, family
end

-- The document VirtualMachineSizes_List gives for row s.
function M.doc(s)
  return { name = s[1], numberOfCores = s[2], osDiskSizeInMB = 1047552,
    resourceDiskSizeInMB = s[2] * 8192, memoryInMB = s[3], maxDataDiskCount = s[5] }
end

return M
