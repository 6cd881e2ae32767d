#!/bin/sh
# Conformance: Microsoft's own Azure clients drive the azrp emulator end to
# end.  Run from the repository root (`make test-conformance` does):
#
#     sh spec/conformance/run.sh [python] [js] [az]
#
# With no argument it runs the Python SDK, JavaScript SDK and Azure CLI
# flows (AZRP_CONF_AZ=0 leaves the CLI out).  Each flow gets a fresh
# emulator (time scale 0.01).  Installs what is missing: Debian's
# python3-azure and azure-cli (apt-get, as root) and the npm packages of
# spec/conformance/package.json.  Ends with the line "N passed, N failed"
# (N = flows) and exits non-zero when a flow failed.
#
# Environment: LUA (default lua5.4), AZRP_CONF_TIME_SCALE (0.01),
# AZRP_CONF_FLOW_TIMEOUT (seconds per flow, 900), AZRP_CONF_KEEP=1 keeps the
# scratch folder (emulator output and request log per flow), AZRP_CONF_AZ=0
# skips the CLI flow, AZRP_CONF_FAULTS="429=0.1,500=0.05,seed=7" runs the
# flows against an emulator that injects faults (the SDKs must retry).

set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/spec/conformance"
LUA=${LUA:-lua5.4}
PY=/usr/bin/python3
TIME_SCALE=${AZRP_CONF_TIME_SCALE:-0.01}
FLOW_TIMEOUT=${AZRP_CONF_FLOW_TIMEOUT:-900}
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/azrp-conformance.XXXXXX")
FAULT_ARGS=
[ -n "${AZRP_CONF_FAULTS:-}" ] && FAULT_ARGS="--faults $AZRP_CONF_FAULTS"
EMU_PID=
passed=0
failed=0
failed_names=

cd "$ROOT" || exit 1

log() { printf '%s\n' "conformance: $*"; }

stop_emulator() {
  if [ -n "$EMU_PID" ]; then
    kill -TERM "$EMU_PID" 2>/dev/null
    i=0
    while kill -0 "$EMU_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$EMU_PID" 2>/dev/null; then
      log "emulator $EMU_PID ignored SIGTERM for 5 s; sending SIGKILL"
      kill -KILL "$EMU_PID" 2>/dev/null
    fi
    wait "$EMU_PID" 2>/dev/null
    EMU_PID=
  fi
}

finish() {
  stop_emulator
  if [ "${AZRP_CONF_KEEP:-0}" = 1 ]; then log "scratch kept in $SCRATCH"; else rm -rf "$SCRATCH"; fi
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  if ! is_root; then
    log "missing Debian package(s): $* (run as root: apt-get install -y $*)"
    return 1
  fi
  log "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$SCRATCH/apt.log" 2>&1 || {
    apt-get update -q >>"$SCRATCH/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$SCRATCH/apt.log" 2>&1
  } || { tail -20 "$SCRATCH/apt.log"; return 1; }
}

ensure_python() {
  "$PY" -c 'import azure.mgmt.compute, azure.identity, requests' 2>/dev/null && return 0
  apt_install python3-azure || return 1
  "$PY" -c 'import azure.mgmt.compute, azure.identity, requests'
}

ensure_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm || return 1
  fi
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    log "node $(node --version) is too old: @azure/arm-compute 24.x needs Node >= 20"
    return 1
  fi
  [ -f "$HERE/node_modules/@azure/arm-compute/package.json" ] && return 0
  log "npm install in spec/conformance"
  (cd "$HERE" && npm install --no-audit --no-fund) >"$SCRATCH/npm.log" 2>&1 || {
    tail -20 "$SCRATCH/npm.log"; return 1; }
}

ensure_az() {
  command -v az >/dev/null 2>&1 && return 0
  apt_install azure-cli
}

# start_emulator NAME: fresh emulator, sets READY (ready file) and EMU_PID.
start_emulator() {
  dir="$SCRATCH/$1"
  mkdir -p "$dir"
  READY="$dir/ready.json"
  # shellcheck disable=SC2086 # $FAULT_ARGS is two words or none
  "$LUA" bin/azrp emulator --port 0 --ready-file "$READY" --time-scale "$TIME_SCALE" \
    --log "$dir/requests.jsonl" $FAULT_ARGS >"$dir/emulator.log" 2>&1 &
  EMU_PID=$!
  i=0
  while [ $i -lt 600 ]; do
    if [ -s "$READY" ] && "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d["url"]' "$READY" 2>/dev/null; then
      CA_FILE=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("ca_file") or "")' "$READY")
      URL=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$READY")
      log "emulator $EMU_PID ready at $URL ($(( i / 10 )).$(( i % 10 )) s)"
      return 0
    fi
    if ! kill -0 "$EMU_PID" 2>/dev/null; then
      wait "$EMU_PID"; rc=$?
      EMU_PID=
      log "emulator exited ($rc) before it was ready:"
      tail -30 "$dir/emulator.log"
      return 1
    fi
    sleep 0.1
    i=$((i + 1))
  done
  log "emulator not ready after 60 s:"
  tail -30 "$dir/emulator.log"
  stop_emulator
  return 1
}

with_timeout() {
  if command -v timeout >/dev/null 2>&1; then timeout -s TERM "$FLOW_TIMEOUT" "$@"; else "$@"; fi
}

record() { # record NAME RC
  if [ "$2" = 0 ]; then
    passed=$((passed + 1)); log "flow $1: passed"
  else
    failed=$((failed + 1)); failed_names="$failed_names $1"; log "flow $1: FAILED (exit $2)"
  fi
}

# run_flow NAME ENSURE CMD...
run_flow() {
  name=$1; ensure=$2; shift 2
  log "=== $name flow ==="
  if ! $ensure; then
    log "cannot install what the $name flow needs"
    record "$name" 1
    return
  fi
  if ! start_emulator "$name"; then
    record "$name" 1
    return
  fi
  t0=$(date +%s)
  REQUESTS_CA_BUNDLE=$CA_FILE NODE_EXTRA_CA_CERTS=$CA_FILE AZRP_READY_FILE=$READY \
    with_timeout "$@" --ready-file "$READY"
  rc=$?
  t1=$(date +%s)
  stop_emulator
  log "$name flow took $((t1 - t0)) s; the emulator answered $(wc -l <"$SCRATCH/$name/requests.jsonl" 2>/dev/null || echo 0) requests"
  if [ "$rc" != 0 ]; then
    if [ -s "$SCRATCH/$name/emulator.log" ]; then
      log "last lines of the emulator's output:"
      tail -15 "$SCRATCH/$name/emulator.log"
    fi
    if [ -s "$SCRATCH/$name/requests.jsonl" ]; then
      log "last requests the emulator saw:"
      tail -12 "$SCRATCH/$name/requests.jsonl"
    fi
  fi
  record "$name" "$rc"
}

flows=${*:-}
if [ -z "$flows" ]; then
  flows="python js"
  [ "${AZRP_CONF_AZ:-1}" = 0 ] || flows="$flows az"
fi

if [ ! -f bin/azrp ]; then
  log "bin/azrp not found: the emulator is missing"
fi

for f in $flows; do
  case "$f" in
    python) run_flow python ensure_python "$PY" "$HERE/python_flow.py" --credential identity ;;
    js) run_flow js ensure_node node "$HERE/js_flow.mjs" ;;
    az) run_flow az ensure_az sh "$HERE/az_flow.sh" ;;
    *) log "unknown flow $f"; failed=$((failed + 1)) ;;
  esac
done

[ -n "$failed_names" ] && log "failed flows:$failed_names"
printf '%s passed, %s failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
