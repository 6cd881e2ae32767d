#!/bin/sh
# Builds spec/c/test_compat.c against every Lua whose headers are installed
# (5.1, 5.2, 5.3, 5.4, LuaJIT 2.1), with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs each build.  Prints the sum as the
# last line, "N passed, N failed"; a Lua that does not build, prints no
# result line or exits non-zero adds one failure.  Builds go to a
# temporary directory.
cd "$(dirname "$0")/../.." || exit 2

CC=${CC:-cc}
WARN="-Wall -Wextra -Wshadow -Wundef -Wwrite-strings -Wmissing-prototypes \
-Wstrict-prototypes -Wdeclaration-after-statement -Wno-unused-parameter"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/azrp-run-compat-XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

passed=0; failed=0; ran=0
for v in 5.1 5.2 5.3 5.4 jit; do
  if [ "$v" = jit ]; then inc=/usr/include/luajit-2.1; lib=luajit-5.1
  else inc=/usr/include/lua$v; lib=lua$v; fi
  [ -f "$inc/lua.h" ] || { echo "== Lua $v: no headers in $inc, skipped"; continue; }
  echo "== Lua $v"
  ran=$((ran + 1))
  # shellcheck disable=SC2086
  if ! $CC -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
      -fno-sanitize-recover=all $WARN -Werror -Isrc -I"$inc" \
      -o "$tmp/test-$v" spec/c/test_compat.c src/compat.c -l$lib; then
    echo "== Lua $v: does not build; counted as one failure"
    failed=$((failed + 1)); continue
  fi
  env ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 "$tmp/test-$v" >"$tmp/out" 2>&1
  code=$?
  cat "$tmp/out"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
  if [ -z "$line" ]; then
    echo "== Lua $v: no result line (exit status $code); counted as one failure"
    failed=$((failed + 1)); continue
  fi
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  [ "$code" -ne 0 ] && [ "$f" -eq 0 ] && f=1   # the sanitizer's verdict
  passed=$((passed + p)); failed=$((failed + f))
done
[ $ran -gt 0 ] || failed=$((failed + 1))
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
