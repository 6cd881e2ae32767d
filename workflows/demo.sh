#!/bin/sh
# The main job (`make demo`): a DR drill of vm-app-01 on the emulator.
# It starts an emulator (500 times faster than Azure), runs
# `azrp drill workflows/drill.json` against it, and stops it.  The run is
# journalled in a temporary state folder; its report (report.json,
# report.md, timeline.svg) goes to demo-report/.
cd "$(dirname "$0")/.." || exit 2
dir=$(mktemp -d)
lua5.4 bin/azrp emulator --port 0 --time-scale 0.002 --state-dir "$dir/state" \
  --ready-file "$dir/ready.json" > "$dir/emulator.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
i=0
while [ ! -s "$dir/ready.json" ]; do
  i=$((i + 1))
  if [ $i -gt 200 ]; then echo "demo: the emulator did not start:"; cat "$dir/emulator.log"; exit 1; fi
  sleep 0.1
done
lua5.4 bin/azrp drill workflows/drill.lua --emulator "$dir/ready.json" --state-dir "$dir/runs" \
  --report demo-report -o table
