#!/bin/sh
# Conformance flow: the Azure CLI (Debian azure-cli 2.45) drives restore
# point collections and restore points against an ARM endpoint.
#
#     sh spec/conformance/az_flow.sh --ready-file /tmp/x/ready.json
#     sh spec/conformance/az_flow.sh --url https://127.0.0.1:PORT --ca-file ca.pem
#
# Offline login as official-clients.md describes: a registered cloud whose
# Active Directory endpoint is URL/adfs (MSAL then skips Entra instance
# discovery), a service-principal login, a scratch AZURE_CONFIG_DIR with a
# pre-seeded versionCheck.json (no trip to the internet), telemetry off.
# Commands run through az_cli.py, which points the CLI's compute profile at
# 2022-08-01 (the newest API of the azure-mgmt-compute Debian bundles).
# Against real Azure set AZRP_AZ_CLOUD=AzureCloud (no cloud registration)
# and the AZRP_* ids and secret.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
READY=${AZRP_READY_FILE:-}
URL=${AZRP_URL:-}
CA_FILE=${AZRP_CA_FILE:-}
TENANT=${AZRP_TENANT_ID:-11111111-1111-4111-8111-111111111111}
SUB=${AZRP_SUBSCRIPTION_ID:-00000000-0000-4000-8000-000000000001}
CLIENT_ID=${AZRP_CLIENT_ID:-22222222-2222-4222-8222-222222222222}
SECRET=${AZRP_CLIENT_SECRET:-azrp-emulator-secret}
RG=${AZRP_RG:-rg-prod}
VM=${AZRP_VM:-vm-app-01}
LOCATION=${AZRP_LOCATION:-westeurope}
PREFIX=${AZRP_AZ_PREFIX:-rpc-conf-az}
CLOUD=${AZRP_AZ_CLOUD:-AzrpEmulator}

while [ $# -gt 0 ]; do
  case "$1" in
    --ready-file) READY=$2; shift 2 ;;
    --url) URL=$2; shift 2 ;;
    --ca-file) CA_FILE=$2; shift 2 ;;
    *) echo "az_flow.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -n "$READY" ]; then
  [ -n "$URL" ] || URL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$READY") || exit 2
  [ -n "$CA_FILE" ] || CA_FILE=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("ca_file") or "")' "$READY")
fi
[ -n "$URL" ] || { echo "az_flow.sh: give --ready-file or --url" >&2; exit 2; }
URL=${URL%/}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/azrp-az.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export AZURE_CONFIG_DIR="$WORK/config"
export AZURE_CORE_COLLECT_TELEMETRY=false
export AZURE_CORE_NO_COLOR=true
export AZURE_CORE_ONLY_SHOW_ERRORS=true
export AZURE_CORE_SURVEY_MESSAGE=false
[ -n "$CA_FILE" ] && export REQUESTS_CA_BUNDLE="$CA_FILE"
mkdir -p "$AZURE_CONFIG_DIR"
# A future check/update time: the first command would otherwise ask GitHub
# and PyPI for newer versions.
printf '%s\n' '{"versions": {}, "update_time": "2099-01-01 00:00:00.000000", "check_time": "2099-01-01 00:00:00.000000"}' \
  >"$AZURE_CONFIG_DIR/versionCheck.json"

STARTED=$(date +%s.%N)
steps=0
fails=0
TIMINGS=

now() { date +%s.%N; }
elapsed() { "$PY" -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

# az ARGS...: runs the CLI, stdout to $WORK/out.json, stderr to $WORK/err.txt
az() { "$PY" "$HERE/az_cli.py" "$@" >"$WORK/out.json" 2>"$WORK/err.txt"; }

# jcheck 'python expression over d' 'message': asserts on $WORK/out.json
jcheck() {
  "$PY" - "$WORK/out.json" "$1" "$2" <<'EOF'
import json, sys
path, expr, msg = sys.argv[1:4]
try:
    d = json.load(open(path))
except ValueError as e:
    sys.exit("not JSON (%s): %s" % (e, open(path).read()[:300]))
low = lambda s: (s or "").lower()
if not eval(expr, {"d": d, "low": low}):
    sys.exit("%s -- got %s" % (msg, json.dumps(d)[:600]))
EOF
}
jget() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$WORK/out.json" "$1"; }

# step NAME FUNCTION: runs FUNCTION, prints ok/FAIL with timing
step() {
  name=$1; fn=$2
  t0=$(now)
  if out=$($fn 2>&1); then
    dt=$(elapsed "$t0" "$(now)")
    printf 'ok   %-34s %7ss  %s\n' "$name" "$dt" "$(printf '%s' "$out" | tail -1)"
    steps=$((steps + 1)); TIMINGS="$TIMINGS
  $(printf '%-36s %8ss' "$name" "$dt")"
    return 0
  fi
  dt=$(elapsed "$t0" "$(now)")
  printf 'FAIL %-34s %7ss  %s\n' "$name" "$dt" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-900)"
  steps=$((steps + 1)); fails=$((fails + 1)); TIMINGS="$TIMINGS
  $(printf '%-36s %8ss FAILED' "$name" "$dt")"
  return 1
}

fail_az() { echo "az $*: exit non-zero: $(tr '\n' ' ' <"$WORK/err.txt" | cut -c1-700)"; return 1; }

s_cloud() {
  if [ "$CLOUD" = AzureCloud ]; then echo "using AzureCloud"; return 0; fi
  az cloud register -n "$CLOUD" \
    --endpoint-resource-manager "$URL/" \
    --endpoint-active-directory "$URL/adfs" \
    --endpoint-active-directory-resource-id "https://management.azure.com/" \
    --endpoint-active-directory-graph-resource-id "https://graph.windows.net/" \
    || { fail_az cloud register; return 1; }
  az cloud set -n "$CLOUD" || { fail_az cloud set; return 1; }
  echo "cloud $CLOUD -> $URL"
}

s_login() {
  az login --service-principal -u "$CLIENT_ID" -p "$SECRET" --tenant "$TENANT" -o json \
    || { fail_az login; return 1; }
  jcheck 'any(low(s.get("id")) == low("'"$SUB"'") and s.get("state") == "Enabled" for s in d)' \
    "subscription $SUB not listed as Enabled" || return 1
  az account set -s "$SUB" || { fail_az account set; return 1; }
  az account get-access-token -o json || { fail_az account get-access-token; return 1; }
  jcheck 'len(d["accessToken"]) > 20 and low(d["tenant"]) == low("'"$TENANT"'")' "bad access token" || return 1
  echo "logged in, subscription $SUB"
}

s_vm() {
  az vm show -g "$RG" -n "$VM" -o json || { fail_az vm show; return 1; }
  jcheck 'low(d["id"]).endswith("/virtualmachines/" + low("'"$VM"'"))' "VM id" || return 1
  VM_ID=$(jget 'd["id"]')
  NDISKS=$(jget '1 + len(d["storageProfile"].get("dataDisks") or [])')
  printf '%s\n%s\n' "$VM_ID" "$NDISKS" >"$WORK/vm"
  echo "$VM_ID, $NDISKS disks"
}

s_rpc_create() {
  az restore-point collection create -g "$RG" --collection-name "$PREFIX" -l "$LOCATION" \
    --source-id "$VM_ID" --tags purpose=azrp-conformance -o json || { fail_az restore-point collection create; return 1; }
  jcheck 'd["name"] == "'"$PREFIX"'" and low(d["source"]["id"]) == low("'"$VM_ID"'") and low(d["location"]) == low("'"$LOCATION"'")' \
    "collection create result" || return 1
  jget 'd["id"]'
}

s_rpc_show() {
  az restore-point collection show -g "$RG" --collection-name "$PREFIX" -o json \
    || { fail_az restore-point collection show; return 1; }
  jcheck 'd["name"] == "'"$PREFIX"'" and d.get("tags", {}).get("purpose") == "azrp-conformance"' "collection show" || return 1
  echo "tags $(jget 'd.get("tags")')"
}

s_rpc_list() {
  az restore-point collection list -g "$RG" -o json || { fail_az restore-point collection list; return 1; }
  jcheck 'any(x["name"] == "'"$PREFIX"'" for x in d)' "collection not listed" || return 1
  echo "$(jget 'len(d)') collection(s) in $RG"
}

s_rp_create() {
  az restore-point create -g "$RG" --collection-name "$PREFIX" -n "$PREFIX-rp1" -o json \
    || { fail_az restore-point create; return 1; }
  jcheck 'd["name"] == "'"$PREFIX-rp1"'" and d["provisioningState"] == "Succeeded"' "restore point create result" || return 1
  echo "provisioningState $(jget 'd["provisioningState"]')"
}

s_rp_wait() {
  az restore-point wait -g "$RG" --collection-name "$PREFIX" -n "$PREFIX-rp1" --created --interval 1 --timeout 60 \
    || { fail_az restore-point wait; return 1; }
  echo "wait --created returned"
}

s_rp_show() {
  az restore-point show -g "$RG" --collection-name "$PREFIX" -n "$PREFIX-rp1" --instance-view -o json \
    || { fail_az restore-point show; return 1; }
  n=$(sed -n 2p "$WORK/vm")
  jcheck 'len(d["instanceView"]["diskRestorePoints"]) == '"$n" "instanceView.diskRestorePoints count != $n VM disks" || return 1
  jcheck 'd["sourceMetadata"]["storageProfile"]["osDisk"]["diskRestorePoint"]["id"]' "no osDisk.diskRestorePoint.id" || return 1
  echo "$n disk restore points"
}

s_rpc_show_rps() {
  az restore-point collection show -g "$RG" --collection-name "$PREFIX" --restore-points -o json \
    || { fail_az restore-point collection show --restore-points; return 1; }
  jcheck '[r["name"] for r in d["restorePoints"]] == ["'"$PREFIX-rp1"'"]' "restorePoints expand" || return 1
  echo "1 restore point in the collection"
}

s_rp_delete() {
  az restore-point delete -g "$RG" --collection-name "$PREFIX" -n "$PREFIX-rp1" --yes \
    || { fail_az restore-point delete; return 1; }
  if az restore-point show -g "$RG" --collection-name "$PREFIX" -n "$PREFIX-rp1" -o json; then
    echo "restore point still shown after delete"; return 1
  fi
  grep -q "ResourceNotFound\|NotFound\|not found" "$WORK/err.txt" || { fail_az "restore-point show (after delete, expected not found)"; return 1; }
  echo "deleted, show says not found"
}

s_rpc_delete() {
  az restore-point collection delete -g "$RG" --collection-name "$PREFIX" --yes \
    || { fail_az restore-point collection delete; return 1; }
  if az restore-point collection show -g "$RG" --collection-name "$PREFIX" -o json; then
    echo "collection still shown after delete"; return 1
  fi
  grep -q "ResourceNotFound\|NotFound\|not found" "$WORK/err.txt" || { fail_az "restore-point collection show (after delete, expected not found)"; return 1; }
  echo "deleted, show says not found"
}

echo "az flow: Azure CLI $("$PY" -c 'from azure.cli.core import __version__ as v; print(v)') against $URL (sub $SUB)"
VM_ID=
run_all() {
  step "cloud register+set" s_cloud || return 1
  step "login (service principal)" s_login || return 1
  step "vm show" s_vm || return 1
  VM_ID=$(sed -n 1p "$WORK/vm")
  step "restore-point collection create" s_rpc_create || return 1
  step "restore-point collection show" s_rpc_show
  step "restore-point collection list" s_rpc_list
  if step "restore-point create (LRO)" s_rp_create; then
    step "restore-point wait --created" s_rp_wait
    step "restore-point show --instance-view" s_rp_show
    step "collection show --restore-points" s_rpc_show_rps
    step "restore-point delete + not found" s_rp_delete
  fi
  step "collection delete + not found" s_rpc_delete
}
run_all
if [ "$fails" != 0 ]; then
  # best-effort cleanup (the emulator is thrown away, real Azure is not)
  "$PY" "$HERE/az_cli.py" restore-point collection delete -g "$RG" --collection-name "$PREFIX" --yes >/dev/null 2>&1
fi
echo "--- az timings ---$TIMINGS"
printf '  %-36s %8ss\n' total "$(elapsed "$STARTED" "$(now)")"
if [ "$fails" != 0 ] || [ "$steps" = 0 ]; then
  echo "az flow: FAILED ($fails of $steps steps failed)"
  exit 1
fi
echo "az flow: PASSED ($steps steps)"
