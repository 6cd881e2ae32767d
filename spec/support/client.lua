-- Helpers for the client specs: an emulator process and an azrp client
-- that talks to it over HTTPS with the emulator's CA.
local json = require "cjson.safe"
local process = require "support.process"

local C = {}

C.SUB = "00000000-0000-4000-8000-000000000001"
C.TENANT = "11111111-1111-4111-8111-111111111111"
C.CLIENT_ID = "22222222-2222-4222-8222-222222222222"
C.SECRET = "azrp-emulator-secret"
C.RG = "rg-prod"
C.VM_ID = "/subscriptions/" .. C.SUB .. "/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-app-01"

C.start = process.start

-- client(em [, opts]) -> an azrp client with a client-secret credential.
function C.client(em, opts)
  local azrp = require "azrp"
  local o = { endpoint = em.url, ca_file = em.ca_file, subscription_id = C.SUB,
    poll = { default = 0.2, max = 2 }, retry = { base_delay = 0.05, max_delay = 0.5 },
    credential = azrp.credentials.client_secret{ tenant_id = C.TENANT, client_id = C.CLIENT_ID,
      client_secret = C.SECRET, authority_host = em.url } }
  -- An emulator started --no-throttle answers no 429: a client of it need
  -- not pace itself under ARM's limits either (once its bucket of 250
  -- reads is spent, each read would wait 40 ms, the refill of 25 a second:
  -- the most of a crash spec's time).
  if em.throttle == false then o.throttle = false end
  for k, v in pairs(opts or {}) do o[k] = v end
  return azrp.client(o)
end

-- admin(em, method, path [, body]) -> status, decoded body (plain curl).
function C.admin(em, method, path, body)
  local f = os.tmpname()
  local cmd = string.format("env -u LD_PRELOAD curl -sS -o %s -w '%%{http_code}' --cacert %s -X %s %s%s", f, em.ca_file, method,
    em.url, path)
  if body then cmd = cmd .. " -H 'content-type: application/json' -d '" .. json.encode(body) .. "'" end
  local p = io.popen(cmd)
  local status = tonumber(p:read("*a"))
  p:close()
  local h = io.open(f)
  local text = h and h:read("*a") or ""
  if h then h:close() end
  os.remove(f)
  return status, json.decode(text) or text
end

function C.counters(em)
  local _, c = C.admin(em, "GET", "/_emulator/counters")
  return c
end

-- disk_sha256(em, id) -> the SHA-256 (hex) of a disk's bytes, as the
-- emulator's admin API reads them (asserts that it answers 200).
function C.disk_sha256(em, id)
  local status, body = C.admin(em, "GET", "/_emulator/disks/" .. C.enc(id) .. "/sha256")
  require("luassert").are.equal(200, status, json.encode(body))
  return body.sha256
end

-- disk_digest(em, id) -> the SHA-256 (hex) of a disk's bytes in sparse
-- form (the emulator's content.lua sparse_sha256): equal for two disks
-- exactly when their bytes are, at the cost of their data only.  For
-- comparing disk with disk; disk_sha256 for comparing with a file.
function C.disk_digest(em, id)
  local status, body = C.admin(em, "GET", "/_emulator/disks/" .. C.enc(id) .. "/sha256?form=sparse")
  require("luassert").are.equal(200, status, json.encode(body))
  return body.sparse_sha256
end

-- file_sha256(path) -> the SHA-256 (hex) of a file, by
-- spec/support/sparse_sha256.py (Python's hashlib: not azrp's code; holes
-- fed as zeros without reading them: reading a sparse 1 GiB image's holes
-- cost 1 to 3 s of kernel time, coreutils' sha256sum took 4 s a GiB), nil
-- when there is no such file.
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/support"
function C.file_sha256(path)
  local q = require("support.shell").q
  local p = io.popen("python3 " .. q(HERE .. "/sparse_sha256.py") .. " " .. q(path) .. " 2>/dev/null")
  local out = p:read("*a")
  p:close()
  return out:match("^(%x+)")
end

-- disk_write(em, id, offset, text): writes text into a disk at offset
-- through the emulator's admin API (asserts that it answers 200).
function C.disk_write(em, id, offset, text)
  local status, body = C.admin(em, "POST", "/_emulator/disks/" .. C.enc(id) .. "/write",
    { offset = offset, data = require("support.base64").encode(text) })
  require("luassert").are.equal(200, status, json.encode(body))
end

function C.enc(id)
  return (id:gsub("[^%w%-_%.]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

return C
