-- The emulator's private certificate authority and server certificate.
--
-- Clients verify the emulator's certificate like any other: the CA is
-- written to ca.pem in the state directory, and kept there (with its key)
-- so that a CA a user trusted once stays valid across restarts.  The server
-- certificate is made anew at every start for localhost, 127.0.0.1, ::1
-- and any --host given.
local pkey = require "openssl.pkey"
local x509 = require "openssl.x509"
local xname = require "openssl.x509.name"
local altname = require "openssl.x509.altname"
local extension = require "openssl.x509.extension"
local bignum = require "openssl.bignum"
local rand = require "openssl.rand"

local M = {}

local function serial()
  local b = rand.bytes(16)
  return bignum.fromBinary(string.char(b:byte(1) & 0x7f) .. b:sub(2))
end

local function name(cn)
  local n = xname.new()
  n:add("O", "azrp emulator")
  n:add("CN", cn)
  return n
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text, mode)
  local f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  if mode then os.execute(string.format("chmod %s '%s'", mode, path:gsub("'", "'\\''"))) end
  return true
end

local function new_ca()
  local key = pkey.new{ type = "EC", curve = "prime256v1" }
  local crt = x509.new()
  local now = os.time()
  crt:setVersion(3)
  crt:setSerial(serial())
  crt:setSubject(name("azrp emulator private CA"))
  crt:setIssuer(crt:getSubject())
  crt:setPublicKey(key)
  crt:setLifetime(now - 3600, now + 10 * 365 * 86400)
  crt:setBasicConstraints{ CA = true }
  crt:setBasicConstraintsCritical(true)
  crt:addExtension(extension.new("keyUsage", "critical,keyCertSign,cRLSign"))
  crt:addExtension(extension.new("subjectKeyIdentifier", "hash", { subject = crt }))
  crt:sign(key)
  return crt, key
end

-- Loads the CA from dir, or creates it; returns cert, key, ca_file.
function M.ca(dir)
  local cert_path, key_path = dir .. "/ca.pem", dir .. "/ca.key"
  local cpem, kpem = read(cert_path), read(key_path)
  if cpem and kpem then
    local ok, crt = pcall(x509.new, cpem, "PEM")
    local ok2, key = pcall(pkey.new, kpem, "PEM")
    if ok and ok2 and select(2, crt:getLifetime()) > os.time() + 86400 then return crt, key, cert_path end
  end
  local crt, key = new_ca()
  assert(write(key_path, key:toPEM("privateKey"), "600"))
  assert(write(cert_path, crt:toPEM()))
  return crt, key, cert_path
end

-- A server certificate for hosts, signed by the CA.
function M.server_cert(ca_crt, ca_key, hosts)
  local key = pkey.new{ type = "EC", curve = "prime256v1" }
  local crt = x509.new()
  local now = os.time()
  crt:setVersion(3)
  crt:setSerial(serial())
  crt:setSubject(name(hosts[1]))
  crt:setIssuer(ca_crt:getSubject())
  crt:setPublicKey(key)
  crt:setLifetime(now - 3600, now + 90 * 86400)
  crt:setBasicConstraints{ CA = false }
  local alt = altname.new()
  for _, h in ipairs(hosts) do
    if h:match("^[%d%.]+$") or h:find(":", 1, true) then alt:add("IP", h) else alt:add("DNS", h) end
  end
  crt:setSubjectAlt(alt)
  crt:addExtension(extension.new("keyUsage", "critical,digitalSignature,keyEncipherment"))
  crt:addExtension(extension.new("extendedKeyUsage", "serverAuth"))
  crt:addExtension(extension.new("authorityKeyIdentifier", "keyid:always", { issuer = ca_crt }))
  crt:sign(ca_key)
  return crt, key
end

-- An SSL context for lua-http's server.
function M.context(ca_dir, hosts)
  local http_tls = require "http.tls"
  local ca_crt, ca_key, ca_file = M.ca(ca_dir)
  local crt, key = M.server_cert(ca_crt, ca_key, hosts)
  local ctx = http_tls.new_server_context()
  assert(ctx:setPrivateKey(key))
  assert(ctx:setCertificate(crt))
  if ctx.addExtraChainCert then ctx:addExtraChainCert(ca_crt) end
  return ctx, ca_file
end

return M
