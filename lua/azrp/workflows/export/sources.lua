--- azrp.workflows.export.sources: what an export can read (a disk
-- restore point, a disk, a snapshot), told from its id: the operations that
-- read it and grant and revoke access to it, and the journal kind of a
-- grant (azrp.workflow.kinds: "deleting" one revokes it).
local M = {}

local PREFIX = "^/subscriptions/[^/]+/resource[Gg]roups/[^/]+/providers/Microsoft%.Compute/"

M.LIST = {
  { pattern = PREFIX .. "restorePointCollections/[^/]+/restorePoints/[^/]+/diskRestorePoints/([^/]+)$",
    prefix = "DiskRestorePoint", get = "DiskRestorePoint_Get", kind = "sas_disk_restore_point" },
  { pattern = PREFIX .. "disks/([^/]+)$", prefix = "Disks", get = "Disks_Get", kind = "sas_disk" },
  { pattern = PREFIX .. "snapshots/([^/]+)$", prefix = "Snapshots", get = "Snapshots_Get", kind = "sas_snapshot" },
}

--- of(id) -> source, name | nil: the source kind of id, and its name.
function M.of(id)
  for _, s in ipairs(M.LIST) do
    local name = id:match(s.pattern)
    if name then return s, name end
  end
end

return M
