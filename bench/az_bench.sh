#!/bin/sh
# One side of bench/fleet.lua: the Azure CLI (Debian azure-cli 2.45), scripted
# as its users script it: one `az` process per command, a fleet fanned out
# with `xargs -P`.
#
#   AZRP_BENCH_URL=https://127.0.0.1:PORT AZRP_BENCH_CA=ca.pem AZURE_CONFIG_DIR=DIR \
#     sh bench/az_bench.sh login | startup | concurrent N TAG P | copies N TAG INTERVAL P
#
# login: registers the emulator as a cloud (Active Directory at URL/adfs) and
#   logs the service principal in, into AZURE_CONFIG_DIR (once per emulator;
#   the other modes reuse its cached token, as a user's shell does).
# startup: one `az restore-point collection show` (a process, one GET).
# concurrent: `az restore-point create` (which waits for the LRO, polling at
#   the Retry-After the server sends) for rpc-001..N, P processes at a time.
#   Blocking creates rather than `--no-wait` + `az restore-point show` loops:
#   one process per VM instead of one per VM and poll.
# copies: per i in 1..N, P at a time: `az restore-point create
#   --source-restore-point rpc-00i/rp-src-TAG` into rpc-dr-00i (waits until
#   provisioningState Succeeded), then `az restore-point show --instance-view`
#   every INTERVAL seconds until every disk restore point is at 100 %.
# Commands go through spec/conformance/az_cli.py (the CLI with its compute
# profile at the bundled SDK's 2022-08-01; see official-clients.md).
# Prints one JSON line, as the other sides do.
set -u
HERE=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
AZ="$PY $HERE/spec/conformance/az_cli.py"
RG=rg-prod
SUB=00000000-0000-4000-8000-000000000001
URL=${AZRP_BENCH_URL:?AZRP_BENCH_URL}
: "${AZURE_CONFIG_DIR:?AZURE_CONFIG_DIR}"
export AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_NO_COLOR=true AZURE_CORE_ONLY_SHOW_ERRORS=true \
  AZURE_CORE_SURVEY_MESSAGE=false
[ -n "${AZRP_BENCH_CA:-}" ] && export REQUESTS_CA_BUNDLE="$AZRP_BENCH_CA"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

mode=${1:-startup}
case "$mode" in
login)
  mkdir -p "$AZURE_CONFIG_DIR"
  # a future check time: no trip to GitHub/PyPI for newer versions
  printf '%s\n' '{"versions": {}, "update_time": "2099-01-01 00:00:00.000000", "check_time": "2099-01-01 00:00:00.000000"}' \
    >"$AZURE_CONFIG_DIR/versionCheck.json"
  $AZ cloud register -n AzrpBench --endpoint-resource-manager "$URL/" --endpoint-active-directory "$URL/adfs" \
    --endpoint-active-directory-resource-id "https://management.azure.com/" \
    --endpoint-active-directory-graph-resource-id "https://graph.windows.net/" >&2 || exit 1
  $AZ cloud set -n AzrpBench >&2 || exit 1
  $AZ login --service-principal -u 22222222-2222-4222-8222-222222222222 -p azrp-emulator-secret \
    --tenant 11111111-1111-4111-8111-111111111111 -o none >&2 || exit 1
  $AZ account set -s "$SUB" >&2 || exit 1
  echo '{"login": true}'
  ;;
startup)
  name=$($AZ restore-point collection show -g "$RG" --collection-name rpc-001 --query name -o tsv) || exit 1
  printf '{"name": "%s"}\n' "$name"
  ;;
concurrent)
  n=${2:-100}; tag=${3:-az}; p=${4:-8}
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
  export AZ RG tag out
  t0=$(now)
  seq 1 "$n" | xargs -P "$p" -I{} sh -c 'i=$(printf %03d {}); $AZ restore-point create -g "$RG" \
    --collection-name "rpc-$i" -n "rp-$tag" --query provisioningState -o tsv >"$out/$i" 2>"$out/$i.err" ||
    { echo "restore point $i: $(tr "\n" " " <"$out/$i.err" | cut -c1-300)" >&2; }'
  t1=$(now)
  ok=$(cat "$out"/[0-9][0-9][0-9] 2>/dev/null | grep -c '^Succeeded$')
  printf '{"n": %d, "ok": %d, "seconds": %s}\n' "$n" "$ok" "$(secs "$t0" "$t1")"
  ;;
copies)
  n=${2:-50}; tag=${3:-az}; interval=${4:-1}; p=${5:-8}
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
  export AZ RG SUB tag out interval
  t0=$(now)
  seq 1 "$n" | xargs -P "$p" -I{} sh -c 'i=$(printf %03d {})
    src="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/restorePointCollections/rpc-$i/restorePoints/rp-src-$tag"
    $AZ restore-point create -g "$RG" --collection-name "rpc-dr-$i" -n "rp-copy-$tag" --source-restore-point "$src" \
      -o none 2>"$out/$i.err" || { echo "copy $i: $(tr "\n" " " <"$out/$i.err" | cut -c1-300)" >&2; exit 0; }
    while :; do
      pct=$($AZ restore-point show -g "$RG" --collection-name "rpc-dr-$i" -n "rp-copy-$tag" --instance-view \
        --query "instanceView.diskRestorePoints[].replicationStatus.completionPercent" -o tsv 2>>"$out/$i.err") ||
        { echo "copy $i: show failed" >&2; exit 0; }
      if [ -n "$pct" ] && ! printf "%s\n" "$pct" | grep -qv "^100$"; then echo done >"$out/$i"; exit 0; fi
      sleep "$interval"
    done'
  t1=$(now)
  ok=$(cat "$out"/[0-9][0-9][0-9] 2>/dev/null | grep -c '^done$')
  printf '{"n": %d, "ok": %d, "seconds": %s}\n' "$n" "$ok" "$(secs "$t0" "$t1")"
  ;;
*)
  echo "mode: login | startup | concurrent N TAG P | copies N TAG INTERVAL P" >&2
  exit 2
  ;;
esac
