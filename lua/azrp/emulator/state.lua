-- Saving and loading the emulator's model (--state FILE), so that a fleet
-- built through the API, disk bytes included, survives a restart: an
-- offline rehearsal can be prepared once and replayed.
--
-- The file is a Lua chunk returning one table (string.format's %q keeps
-- binary block data exact).  Blocks shared between disks and restore
-- points are written once.  What does not persist: operations still in
-- flight (save() finishes them first, as if time had passed), SAS grants
-- (a restart revokes them, as an expired SAS), functions held in entries
-- (providers re-create them in revive(em, entry)).
local content = require "azrp.emulator.content"

local M = {}

M.VERSION = 1

local function serialize(out, v, views, depth)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = string.format("%q", v)
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and string.format("%d", v) or string.format("%.17g", v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    if content.is_view(v) then
      out[#out + 1] = string.format("V(%d)", views(v))
      return
    end
    if depth > 64 then error("state: nesting too deep") end
    local mt = getmetatable(v)
    out[#out + 1] = mt and mt.__name == "json.array" and "A{" or "{"
    local keys = {}
    for k, x in pairs(v) do
      if type(x) ~= "function" and (type(k) == "string" or type(k) == "number") then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    for _, k in ipairs(keys) do
      out[#out + 1] = "["
      serialize(out, k, views, depth + 1)
      out[#out + 1] = "]="
      serialize(out, v[k], views, depth + 1)
      out[#out + 1] = ","
    end
    out[#out + 1] = "}"
  else
    out[#out + 1] = "nil"
  end
end

-- Writes the model to path atomically; returns true or nil, err.
function M.save(em, path)
  for _, op in pairs(em.lro.ops) do
    if op.status == "InProgress" then em.lro:finish_now(op) end
  end
  local view_ids, view_list = {}, {}
  local function views(v)
    local id = view_ids[v]
    if not id then
      view_list[#view_list + 1] = v
      id = #view_list
      view_ids[v] = id
    end
    return id
  end
  local entries = {}
  for _, e in pairs(em.store.by_key) do entries[#entries + 1] = e end
  table.sort(entries, function(a, b) return a.seq < b.seq end)
  local body = {}
  serialize(body, (function()
    local list = {}
    for i, e in ipairs(entries) do
      list[i] = { id = e.id, type = e.type, body = e.body, x = e.x }
    end
    return list
  end)(), views, 0)

  -- Blocks next: each distinct block string once.
  local block_ids, blocks = {}, {}
  local view_out = {}
  for i, v in ipairs(view_list) do
    local ex = content.export(v)
    local refs = {}
    for idx, b in pairs(ex.blocks) do
      local bid = block_ids[b]
      if not bid then blocks[#blocks + 1] = b; bid = #blocks; block_ids[b] = bid end
      refs[#refs + 1] = string.format("[%d]=B[%d]", idx, bid)
    end
    view_out[i] = string.format("{size=%d,snapshot=%s,blocks={%s}}", ex.size, tostring(ex.snapshot),
      table.concat(refs, ","))
  end
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write("-- azrp emulator state; written by --state, read back at start\n")
  f:write("local B, VS = {}, {}\n")
  for i, b in ipairs(blocks) do f:write(string.format("B[%d]=%q\n", i, b)) end
  for i, v in ipairs(view_out) do f:write(string.format("VS[%d]=%s\n", i, v)) end
  f:write("return { version = ", M.VERSION, ", clock_offset = ", string.format("%.17g", em.clock.offset),
    ", views = VS, entries = ")
  f:write(table.concat(body))
  f:write(" }\n")
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then return nil, rerr end
  return true
end

-- Reads a state file into em's (empty) store; returns true or nil, err.
function M.load(em, path)
  local f = io.open(path, "rb")
  if not f then return nil, "no state file" end
  local text = f:read("a")
  f:close()
  local VIEW_REF = {}
  local imported = {}
  local env = {
    A = function(t) return require("azrp.emulator.json").array(t) end,
    V = function(i) return setmetatable({ i }, VIEW_REF) end,
  }
  local chunk, err = load(text, "@" .. path, "t", env)
  if not chunk then return nil, "state file " .. path .. ": " .. err end
  local ok, data = pcall(chunk)
  if not ok or type(data) ~= "table" or data.version ~= M.VERSION then
    return nil, "state file " .. path .. ": not a state of this emulator version (" ..
      tostring(ok and type(data) == "table" and data.version or data) .. ")"
  end
  local function view(i)
    if not imported[i] then imported[i] = content.import(data.views[i]) end
    return imported[i]
  end
  -- Replaces the V(i) references with the views they name.
  local function resolve(t)
    for k, v in pairs(t) do
      if type(v) == "table" then
        if getmetatable(v) == VIEW_REF then t[k] = view(v[1]) else resolve(v) end
      end
    end
  end
  for k in pairs(em.store.by_key) do em.store.by_key[k] = nil end
  em.store.by_type, em.store.seq = {}, 0
  for _, e in ipairs(data.entries) do
    resolve(e)
    em.store:put{ id = e.id, type = e.type, body = e.body, x = e.x or {} }
  end
  em.clock.offset = data.clock_offset or 0
  return true
end

return M
