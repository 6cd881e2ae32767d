#!/bin/sh
# Runs the test suites of `make test` and prints their total as the last
# line, "N passed, N failed".  Each job prints its own such line; a job
# that crashes before printing one counts as one failure.
#
#   sh spec/run.sh [SUITE...]   suites: c sanitize fuzz clients client
#                               client-jit client-5.1 client-5.2 client-5.3
#                               emulator conformance hosts
#
# Almost every spec waits on an emulator (time is scaled, but a request
# still takes its round trip), not on the CPU.  So the suites are cut into
# jobs, one per spec file (per Lua for the client specs), one per
# conformance flow, one per fuzz harness, and the jobs run in a pool of
# JOBS at once (default 5 per CPU), the longest first so that none is left
# alone at the end.  Each job has its own emulators.  Their outputs are
# printed one after the other when all are done.
#
# What measures time runs after the pool, on a machine with nothing else
# to do: the #timing tests of each Lua (pacing under ARM's limits,
# event-loop latency), the five Luas side by side (they wait, on ARM's
# refill and on timers, more than they compute), then the host specs that
# measure alone (latency of a real nginx, Neovim and cqueues under load;
# those that time nothing run in the pool).
#
# Environment: JOBS (pool size), FULL=1 (every crash point on every Lua),
# TIMES_OUT=FILE (every job's CPU seconds, emulators included, into FILE).
cd "$(dirname "$0")/.." || exit 2
ncpu=$(nproc 2>/dev/null || echo 2)
JOBS=${JOBS:-$((ncpu * 5))}
passed=0; failed=0; skipped=0; rc=0
BG=$(mktemp -d); trap 'rm -rf "$BG"' EXIT
: > "$BG/failures"
: > "$BG/jobs"; : > "$BG/order"

count() {
  name=$1; out=$2
  code=$(tail -n 200 "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$code" ]; then
    echo "== $name: no result line; counted as failed"
    echo "FAILED: $name: no result line" >> "$BG/failures"
    failed=$((failed + 1)); rc=1
  else
    p=$(echo "$code" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$code" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
    s=$(echo "$code" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
    if [ "$f" -ne 0 ]; then
      rc=1
      # the FAILED lines of spec/support/summary.lua, else the job's name
      grep -E '^FAILED: ' "$out" | sed "s|^FAILED: |FAILED [$name] |" > "$BG/f.tmp"
      [ -s "$BG/f.tmp" ] || echo "FAILED [$name] $f failed" > "$BG/f.tmp"
      cat "$BG/f.tmp" >> "$BG/failures"
    fi
  fi
}

# job WEIGHT NAME COMMAND...: queues a job.  WEIGHT is its rough length in
# seconds on an idle machine, to start the longest first; the arguments
# hold no spaces (the queue is one line per job, split by xargs).
job() {
  echo "$*" >> "$BG/jobs"
  echo "$2" >> "$BG/order"
}

# The client specs, per Lua.  A spec file's weight: the files that took
# longest when last measured (seconds, Lua 5.4, idle 2-CPU machine), else
# 5.  #timing tests are left for later.
weight() {
  case "$1" in
    crash|export_large|golden_crash) echo 170 ;;
    rotate_crash|restore_crash|rotate_fleet) echo 110 ;;
    rotate) echo 60 ;;
    export_disk) echo 50 ;;
    drill_faults|cli_workflow|restore_vm|golden_image) echo 14 ;;
    hostile_input|location|faults|dr_drill|cli) echo 8 ;;
    *) echo 5 ;;
  esac
}
# A crash spec kills a workflow at each of its moments, one after the
# other: its points are shared among several jobs (spec/support/shard.lua),
# SHARDS per Lua.  When the five Luas run together (suite clients) they
# share one spec's points among all their jobs: each point runs once, on
# one Lua (which one is fixed), as each Lua's bindings run every spec of
# the rest; FULL=1 runs every point on every Lua.
# A spec with the line "-- spec/run.sh: one job per Lua" gets one job per
# Lua: the short fault matrix (its cells run two at a time in one job
# already), the export crash spec's three points, export_large and rotate
# (one Lua, support.shard's lead(), exports the full size and rotates a
# year, the others a small disk and 60 days).
SHARDS=2
shards() {
  grep -q 'require[ (]"support.shard"' "$2" || { echo 0; return; }
  if grep -q '^-- spec/run.sh: one job per Lua' "$2"; then echo 1; else echo $SHARDS; fi
}
timing=""
# client_suite SUITE [J N]: SUITE's jobs; with J of N, the Luas run together.
client_suite() {
  lj=${2:-1}; nl=${3:-1}
  [ "${FULL:-0}" = 1 ] && { lj=1; nl=1; }
  for f in spec/client/*_spec.lua; do
    n=$(basename "$f" _spec.lua)
    k=$(shards "$n" "$f")
    if [ "$k" -eq 0 ]; then
      job "$(weight "$n")" "$1-$n" busted --run="$1" --exclude-tags=timing -o spec/support/summary.lua "$f"
    else
      i=1
      while [ $i -le "$k" ]; do
        w=$(( $(weight "$n") / (k * nl) + 5 ))
        [ "$k" -eq 1 ] && [ "$lj" -eq 1 ] && w=$(weight "$n")   # the full size
        job $w "$1-$n-$i" env AZRP_SHARD=$(( (lj - 1) * k + i ))/$(( nl * k )) \
          busted --run="$1" --exclude-tags=timing -o spec/support/summary.lua "$f"
        i=$((i + 1))
      done
    fi
  done
  timing="$timing $1"
}
hosts=""
for suite in "$@"; do
  case "$suite" in
    emulator)
      # the 8 GiB stream and the export views take longest
      for f in spec/emulator/*_spec.lua; do
        n=$(basename "$f" _spec.lua)
        case "$n" in blob_stream) w=100 ;; blob_export) w=40 ;; *) w=20 ;; esac
        job $w "emulator-$n" busted --run=emulator -o spec/support/summary.lua "$f"
      done ;;
    # Microsoft's Python SDK, JS SDK and Azure CLI, a flow each
    conformance) for flow in python js az; do job 40 "conformance-$flow" sh spec/conformance/run.sh "$flow"; done ;;
    client|client-jit|client-5.1|client-5.2|client-5.3) client_suite "$suite" ;;
    clients)
      j=1
      for v in client client-jit client-5.1 client-5.2 client-5.3; do client_suite "$v" $j 5; j=$((j + 1)); done ;;
    c) job 50 c-transport sh spec/c/run.sh; job 7 c-crypto sh spec/c/run_unit.sh crypto; job 1 c-throttle sh spec/c/run_unit.sh throttle; job 1 c-compat sh spec/c/run_compat.sh ;;
    sanitize) job 33 sanitize sh spec/sanitize.sh ;;
    # libFuzzer harnesses of the C core's parsers, briefly (their kept corpus,
    # then 5 s of new inputs each: `make fuzz-long` is the long run)
    fuzz)
      for t in $(ls spec/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|'); do
        job 10 "fuzz-$t" sh spec/fuzz/run.sh 5 "$t"
      done ;;
    # a host spec that times nothing says so ("-- spec/run.sh: in the
    # pool"); the others measure latency, alone after the pool
    hosts)
      hosts=""
      for f in spec/hosts/*_spec.lua; do
        if grep -q '^-- spec/run.sh: in the pool' "$f"; then
          job 10 "hosts-$(basename "$f" _spec.lua)" busted --run=hosts -o spec/support/summary.lua "$f"
        else
          hosts="$hosts $f"
        fi
      done ;;
    *) echo "unknown suite $suite"; exit 2 ;;
  esac
done

# A job's output goes to $BG/NAME.out, its wall and CPU seconds (its own
# and its waited-for children's: SDK processes, workflow children) to
# $BG/NAME.time.  Emulators are not waited for (they are killed): where a
# cgroup-v1 cpuacct hierarchy is writable (AZRP_CPUACCT, default
# /sys/fs/cgroup/cpuacct), each job runs in a cgroup of its own and its
# whole CPU, emulators included, goes to $BG/NAME.cpu: the pool is
# CPU-bound on 2 CPUs, and that is the figure to cut.
acct=${AZRP_CPUACCT:-/sys/fs/cgroup/cpuacct}
if [ -w "$acct" ] && mkdir "$acct/azrp-probe-$$" 2>/dev/null; then
  rmdir "$acct/azrp-probe-$$"
else
  acct=""
fi
cat > "$BG/job.sh" <<EOF
dir=\$1; name=\$3; shift 3
cg=""
if [ -n "$acct" ]; then
  cg="$acct/azrp-$$-\$name"
  mkdir "\$cg" && echo \$\$ > "\$cg/tasks" || cg=""
fi
/usr/bin/time -f "%e %U %S" -o "\$dir/\$name.time" "\$@" > "\$dir/\$name.out" 2>&1
if [ -n "\$cg" ]; then
  echo \$\$ > "$acct/tasks"
  awk '{ printf "%.1f\\n", \$1 / 1e9 }' "\$cg/cpuacct.usage" > "\$dir/\$name.cpu"
  for p in \$(cat "\$cg/tasks"); do kill "\$p" 2>/dev/null; done
  rmdir "\$cg" 2>/dev/null
fi
EOF
npool=$(wc -l < "$BG/jobs")
echo "== $npool jobs, $JOBS at once"
t0=$(date +%s)
sort -k1,1nr "$BG/jobs" | xargs -P "$JOBS" -L 1 sh "$BG/job.sh" "$BG"
pool_wall=$(( $(date +%s) - t0 ))

times=""
cpu_total=0
acct_times=""
for name in $(cat "$BG/order"); do
  echo "== $name"
  cat "$BG/$name.out"
  if [ -s "$BG/$name.time" ]; then
    set -- $(tail -n 1 "$BG/$name.time")
    times="$times
$1 $(echo "$2 $3" | awk '{ printf "%.0f", $1 + $2 }') $name"
    cpu_total=$(echo "$cpu_total $2 $3" | awk '{ printf "%.0f", $1 + $2 + $3 }')
  fi
  [ -s "$BG/$name.cpu" ] && acct_times="$acct_times
$(cat "$BG/$name.cpu") $name"
  count "$name" "$BG/$name.out"
done

# run NAME COMMAND...: a suite in the foreground, alone.
serial=""
run() {
  name=$1; shift
  echo "== $name: $*"
  out=$(mktemp); s0=$(date +%s)
  "$@" 2>&1 | tee "$out"
  serial="$serial $name=$(( $(date +%s) - s0 ))s"
  count "$name" "$out"
  rm -f "$out"
}
if [ -n "$timing" ]; then
  : > "$BG/jobs"; : > "$BG/order"
  # only the files that hold #timing tests: busted runs every file's
  # setup (an emulator each) even when its tests are all filtered out
  files=$(grep -l '#timing' spec/client/*_spec.lua | tr '\n' ' ')
  for v in $timing; do job 25 "$v-timing" busted --run="$v" --tags=timing -o spec/support/summary.lua $files; done
  s0=$(date +%s)
  xargs -P 5 -L 1 sh "$BG/job.sh" "$BG" < "$BG/jobs"
  serial="$serial timing=$(( $(date +%s) - s0 ))s"
  for name in $(cat "$BG/order"); do
    echo "== $name"; cat "$BG/$name.out"; count "$name" "$BG/$name.out"
  done
fi
# shellcheck disable=SC2086
[ -n "$hosts" ] && run hosts busted --run=hosts -o spec/support/summary.lua $hosts
echo
echo "longest jobs (wall s, CPU s, name):"
echo "$times" | sort -k1,1nr | head -n 15 | sed 's/^/  /'
if [ -n "$acct_times" ]; then
  echo "most CPU, emulators included (CPU s, name):"
  echo "$acct_times" | sed "/^$/d" | sort -k1,1nr | head -n 25 | sed "s/^/  /"
  echo "pool CPU, emulators included: $(echo "$acct_times" | awk '{ s += $1 } END { printf "%.0f", s }')s"
  # TIMES_OUT=FILE keeps every job's figure, for a closer look
  [ -n "$TIMES_OUT" ] && echo "$acct_times" | sed "/^$/d" | sort -k1,1nr > "$TIMES_OUT"
fi
echo "pool: $npool jobs, $JOBS at once, ${pool_wall}s wall, ${cpu_total}s CPU; then$serial"
# the failures last, just above the total, where an excerpt of the
# output's end (CI's) still shows them
[ -s "$BG/failures" ] && cat "$BG/failures"
echo "$passed passed, $failed failed, $skipped skipped"
exit $rc
