--- azrp.workflow.kinds: the resource kinds a workflow creates, how to
-- read and delete each, and the order cleanup deletes them in.
--
-- phase: cleanup deletes phase 1 first (what holds a reference before what
-- it references: a VM before its disks and NIC, a NIC before its vnet, a
-- vnet before its NSG); each phase's resources are deleted concurrently.
-- tags: the kind carries ARM tags, so the run stamps it with azrp-run and
-- cleanup deletes it only when the stamp is this run's.  Restore points
-- have no tags: their names are unique per run, and the journal holds
-- their intent from before their creation.
local M = {}

M.TAG = "azrp-run"

M.kinds = {
  vm = { get = "VirtualMachines_Get", delete = "VirtualMachines_Delete", tags = true, phase = 1 },
  image_version = { get = "GalleryImageVersions_Get", delete = "GalleryImageVersions_Delete", tags = true, phase = 1 },
  image = { get = "Images_Get", delete = "Images_Delete", tags = true, phase = 1 },
  disk = { get = "Disks_Get", delete = "Disks_Delete", tags = true, phase = 2 },
  snapshot = { get = "Snapshots_Get", delete = "Snapshots_Delete", tags = true, phase = 2 },
  nic = { get = "NetworkInterfaces_Get", delete = "NetworkInterfaces_Delete", tags = true, phase = 2 },
  vnet = { get = "VirtualNetworks_Get", delete = "VirtualNetworks_Delete", tags = true, phase = 3 },
  restore_point = { get = "RestorePoints_Get", delete = "RestorePoints_Delete", tags = false, phase = 3 },
  nsg = { get = "NetworkSecurityGroups_Get", delete = "NetworkSecurityGroups_Delete", tags = true, phase = 4 },
  gallery_image = { get = "GalleryImages_Get", delete = "GalleryImages_Delete", tags = true, phase = 4 },
  -- Read access (a SAS) a run granted: "deleting" it revokes it, first of all.
  sas_disk_restore_point = { get = "DiskRestorePoint_Get", delete = "DiskRestorePoint_RevokeAccess", tags = false,
    phase = 1, gone = "revoked" },
  sas_disk = { get = "Disks_Get", delete = "Disks_RevokeAccess", tags = false, phase = 1, gone = "revoked" },
  sas_snapshot = { get = "Snapshots_Get", delete = "Snapshots_RevokeAccess", tags = false, phase = 1, gone = "revoked" },
  collection = { get = "RestorePointCollections_Get", delete = "RestorePointCollections_Delete", tags = true, phase = 5 },
}

M.PHASES = 5

--- kind(name) -> the kind's table; raises on an unknown kind (a
-- workflow's mistake).
function M.get(name, level)
  local k = M.kinds[name]
  if not k then error("azrp.workflow: unknown resource kind " .. tostring(name), (level or 1) + 1) end
  return k
end

--- Is err a "not found" answer?
function M.not_found(err)
  return type(err) == "table" and (err.status == 404 or err.code == "ResourceNotFound" or err.code == "NotFound")
end

--- Does the resource body carry this run's stamp?
function M.stamped(body, run_id)
  local tags = type(body) == "table" and body.tags
  return type(tags) == "table" and tags[M.TAG] == run_id
end

return M
