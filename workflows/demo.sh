#!/bin/sh
# The main job (`make demo`): a DR drill of vm-app-01 on the emulator.
# It starts an emulator (100 times faster than Azure), runs
# workflows/dr_drill.lua against it through azrp's client, and stops it.
cd "$(dirname "$0")/.." || exit 2
dir=$(mktemp -d)
lua5.4 bin/azrp emulator --port 0 --time-scale 0.01 --state-dir "$dir/state" \
  --ready-file "$dir/ready.json" > "$dir/emulator.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
i=0
while [ ! -s "$dir/ready.json" ]; do
  i=$((i + 1))
  if [ $i -gt 200 ]; then echo "demo: the emulator did not start:"; cat "$dir/emulator.log"; exit 1; fi
  sleep 0.1
done
sub=$(sed -E 's/.*"subscription":"([^"]+)".*/\1/' "$dir/ready.json")
lua5.4 workflows/dr_drill.lua --ready-file "$dir/ready.json" \
  --vm "/subscriptions/$sub/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-app-01" \
  --dr-location northeurope --dr-resource-group rg-dr
