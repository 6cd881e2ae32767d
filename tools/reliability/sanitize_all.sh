#!/bin/sh
# The whole client and workflow suite (every spec/client/*_spec.lua, #timing
# left out: CPU contention from the sanitizer would only skew it; #crash
# in) under ASan+UBSan, then under valgrind memcheck, one spec file at a
# time, Lua 5.4.  The Lua children those specs start (workflow children of
# the crash specs, bin/azrp) run under the same tool: spec/support/process.lua
# puts AZRP_SPEC_CHILD_WRAP before their interpreter.
#
#   sh tools/reliability/sanitize_all.sh [asan] [valgrind]     (default: both)
#
# Environment: FILES (spec files, default all of spec/client), OUT (default
# build/sanitize), VG_BUDGET (seconds a file may take under valgrind with
# its children under valgrind too, default 900; a file over it is run again
# with valgrind on the spec process only, its children under ASan, within
# LIGHT_BUDGET, default 4 x VG_BUDGET, when it has #crash tests (its
# children are the cost); another keeps what it passed in time, a timeout
# in the report; ASan runs get LIGHT_BUDGET per file too).  Writes OUT/<mode>/results.tsv and, per file,
# OUT/<mode>/<name>/ (busted output, sanitizer logs, findings.txt), then
# the sanitize-all section of RELIABILITY.md (tools/reliability/sanitize_report.lua).
# UNTIL (Unix seconds): files not started by then are listed as not run.
# APPEND=1 adds to the results of an earlier run instead of starting
# afresh (a file run again, or one written since); NO_REPORT=1 leaves
# RELIABILITY.md alone.
# Exit status 0 when every file passed with no finding in azrp.core.
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
modes=${*:-asan valgrind}
OUT=${OUT:-build/sanitize}
case "$OUT" in /*) ;; *) OUT=$root/$OUT ;; esac
FILES=${FILES:-$(ls spec/client/*_spec.lua)}
VG_BUDGET=${VG_BUDGET:-900}
LIGHT_BUDGET=${LIGHT_BUDGET:-$((VG_BUDGET * 4))}
mkdir -p "$OUT"
asan_lib=$(gcc -print-file-name=libasan.so)
# leaks are looked for in azrp's own code (spec/lsan.supp)
sup=$(pwd)/spec/lsan.supp
[ -f build/asan/azrp/core.so ] || make -s asan || exit 2
[ -f build/5.4/azrp/core.so ] || make -s build || exit 2
status=0

# asan_env DIR: the variables of an ASan run whose reports go to DIR.
# LD_PRELOAD reaches every program the specs run (sh, sed, curl, az's
# python ...), whose own leaks would change their exit status and fail the
# spec: exitcode=0 keeps their status, and every report, theirs or azrp's,
# is read from DIR (a memory error still stops the process that has it).
asan_env() {
  echo "LD_PRELOAD=$asan_lib ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:intercept_tls_get_addr=0:exitcode=0:log_path=$1/asan" \
    "LSAN_OPTIONS=suppressions=$sup:print_suppressions=0" \
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$1/ubsan"
}
vg_cmd() {
  echo "valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite" \
    "--error-exitcode=24 --log-file=$1/vg.%p.log"
}
# child_asan DIR: AZRP_SPEC_CHILD_WRAP for lua5.4 children under ASan.
child_asan() {
  echo "env $(asan_env "$1") LUA_INIT_5_4=@$root/tools/reliability/sanitize_init.lua AZRP_SANITIZE_CPATH='$root/build/asan/?.so'"
}

# run_group SECONDS LOG COMMAND...: runs COMMAND in a process group of its
# own, killed (with whatever it left running: emulators, children) after
# SECONDS or when it ends; rc is its exit status, 137 when it was killed.
run_group() {
  budget=$1; log=$2; shift 2
  setsid "$@" > "$log" 2>&1 &
  pid=$!
  t_end=$(( $(date +%s) + budget ))
  while running "$pid" && [ "$(date +%s)" -lt "$t_end" ]; do sleep 1; done
  if running "$pid"; then
    kill -9 -"$pid" 2>/dev/null; wait "$pid"; rc=137
  else
    wait "$pid"; rc=$?
  fi
  kill -9 -"$pid" 2>/dev/null
  return 0
}
# running PID: PID is alive (a zombie is not).
running() {
  [ -r "/proc/$1/stat" ] && ! sed -E 's/^[0-9]+ \(.*\) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'
}

# one MODE FILE [light]: runs FILE; appends a line to OUT/MODE/results.tsv.
one() {
  mode=$1; f=$2; light=$3
  name=$(basename "$f" _spec.lua)
  d=$OUT/$mode/$name
  rm -rf "$d"; mkdir -p "$d"
  t0=$(date +%s)
  case "$mode" in
    asan)
      budget=$LIGHT_BUDGET
      run_group "$budget" "$d/busted.log" env $(asan_env "$d") AZRP_SPEC_CHILD_WRAP="$(child_asan "$d")" \
        lua5.4 /usr/bin/busted --run=client-asan --exclude-tags=timing -o spec/support/summary.lua "$f" ;;
    valgrind)
      if [ -n "$light" ]; then wrap=$(child_asan "$d"); budget=$LIGHT_BUDGET
      else wrap=$(vg_cmd "$d"); budget=$VG_BUDGET; fi
      run_group "$budget" "$d/busted.log" env AZRP_SPEC_CHILD_WRAP="$wrap" $(vg_cmd "$d") \
        lua5.4 /usr/bin/busted --run=client-valgrind --exclude-tags=timing -o spec/support/summary.lua "$f" ;;
  esac
  secs=$(( $(date +%s) - t0 ))
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$d/busted.log" | tail -n 1)
  p=$(echo "$line" | sed -nE 's/^([0-9]+) passed.*/\1/p'); p=${p:-0}
  fl=$(echo "$line" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/p'); fl=${fl:-0}
  sk=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); sk=${sk:-0}
  scan=$(lua5.4 tools/reliability/sanitize_report.lua scan "$mode" "$d")
  findings=$(echo "$scan" | sed -nE 's/^findings ([0-9]+) outside ([0-9]+)$/\1/p')
  outside=$(echo "$scan" | sed -nE 's/^findings ([0-9]+) outside ([0-9]+)$/\2/p')
  if [ $rc -eq 137 ] && [ "$mode" = valgrind ] && [ -z "$light" ]; then
    res=timeout
  elif [ $rc -eq 137 ]; then
    res=timeout
  elif [ -z "$line" ]; then res="no-result(rc=$rc)"
  elif [ "$fl" -ne 0 ] || [ "${findings:-0}" -ne 0 ]; then res=FAILED
  elif [ $rc -ne 0 ]; then res="exit-$rc"
  else res=ok
  fi
  how=full; [ -n "$light" ] && how=light
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$res" "$p" "$fl" "$sk" "$secs" "${findings:-0}" "${outside:-0}" "$how" \
    >> "$OUT/$mode/results.tsv"
  echo "$mode $name: $res, $p passed, $fl failed, $sk skipped, ${secs}s, findings ${findings:-0} (outside azrp ${outside:-0}) [$how]"
  [ "$res" = ok ] || [ "$res" = timeout ] || status=1
  # over budget under valgrind: a file whose children are the cost (#crash)
  # runs again with them under ASan; another keeps what it passed in time
  if [ "$res" = timeout ] && [ -z "$light" ] && grep -q '#crash' "$f"; then one "$mode" "$f" light; fi
}

for mode in $modes; do
  mkdir -p "$OUT/$mode"
  if [ -z "$APPEND" ]; then
    : > "$OUT/$mode/results.tsv"
    date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/$mode/started"
  fi
  for f in $FILES; do
    if [ -n "$UNTIL" ] && [ "$(date +%s)" -ge "$UNTIL" ]; then
      printf '%s\tnot-run\t0\t0\t0\t0\t0\t0\tfull\n' "$(basename "$f" _spec.lua)" >> "$OUT/$mode/results.tsv"
      echo "$mode $(basename "$f" _spec.lua): not run (UNTIL passed)"
      continue
    fi
    one "$mode" "$f"
  done
  date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/$mode/ended"
done
[ -n "$NO_REPORT" ] || lua5.4 tools/reliability/sanitize_report.lua write "$OUT" RELIABILITY.md
exit $status
