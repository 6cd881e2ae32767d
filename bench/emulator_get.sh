#!/bin/sh
# Emulator throughput: authenticated GETs of a disk over HTTPS keep-alive,
# measured with wrk (Debian's wrk), one emulator process (one core).
# Usage: sh bench/emulator_get.sh [seconds] [connections]
set -e
cd "$(dirname "$0")/.."
secs=${1:-10}; conns=${2:-8}
dir=$(mktemp -d)
lua5.4 bin/azrp emulator --port 0 --no-throttle --state-dir "$dir/state" --ready-file "$dir/ready.json" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
i=0; while [ ! -s "$dir/ready.json" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
url=$(sed -E 's/.*"url":"([^"]+)".*/\1/; s#\\/#/#g' "$dir/ready.json")
ca="$dir/state/ca.pem"
tok=$(curl -sS --cacert "$ca" -X POST "$url/_emulator/tokens" -d '{}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$tok" > "$dir/auth.lua"
path="/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-prod/providers/Microsoft.Compute/disks/vm-app-01-osdisk?api-version=2026-03-02"
echo "emulator: $url  (wrk -t1 -c$conns -d${secs}s, GET Disks_Get over HTTPS keep-alive)"
wrk -t1 -c"$conns" -d"${secs}s" -s "$dir/auth.lua" "$url$path"
echo "CPU of the emulator process (one core at most): $(ps -o %cpu= -p $pid)%"
