#!/usr/bin/python3
"""`az` with its compute profile pointed at what Debian's bundled SDK has.

Debian's azure-cli 2.45 asks for Microsoft.Compute 2022-11-01, but the
azure-mgmt-compute it ships (29.0.0) stops at 2022-08-01, so several
restore-point commands fail with ModuleNotFoundError (...v2022_11_01).  This
wrapper lowers the 'latest' profile's compute versions to 2022-08-01 in this
process only and then runs the CLI exactly as /usr/bin/az does.  Nothing on
disk changes.  Usage: /usr/bin/python3 az_cli.py <az arguments>
"""
import os
import runpy
import sys

from azure.cli.core.profiles import ResourceType
from azure.cli.core.profiles._shared import AZURE_API_PROFILES, SDKProfile

COMPUTE = os.environ.get("AZRP_AZ_COMPUTE_API", "2022-08-01")

profile = AZURE_API_PROFILES["latest"][ResourceType.MGMT_COMPUTE]
if isinstance(profile, SDKProfile):
    for group, version in list(profile.profile.items()):
        # the default (None) and any group newer than the bundled SDK
        if group is None or version > COMPUTE:
            profile.profile[group] = COMPUTE
else:
    AZURE_API_PROFILES["latest"][ResourceType.MGMT_COMPUTE] = COMPUTE

os.environ.setdefault("AZ_INSTALLER", "DEB")
sys.argv[0] = "az"
runpy.run_module("azure.cli")
