#!/usr/bin/python3
"""Conformance flow: Microsoft's Python SDK (Debian python3-azure) drives the
restore-point lifecycle end to end against an ARM endpoint.

Run with Debian's interpreter (a pyenv python on PATH does not see
/usr/lib/python3/dist-packages):

    /usr/bin/python3 spec/conformance/python_flow.py --ready-file /tmp/x/ready.json
    /usr/bin/python3 spec/conformance/python_flow.py --url https://127.0.0.1:PORT --ca-file ca.pem

Against real Azure: --url https://management.azure.com
--authority https://login.microsoftonline.com --no-emulator-admin plus the
AZRP_* variables below for the ids, names and secret.

Every SDK result is asserted; the script prints one line per step with its
duration and exits non-zero when any step failed.  Best-effort cleanup runs
when the flow stops early.
"""
import argparse
import base64
import inspect
import json
import logging
import os
import sys
import time
import traceback
import urllib.parse

if sys.version_info < (3, 8):  # pragma: no cover
    sys.exit("python_flow.py needs Python 3.8+ (use /usr/bin/python3)")

try:
    import requests
    from azure.core.credentials import AccessToken
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.mgmt.compute import ComputeManagementClient
except ImportError as exc:  # pragma: no cover
    sys.exit("python_flow.py: %s (install Debian's python3-azure and run "
             "/usr/bin/python3)" % exc)

SEED = {
    "tenant": "11111111-1111-4111-8111-111111111111",
    "subscription": "00000000-0000-4000-8000-000000000001",
    "client_id": "22222222-2222-4222-8222-222222222222",
    "secret": "azrp-emulator-secret",
}
ARM_SCOPE = "https://management.azure.com/.default"


def env(name, default):
    value = os.environ.get(name)
    return value if value else default


# ---------------------------------------------------------------------------
# Steps, timings and assertions

class FlowFailure(Exception):
    pass


def check(cond, message, *args):
    if not cond:
        raise FlowFailure(message % args if args else message)


def same_id(a, b):
    """ARM ids are case-insensitive (Azure upper-cases resource groups)."""
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


def describe(exc):
    if isinstance(exc, HttpResponseError):
        parts = ["%s: HTTP %s" % (type(exc).__name__, exc.status_code)]
        err = getattr(exc, "error", None)
        if err is not None and getattr(err, "code", None):
            parts.append("code=%s" % err.code)
        resp = exc.response
        if resp is not None and resp.request is not None:
            parts.append("request=%s %s" % (resp.request.method, resp.request.url))
        if resp is not None:
            try:
                body = resp.text()
            except Exception:  # noqa: BLE001
                body = None
            if body:
                parts.append("body=%s" % body[:600])
        else:
            parts.append(str(exc).splitlines()[0] if str(exc) else "")
        return " ".join(parts)
    text = str(exc) or type(exc).__name__
    return "%s: %s" % (type(exc).__name__, text)


class Flow:
    def __init__(self, name):
        self.name = name
        self.results = []        # (step, ok, seconds, detail)
        self.started = time.monotonic()

    def step(self, name, fn, fatal=True):
        t0 = time.monotonic()
        try:
            value = fn()
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            dt = time.monotonic() - t0
            detail = describe(exc)
            self.results.append((name, False, dt, detail))
            print("FAIL %-36s %7.3fs  %s" % (name, dt, detail), flush=True)
            if os.environ.get("AZRP_CONF_TRACEBACK"):
                traceback.print_exc()
            if fatal:
                raise FlowFailure(name) from exc
            return None
        dt = time.monotonic() - t0
        note = ""
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
            value, note = value
        self.results.append((name, True, dt, note))
        print("ok   %-36s %7.3fs  %s" % (name, dt, note), flush=True)
        return value

    @property
    def failed(self):
        return [r for r in self.results if not r[1]]

    def summary(self):
        total = time.monotonic() - self.started
        print("--- %s timings ---" % self.name)
        for name, ok, dt, _ in self.results:
            print("  %-38s %8.3fs %s" % (name, dt, "" if ok else "FAILED"))
        print("  %-38s %8.3fs" % ("total", total))
        return total



RETRY_STATUSES = (408, 429, 500, 502, 503, 504)


def http(method, url, **kwargs):
    """requests with the retry policy of the Azure SDKs, for the calls the
    SDK does not make (token, SAS blob reads, emulator admin): up to 3
    retries on 408/429/5xx and connection errors, Retry-After honoured."""
    kwargs.setdefault("timeout", 60)
    for attempt in range(4):
        try:
            resp = requests.request(method, url, **kwargs)
        except requests.ConnectionError:
            if attempt == 3:
                raise
            time.sleep(0.8 * 2 ** attempt)
            continue
        if resp.status_code not in RETRY_STATUSES or attempt == 3:
            return resp
        try:
            delay = float(resp.headers.get("Retry-After", ""))
        except ValueError:
            delay = 0.8 * 2 ** attempt
        time.sleep(min(max(delay, 0.0), 30.0))
    return resp

# ---------------------------------------------------------------------------
# Credentials

class TokenEndpointCredential:
    """Minimal azure.core TokenCredential: client_credentials against
    {authority}/{tenant}/oauth2/v2.0/token with requests."""

    def __init__(self, authority, tenant, client_id, secret, verify):
        self.url = "%s/%s/oauth2/v2.0/token" % (authority.rstrip("/"), tenant)
        self.client_id, self.secret, self.verify = client_id, secret, verify
        self._cached = {}

    def get_token(self, *scopes, **_kwargs):
        key = " ".join(scopes)
        tok = self._cached.get(key)
        if tok and tok.expires_on - 300 > time.time():
            return tok
        resp = http("POST", self.url, data={
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.secret,
            "scope": key,
        }, verify=self.verify, timeout=30)
        if resp.status_code != 200:
            raise RuntimeError("token endpoint %s answered %s: %s"
                               % (self.url, resp.status_code, resp.text[:300]))
        body = resp.json()
        check(body.get("token_type", "").lower() == "bearer",
              "token_type is %r, expected Bearer", body.get("token_type"))
        expires_in = int(body["expires_in"])
        tok = AccessToken(body["access_token"], int(time.time()) + expires_in)
        self._cached[key] = tok
        return tok

    def close(self):
        pass


def identity_credential(cfg):
    """azure.identity.ClientSecretCredential pointed at cfg.authority, with
    MSAL's Entra instance discovery off (the keyword is instance_discovery in
    azure-identity 1.13.0b2, disable_instance_discovery from 1.13.0 on)."""
    from azure.identity import ClientSecretCredential
    from azure.identity._internal.msal_credentials import MsalCredential
    kwargs = {"authority": cfg.authority, "connection_verify": cfg.verify}
    params = inspect.signature(MsalCredential.__init__).parameters
    if "disable_instance_discovery" in params:
        kwargs["disable_instance_discovery"] = True
    elif "instance_discovery" in params:
        kwargs["instance_discovery"] = False
    return ClientSecretCredential(cfg.tenant, cfg.client_id, cfg.secret, **kwargs)


# ---------------------------------------------------------------------------
# Emulator admin API (only when --emulator-admin)

def admin_url(cfg, disk_id, action):
    return "%s/_emulator/disks/%s/%s" % (
        cfg.url, urllib.parse.quote(disk_id, safe=""), action)


def admin_sha256(cfg, disk_id):
    resp = http("GET", admin_url(cfg, disk_id, "sha256"), verify=cfg.verify)
    check(resp.status_code == 200, "GET %s -> %s %s", resp.url, resp.status_code, resp.text[:200])
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()
    if isinstance(body, dict):
        for key in ("sha256", "hash", "digest"):
            if key in body:
                return body[key]
    return json.dumps(body, sort_keys=True)


# ---------------------------------------------------------------------------
# The flow

class Ctx:
    def __init__(self):
        self.flow = Flow("python")
        self.client = None
        self.created = []   # cleanup stack: (kind, args)
        self.state = {}

def run(cfg, ctx):
    """Runs the flow, recording into ctx (flow, client, created, state) so
    that main() can clean up and report when a step raises FlowFailure."""
    flow, state, created = ctx.flow, ctx.state, ctx.created
    if cfg.verify and cfg.verify is not True:
        os.environ["REQUESTS_CA_BUNDLE"] = cfg.verify

    def make_credential():
        if cfg.credential == "simple":
            cred = TokenEndpointCredential(cfg.authority, cfg.tenant, cfg.client_id,
                                           cfg.secret, cfg.verify)
            tok = cred.get_token(ARM_SCOPE)
            return cred, "TokenEndpointCredential (requests), token %d chars" % len(tok.token)
        cred = identity_credential(cfg)
        try:
            tok = cred.get_token(ARM_SCOPE)
        except Exception as exc:  # noqa: BLE001
            if cfg.credential == "identity":
                raise
            print("WARN azure.identity.ClientSecretCredential failed (%s); "
                  "falling back to a requests-based credential" % describe(exc), flush=True)
            state["identity_fallback"] = describe(exc)
            cred = TokenEndpointCredential(cfg.authority, cfg.tenant, cfg.client_id,
                                           cfg.secret, cfg.verify)
            tok = cred.get_token(ARM_SCOPE)
            return cred, "fallback TokenEndpointCredential, token %d chars" % len(tok.token)
        check(tok.token and tok.expires_on > time.time() + 60,
              "token expires too soon: %s", tok.expires_on)
        return cred, "azure.identity.ClientSecretCredential, token %d chars" % len(tok.token)

    cred = flow.step("token", make_credential)

    client = ComputeManagementClient(
        cred, cfg.subscription, base_url=cfg.url,
        connection_verify=cfg.verify, polling_interval=1,
        logging_enable=cfg.verbose)
    ctx.client = client
    poll = {"polling_interval": 1}
    rg, dr_rg, vm_name = cfg.rg, cfg.dr_rg, cfg.vm
    rpc_name, rpc_dr_name = cfg.prefix, cfg.prefix + "-dr"
    rp_name, rp_dr_name = cfg.prefix + "-rp1", cfg.prefix + "-rp1-copy"
    disk_name = cfg.prefix + "-restored"

    def vm_get():
        vm = client.virtual_machines.get(rg, vm_name)
        check(vm.id and vm.id.lower().endswith("/virtualmachines/" + vm_name.lower()),
              "unexpected VM id %r", vm.id)
        sp = vm.storage_profile
        check(sp is not None and sp.os_disk is not None and sp.os_disk.managed_disk is not None,
              "VM has no managed OS disk: %r", sp)
        disks = [sp.os_disk.managed_disk.id] + [d.managed_disk.id for d in (sp.data_disks or [])]
        check(all(disks), "a VM disk has no managed disk id: %r", disks)
        state["vm"] = vm
        state["vm_disks"] = disks
        return vm, "%s, %d disks, location %s" % (vm.id, len(disks), vm.location)

    vm = flow.step("vm.get", vm_get)
    src_os_disk = state["vm_disks"][0]

    if cfg.admin:
        def admin_write():
            state["marker"] = os.urandom(512)
            resp = http("POST", admin_url(cfg, src_os_disk, "write"), json={
                "offset": 0, "data": base64.b64encode(state["marker"]).decode()},
                verify=cfg.verify, timeout=30)
            check(resp.status_code in (200, 201, 204), "POST %s -> %s %s",
                  resp.url, resp.status_code, resp.text[:200])
            state["src_sha"] = admin_sha256(cfg, src_os_disk)
            return None, "512 random bytes at offset 0 of the OS disk, sha256 %s" % str(state["src_sha"])[:16]
        flow.step("emulator.disk.write", admin_write, fatal=False)

    def rpc_create():
        rpc = client.restore_point_collections.create_or_update(rg, rpc_name, {
            "location": cfg.location, "source": {"id": vm.id},
            "tags": {"purpose": "azrp-conformance"}})
        created.append(("rpc", (rg, rpc_name)))
        check(rpc.name == rpc_name, "name %r", rpc.name)
        check(rpc.location.lower() == cfg.location.lower(), "location %r", rpc.location)
        check(rpc.source is not None and same_id(rpc.source.id, vm.id), "source %r", rpc.source)
        check((rpc.type or "").lower() == "microsoft.compute/restorepointcollections", "type %r", rpc.type)
        check(rpc.provisioning_state in (None, "Succeeded"), "provisioningState %r", rpc.provisioning_state)
        check(rpc.id.lower().endswith("/resourcegroups/%s/providers/microsoft.compute/restorepointcollections/%s"
                                      % (rg.lower(), rpc_name.lower())), "id %r", rpc.id)
        got = client.restore_point_collections.get(rg, rpc_name)
        check(same_id(got.id, rpc.id), "GET id %r != %r", got.id, rpc.id)
        check(got.tags == {"purpose": "azrp-conformance"}, "tags %r", got.tags)
        return rpc, rpc.id

    rpc = flow.step("rpc.create+get", rpc_create)

    def rp_create():
        poller = client.restore_points.begin_create(rg, rpc_name, rp_name, {}, **poll)
        created.append(("rp", (rg, rpc_name, rp_name)))
        rp = poller.result(timeout=cfg.timeout)
        check(poller.status() == "Succeeded", "poller status %r", poller.status())
        check(poller.done(), "poller not done")
        check(rp is not None, "LRO result is None")
        check(rp.name == rp_name, "name %r", rp.name)
        check(rp.provisioning_state == "Succeeded", "provisioningState %r", rp.provisioning_state)
        check(rp.source_metadata is not None and rp.source_metadata.storage_profile is not None,
              "no sourceMetadata.storageProfile")
        return rp, "provisioningState %s, consistencyMode %s" % (rp.provisioning_state, rp.consistency_mode)

    rp = flow.step("rp.begin_create (LRO)", rp_create)

    def rp_get_iv():
        got = client.restore_points.get(rg, rpc_name, rp_name, expand="instanceView")
        check(same_id(got.id, rp.id), "id %r", got.id)
        iv = got.instance_view
        check(iv is not None, "no instanceView with $expand=instanceView")
        drps = iv.disk_restore_points or []
        check(len(drps) == len(state["vm_disks"]),
              "instanceView has %d diskRestorePoints, VM has %d disks", len(drps), len(state["vm_disks"]))
        sp = got.source_metadata.storage_profile
        check(sp.os_disk is not None and sp.os_disk.disk_restore_point is not None,
              "osDisk.diskRestorePoint missing")
        check(same_id(sp.os_disk.managed_disk.id, src_os_disk), "osDisk.managedDisk.id %r",
              sp.os_disk.managed_disk.id)
        meta_ids = [sp.os_disk.disk_restore_point.id] + [
            d.disk_restore_point.id for d in (sp.data_disks or [])]
        check(len(meta_ids) == len(state["vm_disks"]), "sourceMetadata lists %d disks", len(meta_ids))
        iv_ids = sorted(d.id.lower() for d in drps)
        check(iv_ids == sorted(i.lower() for i in meta_ids),
              "instanceView ids %r != sourceMetadata ids %r", iv_ids, meta_ids)
        for i in meta_ids:
            check("/restorepoints/%s/diskrestorepoints/" % rp_name.lower() in i.lower(),
                  "disk restore point id %r not under the restore point", i)
        state["drp_os_id"] = sp.os_disk.disk_restore_point.id
        state["drp_ids"] = meta_ids
        state["os_size_gb"] = sp.os_disk.disk_size_gb
        return got, "%d disk restore points" % len(drps)

    flow.step("rp.get expand=instanceView", rp_get_iv)

    def drp_list():
        items = list(client.disk_restore_point.list_by_restore_point(rg, rpc_name, rp_name))
        check(len(items) == len(state["vm_disks"]), "listed %d, expected %d",
              len(items), len(state["vm_disks"]))
        check(sorted(d.id.lower() for d in items) == sorted(i.lower() for i in state["drp_ids"]),
              "listed ids %r differ from the restore point's", [d.id for d in items])
        for d in items:
            check((d.type or "").lower() ==
                  "microsoft.compute/restorepointcollections/restorepoints/diskrestorepoints",
                  "type %r", d.type)
            check(any(same_id(d.source_resource_id, x) for x in state["vm_disks"]),
                  "sourceResourceId %r is not a VM disk", d.source_resource_id)
        one = client.disk_restore_point.get(rg, rpc_name, rp_name, state["drp_os_id"].rsplit("/", 1)[1])
        check(same_id(one.id, state["drp_os_id"]), "get id %r", one.id)
        check(same_id(one.source_resource_id, src_os_disk), "OS sourceResourceId %r",
              one.source_resource_id)
        return items, "%d listed, OS disk RP get ok" % len(items)

    flow.step("disk_restore_point.list+get", drp_list)

    drp_os_name = state["drp_os_id"].rsplit("/", 1)[1]

    def grant():
        poller = client.disk_restore_point.begin_grant_access(
            rg, rpc_name, rp_name, drp_os_name,
            {"access": "Read", "duration_in_seconds": 3600}, **poll)
        created.append(("sas", (rg, rpc_name, rp_name, drp_os_name)))
        au = poller.result(timeout=cfg.timeout)
        check(au is not None and au.access_sas, "no accessSAS in %r", au)
        check(au.access_sas.startswith("https://"), "SAS is not https: %s", au.access_sas[:40])
        state["sas"] = au.access_sas
        return au, "SAS host %s" % urllib.parse.urlsplit(au.access_sas).netloc

    flow.step("drp.begin_grant_access (LRO)", grant)

    def sas_read():
        resp = http("GET", state["sas"], headers={"Range": "bytes=0-511"}, verify=cfg.verify)
        check(resp.status_code == 206, "GET SAS Range 0-511 -> %s %s", resp.status_code, resp.text[:200])
        check(len(resp.content) == 512, "got %d bytes", len(resp.content))
        cr = resp.headers.get("Content-Range", "")
        check(cr.startswith("bytes 0-511/"), "Content-Range %r", cr)
        note = "206, 512 bytes, %s" % cr
        if cfg.admin and "marker" in state:
            check(resp.content == state["marker"], "bytes differ from what was written to the source disk")
            note += ", match the source disk"
        return resp.content, note

    flow.step("sas range read", sas_read)

    def revoke():
        poller = client.disk_restore_point.begin_revoke_access(rg, rpc_name, rp_name, drp_os_name, **poll)
        poller.result(timeout=cfg.timeout)
        check(poller.status() == "Succeeded", "poller status %r", poller.status())
        created.remove(("sas", (rg, rpc_name, rp_name, drp_os_name)))
        resp = http("GET", state["sas"], headers={"Range": "bytes=0-511"}, verify=cfg.verify)
        check(resp.status_code == 403, "revoked SAS answered %s, expected 403", resp.status_code)
        return None, "SAS now 403"

    flow.step("drp.begin_revoke_access + 403", revoke)

    def rpc_dr_create():
        dr = client.restore_point_collections.create_or_update(dr_rg, rpc_dr_name, {
            "location": cfg.dr_location, "source": {"id": rpc.id}})
        created.append(("rpc", (dr_rg, rpc_dr_name)))
        check(dr.location.lower() == cfg.dr_location.lower(), "location %r", dr.location)
        check(dr.source is not None and same_id(dr.source.id, rpc.id), "source %r", dr.source)
        return dr, dr.id

    flow.step("rpc(dr).create", rpc_dr_create)

    def rp_copy():
        poller = client.restore_points.begin_create(dr_rg, rpc_dr_name, rp_dr_name, {
            "source_restore_point": {"id": rp.id}}, **poll)
        created.append(("rp", (dr_rg, rpc_dr_name, rp_dr_name)))
        copy = poller.result(timeout=cfg.timeout)
        check(copy.provisioning_state == "Succeeded", "provisioningState %r", copy.provisioning_state)
        check(copy.source_restore_point is not None and same_id(copy.source_restore_point.id, rp.id),
              "sourceRestorePoint %r", copy.source_restore_point)
        return copy, "provisioningState %s" % copy.provisioning_state

    flow.step("rp(dr).begin_create copy (LRO)", rp_copy)

    def replication():
        deadline = time.monotonic() + cfg.timeout
        polls, last = 0, None
        while True:
            got = client.restore_points.get(dr_rg, rpc_dr_name, rp_dr_name, expand="instanceView")
            polls += 1
            iv = got.instance_view
            check(iv is not None, "no instanceView on the copy")
            drps = iv.disk_restore_points or []
            check(len(drps) == len(state["vm_disks"]), "copy has %d disk restore points, expected %d",
                  len(drps), len(state["vm_disks"]))
            pcts = [d.replication_status.completion_percent if d.replication_status else None for d in drps]
            if pcts != last:
                print("     replication %s" % pcts, flush=True)
                last = pcts
            if all(p == 100 for p in pcts):
                for d in drps:
                    st = d.replication_status.status
                    check(st is None or st.code is None or "succeeded" in st.code.lower(),
                          "replicationStatus.status.code %r at 100%%", st and st.code)
                break
            check(time.monotonic() < deadline, "replication not complete after %ss: %r", cfg.timeout, pcts)
            time.sleep(1)
        sp = got.source_metadata.storage_profile
        state["copy_os_drp"] = sp.os_disk.disk_restore_point.id
        check(state["copy_os_drp"] and "/resourcegroups/%s/" % dr_rg.lower() in state["copy_os_drp"].lower(),
              "copied OS disk restore point id %r not in %s", state["copy_os_drp"], dr_rg)
        return got, "100%% after %d polls" % polls

    flow.step("rp(dr) replication to 100%", replication)

    def disk_restore():
        poller = client.disks.begin_create_or_update(dr_rg, disk_name, {
            "location": cfg.dr_location,
            "creation_data": {"create_option": "Restore",
                              "source_resource_id": state["copy_os_drp"]}}, **poll)
        created.append(("disk", (dr_rg, disk_name)))
        disk = poller.result(timeout=cfg.timeout)
        check(disk.provisioning_state == "Succeeded", "provisioningState %r", disk.provisioning_state)
        check(disk.location.lower() == cfg.dr_location.lower(), "location %r", disk.location)
        check(disk.creation_data.create_option == "Restore", "createOption %r", disk.creation_data.create_option)
        check(same_id(disk.creation_data.source_resource_id, state["copy_os_drp"]),
              "sourceResourceId %r", disk.creation_data.source_resource_id)
        if state.get("os_size_gb"):
            check(disk.disk_size_gb == state["os_size_gb"], "diskSizeGB %r, source %r",
                  disk.disk_size_gb, state["os_size_gb"])
        state["disk_id"] = disk.id
        got = client.disks.get(dr_rg, disk_name)
        check(same_id(got.id, disk.id), "GET id %r", got.id)
        return disk, "%s, %s GB, %s" % (disk.name, disk.disk_size_gb, disk.disk_state)

    flow.step("disks.begin_create_or_update Restore", disk_restore)

    if cfg.admin and state.get("src_sha"):
        def restored_content():
            sha = admin_sha256(cfg, state["disk_id"])
            check(sha == state["src_sha"], "restored disk sha256 %s != source %s", sha, state["src_sha"])
            return None, "sha256 matches the source OS disk"
        flow.step("emulator: restored disk content", restored_content, fatal=False)

    def gone(fn, what):
        try:
            fn()
        except ResourceNotFoundError:
            return
        raise FlowFailure("%s still answers after delete" % what)

    def delete_all():
        t = {}
        t0 = time.monotonic()
        client.disks.begin_delete(dr_rg, disk_name, **poll).result(timeout=cfg.timeout)
        created.remove(("disk", (dr_rg, disk_name)))
        gone(lambda: client.disks.get(dr_rg, disk_name), "disk")
        t["disk"] = time.monotonic() - t0
        for (g, c, r) in ((dr_rg, rpc_dr_name, rp_dr_name), (rg, rpc_name, rp_name)):
            t0 = time.monotonic()
            client.restore_points.begin_delete(g, c, r, **poll).result(timeout=cfg.timeout)
            created.remove(("rp", (g, c, r)))
            gone(lambda: client.restore_points.get(g, c, r), "restore point %s/%s" % (c, r))
            t["rp " + r] = time.monotonic() - t0
        for (g, c) in ((dr_rg, rpc_dr_name), (rg, rpc_name)):
            t0 = time.monotonic()
            client.restore_point_collections.begin_delete(g, c, **poll).result(timeout=cfg.timeout)
            created.remove(("rpc", (g, c)))
            gone(lambda: client.restore_point_collections.get(g, c), "collection %s" % c)
            t["rpc " + c] = time.monotonic() - t0
        return None, ", ".join("%s %.2fs" % kv for kv in t.items())

    flow.step("delete all + 404 checks", delete_all)


def cleanup(client, created):
    """Best effort, newest first; never raises."""
    for kind, args in reversed(list(created)):
        try:
            if kind == "sas":
                client.disk_restore_point.begin_revoke_access(*args, polling_interval=1).result(timeout=120)
            elif kind == "disk":
                client.disks.begin_delete(*args, polling_interval=1).result(timeout=120)
            elif kind == "rp":
                client.restore_points.begin_delete(*args, polling_interval=1).result(timeout=120)
            elif kind == "rpc":
                client.restore_point_collections.begin_delete(*args, polling_interval=1).result(timeout=120)
            print("     cleanup %s %s: done" % (kind, "/".join(args)))
        except Exception as exc:  # noqa: BLE001
            print("     cleanup %s %s: %s" % (kind, "/".join(args), describe(exc)))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ready-file", default=env("AZRP_READY_FILE", None),
                   help="emulator ready file ({url, ca_file}); implies --emulator-admin")
    p.add_argument("--url", default=env("AZRP_URL", None), help="ARM endpoint")
    p.add_argument("--ca-file", default=env("AZRP_CA_FILE", None))
    p.add_argument("--authority", default=env("AZRP_AUTHORITY", None),
                   help="token authority (default: the ARM endpoint, as the emulator serves both)")
    p.add_argument("--tenant", default=env("AZRP_TENANT_ID", SEED["tenant"]))
    p.add_argument("--subscription", default=env("AZRP_SUBSCRIPTION_ID", SEED["subscription"]))
    p.add_argument("--client-id", default=env("AZRP_CLIENT_ID", SEED["client_id"]))
    p.add_argument("--secret", default=env("AZRP_CLIENT_SECRET", SEED["secret"]))
    p.add_argument("--rg", default=env("AZRP_RG", "rg-prod"))
    p.add_argument("--dr-rg", default=env("AZRP_DR_RG", "rg-dr"))
    p.add_argument("--vm", default=env("AZRP_VM", "vm-app-01"))
    p.add_argument("--location", default=env("AZRP_LOCATION", "westeurope"))
    p.add_argument("--dr-location", default=env("AZRP_DR_LOCATION", "northeurope"))
    p.add_argument("--prefix", default=env("AZRP_PREFIX", "rpc-conf-py"))
    p.add_argument("--timeout", type=float, default=float(env("AZRP_CONF_TIMEOUT", "300")),
                   help="seconds allowed for each long-running step")
    p.add_argument("--credential", choices=("auto", "identity", "simple"), default="auto",
                   help="auto: azure.identity, falling back to a requests-based credential")
    p.add_argument("--emulator-admin", dest="admin", action="store_true", default=None)
    p.add_argument("--no-emulator-admin", dest="admin", action="store_false")
    p.add_argument("-v", "--verbose", action="store_true", help="log every HTTP request")
    cfg = p.parse_args(argv)
    if cfg.ready_file:
        with open(cfg.ready_file) as fh:
            ready = json.load(fh)
        cfg.url = cfg.url or ready["url"]
        cfg.ca_file = cfg.ca_file or ready.get("ca_file")
        if cfg.admin is None:
            cfg.admin = True
    if not cfg.url:
        p.error("give --ready-file or --url")
    cfg.url = cfg.url.rstrip("/")
    cfg.authority = (cfg.authority or cfg.url).rstrip("/")
    cfg.verify = cfg.ca_file or True
    cfg.admin = bool(cfg.admin)
    return cfg


def main(argv=None):
    cfg = parse_args(argv if argv is not None else sys.argv[1:])
    if cfg.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    else:
        logging.basicConfig(level=logging.ERROR)
    print("python flow: azure-mgmt-compute against %s (sub %s)" % (cfg.url, cfg.subscription), flush=True)
    ctx = Ctx()
    flow = ctx.flow
    try:
        run(cfg, ctx)
    except FlowFailure:
        pass
    except Exception as exc:  # noqa: BLE001
        print("FAIL unexpected: %s" % describe(exc))
        traceback.print_exc()
        flow.results.append(("unexpected", False, 0.0, describe(exc)))
    client, created, state = ctx.client, ctx.created, ctx.state
    if client is not None and created:
        cleanup(client, created)
    flow.summary()
    if cfg.admin:
        try:
            resp = http("GET", cfg.url + "/_emulator/counters", verify=cfg.verify)
            if resp.status_code == 200:
                print("emulator counters: %s" % json.dumps(resp.json(), sort_keys=True)[:2000])
            else:
                print("emulator counters: HTTP %s" % resp.status_code)
        except Exception as exc:  # noqa: BLE001
            print("emulator counters: %s" % describe(exc))
    if state.get("identity_fallback"):
        print("note: azure.identity did not work: %s" % state["identity_fallback"])
    if flow.failed:
        print("python flow: FAILED (%d of %d steps failed: %s)" % (
            len(flow.failed), len(flow.results), ", ".join(r[0] for r in flow.failed)))
        return 1
    print("python flow: PASSED (%d steps)" % len(flow.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
