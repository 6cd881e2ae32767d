#!/bin/sh
# make fuzz-long SECONDS=N: runs every harness of spec/fuzz for N seconds
# (one at a time) and appends the result, one line per harness, to the
# section of RELIABILITY.md between <!-- spec/fuzz --> and <!-- /spec/fuzz -->.
# Crash inputs are kept in spec/fuzz/crashes/ (not committed: minimise one,
# fix the bug, then keep it in the target's corpus).
cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-3600}
log=$(mktemp) || exit 2
trap 'rm -f "$log"' EXIT
mkdir -p spec/fuzz/crashes
FUZZ_LOG=$log FUZZ_ARTIFACTS=spec/fuzz/crashes sh spec/fuzz/run.sh "$SECS"
rc=$?
{
  echo
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC'): $SECS s per harness, clang $(clang -dumpversion 2>/dev/null), $(nproc) CPUs"
  echo
  sed 's/^/- /' "$log"
} >"$log.section"
lua5.4 - "$log.section" <<'LUA'
local f = assert(io.open("RELIABILITY.md")); local doc = f:read("a"); f:close()
local add = assert(io.open(arg[1])):read("a")
local s, e = doc:find("<!-- /spec/fuzz -->", 1, true)
assert(s, "RELIABILITY.md has no <!-- /spec/fuzz --> marker")
doc = doc:sub(1, s - 1) .. add:gsub("^\n", "") .. "\n" .. doc:sub(s)
f = assert(io.open("RELIABILITY.md", "w")); f:write(doc); f:close()
LUA
rm -f "$log.section"
exit $rc
