"""Body types of the registry operations whose OpenAPI files are not in
SPECS_DIR (see ../shared/azure-specs/SOURCES.md: GalleryRP.json and
ComputeRP.json were too large to copy; the Network and Resources files were
not copied), transcribed from Azure/azure-rest-api-specs, file and commit
named above each group.  Only property names and their shapes are kept
(no descriptions, enums or formats): what tools/gen_schema.py needs to tell
a known key from a typo.

Each definition is a string of space-separated fields:

    name            any value (a string, number, boolean or enum)
    name:Type       an object of the definition Type
    name:[Type]     an array of Type objects
    name:[]         an array of plain values
    name:{*}        a free-form map (tags, additionalProperties)
    name:&          a reference to another resource: an object whose id is
                    what ARM reads (its other keys, as a GET shows them,
                    are not checked)
    name:[&]        an array of such references
    @Type           the fields of Type (allOf)

@TrackedResource is common-types v3 types.json TrackedResource (stored in
SPECS_DIR, read by the generator).  A reference (&) is used wherever the
spec embeds a whole other resource (a subnet's networkSecurityGroup, a
NIC's subnet): ARM reads only its id there, and expanding it would nest
every network resource in every other.
"""

# GalleryRP.json 2025-03-03, Azure/azure-rest-api-specs @ 0db7e07f908cf50d26a0b2613f127143df8be43c,
# specification/compute/resource-manager/Microsoft.Compute/Compute/stable/2025-03-03/GalleryRP.json
GALLERY = {
    "Gallery": "@TrackedResource properties:GalleryProperties identity:GalleryIdentity",
    "GalleryProperties": "description identifier:GalleryIdentifier provisioningState sharingProfile:SharingProfile "
                         "softDeletePolicy:SoftDeletePolicy sharingStatus:SharingStatus",
    "GalleryIdentifier": "uniqueName",
    "GalleryIdentity": "principalId tenantId type userAssignedIdentities:{*}",
    "SharingProfile": "permissions groups:[SharingProfileGroup] communityGalleryInfo:CommunityGalleryInfo",
    "SharingProfileGroup": "type ids:[]",
    "CommunityGalleryInfo": "publisherUri publisherContact eula publicNamePrefix communityGalleryEnabled publicNames:[]",
    "SoftDeletePolicy": "isSoftDeleteEnabled",
    "SharingStatus": "aggregatedState summary:[RegionalSharingStatus]",
    "RegionalSharingStatus": "region state details",

    "GalleryImage": "@TrackedResource properties:GalleryImageProperties",
    "GalleryImageProperties": "description eula privacyStatementUri releaseNoteUri osType osState hyperVGeneration "
                              "endOfLifeDate identifier:GalleryImageIdentifier recommended:RecommendedMachineConfiguration "
                              "disallowed:Disallowed purchasePlan:ImagePurchasePlan provisioningState "
                              "features:[GalleryImageFeature] architecture allowUpdateImage",
    "GalleryImageIdentifier": "publisher offer sku",
    "RecommendedMachineConfiguration": "vCPUs:ResourceRange memory:ResourceRange",
    "ResourceRange": "min max",
    "Disallowed": "diskTypes:[]",
    "ImagePurchasePlan": "name publisher product",
    "GalleryImageFeature": "name value startsAtVersion",

    "GalleryImageVersion": "@TrackedResource properties:GalleryImageVersionProperties",
    "GalleryImageVersionProperties": "publishingProfile:GalleryImageVersionPublishingProfile provisioningState "
                                     "storageProfile:GalleryImageVersionStorageProfile "
                                     "safetyProfile:GalleryImageVersionSafetyProfile replicationStatus:ReplicationStatus "
                                     "securityProfile:ImageVersionSecurityProfile restore validationsProfile:ValidationsProfile",
    "GalleryImageVersionPublishingProfile": "@GalleryArtifactPublishingProfileBase",
    "GalleryArtifactPublishingProfileBase": "targetRegions:[TargetRegion] replicaCount excludeFromLatest publishedDate "
                                            "endOfLifeDate storageAccountType replicationMode "
                                            "targetExtendedLocations:[GalleryTargetExtendedLocation] storageAccountStrategy",
    "TargetRegion": "name regionalReplicaCount storageAccountType encryption:EncryptionImages excludeFromLatest "
                    "additionalReplicaSets:[AdditionalReplicaSet]",
    "AdditionalReplicaSet": "storageAccountType regionalReplicaCount",
    "GalleryTargetExtendedLocation": "name extendedLocation:GalleryExtendedLocation extendedLocationReplicaCount "
                                     "storageAccountType encryption:EncryptionImages",
    "GalleryExtendedLocation": "name type",
    "EncryptionImages": "osDiskImage:OSDiskImageEncryption dataDiskImages:[DataDiskImageEncryption]",
    "DiskImageEncryption": "diskEncryptionSetId",
    "OSDiskImageEncryption": "@DiskImageEncryption securityProfile:OSDiskImageSecurityProfile",
    "OSDiskImageSecurityProfile": "confidentialVMEncryptionType secureVMDiskEncryptionSetId",
    "DataDiskImageEncryption": "@DiskImageEncryption lun",
    "GalleryImageVersionStorageProfile": "source:GalleryArtifactVersionFullSource osDiskImage:GalleryOSDiskImage "
                                         "dataDiskImages:[GalleryDataDiskImage]",
    "GalleryArtifactVersionSource": "id uri",
    "GalleryArtifactVersionFullSource": "@GalleryArtifactVersionSource communityGalleryImageId virtualMachineId",
    "GalleryDiskImage": "sizeInGB hostCaching source:GalleryDiskImageSource",
    "GalleryDiskImageSource": "@GalleryArtifactVersionSource storageAccountId",
    "GalleryOSDiskImage": "@GalleryDiskImage",
    "GalleryDataDiskImage": "@GalleryDiskImage lun",
    "GalleryImageVersionSafetyProfile": "@GalleryArtifactSafetyProfileBase reportedForPolicyViolation "
                                        "policyViolations:[PolicyViolation] blockDeletionBeforeEndOfLife",
    "GalleryArtifactSafetyProfileBase": "allowDeletionOfReplicatedLocations",
    "PolicyViolation": "category details",
    "ReplicationStatus": "aggregatedState summary:[RegionalReplicationStatus]",
    "RegionalReplicationStatus": "region state details progress",
    "ImageVersionSecurityProfile": "uefiSettings:GalleryImageVersionUefiSettings",
    "GalleryImageVersionUefiSettings": "signatureTemplateNames:[] additionalSignatures:UefiKeySignatures",
    "UefiKeySignatures": "pk:UefiKey kek:[UefiKey] db:[UefiKey] dbx:[UefiKey]",
    "UefiKey": "type value:[]",
    "ValidationsProfile": "validationEtag executedValidations:[ExecutedValidation] platformAttributes:[PlatformAttribute]",
    "ExecutedValidation": "type status version executionTime",
    "PlatformAttribute": "name value",
}

# GalleryRP.json 2025-03-03 (as above): GalleryImageVersions_Get $expand, enum ReplicationStatusTypes.
GALLERY_EXPAND = {"GalleryImageVersions_Get": ["ReplicationStatus", "UefiSettings"]}

# ComputeRP.json 2025-11-01, Azure/azure-rest-api-specs @ 002033a67156608115600fa7d4674b441acfe1b5,
# specification/compute/resource-manager/Microsoft.Compute/Compute/stable/2025-11-01/ComputeRP.json:
# VirtualMachineUpdate = UpdateResource (tags) + plan, properties (VirtualMachineProperties, the
# same as a VirtualMachine's), identity, zones.  Its tree takes these keys of the
# VirtualMachines_CreateOrUpdate tree.
VM_UPDATE_KEYS = ["plan", "properties", "identity", "zones"]
# Images_Get's $expand is a free string there ("The expand expression to apply on the
# operation.", no enum and no values named), so it stays unchecked.
FREE_EXPAND = {"Images_Get": "ComputeRP.json 2025-11-01 declares it a free string with no values"}

# Microsoft.Network 2024-05-01, Azure/azure-rest-api-specs, under
# specification/network/resource-manager/Microsoft.Network/stable/2024-05-01/:
# virtualNetwork.json @ 4e8108cc8dd608db81c7d08502613e5917032ab7,
# networkInterface.json @ 11ae4404233fee8e1f08d3939c1462b644b29936,
# networkSecurityGroup.json @ c93887028b4d26ea3c19a1c5be394b4f69e636c3,
# network.json (Resource, SubResource, ExtendedLocation).
NETWORK = {
    "Resource": "id name type location tags:{*}",
    "SubResource": "id",
    "ExtendedLocation": "name type",

    "VirtualNetwork": "@Resource extendedLocation:ExtendedLocation properties:VirtualNetworkPropertiesFormat etag",
    "VirtualNetworkPropertiesFormat": "addressSpace:AddressSpace dhcpOptions:DhcpOptions flowTimeoutInMinutes "
                                      "subnets:[Subnet] virtualNetworkPeerings:[VirtualNetworkPeering] resourceGuid "
                                      "provisioningState enableDdosProtection enableVmProtection "
                                      "ddosProtectionPlan:SubResource bgpCommunities:VirtualNetworkBgpCommunities "
                                      "encryption:VirtualNetworkEncryption ipAllocations:[SubResource] flowLogs:[&] "
                                      "privateEndpointVNetPolicies",
    "AddressSpace": "addressPrefixes:[] ipamPoolPrefixAllocations:[IpamPoolPrefixAllocation]",
    "IpamPoolPrefixAllocation": "pool:SubResource numberOfIpAddresses allocatedAddressPrefixes:[]",
    "DhcpOptions": "dnsServers:[]",
    "VirtualNetworkBgpCommunities": "virtualNetworkCommunity regionalCommunity",
    "VirtualNetworkEncryption": "enabled enforcement",
    "VirtualNetworkPeering": "@SubResource properties:VirtualNetworkPeeringPropertiesFormat name etag type",
    "VirtualNetworkPeeringPropertiesFormat": "allowVirtualNetworkAccess allowForwardedTraffic allowGatewayTransit "
                                             "useRemoteGateways remoteVirtualNetwork:SubResource "
                                             "localAddressSpace:AddressSpace localVirtualNetworkAddressSpace:AddressSpace "
                                             "remoteAddressSpace:AddressSpace remoteVirtualNetworkAddressSpace:AddressSpace "
                                             "remoteBgpCommunities:VirtualNetworkBgpCommunities "
                                             "remoteVirtualNetworkEncryption:VirtualNetworkEncryption peeringState "
                                             "peeringSyncLevel provisioningState doNotVerifyRemoteGateways resourceGuid "
                                             "peerCompleteVnets enableOnlyIPv6Peering localSubnetNames:[] "
                                             "remoteSubnetNames:[]",
    "Subnet": "@SubResource properties:SubnetPropertiesFormat name etag type",
    "SubnetPropertiesFormat": "addressPrefix addressPrefixes:[] networkSecurityGroup:& routeTable:& "
                              "natGateway:SubResource serviceEndpoints:[ServiceEndpointPropertiesFormat] "
                              "serviceEndpointPolicies:[&] privateEndpoints:[&] ipConfigurations:[&] "
                              "ipConfigurationProfiles:[&] ipAllocations:[SubResource] "
                              "resourceNavigationLinks:[ResourceNavigationLink] "
                              "serviceAssociationLinks:[ServiceAssociationLink] delegations:[Delegation] purpose "
                              "provisioningState privateEndpointNetworkPolicies privateLinkServiceNetworkPolicies "
                              "applicationGatewayIPConfigurations:[&] sharingScope defaultOutboundAccess "
                              "ipamPoolPrefixAllocations:[IpamPoolPrefixAllocation]",
    "ServiceEndpointPropertiesFormat": "service networkIdentifier:SubResource locations:[] provisioningState",
    "ResourceNavigationLink": "@SubResource properties:ResourceNavigationLinkFormat name id etag type",
    "ResourceNavigationLinkFormat": "linkedResourceType link provisioningState",
    "ServiceAssociationLink": "@SubResource properties:ServiceAssociationLinkPropertiesFormat name etag type",
    "ServiceAssociationLinkPropertiesFormat": "linkedResourceType link provisioningState allowDelete locations:[]",
    "Delegation": "@SubResource properties:ServiceDelegationPropertiesFormat name etag type",
    "ServiceDelegationPropertiesFormat": "serviceName actions:[] provisioningState",

    "NetworkInterface": "@Resource extendedLocation:ExtendedLocation properties:NetworkInterfacePropertiesFormat etag",
    "NetworkInterfacePropertiesFormat": "virtualMachine:SubResource networkSecurityGroup:& privateEndpoint:& "
                                        "ipConfigurations:[NetworkInterfaceIPConfiguration] "
                                        "tapConfigurations:[NetworkInterfaceTapConfiguration] "
                                        "dnsSettings:NetworkInterfaceDnsSettings macAddress primary "
                                        "vnetEncryptionSupported defaultOutboundConnectivityEnabled "
                                        "enableAcceleratedNetworking disableTcpStateTracking enableIPForwarding "
                                        "hostedWorkloads:[] dscpConfiguration:SubResource resourceGuid "
                                        "provisioningState workloadType nicType privateLinkService:& migrationPhase "
                                        "auxiliaryMode auxiliarySku",
    "NetworkInterfaceIPConfiguration": "@SubResource properties:NetworkInterfaceIPConfigurationPropertiesFormat "
                                       "name etag type",
    "NetworkInterfaceIPConfigurationPropertiesFormat": "gatewayLoadBalancer:SubResource virtualNetworkTaps:[&] "
                                                       "applicationGatewayBackendAddressPools:[&] "
                                                       "loadBalancerBackendAddressPools:[&] "
                                                       "loadBalancerInboundNatRules:[&] privateIPAddress "
                                                       "privateIPAddressPrefixLength privateIPAllocationMethod "
                                                       "privateIPAddressVersion subnet:& primary publicIPAddress:& "
                                                       "applicationSecurityGroups:[&] provisioningState "
                                                       "privateLinkConnectionProperties:"
                                                       "NetworkInterfaceIPConfigurationPrivateLinkConnectionProperties",
    "NetworkInterfaceIPConfigurationPrivateLinkConnectionProperties": "groupId requiredMemberName fqdns:[]",
    "NetworkInterfaceTapConfiguration": "@SubResource properties:NetworkInterfaceTapConfigurationPropertiesFormat "
                                        "name etag type",
    "NetworkInterfaceTapConfigurationPropertiesFormat": "virtualNetworkTap:& provisioningState",
    "NetworkInterfaceDnsSettings": "dnsServers:[] appliedDnsServers:[] internalDnsNameLabel internalFqdn "
                                   "internalDomainNameSuffix",

    "NetworkSecurityGroup": "@Resource properties:NetworkSecurityGroupPropertiesFormat etag",
    "NetworkSecurityGroupPropertiesFormat": "flushConnection securityRules:[SecurityRule] "
                                            "defaultSecurityRules:[SecurityRule] networkInterfaces:[&] subnets:[&] "
                                            "flowLogs:[&] resourceGuid provisioningState",
    "SecurityRule": "@SubResource properties:SecurityRulePropertiesFormat name etag type",
    "SecurityRulePropertiesFormat": "description protocol sourcePortRange destinationPortRange sourceAddressPrefix "
                                    "sourceAddressPrefixes:[] sourceApplicationSecurityGroups:[&] "
                                    "destinationAddressPrefix destinationAddressPrefixes:[] "
                                    "destinationApplicationSecurityGroups:[&] sourcePortRanges:[] "
                                    "destinationPortRanges:[] access priority direction provisioningState",
}

# resources.json 2021-04-01, Azure/azure-rest-api-specs @ 7ab3f07d237b768f509ad8753f6f16f62dc68d5b,
# specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json
RESOURCES = {
    "ResourceGroup": "id name type properties:ResourceGroupProperties location managedBy tags:{*}",
    "ResourceGroupProperties": "provisioningState",
}

# operationId -> (definitions, body type)
OPERATIONS = {
    "Galleries_CreateOrUpdate": (GALLERY, "Gallery"),
    "GalleryImages_CreateOrUpdate": (GALLERY, "GalleryImage"),
    "GalleryImageVersions_CreateOrUpdate": (GALLERY, "GalleryImageVersion"),
    "VirtualNetworks_CreateOrUpdate": (NETWORK, "VirtualNetwork"),
    "Subnets_CreateOrUpdate": (NETWORK, "Subnet"),
    "NetworkInterfaces_CreateOrUpdate": (NETWORK, "NetworkInterface"),
    "NetworkSecurityGroups_CreateOrUpdate": (NETWORK, "NetworkSecurityGroup"),
    "ResourceGroups_CreateOrUpdate": (RESOURCES, "ResourceGroup"),
}
