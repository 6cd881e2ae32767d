/*
** The operation registry as data.  Paths, methods, LRO styles and
** final-state-via come from Microsoft's OpenAPI files (see
** ../shared/reference/api-reference.md); each provider's default
** api-version is the newest stable one there.
*/
#include <string.h>

#include "registry.h"

#define SUB "/subscriptions/{subscriptionId}"
#define RG SUB "/resourceGroups/{resourceGroupName}"
#define CP RG "/providers/Microsoft.Compute"
#define NP RG "/providers/Microsoft.Network"
#define RPC CP "/restorePointCollections/{restorePointCollectionName}"
#define RP RPC "/restorePoints/{restorePointName}"
#define DRP RP "/diskRestorePoints/{diskRestorePointName}"
#define DISK CP "/disks/{diskName}"
#define SNAP CP "/snapshots/{snapshotName}"
#define VM CP "/virtualMachines/{vmName}"
#define IMG CP "/images/{imageName}"
#define GAL CP "/galleries/{galleryName}"
#define GIMG GAL "/images/{galleryImageName}"
#define GVER GIMG "/versions/{galleryImageVersionName}"

#define L AZRP_LRO
#define S AZRP_SYNC
#define FL AZRP_FINAL_LOCATION
#define FA AZRP_FINAL_ASYNC
#define R AZRP_READ
#define W AZRP_WRITE
#define D AZRP_DELETE
#define NB AZRP_BODY_NONE
#define OB AZRP_BODY_OPTIONAL
#define RB AZRP_BODY_REQUIRED

const azrp_provider azrp_providers[] = {
  {"compute", "2025-11-01"},
  {"disk", "2026-03-02"},
  {"gallery", "2025-03-03"},
  {"network", "2024-05-01"},
  {"resources", "2021-04-01"},
  {"subscriptions", "2022-12-01"},
  {NULL, NULL}
};

const azrp_opdef azrp_opdefs[] = {
  /* restore point collections */
  {"RestorePointCollections_CreateOrUpdate", "PUT", RPC, "compute", S, FL, W, RB, 0, 0, NULL, 0},
  {"RestorePointCollections_Update", "PATCH", RPC, "compute", S, FL, W, RB, 0, 0, NULL, 0},
  {"RestorePointCollections_Delete", "DELETE", RPC, "compute", L, FL, D, NB, 0, 0, NULL, 0},
  {"RestorePointCollections_Get", "GET", RPC, "compute", S, FL, R, NB, 0, 0, "$expand", 0},
  {"RestorePointCollections_List", "GET", CP "/restorePointCollections", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  {"RestorePointCollections_ListAll", "GET", SUB "/providers/Microsoft.Compute/restorePointCollections", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  /* restore points */
  {"RestorePoints_Create", "PUT", RP, "compute", L, FL, W, RB, 0, 0, NULL, 1},
  {"RestorePoints_Get", "GET", RP, "compute", S, FL, R, NB, 0, 0, "$expand", 0},
  {"RestorePoints_Delete", "DELETE", RP, "compute", L, FL, D, NB, 0, 0, NULL, 0},
  /* disk restore points */
  {"DiskRestorePoint_Get", "GET", DRP, "disk", S, FL, R, NB, 0, 0, NULL, 0},
  {"DiskRestorePoint_ListByRestorePoint", "GET", RP "/diskRestorePoints", "disk", S, FL, R, NB, 1, 0, NULL, 0},
  {"DiskRestorePoint_GrantAccess", "POST", DRP "/beginGetAccess", "disk", L, FL, W, RB, 0, 1, NULL, 0},
  {"DiskRestorePoint_RevokeAccess", "POST", DRP "/endGetAccess", "disk", L, FL, W, NB, 0, 1, NULL, 0},
  /* disks */
  {"Disks_CreateOrUpdate", "PUT", DISK, "disk", L, FL, W, RB, 0, 0, NULL, 0},
  {"Disks_Update", "PATCH", DISK, "disk", L, FL, W, RB, 0, 0, NULL, 0},
  {"Disks_Get", "GET", DISK, "disk", S, FL, R, NB, 0, 0, NULL, 0},
  {"Disks_Delete", "DELETE", DISK, "disk", L, FL, D, NB, 0, 0, NULL, 0},
  {"Disks_ListByResourceGroup", "GET", CP "/disks", "disk", S, FL, R, NB, 1, 0, NULL, 0},
  {"Disks_List", "GET", SUB "/providers/Microsoft.Compute/disks", "disk", S, FL, R, NB, 1, 0, NULL, 0},
  {"Disks_GrantAccess", "POST", DISK "/beginGetAccess", "disk", L, FL, W, RB, 0, 1, NULL, 0},
  {"Disks_RevokeAccess", "POST", DISK "/endGetAccess", "disk", L, FL, W, NB, 0, 1, NULL, 0},
  /* disk encryption sets (a restore checks the set each disk gets) */
  {"DiskEncryptionSets_Get", "GET", CP "/diskEncryptionSets/{diskEncryptionSetName}", "disk", S, FL, R, NB, 0, 0, NULL, 0},
  /* snapshots */
  {"Snapshots_CreateOrUpdate", "PUT", SNAP, "disk", L, FL, W, RB, 0, 0, NULL, 0},
  {"Snapshots_Update", "PATCH", SNAP, "disk", L, FL, W, RB, 0, 0, NULL, 0},
  {"Snapshots_Get", "GET", SNAP, "disk", S, FL, R, NB, 0, 0, NULL, 0},
  {"Snapshots_Delete", "DELETE", SNAP, "disk", L, FL, D, NB, 0, 0, NULL, 0},
  {"Snapshots_ListByResourceGroup", "GET", CP "/snapshots", "disk", S, FL, R, NB, 1, 0, NULL, 0},
  {"Snapshots_List", "GET", SUB "/providers/Microsoft.Compute/snapshots", "disk", S, FL, R, NB, 1, 0, NULL, 0},
  {"Snapshots_GrantAccess", "POST", SNAP "/beginGetAccess", "disk", L, FL, W, RB, 0, 1, NULL, 0},
  {"Snapshots_RevokeAccess", "POST", SNAP "/endGetAccess", "disk", L, FL, W, NB, 0, 1, NULL, 0},
  /* virtual machines */
  {"VirtualMachines_CreateOrUpdate", "PUT", VM, "compute", L, FL, W, RB, 0, 0, NULL, 0},
  {"VirtualMachines_Update", "PATCH", VM, "compute", L, FL, W, RB, 0, 0, NULL, 0},
  {"VirtualMachines_Get", "GET", VM, "compute", S, FL, R, NB, 0, 0, "$expand", 0},
  {"VirtualMachines_InstanceView", "GET", VM "/instanceView", "compute", S, FL, R, NB, 0, 0, NULL, 0},
  {"VirtualMachines_Delete", "DELETE", VM, "compute", L, FL, D, NB, 0, 0, "forceDeletion", 0},
  {"VirtualMachines_Deallocate", "POST", VM "/deallocate", "compute", L, FL, W, NB, 0, 1, "hibernate", 0},
  {"VirtualMachines_Start", "POST", VM "/start", "compute", L, FL, W, NB, 0, 1, NULL, 0},
  {"VirtualMachines_PowerOff", "POST", VM "/powerOff", "compute", L, FL, W, NB, 0, 1, "skipShutdown", 0},
  {"VirtualMachines_AttachDetachDataDisks", "POST", VM "/attachDetachDataDisks", "compute", L, FL, W, RB, 0, 0, NULL, 0},
  {"VirtualMachines_List", "GET", CP "/virtualMachines", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  {"VirtualMachines_ListAll", "GET", SUB "/providers/Microsoft.Compute/virtualMachines", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  /* managed images */
  {"Images_CreateOrUpdate", "PUT", IMG, "compute", L, FL, W, RB, 0, 0, NULL, 0},
  {"Images_Get", "GET", IMG, "compute", S, FL, R, NB, 0, 0, "$expand", 0},
  {"Images_Delete", "DELETE", IMG, "compute", L, FL, D, NB, 0, 0, NULL, 0},
  {"Images_ListByResourceGroup", "GET", CP "/images", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  /* Compute Gallery */
  {"Galleries_CreateOrUpdate", "PUT", GAL, "gallery", L, FA, W, RB, 0, 0, NULL, 0},
  {"Galleries_Get", "GET", GAL, "gallery", S, FL, R, NB, 0, 0, NULL, 0},
  {"Galleries_Delete", "DELETE", GAL, "gallery", L, FL, D, NB, 0, 0, NULL, 0},
  {"GalleryImages_CreateOrUpdate", "PUT", GIMG, "gallery", L, FA, W, RB, 0, 0, NULL, 0},
  {"GalleryImages_Get", "GET", GIMG, "gallery", S, FL, R, NB, 0, 0, NULL, 0},
  {"GalleryImages_Delete", "DELETE", GIMG, "gallery", L, FL, D, NB, 0, 0, NULL, 0},
  {"GalleryImageVersions_CreateOrUpdate", "PUT", GVER, "gallery", L, FA, W, RB, 0, 0, NULL, 0},
  {"GalleryImageVersions_Get", "GET", GVER, "gallery", S, FL, R, NB, 0, 0, "$expand", 0},
  {"GalleryImageVersions_Delete", "DELETE", GVER, "gallery", L, FL, D, NB, 0, 0, NULL, 0},
  {"GalleryImageVersions_ListByGalleryImage", "GET", GIMG "/versions", "gallery", S, FL, R, NB, 1, 0, NULL, 0},
  /* resource groups and subscriptions */
  {"ResourceGroups_CreateOrUpdate", "PUT", RG, "resources", S, FL, W, RB, 0, 0, NULL, 0},
  {"ResourceGroups_Get", "GET", RG, "resources", S, FL, R, NB, 0, 0, NULL, 0},
  {"ResourceGroups_Delete", "DELETE", RG, "resources", L, FL, D, NB, 0, 0, NULL, 0},
  {"ResourceGroups_List", "GET", SUB "/resourcegroups", "resources", S, FL, R, NB, 1, 0, NULL, 0},
  {"Subscriptions_List", "GET", "/subscriptions", "subscriptions", S, FL, R, NB, 1, 0, NULL, 0},
  {"Subscriptions_ListLocations", "GET", SUB "/locations", "subscriptions", S, FL, R, NB, 1, 0, "includeExtendedLocations", 0},
  /* regional capacity: vCPU quotas and VM sizes (preflight) */
  {"Usage_List", "GET", SUB "/providers/Microsoft.Compute/locations/{location}/usages", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  {"VirtualMachineSizes_List", "GET", SUB "/providers/Microsoft.Compute/locations/{location}/vmSizes", "compute", S, FL, R, NB, 1, 0, NULL, 0},
  /* network resources a test VM needs */
  {"VirtualNetworks_CreateOrUpdate", "PUT", NP "/virtualNetworks/{virtualNetworkName}", "network", L, FA, W, RB, 0, 0, NULL, 0},
  {"VirtualNetworks_Get", "GET", NP "/virtualNetworks/{virtualNetworkName}", "network", S, FL, R, NB, 0, 0, NULL, 0},
  {"VirtualNetworks_Delete", "DELETE", NP "/virtualNetworks/{virtualNetworkName}", "network", L, FL, D, NB, 0, 0, NULL, 0},
  {"Subnets_CreateOrUpdate", "PUT", NP "/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}", "network", L, FA, W, RB, 0, 0, NULL, 0},
  {"Subnets_Get", "GET", NP "/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}", "network", S, FL, R, NB, 0, 0, NULL, 0},
  {"NetworkInterfaces_CreateOrUpdate", "PUT", NP "/networkInterfaces/{networkInterfaceName}", "network", L, FA, W, RB, 0, 0, NULL, 0},
  {"NetworkInterfaces_Get", "GET", NP "/networkInterfaces/{networkInterfaceName}", "network", S, FL, R, NB, 0, 0, NULL, 0},
  {"NetworkInterfaces_Delete", "DELETE", NP "/networkInterfaces/{networkInterfaceName}", "network", L, FL, D, NB, 0, 0, NULL, 0},
  {"NetworkSecurityGroups_CreateOrUpdate", "PUT", NP "/networkSecurityGroups/{networkSecurityGroupName}", "network", L, FA, W, RB, 0, 0, NULL, 0},
  {"NetworkSecurityGroups_Get", "GET", NP "/networkSecurityGroups/{networkSecurityGroupName}", "network", S, FL, R, NB, 0, 0, NULL, 0},
  {"NetworkSecurityGroups_Delete", "DELETE", NP "/networkSecurityGroups/{networkSecurityGroupName}", "network", L, FL, D, NB, 0, 0, NULL, 0},
  {NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, 0}
};

const azrp_opdef *azrp_opdef_find (const char *id) {
  const azrp_opdef *d;
  for (d = azrp_opdefs; d->id != NULL; d++)
    if (strcmp(d->id, id) == 0) return d;
  return NULL;
}

const char *azrp_provider_version (const char *name) {
  const azrp_provider *p;
  for (p = azrp_providers; p->name != NULL; p++)
    if (strcmp(p->name, name) == 0) return p->api_version;
  return NULL;
}
