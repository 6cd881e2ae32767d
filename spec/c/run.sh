#!/bin/sh
# C-level tests of the transport (src/http.c, src/buffer.c), no Lua needed
# on the client side: builds spec/c/test_http.c twice (ASan+UBSan, and plain
# for valgrind), starts an emulator, runs both builds against it, stops it
# and prints "N passed, N failed" (both runs summed) as the last line.
# Exit status 0 only if every check passed and neither tool found an error.
#
# usage: sh spec/c/run.sh        (from anywhere; CC, CURL_INCDIR, LUA honoured)
# SKIP_VALGRIND=1 skips the valgrind run.
set -u
cd "$(dirname "$0")/../.." || exit 2

CC=${CC:-gcc}
LUA=${LUA:-lua5.4}
CURL_INCDIR=${CURL_INCDIR:-$(pkg-config --variable=includedir libcurl 2>/dev/null || echo /usr/include)}
WARN="-Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wmissing-prototypes \
-Wstrict-prototypes -Wdeclaration-after-statement -Wno-unused-parameter"
SRCS="spec/c/test_http.c src/http.c src/buffer.c src/util.c"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/azrp-ctest.XXXXXX") || exit 2
EMU_PID=
cleanup() {
  if [ -n "$EMU_PID" ]; then
    kill "$EMU_PID" 2>/dev/null
    wait "$EMU_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building"
# shellcheck disable=SC2086
$CC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
  -fno-sanitize-recover=undefined $WARN -Isrc -I"$CURL_INCDIR" \
  -o "$TMP/test_asan" $SRCS -lcurl || exit 2
# shellcheck disable=SC2086
$CC -O1 -g $WARN -Isrc -I"$CURL_INCDIR" -o "$TMP/test_plain" $SRCS -lcurl \
  || exit 2

echo "== starting the emulator"
$LUA bin/azrp emulator --port 0 --no-throttle --state-dir "$TMP" \
  --ready-file "$TMP/ready.json" >"$TMP/emulator.log" 2>&1 &
EMU_PID=$!
i=0
while [ ! -s "$TMP/ready.json" ]; do
  i=$((i + 1))
  if [ $i -gt 150 ] || ! kill -0 "$EMU_PID" 2>/dev/null; then
    echo "the emulator did not start:" >&2
    cat "$TMP/emulator.log" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  sleep 0.1
done

PASS=0
FAIL=0
STATUS=0
# run NAME COMMAND...: runs one build, adds its counts; a run that ends
# without its summary line, or fails under its tool, counts as a failure.
run() {
  name=$1
  shift
  echo "== $name"
  "$@" "$TMP/ready.json" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  cat "$TMP/err" >&2
  line=$(tail -n 1 "$TMP/out")
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
  f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  if [ -z "$p" ]; then
    p=0
    f=1
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1  # the checks passed but the sanitizer or valgrind did not
  fi
  echo "$name: $p passed, $f failed (exit $rc)"
  PASS=$((PASS + p))
  FAIL=$((FAIL + f))
  [ $rc -eq 0 ] || STATUS=1
}

run "ASan+UBSan" env ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$TMP/test_asan"

if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
  if command -v valgrind >/dev/null 2>&1; then
    # Only "definitely lost" is an error: libcurl and OpenSSL keep process
    # lifetime state (still reachable) that is theirs, not ours.
    run "valgrind" valgrind --quiet --leak-check=full \
      --errors-for-leak-kinds=definite --show-leak-kinds=definite \
      --error-exitcode=1 "$TMP/test_plain"
  else
    echo "valgrind not installed: skipped" >&2
  fi
fi

kill "$EMU_PID" 2>/dev/null
wait "$EMU_PID" 2>/dev/null
EMU_PID=

[ $FAIL -eq 0 ] || STATUS=1
echo "$PASS passed, $FAIL failed"
exit $STATUS
