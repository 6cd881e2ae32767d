#!/bin/sh
# sh spec/c/run_unit.sh NAME: builds spec/c/test_NAME.c with the parts of
# src/ it tests (crypto: crypto.c; throttle: the client's token buckets)
# and runs it twice: with AddressSanitizer and UndefinedBehaviorSanitizer,
# then a plain build under valgrind (definite leaks are errors).  Prints the sum of both runs as the last line,
# "N passed, N failed"; a run that crashes, prints no result line, or
# whose sanitizer/valgrind exit status is non-zero adds one failure.
# Builds go to a temporary directory, never into the tree.
cd "$(dirname "$0")/../.." || exit 2

CC=${CC:-cc}
WARN="-Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wmissing-prototypes \
-Wstrict-prototypes -Wdeclaration-after-statement -Wno-unused-parameter"
OPENSSL_INCDIR=${OPENSSL_INCDIR:-/usr/include}
case "$1" in
  # the test generates RSA keys and runs openssl dozens of times: bound it
  crypto) SRCS="src/crypto.c src/buffer.c"; LIBS=-lcrypto; TIMEOUT=${TIMEOUT:-600} ;;
  throttle) SRCS="src/throttle.c"; LIBS=-lm; TIMEOUT=${TIMEOUT:-120} ;;
  *) echo "usage: sh spec/c/run_unit.sh crypto|throttle" >&2; exit 2 ;;
esac
SRCS="spec/c/test_$1.c $SRCS"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/azrp-run-$1-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

passed=0; failed=0; skipped=0

# run NAME COMMAND...: runs a built test, adds its counts
run() {
  name=$1; shift
  echo "== $name"
  "$@" </dev/null >"$tmp/out" 2>&1
  code=$?
  cat "$tmp/out"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
  if [ -z "$line" ]; then
    echo "== $name: no result line (exit status $code); counted as one failure"
    failed=$((failed + 1))
    return
  fi
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  passed=$((passed + p)); failed=$((failed + f))
  # leaks and valgrind errors show only in the exit status
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "== $name: exit status $code (sanitizer or valgrind errors above); counted as one failure"
    failed=$((failed + 1))
  fi
}

# build OUT FLAGS...: compiles the test; a failure counts
build() {
  out=$1; shift
  # shellcheck disable=SC2086
  if ! $CC "$@" $WARN -I"$OPENSSL_INCDIR" -Isrc $SRCS $LIBS -o "$out"; then
    echo "== build of $out failed; counted as one failure"
    failed=$((failed + 1))
    return 1
  fi
}

if build "$tmp/test_asan" -O1 -g -fno-omit-frame-pointer \
     -fsanitize=address,undefined -fno-sanitize-recover=all; then
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run "asan+ubsan" timeout "$TIMEOUT" "$tmp/test_asan"
fi

if build "$tmp/test_plain" -O2 -g; then
  if command -v valgrind >/dev/null 2>&1; then
    run "valgrind" timeout "$TIMEOUT" valgrind -q --leak-check=full \
      --error-exitcode=1 --errors-for-leak-kinds=definite "$tmp/test_plain"
  else
    echo "== valgrind not found: the plain build runs without it"
    run "plain" timeout "$TIMEOUT" "$tmp/test_plain"
    skipped=$((skipped + 1))
  fi
fi

echo
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
