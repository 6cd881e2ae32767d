#!/bin/sh
# Runs every test suite of `make test` and prints their total as the last
# line, "N passed, N failed".  Each suite prints its own such line; a suite
# that crashes before printing one counts as one failure.
cd "$(dirname "$0")/.." || exit 2
passed=0; failed=0; skipped=0; rc=0
run() {
  name=$1; shift
  echo "== $name: $*"
  out=$(mktemp)
  "$@" 2>&1 | tee "$out"
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
  rm -f "$out"
}
for suite in "$@"; do
  case "$suite" in
    emulator) run emulator busted --run=emulator -o spec/support/summary.lua ;;
    conformance) run conformance sh spec/conformance/run.sh ;;
    client) run client busted --run=client -o spec/support/summary.lua ;;
    client-jit) run client-jit busted --run=client-jit -o spec/support/summary.lua ;;
    c) run c-transport sh spec/c/run.sh; run c-crypto sh spec/c/run_crypto.sh ;;
    sanitize) run sanitize sh spec/sanitize.sh ;;
    *) echo "unknown suite $suite"; exit 2 ;;
  esac
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
