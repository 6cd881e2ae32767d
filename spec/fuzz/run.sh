#!/bin/sh
# libFuzzer harnesses of the C core's parsers (spec/fuzz/fuzz_*.c), built
# with clang -fsanitize=fuzzer,address,undefined and run one at a time
# over their kept corpus (spec/fuzz/corpus/<target>/, read only: new
# inputs go to a temporary directory).  Prints "N passed, N failed" as
# the last line: one check per harness, failed when it does not build or
# libFuzzer reports a crash, leak, sanitizer error or failed invariant.
#
# usage: sh spec/fuzz/run.sh [SECONDS [TARGET...]]   (default 10 s each)
# FUZZ_LOG=FILE appends one line per harness (seconds, execs, execs/s,
# coverage, crashes) to FILE; crash inputs are kept in $FUZZ_ARTIFACTS
# (default a temporary directory that is removed).  FUZZ_MERGE=1 merges
# the new inputs that add coverage into the kept corpus (make fuzz-long).
cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-10}
[ $# -gt 0 ] && shift
CC=${FUZZ_CC:-clang}
LUA_INCDIR=${LUA_INCDIR:-/usr/include/lua5.4}
CURL_INCDIR=${CURL_INCDIR:-$(pkg-config --variable=includedir libcurl 2>/dev/null || echo /usr/include)}
TARGETS=${*:-$(ls spec/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|')}
FLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
LIBS="-llua5.4 -lcurl -lcrypto -lm"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/azrp-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
ART=${FUZZ_ARTIFACTS:-$tmp/artifacts}
mkdir -p "$ART"
command -v "$CC" >/dev/null 2>&1 || { echo "$CC not installed (apt-get install clang)"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0
for t in $TARGETS; do
  echo "== fuzz_$t"
  # harnesses that include a source for its static functions do not link it twice
  srcs=""
  for s in src/*.c; do
    grep -q "#include \"../../$s\"" "spec/fuzz/fuzz_$t.c" || srcs="$srcs $s"
  done
  # shellcheck disable=SC2086
  if ! $CC $FLAGS -Isrc -Ispec/fuzz -I"$LUA_INCDIR" -I"$CURL_INCDIR" \
      -o "$tmp/fuzz_$t" "spec/fuzz/fuzz_$t.c" $srcs $LIBS 2>"$tmp/build.err"; then
    cat "$tmp/build.err"
    echo "fuzz_$t: does not build"; failed=$((failed + 1)); continue
  fi
  mkdir -p "$tmp/new_$t"
  corpus=spec/fuzz/corpus/$t
  [ -d "$corpus" ] || corpus=
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$tmp/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$ART/${t}-" \
      "$tmp/new_$t" $corpus >"$tmp/out" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/out" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/out" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$tmp/out" | tail -n 1 | sed 's/cov: //')
  crashes=$(ls "$ART" | grep -c "^${t}-")
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1)); verdict=ok
  else
    tail -n 60 "$tmp/out"; failed=$((failed + 1)); verdict="FAILED (exit $rc)"
  fi
  kept=
  if [ -n "${FUZZ_MERGE:-}" ] && [ -n "$corpus" ] && [ $rc -eq 0 ]; then
    # keep what the run found that reaches new code (libFuzzer's merge adds
    # only inputs that grow the corpus's coverage): the next short run
    # starts from there
    n0=$(ls "$corpus" | wc -l)
    ASAN_OPTIONS=detect_leaks=0 "$tmp/fuzz_$t" -merge=1 "$corpus" "$tmp/new_$t" >"$tmp/merge" 2>&1
    kept=", $(($(ls "$corpus" | wc -l) - n0)) inputs added to the corpus"
  fi
  line="fuzz_$t: ${SECS} s, ${execs:-0} execs, ${rate:-0} execs/s, coverage ${cov:-0} edges, $crashes crash inputs$kept: $verdict"
  echo "$line"
  [ -n "${FUZZ_LOG:-}" ] && echo "$line" >>"$FUZZ_LOG"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
