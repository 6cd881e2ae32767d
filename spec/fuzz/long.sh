#!/bin/sh
# make fuzz-long SECONDS=N [TARGETS="json url"]: runs every harness of
# spec/fuzz (or those named) for N seconds, one at a time, and appends the
# result, one line per harness, to the section of RELIABILITY.md between
# <!-- spec/fuzz --> and <!-- /spec/fuzz -->.  Two of these may run side
# by side (an hour each for eight harnesses is eight hours on one CPU):
# the write into RELIABILITY.md is under a lock.
# Crash inputs are kept in spec/fuzz/crashes/ (not committed: minimise one,
# fix the bug, then keep it in the target's corpus).
cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-3600}
[ $# -gt 0 ] && shift
start=$(date -u '+%Y-%m-%d %H:%M')
log=$(mktemp) || exit 2
trap 'rm -f "$log"' EXIT
mkdir -p spec/fuzz/crashes
FUZZ_MERGE=1 FUZZ_LOG=$log FUZZ_ARTIFACTS=spec/fuzz/crashes sh spec/fuzz/run.sh "$SECS" "$@"
rc=$?
{
  echo
  echo "### $start to $(date -u '+%H:%M UTC'): $SECS s per harness${*:+ ($*)}, clang $(clang -dumpversion 2>/dev/null), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo
  sed 's/^/- /' "$log"
} >"$log.section"
flock RELIABILITY.md lua5.4 - "$log.section" <<'LUA'
local f = assert(io.open("RELIABILITY.md")); local doc = f:read("a"); f:close()
local add = assert(io.open(arg[1])):read("a")
local s, e = doc:find("<!-- /spec/fuzz -->", 1, true)
assert(s, "RELIABILITY.md has no <!-- /spec/fuzz --> marker")
doc = doc:sub(1, s - 1):gsub("\n*$", "\n") .. add .. "\n" .. doc:sub(s)
f = assert(io.open("RELIABILITY.md", "w")); f:write(doc); f:close()
LUA
rm -f "$log.section"
exit $rc
