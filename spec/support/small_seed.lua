-- The demo fleet with every disk 1 GiB (its OS disks are 4, its data disks
-- up to 2): the specs that hash disks (sha256 reads every zero, about
-- 0.6 s per GiB) or copy their bytes get the same fleet, smaller.
-- Needs no emulator module: client specs run on LuaJIT too.
local S = {}

S.GB = 1

-- Shrinks seed (a decoded seed table) in place and returns it.
function S.shrink(seed)
  for _, d in ipairs(seed.disks or {}) do d.size_gb = S.GB end
  for _, vm in ipairs(seed.vms or {}) do
    if vm.os_disk then vm.os_disk.size_gb = S.GB end
    for _, d in ipairs(vm.data_disks or {}) do
      if d.size_gb then d.size_gb = S.GB end
    end
  end
  return seed
end

-- The path of a JSON seed file holding the shrunk demo fleet, written once
-- per process (removed at exit by nobody: it lives in the temp directory).
local path
function S.file()
  if path then return path end
  local seed_file = require "support.seed"
  path = seed_file.write(S.shrink(seed_file.demo()))
  return path
end

return S
