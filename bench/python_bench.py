#!/usr/bin/python3
"""One side of bench/restore_points.lua: Microsoft's Python SDK
(Debian python3-azure: azure-mgmt-compute 29, azure-core 1.26).

    AZRP_BENCH_URL=https://127.0.0.1:PORT AZRP_BENCH_CA=ca.pem \\
      /usr/bin/python3 bench/python_bench.py startup | loop COUNT | concurrent N TAG | copies N TAG INTERVAL

Prints one JSON line.  The token comes from the emulator's Entra endpoint
(client credentials) through a minimal requests-based credential, as in
spec/conformance/python_flow.py.  `concurrent` begins N pollers
(begin_create: the initial PUT, then azure-core polls each operation in a
thread of its own) and waits for every result; polling_interval=1 is used
only when the server sends no Retry-After (the emulator always does).
`copies` (bench/fleet.lua) begins N cross-region copies (begin_create with
sourceRestorePoint into rpc-dr-00i), waits for their pollers, then follows
replication as a user script does: every INTERVAL seconds, a
get(..., expand="instanceView") of each copy not yet at 100 %.
"""
import json
import os
import sys
import time

import requests
from azure.core.credentials import AccessToken
from azure.mgmt.compute import ComputeManagementClient

TENANT = "11111111-1111-4111-8111-111111111111"
SUB = "00000000-0000-4000-8000-000000000001"
RG = "rg-prod"


class Credential:
    def __init__(self, url, verify):
        self.url = "%s/%s/oauth2/v2.0/token" % (url, TENANT)
        self.verify = verify
        self.token = None

    def get_token(self, *scopes, **_kwargs):
        if self.token and self.token.expires_on - 300 > time.time():
            return self.token
        r = requests.post(self.url, data={
            "grant_type": "client_credentials", "scope": " ".join(scopes),
            "client_id": "22222222-2222-4222-8222-222222222222",
            "client_secret": "azrp-emulator-secret"}, verify=self.verify, timeout=30)
        r.raise_for_status()
        body = r.json()
        self.token = AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))
        return self.token


def anon_kib():
    """KiB of anonymous (private) resident memory now (RssAnon)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def coll(i):
    return "rpc-%03d" % i


def main():
    url, ca = os.environ["AZRP_BENCH_URL"], os.environ.get("AZRP_BENCH_CA") or True
    mode = sys.argv[1] if len(sys.argv) > 1 else "startup"
    client = ComputeManagementClient(Credential(url, ca), SUB, base_url=url,
                                     connection_verify=ca, polling_interval=1)

    def get():
        return client.restore_point_collections.get(RG, coll(1))

    if mode == "startup":
        out = {"name": get().name}
    elif mode == "loop":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
        for _ in range(20):
            get()
        t0, c0 = time.monotonic(), time.process_time()
        for _ in range(n):
            get()
        out = {"requests": n, "ms_per_request": (time.monotonic() - t0) * 1000 / n,
               "cpu_ms_per_request": (time.process_time() - c0) * 1000 / n}
    elif mode == "concurrent":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
        tag = sys.argv[3] if len(sys.argv) > 3 else "python"
        t0 = time.monotonic()
        pollers = [client.restore_points.begin_create(RG, coll(i), "rp-" + tag, {}, polling_interval=1)
                   for i in range(1, n + 1)]
        ok = 0
        for i, p in enumerate(pollers, 1):
            try:
                rp = p.result()
                if rp.provisioning_state == "Succeeded":
                    ok += 1
            except Exception as exc:  # reported, counted as not ok
                print("restore point %d: %s" % (i, exc), file=sys.stderr)
        out = {"n": n, "ok": ok, "seconds": time.monotonic() - t0, "anon_kib": anon_kib()}
    elif mode == "copies":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
        tag = sys.argv[3] if len(sys.argv) > 3 else "python"
        interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
        src = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/restorePointCollections/%s"
               "/restorePoints/rp-src-%s")
        t0 = time.monotonic()
        pollers = [client.restore_points.begin_create(
            RG, "rpc-dr-%03d" % i, "rp-copy-" + tag,
            {"properties": {"sourceRestorePoint": {"id": src % (SUB, RG, coll(i), tag)}}}, polling_interval=1)
                   for i in range(1, n + 1)]
        pending, ok = set(), 0
        for i, p in enumerate(pollers, 1):
            try:
                p.result()
                pending.add(i)
            except Exception as exc:  # reported; the copy is then not followed
                print("copy %d: %s" % (i, exc), file=sys.stderr)
        while pending:
            for i in sorted(pending):
                rp = client.restore_points.get(RG, "rpc-dr-%03d" % i, "rp-copy-" + tag, expand="instanceView")
                drps = rp.instance_view.disk_restore_points if rp.instance_view else []
                if drps and all(d.replication_status.completion_percent == 100 for d in drps):
                    pending.discard(i)
                    ok += 1
            if pending:
                time.sleep(interval)
            if time.monotonic() - t0 > 600:
                print("copies: %d not at 100 %% after 600 s" % len(pending), file=sys.stderr)
                break
        out = {"n": n, "ok": ok, "seconds": time.monotonic() - t0, "anon_kib": anon_kib()}
    else:
        sys.exit("mode: startup | loop COUNT | concurrent N TAG | copies N TAG INTERVAL")
    client.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
