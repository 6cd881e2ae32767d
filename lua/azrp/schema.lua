-- GENERATED FILE, do not edit: regenerate with
--     python3 tools/gen_schema.py [SPECS_DIR] > lua/azrp/schema.lua
-- from Microsoft's OpenAPI files in Azure/azure-rest-api-specs (a copy in
-- SPECS_DIR, by default /work/shared/azure-specs; see its SOURCES.md):
-- DiskRP.json 2026-03-02 (complete) and common-types v3 types.json; for
-- ComputeRP 2025-11-01 and GalleryRP 2025-03-03 the stored examples' request
-- and GET response bodies plus the properties listed in
-- ../reference/api-reference.md (transcribed in the generator).
--
-- operationId -> { body = <tree>, expand = { <$expand values> } }
-- A tree node is true (any value) or a table: an object's allowed keys,
-- with ["*"] = true when other keys are allowed too (free-form maps such as
-- tags, objects the sources list only in part), or ["[]"] = <node> for an
-- array and its items.  Read-only properties are allowed (ARM ignores them
-- on PUT, and GET bodies are sent back).
--
-- Not described by the stored sources, so not checked:
--   VirtualMachines_Update (body), Images_Get ($expand)
--   Galleries_CreateOrUpdate (body), GalleryImages_CreateOrUpdate (body)
--   GalleryImageVersions_Get ($expand), ResourceGroups_CreateOrUpdate (body)
--   VirtualNetworks_CreateOrUpdate (body), Subnets_CreateOrUpdate (body)
--   NetworkInterfaces_CreateOrUpdate (body)
--   NetworkSecurityGroups_CreateOrUpdate (body)
return {
  RestorePointCollections_CreateOrUpdate = {
    body = {
      id = true,
      location = true,
      name = true,
      properties = {
        instantAccess = true,
        provisioningState = true,
        restorePointCollectionId = true,
        restorePoints = { ["[]"] = {
          id = true,
          name = true,
          properties = {
            consistencyMode = true,
            excludeDisks = { ["[]"] = {
              id = true,
            } },
            instanceView = {
              diskRestorePoints = { ["[]"] = {
                id = true,
                replicationStatus = {
                  completionPercent = true,
                  status = {
                    code = true,
                    displayStatus = true,
                    level = true,
                    message = true,
                    time = true,
                  },
                },
                snapshotAccessState = true,
              } },
              statuses = { ["[]"] = {
                code = true,
                displayStatus = true,
                level = true,
                message = true,
                time = true,
              } },
            },
            instantAccessDurationMinutes = true,
            instantAccessStatus = true,
            provisioningState = true,
            sourceMetadata = {
              diagnosticsProfile = {
                bootDiagnostics = {
                  enabled = true,
                  storageUri = true,
                },
              },
              hardwareProfile = {
                vmSize = true,
                vmSizeProperties = {
                  vCPUsAvailable = true,
                  vCPUsPerCore = true,
                },
              },
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
                  diskRestorePoint = {
                    encryption = {
                      diskEncryptionSet = {
                        id = true,
                      },
                      type = true,
                    },
                    id = true,
                    sourceDiskRestorePoint = {
                      id = true,
                    },
                  },
                  diskSizeGB = true,
                  lun = true,
                  managedDisk = {
                    diskEncryptionSet = {
                      id = true,
                    },
                    id = true,
                    securityProfile = true,
                    storageAccountType = true,
                  },
                  name = true,
                  writeAcceleratorEnabled = true,
                } },
                diskControllerType = true,
                osDisk = {
                  caching = true,
                  diskRestorePoint = {
                    encryption = {
                      diskEncryptionSet = {
                        id = true,
                      },
                      type = true,
                    },
                    id = true,
                    sourceDiskRestorePoint = {
                      id = true,
                    },
                  },
                  diskSizeGB = true,
                  encryptionSettings = true,
                  managedDisk = {
                    diskEncryptionSet = {
                      id = true,
                    },
                    id = true,
                    securityProfile = true,
                    storageAccountType = true,
                  },
                  name = true,
                  osType = true,
                  writeAcceleratorEnabled = true,
                },
              },
              userData = true,
              vmId = true,
            },
            sourceRestorePoint = {
              id = true,
            },
            timeCreated = true,
          },
          type = true,
        } },
        source = {
          id = true,
          location = true,
        },
      },
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
      tags = { ["*"] = true },
      type = true,
    },
  },
  RestorePointCollections_Update = {
    body = {
      properties = {
        instantAccess = true,
        provisioningState = true,
        restorePointCollectionId = true,
        restorePoints = { ["[]"] = {
          id = true,
          name = true,
          properties = {
            consistencyMode = true,
            excludeDisks = { ["[]"] = {
              id = true,
            } },
            instanceView = {
              diskRestorePoints = { ["[]"] = {
                id = true,
                replicationStatus = {
                  completionPercent = true,
                  status = {
                    code = true,
                    displayStatus = true,
                    level = true,
                    message = true,
                    time = true,
                  },
                },
                snapshotAccessState = true,
              } },
              statuses = { ["[]"] = {
                code = true,
                displayStatus = true,
                level = true,
                message = true,
                time = true,
              } },
            },
            instantAccessDurationMinutes = true,
            instantAccessStatus = true,
            provisioningState = true,
            sourceMetadata = {
              diagnosticsProfile = {
                bootDiagnostics = {
                  enabled = true,
                  storageUri = true,
                },
              },
              hardwareProfile = {
                vmSize = true,
                vmSizeProperties = {
                  vCPUsAvailable = true,
                  vCPUsPerCore = true,
                },
              },
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
                  diskRestorePoint = {
                    encryption = {
                      diskEncryptionSet = {
                        id = true,
                      },
                      type = true,
                    },
                    id = true,
                    sourceDiskRestorePoint = {
                      id = true,
                    },
                  },
                  diskSizeGB = true,
                  lun = true,
                  managedDisk = {
                    diskEncryptionSet = {
                      id = true,
                    },
                    id = true,
                    securityProfile = true,
                    storageAccountType = true,
                  },
                  name = true,
                  writeAcceleratorEnabled = true,
                } },
                diskControllerType = true,
                osDisk = {
                  caching = true,
                  diskRestorePoint = {
                    encryption = {
                      diskEncryptionSet = {
                        id = true,
                      },
                      type = true,
                    },
                    id = true,
                    sourceDiskRestorePoint = {
                      id = true,
                    },
                  },
                  diskSizeGB = true,
                  encryptionSettings = true,
                  managedDisk = {
                    diskEncryptionSet = {
                      id = true,
                    },
                    id = true,
                    securityProfile = true,
                    storageAccountType = true,
                  },
                  name = true,
                  osType = true,
                  writeAcceleratorEnabled = true,
                },
              },
              userData = true,
              vmId = true,
            },
            sourceRestorePoint = {
              id = true,
            },
            timeCreated = true,
          },
          type = true,
        } },
        source = {
          id = true,
          location = true,
        },
      },
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
      properties = {
        consistencyMode = true,
        excludeDisks = { ["[]"] = {
          id = true,
        } },
        instanceView = {
          diskRestorePoints = { ["[]"] = {
            id = true,
            replicationStatus = {
              completionPercent = true,
              status = {
                code = true,
                displayStatus = true,
                level = true,
                message = true,
                time = true,
              },
            },
            snapshotAccessState = true,
          } },
          statuses = { ["[]"] = {
            code = true,
            displayStatus = true,
            level = true,
            message = true,
            time = true,
          } },
        },
        instantAccessDurationMinutes = true,
        instantAccessStatus = true,
        provisioningState = true,
        sourceMetadata = {
          diagnosticsProfile = {
            bootDiagnostics = {
              enabled = true,
              storageUri = true,
            },
          },
          hardwareProfile = {
            vmSize = true,
            vmSizeProperties = {
              vCPUsAvailable = true,
              vCPUsPerCore = true,
            },
          },
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
              diskRestorePoint = {
                encryption = {
                  diskEncryptionSet = {
                    id = true,
                  },
                  type = true,
                },
                id = true,
                sourceDiskRestorePoint = {
                  id = true,
                },
              },
              diskSizeGB = true,
              lun = true,
              managedDisk = {
                diskEncryptionSet = {
                  id = true,
                },
                id = true,
                securityProfile = true,
                storageAccountType = true,
              },
              name = true,
              writeAcceleratorEnabled = true,
            } },
            diskControllerType = true,
            osDisk = {
              caching = true,
              diskRestorePoint = {
                encryption = {
                  diskEncryptionSet = {
                    id = true,
                  },
                  type = true,
                },
                id = true,
                sourceDiskRestorePoint = {
                  id = true,
                },
              },
              diskSizeGB = true,
              encryptionSettings = true,
              managedDisk = {
                diskEncryptionSet = {
                  id = true,
                },
                id = true,
                securityProfile = true,
                storageAccountType = true,
              },
              name = true,
              osType = true,
              writeAcceleratorEnabled = true,
            },
          },
          userData = true,
          vmId = true,
        },
        sourceRestorePoint = {
          id = true,
        },
        timeCreated = true,
      },
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
      type = true,
    },
  },
  RestorePoints_Get = {
    expand = { "instanceView" },
  },
  DiskRestorePoint_GrantAccess = {
    body = {
      access = true,
      durationInSeconds = true,
      fileFormat = true,
      getSecureVMGuestStateSAS = true,
    },
  },
  Disks_CreateOrUpdate = {
    body = {
      extendedLocation = {
        name = true,
        type = true,
      },
      id = true,
      location = true,
      managedBy = true,
      managedByExtended = { ["[]"] = true },
      name = true,
      properties = {
        LastOwnershipUpdateTime = true,
        availabilityPolicy = {
          actionOnDiskDelay = true,
        },
        burstingEnabled = true,
        burstingEnabledTime = true,
        completionPercent = true,
        creationData = {
          createOption = true,
          elasticSanResourceId = true,
          galleryImageReference = {
            communityGalleryImageId = true,
            id = true,
            lun = true,
            sharedGalleryImageId = true,
          },
          imageReference = {
            communityGalleryImageId = true,
            id = true,
            lun = true,
            sharedGalleryImageId = true,
          },
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
        },
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskIOPSReadOnly = true,
        diskIOPSReadWrite = true,
        diskMBpsReadOnly = true,
        diskMBpsReadWrite = true,
        diskSizeBytes = true,
        diskSizeGB = true,
        diskState = true,
        encryption = {
          diskEncryptionSetId = true,
          type = true,
        },
        encryptionSettingsCollection = {
          enabled = true,
          encryptionSettings = { ["[]"] = {
            diskEncryptionKey = {
              secretUrl = true,
              sourceVault = {
                id = true,
              },
            },
            keyEncryptionKey = {
              keyUrl = true,
              sourceVault = {
                id = true,
              },
            },
          } },
          encryptionSettingsVersion = true,
        },
        hyperVGeneration = true,
        maxShares = true,
        networkAccessPolicy = true,
        optimizedForFrequentAttach = true,
        osType = true,
        propertyUpdatesInProgress = {
          targetTier = true,
        },
        provisioningState = true,
        publicNetworkAccess = true,
        purchasePlan = {
          name = true,
          product = true,
          promotionCode = true,
          publisher = true,
        },
        securityProfile = {
          secureVMDiskEncryptionSetId = true,
          securityType = true,
        },
        shareInfo = { ["[]"] = {
          vmUri = true,
        } },
        supportedCapabilities = {
          acceleratedNetwork = true,
          architecture = true,
          diskControllerTypes = true,
          supportedSecurityOption = true,
        },
        supportsHibernation = true,
        tier = true,
        timeCreated = true,
        uniqueId = true,
      },
      sku = {
        name = true,
        tier = true,
      },
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
      tags = { ["*"] = true },
      type = true,
      zones = { ["[]"] = true },
    },
  },
  Disks_Update = {
    body = {
      properties = {
        availabilityPolicy = {
          actionOnDiskDelay = true,
        },
        burstingEnabled = true,
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskIOPSReadOnly = true,
        diskIOPSReadWrite = true,
        diskMBpsReadOnly = true,
        diskMBpsReadWrite = true,
        diskSizeGB = true,
        encryption = {
          diskEncryptionSetId = true,
          type = true,
        },
        encryptionSettingsCollection = {
          enabled = true,
          encryptionSettings = { ["[]"] = {
            diskEncryptionKey = {
              secretUrl = true,
              sourceVault = {
                id = true,
              },
            },
            keyEncryptionKey = {
              keyUrl = true,
              sourceVault = {
                id = true,
              },
            },
          } },
          encryptionSettingsVersion = true,
        },
        maxShares = true,
        networkAccessPolicy = true,
        optimizedForFrequentAttach = true,
        osType = true,
        propertyUpdatesInProgress = {
          targetTier = true,
        },
        publicNetworkAccess = true,
        purchasePlan = {
          name = true,
          product = true,
          promotionCode = true,
          publisher = true,
        },
        supportedCapabilities = {
          acceleratedNetwork = true,
          architecture = true,
          diskControllerTypes = true,
          supportedSecurityOption = true,
        },
        supportsHibernation = true,
        tier = true,
      },
      sku = {
        name = true,
        tier = true,
      },
      tags = { ["*"] = true },
    },
  },
  Disks_GrantAccess = {
    body = {
      access = true,
      durationInSeconds = true,
      fileFormat = true,
      getSecureVMGuestStateSAS = true,
    },
  },
  Snapshots_CreateOrUpdate = {
    body = {
      extendedLocation = {
        name = true,
        type = true,
      },
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
        creationData = {
          createOption = true,
          elasticSanResourceId = true,
          galleryImageReference = {
            communityGalleryImageId = true,
            id = true,
            lun = true,
            sharedGalleryImageId = true,
          },
          imageReference = {
            communityGalleryImageId = true,
            id = true,
            lun = true,
            sharedGalleryImageId = true,
          },
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
        },
        dataAccessAuthMode = true,
        diskAccessId = true,
        diskSizeBytes = true,
        diskSizeGB = true,
        diskState = true,
        encryption = {
          diskEncryptionSetId = true,
          type = true,
        },
        encryptionSettingsCollection = {
          enabled = true,
          encryptionSettings = { ["[]"] = {
            diskEncryptionKey = {
              secretUrl = true,
              sourceVault = {
                id = true,
              },
            },
            keyEncryptionKey = {
              keyUrl = true,
              sourceVault = {
                id = true,
              },
            },
          } },
          encryptionSettingsVersion = true,
        },
        hyperVGeneration = true,
        incremental = true,
        incrementalSnapshotFamilyId = true,
        networkAccessPolicy = true,
        osType = true,
        provisioningState = true,
        publicNetworkAccess = true,
        purchasePlan = {
          name = true,
          product = true,
          promotionCode = true,
          publisher = true,
        },
        securityProfile = {
          secureVMDiskEncryptionSetId = true,
          securityType = true,
        },
        snapshotAccessState = true,
        supportedCapabilities = {
          acceleratedNetwork = true,
          architecture = true,
          diskControllerTypes = true,
          supportedSecurityOption = true,
        },
        supportsHibernation = true,
        timeCreated = true,
        uniqueId = true,
      },
      sku = {
        name = true,
        tier = true,
      },
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
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
        encryption = {
          diskEncryptionSetId = true,
          type = true,
        },
        encryptionSettingsCollection = {
          enabled = true,
          encryptionSettings = { ["[]"] = {
            diskEncryptionKey = {
              secretUrl = true,
              sourceVault = {
                id = true,
              },
            },
            keyEncryptionKey = {
              keyUrl = true,
              sourceVault = {
                id = true,
              },
            },
          } },
          encryptionSettingsVersion = true,
        },
        networkAccessPolicy = true,
        osType = true,
        publicNetworkAccess = true,
        snapshotAccessState = true,
        supportedCapabilities = {
          acceleratedNetwork = true,
          architecture = true,
          diskControllerTypes = true,
          supportedSecurityOption = true,
        },
        supportsHibernation = true,
      },
      sku = {
        name = true,
        tier = true,
      },
      tags = { ["*"] = true },
    },
  },
  Snapshots_GrantAccess = {
    body = {
      access = true,
      durationInSeconds = true,
      fileFormat = true,
      getSecureVMGuestStateSAS = true,
    },
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
      properties = {
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
        availabilitySet = {
          id = true,
        },
        diagnosticsProfile = {
          ["*"] = true,
          bootDiagnostics = {
            enabled = true,
            storageUri = true,
          },
        },
        extensionsTimeBudget = true,
        hardwareProfile = {
          vmSize = true,
          vmSizeProperties = {
            vCPUsAvailable = true,
            vCPUsPerCore = true,
          },
        },
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
        proximityPlacementGroup = {
          ["*"] = true,
          id = true,
        },
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
            managedDisk = {
              diskEncryptionSet = {
                id = true,
              },
              id = true,
              securityProfile = true,
              storageAccountType = true,
            },
            name = true,
            sourceResource = {
              id = true,
            },
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
            managedDisk = {
              diskEncryptionSet = {
                id = true,
              },
              id = true,
              securityProfile = true,
              storageAccountType = true,
            },
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
      },
      resources = true,
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
      tags = { ["*"] = true },
      type = true,
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
        diskEncryptionSet = {
          id = true,
        },
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
        sourceVirtualMachine = {
          id = true,
        },
        storageProfile = {
          dataDisks = { ["[]"] = {
            blobUri = true,
            caching = true,
            diskEncryptionSet = {
              id = true,
            },
            diskSizeGB = true,
            lun = true,
            managedDisk = {
              id = true,
            },
            snapshot = {
              id = true,
            },
            storageAccountType = true,
          } },
          osDisk = {
            blobUri = true,
            caching = true,
            diskEncryptionSet = {
              id = true,
            },
            diskSizeGB = true,
            managedDisk = {
              id = true,
            },
            osState = true,
            osType = true,
            snapshot = {
              id = true,
            },
            storageAccountType = true,
          },
          zoneResilient = true,
        },
      },
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
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
        ["*"] = true,
        provisioningState = true,
        publishingProfile = {
          ["*"] = true,
          publishedDate = true,
          replicaCount = true,
          storageAccountType = true,
          targetRegions = { ["[]"] = {
            ["*"] = true,
            encryption = {
              ["*"] = true,
              dataDiskImages = { ["[]"] = {
                ["*"] = true,
                diskEncryptionSetId = true,
                lun = true,
              } },
              osDiskImage = {
                ["*"] = true,
                diskEncryptionSetId = true,
              },
            },
            excludeFromLatest = true,
            name = true,
            regionalReplicaCount = true,
            storageAccountType = true,
          } },
        },
        replicationStatus = true,
        safetyProfile = {
          ["*"] = true,
          allowDeletionOfReplicatedLocations = true,
          blockDeletionBeforeEndOfLife = true,
          policyViolations = true,
          reportedForPolicyViolation = true,
        },
        storageProfile = {
          ["*"] = true,
          dataDiskImages = { ["[]"] = {
            ["*"] = true,
            hostCaching = true,
            lun = true,
            sizeInGB = true,
            source = {
              ["*"] = true,
              id = true,
            },
          } },
          osDiskImage = {
            ["*"] = true,
            hostCaching = true,
            sizeInGB = true,
            source = {
              ["*"] = true,
              id = true,
            },
          },
          source = {
            ["*"] = true,
            id = true,
          },
        },
      },
      systemData = {
        createdAt = true,
        createdBy = true,
        createdByType = true,
        lastModifiedAt = true,
        lastModifiedBy = true,
        lastModifiedByType = true,
      },
      tags = { ["*"] = true },
      type = true,
    },
  },
}
