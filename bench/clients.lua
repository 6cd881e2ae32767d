--- The clients bench/restore_points.lua and bench/fleet.lua measure, and how
-- each one's side is started (from the repository root).  Each side prints
-- one JSON line; see azrp_bench.lua, python_bench.py, js_bench.mjs and
-- az_bench.sh for the modes they take.
local M = {}

M.LIST = {
  { id = "azrp", label = "azrp (Lua 5.4)",
    cmd = "lua5.4 -e 'package.cpath=\"./build/5.4/?.so;\"..package.cpath' bench/azrp_bench.lua" },
  { id = "azrp-jit", label = "azrp (LuaJIT)",
    cmd = "luajit -e 'package.cpath=\"./build/jit/?.so;\"..package.cpath' bench/azrp_bench.lua",
    check = "command -v luajit" },
  { id = "python", label = "Python SDK", sdk = true,
    cmd = "/usr/bin/python3 bench/python_bench.py",
    check = "/usr/bin/python3 -c 'import azure.mgmt.compute'",
    missing = "Debian's python3-azure (apt-get install python3-azure)" },
  { id = "js", label = "JS SDK", sdk = true,
    cmd = "node bench/js_bench.mjs",
    check = "command -v node && test -d spec/conformance/node_modules/@azure/arm-compute",
    missing = "node and @azure/arm-compute (cd spec/conformance && npm install)" },
  { id = "az", label = "az CLI", sdk = true, az = true,
    cmd = "sh bench/az_bench.sh",
    check = "command -v az && /usr/bin/python3 -c 'import azure.cli.core'",
    missing = "Debian's azure-cli (apt-get install azure-cli)" },
}

local function quiet(root, cmd)
  local r = os.execute("cd " .. root .. " && { " .. cmd .. "; } >/dev/null 2>&1")
  return r == true or r == 0
end

--- select(ids, root) -> the clients named in ids ("azrp,python,..."), in
-- M.LIST's order, without those whose interpreter or SDK is missing (named
-- on stderr); installs the JS SDK with npm when it is wanted and missing.
function M.select(ids, root)
  root = root or "."
  local wanted = {}
  for id in ids:gmatch("[^,]+") do wanted[id] = true end
  if wanted.js and not quiet(root, "test -d spec/conformance/node_modules/@azure/arm-compute") and
      quiet(root, "command -v npm") then
    io.stderr:write("installing @azure/arm-compute (spec/conformance) ...\n")
    os.execute("cd " .. root .. "/spec/conformance && npm install --no-audit --no-fund >&2")
  end
  local out = {}
  for _, c in ipairs(M.LIST) do
    if wanted[c.id] then
      if c.check and not quiet(root, c.check) then
        io.stderr:write(string.format("skipping %s: needs %s\n", c.label, c.missing or c.check))
      else
        out[#out + 1] = c
      end
    end
  end
  return out
end

--- median(list) -> its median (nil when empty); the list is not changed.
function M.median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

return M
