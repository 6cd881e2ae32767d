#!/usr/bin/env node
// Conformance flow: Microsoft's JavaScript SDK (@azure/arm-compute 24.x,
// Node 20) drives the restore-point lifecycle end to end against an ARM
// endpoint.  Same flow as python_flow.py.
//
//   (cd spec/conformance && npm install --no-audit --no-fund)
//   node spec/conformance/js_flow.mjs --ready-file /tmp/x/ready.json
//   node spec/conformance/js_flow.mjs --url https://127.0.0.1:PORT --ca-file ca.pem
//
// The private CA reaches Node through NODE_EXTRA_CA_CERTS, which Node reads
// only at start-up: when a CA file is given and the variable does not name
// it, the script runs itself again with a bundle of both.  Against real Azure: --url
// https://management.azure.com --authority https://login.microsoftonline.com
// --no-emulator-admin and the AZRP_* variables for ids, names and secret.
//
// JS 24.x request objects are flattened ({ source: { id }, location },
// { sourceRestorePoint: { id } }); a `properties` key would be dropped.

import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ComputeManagementClient } from "@azure/arm-compute";

const SEED = {
  tenant: "11111111-1111-4111-8111-111111111111",
  subscription: "00000000-0000-4000-8000-000000000001",
  clientId: "22222222-2222-4222-8222-222222222222",
  secret: "azrp-emulator-secret",
};
const ARM_SCOPE = "https://management.azure.com/.default";

// ---------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const env = (n, d) => process.env[n] || d;
  const cfg = {
    readyFile: env("AZRP_READY_FILE", null),
    url: env("AZRP_URL", null),
    caFile: env("AZRP_CA_FILE", null),
    authority: env("AZRP_AUTHORITY", null),
    tenant: env("AZRP_TENANT_ID", SEED.tenant),
    subscription: env("AZRP_SUBSCRIPTION_ID", SEED.subscription),
    clientId: env("AZRP_CLIENT_ID", SEED.clientId),
    secret: env("AZRP_CLIENT_SECRET", SEED.secret),
    rg: env("AZRP_RG", "rg-prod"),
    drRg: env("AZRP_DR_RG", "rg-dr"),
    vm: env("AZRP_VM", "vm-app-01"),
    location: env("AZRP_LOCATION", "westeurope"),
    drLocation: env("AZRP_DR_LOCATION", "northeurope"),
    prefix: env("AZRP_JS_PREFIX", "rpc-conf-js"),
    timeout: Number(env("AZRP_CONF_TIMEOUT", "300")),
    admin: null,
    verbose: false,
  };
  const flags = {
    "--ready-file": "readyFile", "--url": "url", "--ca-file": "caFile", "--authority": "authority",
    "--tenant": "tenant", "--subscription": "subscription", "--client-id": "clientId",
    "--secret": "secret", "--rg": "rg", "--dr-rg": "drRg", "--vm": "vm", "--location": "location",
    "--dr-location": "drLocation", "--prefix": "prefix", "--timeout": "timeout",
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--emulator-admin") cfg.admin = true;
    else if (a === "--no-emulator-admin") cfg.admin = false;
    else if (a === "-v" || a === "--verbose") cfg.verbose = true;
    else if (a === "-h" || a === "--help") {
      console.log("usage: js_flow.mjs (--ready-file F | --url URL [--ca-file CA]) [--authority URL] " +
        "[--emulator-admin|--no-emulator-admin] [-v] [" + Object.keys(flags).join(" V] [") + " V]");
      process.exit(0);
    } else if (flags[a] && i + 1 < argv.length) cfg[flags[a]] = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  cfg.timeout = Number(cfg.timeout);
  if (cfg.readyFile) {
    const ready = JSON.parse(readFileSync(cfg.readyFile, "utf8"));
    cfg.url = cfg.url || ready.url;
    cfg.caFile = cfg.caFile || ready.ca_file;
    if (cfg.admin === null) cfg.admin = true;
  }
  if (!cfg.url) throw new Error("give --ready-file or --url");
  cfg.url = cfg.url.replace(/\/+$/, "");
  cfg.authority = (cfg.authority || cfg.url).replace(/\/+$/, "");
  cfg.admin = Boolean(cfg.admin);
  return cfg;
}

// ---------------------------------------------------------------------------
// Steps, timings and assertions

class FlowFailure extends Error {}

function check(cond, message) {
  if (!cond) throw new FlowFailure(typeof message === "function" ? message() : message);
}

const sameId = (a, b) => (a || "").replace(/\/+$/, "").toLowerCase() === (b || "").replace(/\/+$/, "").toLowerCase();
const j = (v) => JSON.stringify(v);
const now = () => performance.now() / 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function describe(e) {
  if (e && e.name === "RestError") {
    const parts = [`RestError: HTTP ${e.statusCode}`];
    if (e.code) parts.push(`code=${e.code}`);
    if (e.request) parts.push(`request=${e.request.method} ${e.request.url}`);
    const body = e.response && e.response.bodyAsText;
    if (body) parts.push(`body=${body.slice(0, 600)}`);
    else if (e.message) parts.push(e.message.split("\n")[0]);
    return parts.join(" ");
  }
  if (e instanceof FlowFailure) return `FlowFailure: ${e.message}`;
  const cause = e && e.cause ? ` (cause: ${e.cause.code || ""} ${e.cause.message || e.cause})` : "";
  return `${(e && e.name) || "Error"}: ${(e && e.message) || e}${cause}`;
}

class Flow {
  constructor(name) {
    this.name = name;
    this.results = [];
    this.started = now();
  }

  async step(name, fn, { fatal = true } = {}) {
    const t0 = now();
    let value;
    try {
      value = await fn();
    } catch (e) {
      const dt = now() - t0;
      const detail = describe(e);
      this.results.push([name, false, dt, detail]);
      console.log(`FAIL ${name.padEnd(40)} ${dt.toFixed(3).padStart(7)}s  ${detail}`);
      if (process.env.AZRP_CONF_TRACEBACK && e && e.stack) console.log(e.stack);
      if (fatal) throw new FlowFailure(name);
      return undefined;
    }
    const dt = now() - t0;
    let note = "";
    if (Array.isArray(value) && value.length === 2 && typeof value[1] === "string") [value, note] = value;
    this.results.push([name, true, dt, note]);
    console.log(`ok   ${name.padEnd(40)} ${dt.toFixed(3).padStart(7)}s  ${note}`);
    return value;
  }

  get failed() { return this.results.filter((r) => !r[1]); }

  summary() {
    const total = now() - this.started;
    console.log(`--- ${this.name} timings ---`);
    for (const [name, ok, dt] of this.results) {
      console.log(`  ${name.padEnd(42)} ${dt.toFixed(3).padStart(8)}s ${ok ? "" : "FAILED"}`);
    }
    console.log(`  ${"total".padEnd(42)} ${total.toFixed(3).padStart(8)}s`);
  }
}

// fetch with the Azure SDKs' retry policy, for the calls the SDK does not
// make (token, SAS blob reads, emulator admin): up to 3 retries on
// 408/429/5xx and network errors, Retry-After honoured.
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
async function http(url, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(url, opts);
    } catch (e) {
      if (attempt === 3) throw e;
      await sleep(800 * 2 ** attempt);
      continue;
    }
    if (!RETRY_STATUSES.has(res.status) || attempt === 3) return res;
    await res.arrayBuffer();
    const ra = Number(res.headers.get("retry-after"));
    await sleep(Number.isFinite(ra) && res.headers.get("retry-after") !== null ? Math.min(ra, 30) * 1000 : 800 * 2 ** attempt);
  }
}

// ---------------------------------------------------------------------------
// Credential: a TokenCredential whose getToken() runs client_credentials
// against {authority}/{tenant}/oauth2/v2.0/token.

function tokenCredential(cfg) {
  const url = `${cfg.authority}/${cfg.tenant}/oauth2/v2.0/token`;
  const cache = new Map();
  return {
    async getToken(scopes) {
      const scope = Array.isArray(scopes) ? scopes.join(" ") : scopes;
      const hit = cache.get(scope);
      if (hit && hit.expiresOnTimestamp - 300_000 > Date.now()) return hit;
      const res = await http(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: cfg.clientId,
          client_secret: cfg.secret,
          scope,
        }),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`token endpoint ${url} answered ${res.status}: ${text.slice(0, 300)}`);
      const body = JSON.parse(text);
      if (String(body.token_type).toLowerCase() !== "bearer") throw new Error(`token_type ${body.token_type}`);
      const tok = { token: body.access_token, expiresOnTimestamp: Date.now() + Number(body.expires_in) * 1000 };
      cache.set(scope, tok);
      return tok;
    },
  };
}

// ---------------------------------------------------------------------------
// Emulator admin API

const adminUrl = (cfg, diskId, action) => `${cfg.url}/_emulator/disks/${encodeURIComponent(diskId)}/${action}`;

async function adminSha256(cfg, diskId) {
  const res = await http(adminUrl(cfg, diskId, "sha256"));
  const text = await res.text();
  check(res.status === 200, () => `GET ${adminUrl(cfg, diskId, "sha256")} -> ${res.status} ${text.slice(0, 200)}`);
  try {
    const body = JSON.parse(text);
    if (body && typeof body === "object") {
      for (const k of ["sha256", "hash", "digest"]) if (k in body) return body[k];
    }
    return JSON.stringify(body);
  } catch {
    return text.trim();
  }
}

// ---------------------------------------------------------------------------
// The flow

async function run(cfg, ctx) {
  const { flow, state, created } = ctx;
  const poll = { updateIntervalInMs: 500 };
  const { rg, drRg } = cfg;
  const rpcName = cfg.prefix, rpcDrName = `${cfg.prefix}-dr`;
  const rpName = `${cfg.prefix}-rp1`, rpDrName = `${cfg.prefix}-rp1-copy`;
  const diskName = `${cfg.prefix}-restored`;
  const withTimeout = (p, what) => {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new FlowFailure(`${what}: no result after ${cfg.timeout}s`)), cfg.timeout * 1000);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  };

  const forget = (kind, args) => {
    const i = created.findIndex((c) => c[0] === kind && j(c[1]) === j(args));
    if (i >= 0) created.splice(i, 1);
  };

  const cred = tokenCredential(cfg);
  await flow.step("token", async () => {
    const tok = await cred.getToken([ARM_SCOPE]);
    check(tok.token && tok.expiresOnTimestamp > Date.now() + 60_000, "token missing or expiring");
    return [tok, `getToken() via fetch, token ${tok.token.length} chars`];
  });

  const client = new ComputeManagementClient(cred, cfg.subscription, { endpoint: cfg.url });
  ctx.client = client;

  const vm = await flow.step("virtualMachines.get", async () => {
    const v = await client.virtualMachines.get(rg, cfg.vm);
    check(v.id && v.id.toLowerCase().endsWith(`/virtualmachines/${cfg.vm.toLowerCase()}`), () => `VM id ${v.id}`);
    const sp = v.storageProfile;
    check(sp && sp.osDisk && sp.osDisk.managedDisk, () => `no managed OS disk: ${j(sp)}`);
    state.vmDisks = [sp.osDisk.managedDisk.id, ...(sp.dataDisks || []).map((d) => d.managedDisk && d.managedDisk.id)];
    check(state.vmDisks.every(Boolean), () => `a disk has no id: ${j(state.vmDisks)}`);
    return [v, `${v.id}, ${state.vmDisks.length} disks, location ${v.location}`];
  });
  const srcOsDisk = state.vmDisks[0];

  if (cfg.admin) {
    await flow.step("emulator.disk.write", async () => {
      state.marker = randomBytes(512);
      const res = await http(adminUrl(cfg, srcOsDisk, "write"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ offset: 0, data: state.marker.toString("base64") }),
      });
      const text = await res.text();
      check([200, 201, 204].includes(res.status), () => `POST write -> ${res.status} ${text.slice(0, 200)}`);
      state.srcSha = await adminSha256(cfg, srcOsDisk);
      return [null, `512 random bytes at offset 0 of the OS disk, sha256 ${String(state.srcSha).slice(0, 16)}`];
    }, { fatal: false });
  }

  const rpc = await flow.step("restorePointCollections.createOrUpdate+get", async () => {
    const c = await client.restorePointCollections.createOrUpdate(rg, rpcName, {
      location: cfg.location, source: { id: vm.id }, tags: { purpose: "azrp-conformance" },
    });
    created.push(["rpc", [rg, rpcName]]);
    check(c.name === rpcName, () => `name ${c.name}`);
    check(c.location.toLowerCase() === cfg.location.toLowerCase(), () => `location ${c.location}`);
    check(c.source && sameId(c.source.id, vm.id), () => `source ${j(c.source)}`);
    check((c.type || "").toLowerCase() === "microsoft.compute/restorepointcollections", () => `type ${c.type}`);
    check(c.provisioningState === undefined || c.provisioningState === "Succeeded", () => `provisioningState ${c.provisioningState}`);
    const g = await client.restorePointCollections.get(rg, rpcName);
    check(sameId(g.id, c.id), () => `GET id ${g.id}`);
    check(g.tags && g.tags.purpose === "azrp-conformance", () => `tags ${j(g.tags)}`);
    return [c, c.id];
  });

  const rp = await flow.step("restorePoints.create (LRO)", async () => {
    const poller = client.restorePoints.create(rg, rpcName, rpName, {}, poll);
    created.push(["rp", [rg, rpcName, rpName]]);
    const r = await withTimeout(poller.pollUntilDone(), "restorePoints.create");
    check(poller.isDone && poller.operationState.status === "succeeded", () => `poller state ${j(poller.operationState && poller.operationState.status)}`);
    check(r && r.name === rpName, () => `result ${j(r)}`);
    check(r.provisioningState === "Succeeded", () => `provisioningState ${r.provisioningState}`);
    check(r.sourceMetadata && r.sourceMetadata.storageProfile, "no sourceMetadata.storageProfile");
    return [r, `provisioningState ${r.provisioningState}, consistencyMode ${r.consistencyMode}`];
  });

  await flow.step("restorePoints.get expand=instanceView", async () => {
    const g = await client.restorePoints.get(rg, rpcName, rpName, { expand: "instanceView" });
    check(sameId(g.id, rp.id), () => `id ${g.id}`);
    const drps = (g.instanceView && g.instanceView.diskRestorePoints) || null;
    check(drps, "no instanceView.diskRestorePoints with $expand=instanceView");
    check(drps.length === state.vmDisks.length, () => `instanceView has ${drps.length} diskRestorePoints, VM has ${state.vmDisks.length} disks`);
    const sp = g.sourceMetadata.storageProfile;
    check(sp.osDisk && sp.osDisk.diskRestorePoint && sp.osDisk.diskRestorePoint.id, "osDisk.diskRestorePoint missing");
    check(sameId(sp.osDisk.managedDisk.id, srcOsDisk), () => `osDisk.managedDisk.id ${sp.osDisk.managedDisk.id}`);
    const metaIds = [sp.osDisk.diskRestorePoint.id, ...(sp.dataDisks || []).map((d) => d.diskRestorePoint && d.diskRestorePoint.id)];
    check(metaIds.length === state.vmDisks.length, () => `sourceMetadata lists ${metaIds.length} disks`);
    const ivIds = drps.map((d) => d.id.toLowerCase()).sort();
    check(j(ivIds) === j(metaIds.map((i) => i.toLowerCase()).sort()), () => `instanceView ids ${j(ivIds)} != sourceMetadata ids ${j(metaIds)}`);
    for (const i of metaIds) {
      check(i.toLowerCase().includes(`/restorepoints/${rpName.toLowerCase()}/diskrestorepoints/`), () => `disk restore point id ${i} not under the restore point`);
    }
    state.drpOsId = sp.osDisk.diskRestorePoint.id;
    state.drpIds = metaIds;
    state.osSizeGB = sp.osDisk.diskSizeGB;
    return [g, `${drps.length} disk restore points`];
  });

  await flow.step("diskRestorePoint.listByRestorePoint+get", async () => {
    const items = [];
    for await (const d of client.diskRestorePoint.listByRestorePoint(rg, rpcName, rpName)) items.push(d);
    check(items.length === state.vmDisks.length, () => `listed ${items.length}, expected ${state.vmDisks.length}`);
    check(j(items.map((d) => d.id.toLowerCase()).sort()) === j(state.drpIds.map((i) => i.toLowerCase()).sort()),
      () => `listed ids ${j(items.map((d) => d.id))} differ from the restore point's`);
    for (const d of items) {
      check((d.type || "").toLowerCase() === "microsoft.compute/restorepointcollections/restorepoints/diskrestorepoints", () => `type ${d.type}`);
      check(state.vmDisks.some((x) => sameId(d.sourceResourceId, x)), () => `sourceResourceId ${d.sourceResourceId} is not a VM disk`);
    }
    const one = await client.diskRestorePoint.get(rg, rpcName, rpName, state.drpOsId.split("/").pop());
    check(sameId(one.id, state.drpOsId), () => `get id ${one.id}`);
    check(sameId(one.sourceResourceId, srcOsDisk), () => `OS sourceResourceId ${one.sourceResourceId}`);
    return [items, `${items.length} listed, OS disk RP get ok`];
  });

  const drpOsName = state.drpOsId.split("/").pop();

  await flow.step("diskRestorePoint.grantAccess (LRO)", async () => {
    const poller = client.diskRestorePoint.grantAccess(rg, rpcName, rpName, drpOsName,
      { access: "Read", durationInSeconds: 3600 }, poll);
    created.push(["sas", [rg, rpcName, rpName, drpOsName]]);
    const au = await withTimeout(poller.pollUntilDone(), "grantAccess");
    check(au && au.accessSAS, () => `no accessSAS in ${j(au)}`);
    check(au.accessSAS.startsWith("https://"), () => `SAS is not https: ${au.accessSAS.slice(0, 40)}`);
    state.sas = au.accessSAS;
    return [au, `SAS host ${new URL(au.accessSAS).host}`];
  });

  await flow.step("sas range read", async () => {
    const res = await http(state.sas, { headers: { Range: "bytes=0-511" } });
    const buf = Buffer.from(await res.arrayBuffer());
    check(res.status === 206, () => `GET SAS Range 0-511 -> ${res.status} ${buf.toString().slice(0, 200)}`);
    check(buf.length === 512, () => `got ${buf.length} bytes`);
    const cr = res.headers.get("content-range") || "";
    check(cr.startsWith("bytes 0-511/"), () => `Content-Range ${cr}`);
    let note = `206, 512 bytes, ${cr}`;
    if (cfg.admin && state.marker) {
      check(buf.equals(state.marker), "bytes differ from what was written to the source disk");
      note += ", match the source disk";
    }
    return [null, note];
  });

  await flow.step("diskRestorePoint.revokeAccess + 403", async () => {
    const poller = client.diskRestorePoint.revokeAccess(rg, rpcName, rpName, drpOsName, poll);
    await withTimeout(poller.pollUntilDone(), "revokeAccess");
    check(poller.operationState.status === "succeeded", () => `poller state ${poller.operationState.status}`);
    forget("sas", [rg, rpcName, rpName, drpOsName]);
    const res = await http(state.sas, { headers: { Range: "bytes=0-511" } });
    await res.arrayBuffer();
    check(res.status === 403, () => `revoked SAS answered ${res.status}, expected 403`);
    return [null, "SAS now 403"];
  });

  await flow.step("restorePointCollections(dr).createOrUpdate", async () => {
    const d = await client.restorePointCollections.createOrUpdate(drRg, rpcDrName, {
      location: cfg.drLocation, source: { id: rpc.id },
    });
    created.push(["rpc", [drRg, rpcDrName]]);
    check(d.location.toLowerCase() === cfg.drLocation.toLowerCase(), () => `location ${d.location}`);
    check(d.source && sameId(d.source.id, rpc.id), () => `source ${j(d.source)}`);
    return [d, d.id];
  });

  await flow.step("restorePoints(dr).create copy (LRO)", async () => {
    const poller = client.restorePoints.create(drRg, rpcDrName, rpDrName, { sourceRestorePoint: { id: rp.id } }, poll);
    created.push(["rp", [drRg, rpcDrName, rpDrName]]);
    const c = await withTimeout(poller.pollUntilDone(), "restorePoints.create copy");
    check(c.provisioningState === "Succeeded", () => `provisioningState ${c.provisioningState}`);
    check(c.sourceRestorePoint && sameId(c.sourceRestorePoint.id, rp.id), () => `sourceRestorePoint ${j(c.sourceRestorePoint)}`);
    return [c, `provisioningState ${c.provisioningState}`];
  });

  await flow.step("restorePoints(dr) replication to 100%", async () => {
    const deadline = now() + cfg.timeout;
    let polls = 0, last = null, g;
    for (;;) {
      g = await client.restorePoints.get(drRg, rpcDrName, rpDrName, { expand: "instanceView" });
      polls++;
      const drps = g.instanceView && g.instanceView.diskRestorePoints;
      check(drps, "no instanceView on the copy");
      check(drps.length === state.vmDisks.length, () => `copy has ${drps.length} disk restore points, expected ${state.vmDisks.length}`);
      const pcts = drps.map((d) => (d.replicationStatus ? d.replicationStatus.completionPercent : null));
      if (j(pcts) !== last) { console.log(`     replication ${j(pcts)}`); last = j(pcts); }
      if (pcts.every((p) => p === 100)) {
        for (const d of drps) {
          const st = d.replicationStatus.status;
          check(!st || !st.code || st.code.toLowerCase().includes("succeeded"), () => `replicationStatus.status.code ${st.code} at 100%`);
        }
        break;
      }
      check(now() < deadline, () => `replication not complete after ${cfg.timeout}s: ${j(pcts)}`);
      await sleep(1000);
    }
    state.copyOsDrp = g.sourceMetadata.storageProfile.osDisk.diskRestorePoint.id;
    check(state.copyOsDrp && state.copyOsDrp.toLowerCase().includes(`/resourcegroups/${drRg.toLowerCase()}/`),
      () => `copied OS disk restore point id ${state.copyOsDrp} not in ${drRg}`);
    return [g, `100% after ${polls} polls`];
  });

  await flow.step("disks.createOrUpdate Restore (LRO)", async () => {
    const poller = client.disks.createOrUpdate(drRg, diskName, {
      location: cfg.drLocation,
      creationData: { createOption: "Restore", sourceResourceId: state.copyOsDrp },
    }, poll);
    created.push(["disk", [drRg, diskName]]);
    const d = await withTimeout(poller.pollUntilDone(), "disks.createOrUpdate");
    check(d.provisioningState === "Succeeded", () => `provisioningState ${d.provisioningState}`);
    check(d.location.toLowerCase() === cfg.drLocation.toLowerCase(), () => `location ${d.location}`);
    check(d.creationData && d.creationData.createOption === "Restore", () => `createOption ${j(d.creationData)}`);
    check(sameId(d.creationData.sourceResourceId, state.copyOsDrp), () => `sourceResourceId ${d.creationData.sourceResourceId}`);
    if (state.osSizeGB) check(d.diskSizeGB === state.osSizeGB, () => `diskSizeGB ${d.diskSizeGB}, source ${state.osSizeGB}`);
    state.diskId = d.id;
    const g = await client.disks.get(drRg, diskName);
    check(sameId(g.id, d.id), () => `GET id ${g.id}`);
    return [d, `${d.name}, ${d.diskSizeGB} GB, ${d.diskState}`];
  });

  if (cfg.admin && state.srcSha) {
    await flow.step("emulator: restored disk content", async () => {
      const sha = await adminSha256(cfg, state.diskId);
      check(sha === state.srcSha, () => `restored disk sha256 ${sha} != source ${state.srcSha}`);
      return [null, "sha256 matches the source OS disk"];
    }, { fatal: false });
  }

  const gone = async (fn, what) => {
    try {
      await fn();
    } catch (e) {
      if (e && e.statusCode === 404) return;
      throw e;
    }
    throw new FlowFailure(`${what} still answers after delete`);
  };

  await flow.step("delete all + 404 checks", async () => {
    const t = [];
    let t0 = now();
    await withTimeout(client.disks.delete(drRg, diskName, poll).pollUntilDone(), "disks.delete");
    forget("disk", [drRg, diskName]);
    await gone(() => client.disks.get(drRg, diskName), "disk");
    t.push(`disk ${(now() - t0).toFixed(2)}s`);
    for (const [g, c, r] of [[drRg, rpcDrName, rpDrName], [rg, rpcName, rpName]]) {
      t0 = now();
      await withTimeout(client.restorePoints.delete(g, c, r, poll).pollUntilDone(), "restorePoints.delete");
      forget("rp", [g, c, r]);
      await gone(() => client.restorePoints.get(g, c, r), `restore point ${c}/${r}`);
      t.push(`rp ${r} ${(now() - t0).toFixed(2)}s`);
    }
    for (const [g, c] of [[drRg, rpcDrName], [rg, rpcName]]) {
      t0 = now();
      await withTimeout(client.restorePointCollections.delete(g, c, poll).pollUntilDone(), "restorePointCollections.delete");
      forget("rpc", [g, c]);
      await gone(() => client.restorePointCollections.get(g, c), `collection ${c}`);
      t.push(`rpc ${c} ${(now() - t0).toFixed(2)}s`);
    }
    return [null, t.join(", ")];
  });
}

async function cleanup(client, created) {
  for (const [kind, args] of [...created].reverse()) {
    try {
      const o = { updateIntervalInMs: 500 };
      if (kind === "sas") await client.diskRestorePoint.revokeAccess(...args, o).pollUntilDone();
      else if (kind === "disk") await client.disks.delete(...args, o).pollUntilDone();
      else if (kind === "rp") await client.restorePoints.delete(...args, o).pollUntilDone();
      else if (kind === "rpc") await client.restorePointCollections.delete(...args, o).pollUntilDone();
      console.log(`     cleanup ${kind} ${args.join("/")}: done`);
    } catch (e) {
      console.log(`     cleanup ${kind} ${args.join("/")}: ${describe(e)}`);
    }
  }
}

async function main() {
  let cfg;
  try {
    cfg = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`js_flow.mjs: ${e.message}`);
    return 2;
  }
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (cfg.caFile && extra !== cfg.caFile && !process.env.AZRP_CONF_CA_BUNDLE) {
    // Node reads NODE_EXTRA_CA_CERTS at start-up only: run again with a
    // bundle of the CA file and whatever extra certificates were set.
    const dir = mkdtempSync(join(tmpdir(), "azrp-js-ca-"));
    const bundle = join(dir, "ca.pem");
    let pem = readFileSync(cfg.caFile, "utf8");
    if (extra) {
      try { pem = `${readFileSync(extra, "utf8")}\n${pem}`; } catch { /* unreadable: skip it */ }
    }
    writeFileSync(bundle, pem);
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: "inherit", env: { ...process.env, NODE_EXTRA_CA_CERTS: bundle, AZRP_CONF_CA_BUNDLE: bundle },
    });
    rmSync(dir, { recursive: true, force: true });
    return r.status === null ? 1 : r.status;
  }
  if (cfg.verbose) {
    const { setLogLevel } = await import("@azure/logger");
    setLogLevel("info");
  }
  console.log(`js flow: @azure/arm-compute against ${cfg.url} (sub ${cfg.subscription})`);
  const ctx = { flow: new Flow("js"), state: {}, created: [], client: null };
  try {
    await run(cfg, ctx);
  } catch (e) {
    if (!(e instanceof FlowFailure)) {
      console.log(`FAIL unexpected: ${describe(e)}`);
      if (e && e.stack) console.log(e.stack);
      ctx.flow.results.push(["unexpected", false, 0, describe(e)]);
    }
  }
  if (ctx.client && ctx.created.length) await cleanup(ctx.client, ctx.created);
  ctx.flow.summary();
  if (cfg.admin) {
    try {
      const res = await http(`${cfg.url}/_emulator/counters`);
      const text = await res.text();
      console.log(res.status === 200 ? `emulator counters: ${text.slice(0, 2000)}` : `emulator counters: HTTP ${res.status}`);
    } catch (e) {
      console.log(`emulator counters: ${describe(e)}`);
    }
  }
  const failed = ctx.flow.failed;
  if (failed.length) {
    console.log(`js flow: FAILED (${failed.length} of ${ctx.flow.results.length} steps failed: ${failed.map((r) => r[0]).join(", ")})`);
    return 1;
  }
  console.log(`js flow: PASSED (${ctx.flow.results.length} steps)`);
  return 0;
}

process.exitCode = await main();
