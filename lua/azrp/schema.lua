-- GENERATED FILE, do not edit: regenerate with
--     python3 tools/gen_schema.py [SPECS_DIR] > lua/azrp/schema.lua
-- from Microsoft's OpenAPI files in Azure/azure-rest-api-specs (a copy in
-- SPECS_DIR, by default /work/shared/azure-specs; see its SOURCES.md):
-- DiskRP.json 2026-03-02 (complete) and common-types v3 types.json; for
-- ComputeRP 2025-11-01 the stored examples' request and GET response bodies
-- plus the properties listed in ../reference/api-reference.md (transcribed
-- in the generator); for GalleryRP 2025-03-03, Network 2024-05-01 and
-- Resources 2021-04-01 their definitions, transcribed in
-- tools/schema_upstream.py, with the stored examples.
--
-- operationId -> { body = <tree>, expand = { <$expand values> } }
-- A tree node is true (any value) or a table: an object's allowed keys,
-- with ["*"] = true when other keys are allowed too (free-form maps such as
-- tags, objects the sources list only in part, references to other
-- resources, whose id is all ARM reads), or ["[]"] = <node> for an array
-- and its items.  Read-only properties are allowed (ARM ignores them on
-- PUT, and GET bodies are sent back).  A subtree that occurs more than once
-- is a local below, named after a key it occurs under; the comment above
-- it says where.
--
-- Not described by the sources, so not checked:
--   Images_Get ($expand: ComputeRP.json 2025-11-01 declares it a free string with no values)

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.excludeDisks[]
-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.storageProfile.dataDisks[].diskRestorePoint.encryption.diskEncryptionSet
-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.storageProfile.dataDisks[].diskRestorePoint.sourceDiskRestorePoint
-- and 22 more
local with_id = {
  id = true,
}

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.excludeDisks
-- VirtualNetworks_CreateOrUpdate: body.properties.ipAllocations
-- VirtualNetworks_CreateOrUpdate: body.properties.subnets[].properties.ipAllocations
local list_with_id = { ["[]"] = with_id }

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.instanceView.diskRestorePoints[].replicationStatus.status
-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.instanceView.statuses[]
local status = {
  code = true,
  displayStatus = true,
  level = true,
  message = true,
  time = true,
}

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.diagnosticsProfile.bootDiagnostics
-- VirtualMachines_CreateOrUpdate: body.properties.diagnosticsProfile.bootDiagnostics
local bootDiagnostics = {
  enabled = true,
  storageUri = true,
}

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.hardwareProfile
-- VirtualMachines_CreateOrUpdate: body.properties.hardwareProfile
local hardwareProfile = {
  vmSize = true,
  vmSizeProperties = {
    vCPUsAvailable = true,
    vCPUsPerCore = true,
  },
}

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.storageProfile.dataDisks[].diskRestorePoint
-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.storageProfile.osDisk.diskRestorePoint
local diskRestorePoint = {
  encryption = {
    diskEncryptionSet = with_id,
    type = true,
  },
  id = true,
  sourceDiskRestorePoint = with_id,
}

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.storageProfile.dataDisks[].managedDisk
-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties.sourceMetadata.storageProfile.osDisk.managedDisk
-- VirtualMachines_CreateOrUpdate: body.properties.storageProfile.dataDisks[].managedDisk
-- and 1 more
local managedDisk = {
  diskEncryptionSet = with_id,
  id = true,
  securityProfile = true,
  storageAccountType = true,
}

-- RestorePointCollections_CreateOrUpdate: body.properties.restorePoints[].properties
-- RestorePoints_Create: body.properties
local RestorePoints_Create_properties = {
  consistencyMode = true,
  excludeDisks = list_with_id,
  instanceView = {
    diskRestorePoints = { ["[]"] = {
      id = true,
      replicationStatus = {
        completionPercent = true,
        status = status,
      },
      snapshotAccessState = true,
    } },
    statuses = { ["[]"] = status },
  },
  instantAccessDurationMinutes = true,
  instantAccessStatus = true,
  provisioningState = true,
  sourceMetadata = {
    diagnosticsProfile = {
      bootDiagnostics = bootDiagnostics,
    },
    hardwareProfile = hardwareProfile,
    hyperVGeneration = true,
    licenseType = true,
    location = true,
    osProfile = {
      ["*"] = true,
      adminUsername = true,
      allowExtensionOperations = true,
      computerName = true,
      customData = true,
      linuxConfiguration = true,
      requireGuestProvisionSignal = true,
      secrets = true,
      windowsConfiguration = true,
    },
    securityProfile = {
      ["*"] = true,
      encryptionAtHost = true,
      securityType = true,
      uefiSettings = {
        secureBootEnabled = true,
        vTpmEnabled = true,
      },
    },
    storageProfile = {
      dataDisks = { ["[]"] = {
        caching = true,
        diskRestorePoint = diskRestorePoint,
        diskSizeGB = true,
        lun = true,
        managedDisk = managedDisk,
        name = true,
        writeAcceleratorEnabled = true,
      } },
      diskControllerType = true,
      osDisk = {
        caching = true,
        diskRestorePoint = diskRestorePoint,
        diskSizeGB = true,
        encryptionSettings = true,
        managedDisk = managedDisk,
        name = true,
        osType = true,
        writeAcceleratorEnabled = true,
      },
    },
    userData = true,
    vmId = true,
  },
  sourceRestorePoint = with_id,
  timeCreated = true,
}

-- RestorePointCollections_CreateOrUpdate: body.properties
-- RestorePointCollections_Update: body.properties
local RestorePointCollections_CreateOrUpdate_properties = {
  instantAccess = true,
  provisioningState = true,
  restorePointCollectionId = true,
  restorePoints = { ["[]"] = {
    id = true,
    name = true,
    properties = RestorePoints_Create_properties,
    type = true,
  } },
  source = {
    id = true,
    location = true,
  },
}

-- RestorePointCollections_CreateOrUpdate: body.systemData
-- RestorePoints_Create: body.systemData
-- Disks_CreateOrUpdate: body.systemData
-- and 6 more
local systemData = {
  createdAt = true,
  createdBy = true,
  createdByType = true,
  lastModifiedAt = true,
  lastModifiedBy = true,
  lastModifiedByType = true,
}

-- DiskRestorePoint_GrantAccess: body
-- Disks_GrantAccess: body
-- Snapshots_GrantAccess: body
local DiskRestorePoint_GrantAccess_body = {
  access = true,
  durationInSeconds = true,
  fileFormat = true,
  getSecureVMGuestStateSAS = true,
}

-- Disks_CreateOrUpdate: body.extendedLocation
-- Snapshots_CreateOrUpdate: body.extendedLocation
-- GalleryImageVersions_CreateOrUpdate: body.properties.publishingProfile.targetExtendedLocations[].extendedLocation
-- and 2 more
local extendedLocation = {
  name = true,
  type = true,
}

-- Disks_CreateOrUpdate: body.properties.availabilityPolicy
-- Disks_Update: body.properties.availabilityPolicy
local availabilityPolicy = {
  actionOnDiskDelay = true,
}

-- Disks_CreateOrUpdate: body.properties.creationData.galleryImageReference
-- Disks_CreateOrUpdate: body.properties.creationData.imageReference
local galleryImageReference = {
  communityGalleryImageId = true,
  id = true,
  lun = true,
  sharedGalleryImageId = true,
}

-- Disks_CreateOrUpdate: body.properties.creationData
-- Snapshots_CreateOrUpdate: body.properties.creationData
local creationData = {
  createOption = true,
  elasticSanResourceId = true,
  galleryImageReference = galleryImageReference,
  imageReference = galleryImageReference,
  instantAccessDurationMinutes = true,
  logicalSectorSize = true,
  performancePlus = true,
  provisionedBandwidthCopySpeed = true,
  securityDataUri = true,
  securityMetadataUri = true,
  sourceResourceId = true,
  sourceUniqueId = true,
  sourceUri = true,
  storageAccountId = true,
  uploadSizeBytes = true,
}

-- Disks_CreateOrUpdate: body.properties.encryption
-- Disks_Update: body.properties.encryption
-- Snapshots_CreateOrUpdate: body.properties.encryption
-- and 1 more
local encryption = {
  diskEncryptionSetId = true,
  type = true,
}

-- Disks_CreateOrUpdate: body.properties.encryptionSettingsCollection
-- Disks_Update: body.properties.encryptionSettingsCollection
-- Snapshots_CreateOrUpdate: body.properties.encryptionSettingsCollection
-- and 1 more
local encryptionSettingsCollection = {
  enabled = true,
  encryptionSettings = { ["[]"] = {
    diskEncryptionKey = {
      secretUrl = true,
      sourceVault = with_id,
    },
    keyEncryptionKey = {
      keyUrl = true,
      sourceVault = with_id,
    },
  } },
  encryptionSettingsVersion = true,
}

-- Disks_CreateOrUpdate: body.properties.propertyUpdatesInProgress
-- Disks_Update: body.properties.propertyUpdatesInProgress
local propertyUpdatesInProgress = {
  targetTier = true,
}

-- Disks_CreateOrUpdate: body.properties.purchasePlan
-- Disks_Update: body.properties.purchasePlan
-- Snapshots_CreateOrUpdate: body.properties.purchasePlan
local purchasePlan = {
  name = true,
  product = true,
  promotionCode = true,
  publisher = true,
}

-- Disks_CreateOrUpdate: body.properties.securityProfile
-- Snapshots_CreateOrUpdate: body.properties.securityProfile
local securityProfile = {
  secureVMDiskEncryptionSetId = true,
  securityType = true,
}

-- Disks_CreateOrUpdate: body.properties.supportedCapabilities
-- Disks_Update: body.properties.supportedCapabilities
-- Snapshots_CreateOrUpdate: body.properties.supportedCapabilities
-- and 1 more
local supportedCapabilities = {
  acceleratedNetwork = true,
  architecture = true,
  diskControllerTypes = true,
  supportedSecurityOption = true,
}

-- Disks_CreateOrUpdate: body.sku
-- Disks_Update: body.sku
-- Snapshots_CreateOrUpdate: body.sku
-- and 1 more
local sku = {
  name = true,
  tier = true,
}

-- VirtualMachines_CreateOrUpdate: body.properties.proximityPlacementGroup
-- VirtualNetworks_CreateOrUpdate: body.properties.flowLogs[]
-- VirtualNetworks_CreateOrUpdate: body.properties.subnets[].properties.networkSecurityGroup
-- and 7 more
local reference = {
  ["*"] = true,
  id = true,
}

-- VirtualMachines_CreateOrUpdate: body.properties
-- VirtualMachines_Update: body.properties
local VirtualMachines_CreateOrUpdate_properties = {
  ["*"] = true,
  applicationProfile = {
    ["*"] = true,
    galleryApplications = { ["[]"] = {
      ["*"] = true,
      configurationReference = true,
      order = true,
      packageReferenceId = true,
      tags = true,
    } },
  },
  availabilitySet = with_id,
  diagnosticsProfile = {
    ["*"] = true,
    bootDiagnostics = bootDiagnostics,
  },
  extensionsTimeBudget = true,
  hardwareProfile = hardwareProfile,
  instanceView = true,
  networkProfile = {
    ["*"] = true,
    networkInterfaces = { ["[]"] = {
      id = true,
      properties = {
        deleteOption = true,
        primary = true,
      },
    } },
  },
  osProfile = {
    ["*"] = true,
    adminPassword = true,
    adminUsername = true,
    computerName = true,
    secrets = { ["[]"] = true },
    windowsConfiguration = {
      ["*"] = true,
      enableAutomaticUpdates = true,
      provisionVMAgent = true,
    },
  },
  provisioningState = true,
  proximityPlacementGroup = reference,
  securityProfile = {
    ["*"] = true,
    securityType = true,
  },
  storageProfile = {
    ["*"] = true,
    dataDisks = { ["[]"] = {
      caching = true,
      createOption = true,
      deleteOption = true,
      detachOption = true,
      diskIOPSReadWrite = true,
      diskMBpsReadWrite = true,
      diskSizeGB = true,
      lun = true,
      managedDisk = managedDisk,
      name = true,
      sourceResource = with_id,
      storageFaultDomainAlignment = true,
      toBeDetached = true,
      writeAcceleratorEnabled = true,
    } },
    diskControllerType = true,
    imageReference = {
      ["*"] = true,
      id = true,
      offer = true,
      publisher = true,
      sku = true,
      version = true,
    },
    osDisk = {
      caching = true,
      createOption = true,
      deleteOption = true,
      diffDiskSettings = true,
      diskSizeGB = true,
      encryptionSettings = true,
      image = true,
      managedDisk = managedDisk,
      name = true,
      osType = true,
      storageFaultDomainAlignment = true,
      vhd = true,
      writeAcceleratorEnabled = true,
    },
  },
  timeCreated = true,
  userData = true,
  vmId = true,
}

-- GalleryImages_CreateOrUpdate: body.properties.recommended.memory
-- GalleryImages_CreateOrUpdate: body.properties.recommended.vCPUs
local with_max_min = {
  max = true,
  min = true,
}

-- GalleryImageVersions_CreateOrUpdate: body.properties.publishingProfile.targetExtendedLocations[].encryption
-- GalleryImageVersions_CreateOrUpdate: body.properties.publishingProfile.targetRegions[].encryption
local encryption_2 = {
  dataDiskImages = { ["[]"] = {
    diskEncryptionSetId = true,
    lun = true,
  } },
  osDiskImage = {
    diskEncryptionSetId = true,
    securityProfile = {
      confidentialVMEncryptionType = true,
      secureVMDiskEncryptionSetId = true,
    },
  },
}

-- GalleryImageVersions_CreateOrUpdate: body.properties.securityProfile.uefiSettings.additionalSignatures.db[]
-- GalleryImageVersions_CreateOrUpdate: body.properties.securityProfile.uefiSettings.additionalSignatures.pk
local with_type_value = {
  type = true,
  value = { ["[]"] = true },
}

-- GalleryImageVersions_CreateOrUpdate: body.properties.securityProfile.uefiSettings.additionalSignatures.db
-- GalleryImageVersions_CreateOrUpdate: body.properties.securityProfile.uefiSettings.additionalSignatures.dbx
-- GalleryImageVersions_CreateOrUpdate: body.properties.securityProfile.uefiSettings.additionalSignatures.kek
local list_with_type_value = { ["[]"] = with_type_value }

-- GalleryImageVersions_CreateOrUpdate: body.properties.storageProfile.dataDiskImages[].source
-- GalleryImageVersions_CreateOrUpdate: body.properties.storageProfile.osDiskImage.source
local source = {
  id = true,
  storageAccountId = true,
  uri = true,
}

-- VirtualNetworks_CreateOrUpdate: body.properties.addressSpace.ipamPoolPrefixAllocations
-- VirtualNetworks_CreateOrUpdate: body.properties.subnets[].properties.ipamPoolPrefixAllocations
local ipamPoolPrefixAllocations = { ["[]"] = {
  allocatedAddressPrefixes = { ["[]"] = true },
  numberOfIpAddresses = true,
  pool = with_id,
} }

-- VirtualNetworks_CreateOrUpdate: body.properties.addressSpace
-- VirtualNetworks_CreateOrUpdate: body.properties.virtualNetworkPeerings[].properties.localAddressSpace
-- VirtualNetworks_CreateOrUpdate: body.properties.virtualNetworkPeerings[].properties.localVirtualNetworkAddressSpace
-- and 2 more
local with_addressPrefixes_ipamPoolPrefixAllocations = {
  addressPrefixes = { ["[]"] = true },
  ipamPoolPrefixAllocations = ipamPoolPrefixAllocations,
}

-- VirtualNetworks_CreateOrUpdate: body.properties.bgpCommunities
-- VirtualNetworks_CreateOrUpdate: body.properties.virtualNetworkPeerings[].properties.remoteBgpCommunities
local with_regionalCommunity_virtualNetworkCommunity = {
  regionalCommunity = true,
  virtualNetworkCommunity = true,
}

-- VirtualNetworks_CreateOrUpdate: body.properties.encryption
-- VirtualNetworks_CreateOrUpdate: body.properties.virtualNetworkPeerings[].properties.remoteVirtualNetworkEncryption
local with_enabled_enforcement = {
  enabled = true,
  enforcement = true,
}

-- VirtualNetworks_CreateOrUpdate: body.properties.flowLogs
-- VirtualNetworks_CreateOrUpdate: body.properties.subnets[].properties.applicationGatewayIPConfigurations
-- VirtualNetworks_CreateOrUpdate: body.properties.subnets[].properties.ipConfigurationProfiles
-- and 13 more
local references = { ["[]"] = reference }

-- VirtualNetworks_CreateOrUpdate: body.properties.subnets[]
-- Subnets_CreateOrUpdate: body
local subnets_item = {
  etag = true,
  id = true,
  name = true,
  properties = {
    addressPrefix = true,
    addressPrefixes = { ["[]"] = true },
    applicationGatewayIPConfigurations = references,
    defaultOutboundAccess = true,
    delegations = { ["[]"] = {
      etag = true,
      id = true,
      name = true,
      properties = {
        actions = { ["[]"] = true },
        provisioningState = true,
        serviceName = true,
      },
      type = true,
    } },
    ipAllocations = list_with_id,
    ipConfigurationProfiles = references,
    ipConfigurations = references,
    ipamPoolPrefixAllocations = ipamPoolPrefixAllocations,
    natGateway = with_id,
    networkSecurityGroup = reference,
    privateEndpointNetworkPolicies = true,
    privateEndpoints = references,
    privateLinkServiceNetworkPolicies = true,
    provisioningState = true,
    purpose = true,
    resourceNavigationLinks = { ["[]"] = {
      etag = true,
      id = true,
      name = true,
      properties = {
        link = true,
        linkedResourceType = true,
        provisioningState = true,
      },
      type = true,
    } },
    routeTable = reference,
    serviceAssociationLinks = { ["[]"] = {
      etag = true,
      id = true,
      name = true,
      properties = {
        allowDelete = true,
        link = true,
        linkedResourceType = true,
        locations = { ["[]"] = true },
        provisioningState = true,
      },
      type = true,
    } },
    serviceEndpointPolicies = references,
    serviceEndpoints = { ["[]"] = {
      locations = { ["[]"] = true },
      networkIdentifier = with_id,
      provisioningState = true,
      service = true,
    } },
    sharingScope = true,
  },
  type = true,
}

-- NetworkSecurityGroups_CreateOrUpdate: body.properties.defaultSecurityRules
-- NetworkSecurityGroups_CreateOrUpdate: body.properties.securityRules
local defaultSecurityRules = { ["[]"] = {
  etag = true,
  id = true,
  name = true,
  properties = {
    access = true,
    description = true,
    destinationAddressPrefix = true,
    destinationAddressPrefixes = { ["[]"] = true },
    destinationApplicationSecurityGroups = references,
    destinationPortRange = true,
    destinationPortRanges = { ["[]"] = true },
    direction = true,
    priority = true,
    protocol = true,
    provisioningState = true,
    sourceAddressPrefix = true,
    sourceAddressPrefixes = { ["[]"] = true },
    sourceApplicationSecurityGroups = references,
    sourcePortRange = true,
    sourcePortRanges = { ["[]"] = true },
  },
  type = true,
} }

return {
  RestorePointCollections_CreateOrUpdate = {
    body = {
      id = true,
      location = true,
      name = true,
      properties = RestorePointCollections_CreateOrUpdate_properties,
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
    },
  },
  RestorePointCollections_Update = {
    body = {
      properties = RestorePointCollections_CreateOrUpdate_properties,
      tags = { ["*"] = true },
    },
  },
  RestorePointCollections_Get = {
    expand = { "restorePoints" },
  },
  RestorePoints_Create = {
    body = {
      id = true,
      name = true,
      properties = RestorePoints_Create_properties,
      systemData = systemData,
      type = true,
    },
  },
  RestorePoints_Get = {
    expand = { "instanceView" },
  },
  DiskRestorePoint_GrantAccess = {
    body = DiskRestorePoint_GrantAccess_body,
  },
  Disks_CreateOrUpdate = {
    body = {
      extendedLocation = extendedLocation,
      id = true,
      location = true,
      managedBy = true,
      managedByExtended = { ["[]"] = true },
      name = true,
      properties = {
        LastOwnershipUpdateTime = true,
        availabilityPolicy = availabilityPolicy,
        burstingEnabled = true,
        burstingEnabledTime = true,
        completionPercent = true,
        creationData = creationData,
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskIOPSReadOnly = true,
        diskIOPSReadWrite = true,
        diskMBpsReadOnly = true,
        diskMBpsReadWrite = true,
        diskSizeBytes = true,
        diskSizeGB = true,
        diskState = true,
        encryption = encryption,
        encryptionSettingsCollection = encryptionSettingsCollection,
        hyperVGeneration = true,
        maxShares = true,
        networkAccessPolicy = true,
        optimizedForFrequentAttach = true,
        osType = true,
        propertyUpdatesInProgress = propertyUpdatesInProgress,
        provisioningState = true,
        publicNetworkAccess = true,
        purchasePlan = purchasePlan,
        securityProfile = securityProfile,
        shareInfo = { ["[]"] = {
          vmUri = true,
        } },
        supportedCapabilities = supportedCapabilities,
        supportsHibernation = true,
        tier = true,
        timeCreated = true,
        uniqueId = true,
      },
      sku = sku,
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
      zones = { ["[]"] = true },
    },
  },
  Disks_Update = {
    body = {
      properties = {
        availabilityPolicy = availabilityPolicy,
        burstingEnabled = true,
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskIOPSReadOnly = true,
        diskIOPSReadWrite = true,
        diskMBpsReadOnly = true,
        diskMBpsReadWrite = true,
        diskSizeGB = true,
        encryption = encryption,
        encryptionSettingsCollection = encryptionSettingsCollection,
        maxShares = true,
        networkAccessPolicy = true,
        optimizedForFrequentAttach = true,
        osType = true,
        propertyUpdatesInProgress = propertyUpdatesInProgress,
        publicNetworkAccess = true,
        purchasePlan = purchasePlan,
        supportedCapabilities = supportedCapabilities,
        supportsHibernation = true,
        tier = true,
      },
      sku = sku,
      tags = { ["*"] = true },
    },
  },
  Disks_GrantAccess = {
    body = DiskRestorePoint_GrantAccess_body,
  },
  Snapshots_CreateOrUpdate = {
    body = {
      extendedLocation = extendedLocation,
      id = true,
      location = true,
      managedBy = true,
      name = true,
      properties = {
        completionPercent = true,
        copyCompletionError = {
          errorCode = true,
          errorMessage = true,
        },
        creationData = creationData,
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskSizeBytes = true,
        diskSizeGB = true,
        diskState = true,
        encryption = encryption,
        encryptionSettingsCollection = encryptionSettingsCollection,
        hyperVGeneration = true,
        incremental = true,
        incrementalSnapshotFamilyId = true,
        networkAccessPolicy = true,
        osType = true,
        provisioningState = true,
        publicNetworkAccess = true,
        purchasePlan = purchasePlan,
        securityProfile = securityProfile,
        snapshotAccessState = true,
        supportedCapabilities = supportedCapabilities,
        supportsHibernation = true,
        timeCreated = true,
        uniqueId = true,
      },
      sku = sku,
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
    },
  },
  Snapshots_Update = {
    body = {
      properties = {
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskSizeGB = true,
        encryption = encryption,
        encryptionSettingsCollection = encryptionSettingsCollection,
        networkAccessPolicy = true,
        osType = true,
        publicNetworkAccess = true,
        snapshotAccessState = true,
        supportedCapabilities = supportedCapabilities,
        supportsHibernation = true,
      },
      sku = sku,
      tags = { ["*"] = true },
    },
  },
  Snapshots_GrantAccess = {
    body = DiskRestorePoint_GrantAccess_body,
  },
  VirtualMachines_CreateOrUpdate = {
    body = {
      etag = true,
      extendedLocation = true,
      id = true,
      identity = true,
      location = true,
      managedBy = true,
      name = true,
      placement = true,
      plan = true,
      properties = VirtualMachines_CreateOrUpdate_properties,
      resources = true,
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
      zones = true,
    },
  },
  VirtualMachines_Update = {
    body = {
      identity = true,
      plan = true,
      properties = VirtualMachines_CreateOrUpdate_properties,
      tags = { ["*"] = true },
      zones = true,
    },
  },
  VirtualMachines_Get = {
    expand = { "instanceView", "userData", "resiliencyView" },
  },
  VirtualMachines_AttachDetachDataDisks = {
    body = {
      dataDisksToAttach = { ["[]"] = {
        caching = true,
        deleteOption = true,
        diskEncryptionSet = with_id,
        diskId = true,
        lun = true,
        writeAcceleratorEnabled = true,
      } },
      dataDisksToDetach = { ["[]"] = {
        detachOption = true,
        diskId = true,
      } },
    },
  },
  Images_CreateOrUpdate = {
    body = {
      extendedLocation = true,
      id = true,
      location = true,
      name = true,
      properties = {
        hyperVGeneration = true,
        provisioningState = true,
        sourceVirtualMachine = with_id,
        storageProfile = {
          dataDisks = { ["[]"] = {
            blobUri = true,
            caching = true,
            diskEncryptionSet = with_id,
            diskSizeGB = true,
            lun = true,
            managedDisk = with_id,
            snapshot = with_id,
            storageAccountType = true,
          } },
          osDisk = {
            blobUri = true,
            caching = true,
            diskEncryptionSet = with_id,
            diskSizeGB = true,
            managedDisk = with_id,
            osState = true,
            osType = true,
            snapshot = with_id,
            storageAccountType = true,
          },
          zoneResilient = true,
        },
      },
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
    },
  },
  Galleries_CreateOrUpdate = {
    body = {
      id = true,
      identity = {
        principalId = true,
        tenantId = true,
        type = true,
        userAssignedIdentities = { ["*"] = true },
      },
      location = true,
      name = true,
      properties = {
        description = true,
        identifier = {
          uniqueName = true,
        },
        provisioningState = true,
        sharingProfile = {
          communityGalleryInfo = {
            communityGalleryEnabled = true,
            eula = true,
            publicNamePrefix = true,
            publicNames = { ["[]"] = true },
            publisherContact = true,
            publisherUri = true,
          },
          groups = { ["[]"] = {
            ids = { ["[]"] = true },
            type = true,
          } },
          permissions = true,
        },
        sharingStatus = {
          aggregatedState = true,
          summary = { ["[]"] = {
            details = true,
            region = true,
            state = true,
          } },
        },
        softDeletePolicy = {
          isSoftDeleteEnabled = true,
        },
      },
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
    },
  },
  GalleryImages_CreateOrUpdate = {
    body = {
      id = true,
      location = true,
      name = true,
      properties = {
        allowUpdateImage = true,
        architecture = true,
        description = true,
        disallowed = {
          diskTypes = { ["[]"] = true },
        },
        endOfLifeDate = true,
        eula = true,
        features = { ["[]"] = {
          name = true,
          startsAtVersion = true,
          value = true,
        } },
        hyperVGeneration = true,
        identifier = {
          offer = true,
          publisher = true,
          sku = true,
        },
        osState = true,
        osType = true,
        privacyStatementUri = true,
        provisioningState = true,
        purchasePlan = {
          name = true,
          product = true,
          publisher = true,
        },
        recommended = {
          memory = with_max_min,
          vCPUs = with_max_min,
        },
        releaseNoteUri = true,
      },
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
    },
  },
  GalleryImageVersions_CreateOrUpdate = {
    body = {
      id = true,
      location = true,
      name = true,
      properties = {
        provisioningState = true,
        publishingProfile = {
          endOfLifeDate = true,
          excludeFromLatest = true,
          publishedDate = true,
          replicaCount = true,
          replicationMode = true,
          storageAccountStrategy = true,
          storageAccountType = true,
          targetExtendedLocations = { ["[]"] = {
            encryption = encryption_2,
            extendedLocation = extendedLocation,
            extendedLocationReplicaCount = true,
            name = true,
            storageAccountType = true,
          } },
          targetRegions = { ["[]"] = {
            additionalReplicaSets = { ["[]"] = {
              regionalReplicaCount = true,
              storageAccountType = true,
            } },
            encryption = encryption_2,
            excludeFromLatest = true,
            name = true,
            regionalReplicaCount = true,
            storageAccountType = true,
          } },
        },
        replicationStatus = {
          aggregatedState = true,
          summary = { ["[]"] = {
            details = true,
            progress = true,
            region = true,
            state = true,
          } },
        },
        restore = true,
        safetyProfile = {
          allowDeletionOfReplicatedLocations = true,
          blockDeletionBeforeEndOfLife = true,
          policyViolations = { ["[]"] = {
            category = true,
            details = true,
          } },
          reportedForPolicyViolation = true,
        },
        securityProfile = {
          uefiSettings = {
            additionalSignatures = {
              db = list_with_type_value,
              dbx = list_with_type_value,
              kek = list_with_type_value,
              pk = with_type_value,
            },
            signatureTemplateNames = { ["[]"] = true },
          },
        },
        storageProfile = {
          dataDiskImages = { ["[]"] = {
            hostCaching = true,
            lun = true,
            sizeInGB = true,
            source = source,
          } },
          osDiskImage = {
            hostCaching = true,
            sizeInGB = true,
            source = source,
          },
          source = {
            communityGalleryImageId = true,
            id = true,
            uri = true,
            virtualMachineId = true,
          },
        },
        validationsProfile = {
          executedValidations = { ["[]"] = {
            executionTime = true,
            status = true,
            type = true,
            version = true,
          } },
          platformAttributes = { ["[]"] = {
            name = true,
            value = true,
          } },
          validationEtag = true,
        },
      },
      systemData = systemData,
      tags = { ["*"] = true },
      type = true,
    },
  },
  GalleryImageVersions_Get = {
    expand = { "ReplicationStatus", "UefiSettings" },
  },
  ResourceGroups_CreateOrUpdate = {
    body = {
      id = true,
      location = true,
      managedBy = true,
      name = true,
      properties = {
        provisioningState = true,
      },
      tags = { ["*"] = true },
      type = true,
    },
  },
  VirtualNetworks_CreateOrUpdate = {
    body = {
      etag = true,
      extendedLocation = extendedLocation,
      id = true,
      location = true,
      name = true,
      properties = {
        addressSpace = with_addressPrefixes_ipamPoolPrefixAllocations,
        bgpCommunities = with_regionalCommunity_virtualNetworkCommunity,
        ddosProtectionPlan = with_id,
        dhcpOptions = {
          dnsServers = { ["[]"] = true },
        },
        enableDdosProtection = true,
        enableVmProtection = true,
        encryption = with_enabled_enforcement,
        flowLogs = references,
        flowTimeoutInMinutes = true,
        ipAllocations = list_with_id,
        privateEndpointVNetPolicies = true,
        provisioningState = true,
        resourceGuid = true,
        subnets = { ["[]"] = subnets_item },
        virtualNetworkPeerings = { ["[]"] = {
          etag = true,
          id = true,
          name = true,
          properties = {
            allowForwardedTraffic = true,
            allowGatewayTransit = true,
            allowVirtualNetworkAccess = true,
            doNotVerifyRemoteGateways = true,
            enableOnlyIPv6Peering = true,
            localAddressSpace = with_addressPrefixes_ipamPoolPrefixAllocations,
            localSubnetNames = { ["[]"] = true },
            localVirtualNetworkAddressSpace = with_addressPrefixes_ipamPoolPrefixAllocations,
            peerCompleteVnets = true,
            peeringState = true,
            peeringSyncLevel = true,
            provisioningState = true,
            remoteAddressSpace = with_addressPrefixes_ipamPoolPrefixAllocations,
            remoteBgpCommunities = with_regionalCommunity_virtualNetworkCommunity,
            remoteSubnetNames = { ["[]"] = true },
            remoteVirtualNetwork = with_id,
            remoteVirtualNetworkAddressSpace = with_addressPrefixes_ipamPoolPrefixAllocations,
            remoteVirtualNetworkEncryption = with_enabled_enforcement,
            resourceGuid = true,
            useRemoteGateways = true,
          },
          type = true,
        } },
      },
      tags = { ["*"] = true },
      type = true,
    },
  },
  Subnets_CreateOrUpdate = {
    body = subnets_item,
  },
  NetworkInterfaces_CreateOrUpdate = {
    body = {
      etag = true,
      extendedLocation = extendedLocation,
      id = true,
      location = true,
      name = true,
      properties = {
        auxiliaryMode = true,
        auxiliarySku = true,
        defaultOutboundConnectivityEnabled = true,
        disableTcpStateTracking = true,
        dnsSettings = {
          appliedDnsServers = { ["[]"] = true },
          dnsServers = { ["[]"] = true },
          internalDnsNameLabel = true,
          internalDomainNameSuffix = true,
          internalFqdn = true,
        },
        dscpConfiguration = with_id,
        enableAcceleratedNetworking = true,
        enableIPForwarding = true,
        hostedWorkloads = { ["[]"] = true },
        ipConfigurations = { ["[]"] = {
          etag = true,
          id = true,
          name = true,
          properties = {
            applicationGatewayBackendAddressPools = references,
            applicationSecurityGroups = references,
            gatewayLoadBalancer = with_id,
            loadBalancerBackendAddressPools = references,
            loadBalancerInboundNatRules = references,
            primary = true,
            privateIPAddress = true,
            privateIPAddressPrefixLength = true,
            privateIPAddressVersion = true,
            privateIPAllocationMethod = true,
            privateLinkConnectionProperties = {
              fqdns = { ["[]"] = true },
              groupId = true,
              requiredMemberName = true,
            },
            provisioningState = true,
            publicIPAddress = reference,
            subnet = reference,
            virtualNetworkTaps = references,
          },
          type = true,
        } },
        macAddress = true,
        migrationPhase = true,
        networkSecurityGroup = reference,
        nicType = true,
        primary = true,
        privateEndpoint = reference,
        privateLinkService = reference,
        provisioningState = true,
        resourceGuid = true,
        tapConfigurations = { ["[]"] = {
          etag = true,
          id = true,
          name = true,
          properties = {
            provisioningState = true,
            virtualNetworkTap = reference,
          },
          type = true,
        } },
        virtualMachine = with_id,
        vnetEncryptionSupported = true,
        workloadType = true,
      },
      tags = { ["*"] = true },
      type = true,
    },
  },
  NetworkSecurityGroups_CreateOrUpdate = {
    body = {
      etag = true,
      id = true,
      location = true,
      name = true,
      properties = {
        defaultSecurityRules = defaultSecurityRules,
        flowLogs = references,
        flushConnection = true,
        networkInterfaces = references,
        provisioningState = true,
        resourceGuid = true,
        securityRules = defaultSecurityRules,
        subnets = references,
      },
      tags = { ["*"] = true },
      type = true,
    },
  },
}
