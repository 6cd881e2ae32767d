#!/bin/sh
# Runs every test suite of `make test` and prints their total as the last
# line, "N passed, N failed".  Each suite prints its own such line; a suite
# that crashes before printing one counts as one failure.
#
# The client suites (one per Lua: 5.4, LuaJIT, 5.1, 5.2, 5.3) spend their
# time waiting on the emulator, not on the CPU, so they run side by side,
# each with its own emulators, and their outputs are printed one after
# the other when all are done; their #timing tests follow, one suite at a
# time.
cd "$(dirname "$0")/.." || exit 2
passed=0; failed=0; skipped=0; rc=0
BG=$(mktemp -d); bg_names=""
trap 'rm -rf "$BG"' EXIT
count() {
  name=$1; out=$2
  code=$(tail -n 200 "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$code" ]; then
    echo "== $name: no result line; counted as failed"
    failed=$((failed + 1)); rc=1
  else
    p=$(echo "$code" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$code" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=$(echo "$code" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    [ "$f" -eq 0 ] || rc=1
  fi
}
# Each suite's wall time goes in the summary printed last, so that a slow
# suite shows which it is.
times=""
run() {
  name=$1; shift
  echo "== $name: $*"
  out=$(mktemp)
  t0=$(date +%s)
  "$@" 2>&1 | tee "$out"
  times="$times $name=$(( $(date +%s) - t0 ))s"
  count "$name" "$out"
  rm -f "$out"
}
# bg NAME COMMAND...: starts a suite in the background (collected by collect).
bg() {
  name=$1; shift
  echo "== $name (in parallel): $*"
  ( t0=$(date +%s); "$@" > "$BG/$name.out" 2>&1; echo $(( $(date +%s) - t0 )) > "$BG/$name.seconds" ) &
  bg_names="$bg_names $name"
}
collect() {
  wait
  for name in $bg_names; do
    echo "== $name"
    cat "$BG/$name.out"
    times="$times $name=$(cat "$BG/$name.seconds" 2>/dev/null)s"
    count "$name" "$BG/$name.out"
  done
  bg_names=""
}
# A client suite runs in parallel but for its #timing tests (pacing under
# ARM's limits, event-loop latency), which CPU contention would skew: those
# run one suite at a time once the parallel runs are done.
timing=""
hosts=""
# The long crash and load specs (tagged #crash: SIGKILL at every step of
# a workflow, a fleet under throttling) mostly wait on the emulator, not
# on the CPU, so each file of them runs as a suite of its own beside the
# rest of the same Lua's.
crash_files=$(grep -l '#crash' spec/client/*_spec.lua)
client_suite() {
  bg "$1" busted --run="$1" --exclude-tags=timing,crash -o spec/support/summary.lua
  for f in $crash_files; do
    bg "$1-$(basename "$f" _spec.lua)" busted --run="$1" --tags=crash --exclude-tags=timing -o spec/support/summary.lua "$f"
  done
  timing="$timing $1"
}
for suite in "$@"; do
  case "$suite" in
    emulator) run emulator busted --run=emulator -o spec/support/summary.lua ;;
    conformance) run conformance sh spec/conformance/run.sh ;;
    client|client-jit|client-5.1|client-5.2|client-5.3) client_suite "$suite" ;;
    clients) for v in client client-jit client-5.1 client-5.2 client-5.3; do client_suite "$v"; done ;;
    c) run c-transport sh spec/c/run.sh; run c-crypto sh spec/c/run_crypto.sh; run c-compat sh spec/c/run_compat.sh ;;
    sanitize) run sanitize sh spec/sanitize.sh ;;
    # libFuzzer harnesses of the C core's parsers, briefly, over their corpus
    fuzz) run fuzz sh spec/fuzz/run.sh 10 ;;
    # Real hosts (spec/hosts): nginx with its Lua module, headless Neovim,
    # a cqueues server.  They measure latency (BENCHMARKS.md), so they run
    # at the end, alone, like the #timing tests.
    hosts) hosts=1 ;;
    *) echo "unknown suite $suite"; exit 2 ;;
  esac
done
collect
for v in $timing; do
  run "$v-timing" busted --run="$v" --tags=timing -o spec/support/summary.lua
done
[ -n "$hosts" ] && run hosts busted --run=hosts -o spec/support/summary.lua
echo
echo "suite times:$times"
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
