-- Reading and writing whole files in specs (binary, so that bytes are kept).
local F = {}

-- read(path) -> its contents | nil, err (no such file).
function F.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("*a")
  f:close()
  return s
end

-- write(path, text): replaces the file's contents (raises if it cannot).
function F.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

return F
