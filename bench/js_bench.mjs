#!/usr/bin/env node
// One side of bench/restore_points.lua: Microsoft's JavaScript SDK
// (@azure/arm-compute 24 on Node 20, installed in spec/conformance/node_modules).
//
//   NODE_EXTRA_CA_CERTS=ca.pem AZRP_BENCH_URL=https://127.0.0.1:PORT \
//     node bench/js_bench.mjs startup | loop COUNT | concurrent N TAG | copies N TAG INTERVAL
//
// Prints one JSON line.  The token comes from the emulator's Entra
// endpoint (client credentials) through a minimal fetch-based credential,
// as in spec/conformance/js_flow.mjs.  `concurrent` is Promise.all of N
// beginCreateAndWait (updateIntervalInMs: 1000, used only when the server
// sends no Retry-After; the emulator always does).  `copies` (bench/fleet.lua):
// Promise.all of N async jobs, each a beginCreateAndWait of a cross-region
// copy (sourceRestorePoint into rpc-dr-00i), then a get with
// expand: "instanceView" every INTERVAL seconds until 100 % replication.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../spec/conformance/package.json", import.meta.url));
const { ComputeManagementClient } = require("@azure/arm-compute");

const TENANT = "11111111-1111-4111-8111-111111111111";
const SUB = "00000000-0000-4000-8000-000000000001";
const RG = "rg-prod";
const url = process.env.AZRP_BENCH_URL;
if (!url) throw new Error("AZRP_BENCH_URL");

function credential() {
  let cached = null;
  return {
    async getToken(scopes) {
      if (cached && cached.expiresOnTimestamp - 300_000 > Date.now()) return cached;
      const res = await fetch(`${url}/${TENANT}/oauth2/v2.0/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          scope: Array.isArray(scopes) ? scopes.join(" ") : scopes,
          client_id: "22222222-2222-4222-8222-222222222222",
          client_secret: "azrp-emulator-secret",
        }),
      });
      if (res.status !== 200) throw new Error(`token: HTTP ${res.status}`);
      const body = await res.json();
      cached = { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
      return cached;
    },
  };
}

// KiB of anonymous (private) resident memory now (RssAnon).
const anonKib = () => {
  try {
    const m = readFileSync("/proc/self/status", "utf8").match(/RssAnon:\s*(\d+)/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
};
const coll = (i) => `rpc-${String(i).padStart(3, "0")}`;
const now = () => performance.now() / 1000;

async function main() {
  const [mode = "startup", a, b] = process.argv.slice(2);
  const client = new ComputeManagementClient(credential(), SUB, { endpoint: url });
  const get = () => client.restorePointCollections.get(RG, coll(1));
  let out;
  if (mode === "startup") {
    out = { name: (await get()).name };
  } else if (mode === "loop") {
    const n = Number(a || 2000);
    for (let i = 0; i < 20; i++) await get();
    const t0 = now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await get();
    const c = process.cpuUsage(c0);
    out = { requests: n, ms_per_request: ((now() - t0) * 1000) / n, cpu_ms_per_request: (c.user + c.system) / 1000 / n };
  } else if (mode === "concurrent") {
    const n = Number(a || 100);
    const tag = b || "js";
    const t0 = now();
    const jobs = [];
    for (let i = 1; i <= n; i++) {
      jobs.push(client.restorePoints.beginCreateAndWait(RG, coll(i), `rp-${tag}`, {}, { updateIntervalInMs: 1000 }));
    }
    const results = await Promise.allSettled(jobs);
    let ok = 0;
    results.forEach((r, i) => {
      if (r.status === "fulfilled" && r.value.provisioningState === "Succeeded") ok++;
      else console.error(`restore point ${i + 1}: ${r.reason || JSON.stringify(r.value)}`);
    });
    out = { n, ok, seconds: now() - t0, anon_kib: anonKib() };
  } else if (mode === "copies") {
    const n = Number(a || 50);
    const tag = b || "js";
    const interval = Number(process.argv[5] || 1) * 1000;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const t0 = now();
    const job = async (i) => {
      const dr = `rpc-dr-${String(i).padStart(3, "0")}`;
      const src = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Compute/restorePointCollections/${coll(i)}/restorePoints/rp-src-${tag}`;
      await client.restorePoints.beginCreateAndWait(RG, dr, `rp-copy-${tag}`, { sourceRestorePoint: { id: src } },
        { updateIntervalInMs: 1000 });
      for (;;) {
        const rp = await client.restorePoints.get(RG, dr, `rp-copy-${tag}`, { expand: "instanceView" });
        const drps = (rp.instanceView && rp.instanceView.diskRestorePoints) || [];
        if (drps.length > 0 && drps.every((d) => d.replicationStatus.completionPercent === 100)) return true;
        if (now() - t0 > 600) throw new Error("not at 100 % after 600 s");
        await sleep(interval);
      }
    };
    const jobs = [];
    for (let i = 1; i <= n; i++) jobs.push(job(i));
    const results = await Promise.allSettled(jobs);
    let ok = 0;
    results.forEach((r, i) => {
      if (r.status === "fulfilled" && r.value === true) ok++;
      else console.error(`copy ${i + 1}: ${r.reason}`);
    });
    out = { n, ok, seconds: now() - t0, anon_kib: anonKib() };
  } else {
    throw new Error("mode: startup | loop COUNT | concurrent N TAG | copies N TAG INTERVAL");
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
