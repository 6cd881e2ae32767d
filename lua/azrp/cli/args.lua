--- Command-line options: args.parse(argv, spec) and args.describe(spec).
--
-- spec is a list of entries
--   { "long-name", short = "x", required = true, flag = true | list = true |
--     number = true, choices = { ... }, default = v, metavar = "ID", help = "..." }
-- Options come as --long-name VALUE, --long-name=VALUE or -x VALUE; a list
-- takes every following argument up to the next option, and may repeat.
-- opts keys spell '-' as '_' (long-name -> long_name).  "--" ends the
-- options.  The global options (args.GLOBALS) are accepted by every command.

local azrp = require "azrp"

local M = {}

-- " (did you mean 'x'?)" or "".
local function hint(word, candidates)
  local c = azrp.suggest(word, candidates)
  return c and string.format(" (did you mean '%s'?)", c) or ""
end

M.GLOBALS = {
  { "subscription", metavar = "ID", param = "subscription_id", help = "subscription id (default: AZURE_SUBSCRIPTION_ID, the emulator's, or the Azure CLI's default)" },
  { "emulator", metavar = "READY_FILE", help = "talk to a running azrp emulator (its --ready-file; or set AZRP_EMULATOR)" },
  { "output", short = "o", choices = { "json", "table", "tsv" }, default = "json", metavar = "FORMAT",
    help = "output format" },
  { "verbose", flag = true, help = "log each request (operation, status, time) to stderr" },
  { "help", short = "h", flag = true, help = "show this help and exit" },
}

local function key(long) return (long:gsub("%-", "_")) end

-- The entries of spec and the globals, indexed by long and short name.
local function index(spec)
  local by_long, by_short, names = {}, {}, {}
  local function add(e)
    if type(e[1]) ~= "string" then error("args: every spec entry needs a long name", 3) end
    if not by_long[e[1]] then
      by_long[e[1]] = e
      names[#names + 1] = e[1]
      if e.short then by_short[e.short] = e end
    end
  end
  for _, e in ipairs(spec) do add(e) end
  for _, e in ipairs(M.GLOBALS) do add(e) end
  return by_long, by_short, names
end

local function is_option(a)
  return type(a) == "string" and #a > 1 and a:sub(1, 1) == "-" and not a:match("^%-%d")
end

local function choice(e, v)
  for _, c in ipairs(e.choices) do
    if c:lower() == v:lower() then return c end
  end
  return nil
end

-- Checks and converts one value of e.
local function convert(e, v)
  if e.number then
    local n = tonumber(v)
    if not n then return nil, string.format("--%s must be a number, got '%s'", e[1], v) end
    return n
  end
  if e.choices then
    local c = choice(e, v)
    if not c then
      return nil, string.format("--%s must be one of %s, got '%s'%s", e[1], table.concat(e.choices, ", "), v,
        hint(v, e.choices))
    end
    return c
  end
  return v
end

--- parse(argv, spec) -> opts, positionals | nil, message.  With -h or
-- --help anywhere before "--", returns { help = true } and nothing else is
-- checked.
function M.parse(argv, spec)
  if type(argv) ~= "table" or type(spec) ~= "table" then error("args.parse: expected argv and spec tables", 2) end
  local by_long, by_short, names = index(spec)
  for _, a in ipairs(argv) do
    if a == "--" then break end
    if a == "-h" or a == "--help" then return { help = true }, {} end
  end
  local opts, pos = {}, {}
  local i, n = 1, #argv
  local function set(e, v)
    local k = key(e[1])
    if e.list then
      opts[k] = opts[k] or {}
      table.insert(opts[k], v)
    else
      opts[k] = v
    end
  end
  while i <= n do
    local a = argv[i]
    if a == "--" then
      for j = i + 1, n do pos[#pos + 1] = argv[j] end
      break
    elseif is_option(a) then
      local e, inline, shown
      local long, val = a:match("^%-%-([^=]+)=(.*)$")
      if long then inline = val else long = a:match("^%-%-(.+)$") end
      if long then
        e, shown = by_long[long], "--" .. long
      else
        local short, sval = a:match("^%-([^-=])=?(.*)$")
        e, shown = short and by_short[short], "-" .. (short or a:sub(2))
        if sval and sval ~= "" then inline = sval end
      end
      if not e then
        local word = long or a:sub(2)
        local near = azrp.suggest(word, names)
        return nil, string.format("unknown option %s%s", shown, near and (" (did you mean --" .. near .. "?)") or "")
      end
      if e.flag then
        if inline ~= nil then return nil, string.format("--%s takes no value", e[1]) end
        opts[key(e[1])] = true
      elseif inline ~= nil then
        local v, err = convert(e, inline)
        if v == nil then return nil, err end
        set(e, v)
      elseif e.list then
        local got = 0
        while i + 1 <= n and not is_option(argv[i + 1]) and argv[i + 1] ~= "--" do
          i = i + 1
          local v, err = convert(e, argv[i])
          if v == nil then return nil, err end
          set(e, v)
          got = got + 1
        end
        if got == 0 then return nil, string.format("--%s needs at least one value", e[1]) end
      else
        i = i + 1
        -- "-g --name x" is a forgotten value, not a group named "--name".
        if argv[i] == nil or is_option(argv[i]) then
          return nil, string.format("--%s needs a value%s", e[1], e.metavar and (" (" .. e.metavar .. ")") or "")
        end
        local v, err = convert(e, argv[i])
        if v == nil then return nil, err end
        set(e, v)
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  for _, long in ipairs(names) do
    local e, k = by_long[long], key(long)
    if opts[k] == nil and e.default ~= nil then opts[k] = e.default end
    if opts[k] == nil and e.required then return nil, string.format("--%s is required", long) end
  end
  return opts, pos
end

local function usage_of(e)
  local s = "--" .. e[1]
  if e.short then s = "-" .. e.short .. ", " .. s end
  if not e.flag then
    local mv = e.metavar or (e.choices and table.concat(e.choices, "|")) or (e.number and "N") or "VALUE"
    s = s .. " " .. mv .. (e.list and " ..." or "")
  end
  return s
end

local function help_of(e)
  local parts = { e.help or "" }
  if e.choices and e.metavar then parts[#parts + 1] = "one of " .. table.concat(e.choices, ", ") end
  if e.default ~= nil and not e.flag then parts[#parts + 1] = "default " .. tostring(e.default) end
  if e.required then parts[#parts + 1] = "required" end
  local s = parts[1]
  if #parts > 1 then s = s .. (s ~= "" and " " or "") .. "(" .. table.concat(parts, "; ", 2) .. ")" end
  return s
end

local function width_of(entries, width)
  for _, e in ipairs(entries) do width = math.max(width, #usage_of(e)) end
  return math.min(width, 34)
end

local function block(out, title, entries, width)
  if #entries == 0 then return end
  out[#out + 1] = title
  for _, e in ipairs(entries) do
    local u = usage_of(e)
    if #u > width then
      out[#out + 1] = "  " .. u
      out[#out + 1] = string.rep(" ", width + 4) .. help_of(e)
    else
      out[#out + 1] = "  " .. u .. string.rep(" ", width - #u + 2) .. help_of(e)
    end
  end
end

--- describe(spec [, globals]) -> the options part of a help text; with
-- globals (true), the global options follow under their own heading.
function M.describe(spec, globals)
  local out = {}
  local width = width_of(spec, 0)
  if globals then width = width_of(M.GLOBALS, width) end
  block(out, "Options:", spec, width)
  if globals then
    if #out > 0 then out[#out + 1] = "" end
    block(out, "Global options:", M.GLOBALS, width)
  end
  return table.concat(out, "\n") .. "\n"
end

return M
