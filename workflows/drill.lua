-- A DR drill config (azrp drill workflows/drill.lua): a Lua table, checked
-- before anything is sent (an unknown key, a wrong type or a missing field
-- is an error naming it).  workflows/drill.json is the same as JSON.
return {
  vm_id = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-prod"
    .. "/providers/Microsoft.Compute/virtualMachines/vm-app-01",
  dr_location = "northeurope",
  dr_resource_group = "rg-dr",
  keep_source_restore_point = true,   -- a real restore point of the VM: the next restore's RPO
  keep_copy = false,
  health = { "provisioned", "running" },
  health_timeout = 600,               -- Azure seconds
}
