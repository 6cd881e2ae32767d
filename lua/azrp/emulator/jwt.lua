-- JSON Web Tokens (RFC 7519) signed with RSA, for the emulator's identity
-- provider: the access tokens it issues and the client assertions it checks.
--
-- Two algorithms, the ones Entra ID deals in:
--   RS256  RSASSA-PKCS1-v1_5 with SHA-256 (luaossl's pkey:sign/verify);
--   PS256  RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32.
-- luaossl 20220711 cannot set PSS padding on a signature, so PSS is the
-- encoding of RFC 8017 section 9.1 written here around the raw RSA
-- operation (pkey:encrypt / pkey:decrypt with RSA_NO_PADDING).
--
-- Functions return nil, reason on bad input; reasons are fixed phrases that
-- never contain the token, so that callers may pass them on.
local pkey_mod = require "openssl.pkey"
local digest = require "openssl.digest"
local rand = require "openssl.rand"
local json = require "azrp.emulator.json"

local M = {}

-- base64url without padding (RFC 7515 section 2) ---------------------------

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local ENC, DEC = {}, {}
for i = 1, 64 do
  local c = ALPHABET:byte(i)
  ENC[i - 1] = string.char(c)
  DEC[c] = i - 1
end

function M.b64url_encode(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = (a << 16) | ((b or 0) << 8) | (c or 0)
    out[#out + 1] = ENC[(v >> 18) & 63] .. ENC[(v >> 12) & 63]
    if b then out[#out + 1] = ENC[(v >> 6) & 63] end
    if c then out[#out + 1] = ENC[v & 63] end
  end
  return table.concat(out)
end

-- Strict: no padding, no whitespace, nothing outside the url-safe alphabet.
-- A client that pads its JWT segments has a bug we want to see.
function M.b64url_decode(s)
  if type(s) ~= "string" or #s % 4 == 1 then return nil end
  local out, n = {}, #s
  for i = 1, n, 4 do
    local a, b, c, d = s:byte(i, i + 3)
    a, b = DEC[a], DEC[b]
    local c6, d6 = c and DEC[c], d and DEC[d]
    if not (a and b) or (c and not c6) or (d and not d6) then return nil end
    local v = (a << 18) | (b << 12) | ((c6 or 0) << 6) | (d6 or 0)
    if d6 then
      out[#out + 1] = string.char((v >> 16) & 255, (v >> 8) & 255, v & 255)
    elseif c6 then
      out[#out + 1] = string.char((v >> 16) & 255, (v >> 8) & 255)
    else
      out[#out + 1] = string.char((v >> 16) & 255)
    end
  end
  return table.concat(out)
end

-- Hashing and RSA helpers ---------------------------------------------------

local function sha256(s) return digest.new("sha256"):final(s) end

local function xor(a, b)
  local out = {}
  for i = 1, #a do out[i] = string.char(a:byte(i) ~ b:byte(i)) end
  return table.concat(out)
end

-- MGF1 with SHA-256 (RFC 8017 appendix B.2.1).
local function mgf1(seed, len)
  local out, counter = {}, 0
  while #out * 32 < len do
    out[#out + 1] = sha256(seed .. string.pack(">I4", counter))
    counter = counter + 1
  end
  return table.concat(out):sub(1, len)
end

-- Modulus size of a key in bytes and bits, computed once per key object.
local sizes = setmetatable({}, { __mode = "k" })
local function modulus(key)
  local s = sizes[key]
  if s then return s.bytes, s.bits end
  local n = key:getParameters().n:toBinary()
  n = n:gsub("^%z+", "")
  local top, bits = n:byte(1), 0
  while top > 0 do bits = bits + 1; top = top >> 1 end
  s = { bytes = #n, bits = (#n - 1) * 8 + bits }
  sizes[key] = s
  return s.bytes, s.bits
end

local NO_PADDING = { rsaPadding = pkey_mod.RSA_NO_PADDING }
local SALT_LEN, H_LEN = 32, 32

-- EMSA-PSS-ENCODE (RFC 8017 section 9.1.1) and the private-key operation.
local function pss_sign(key, input)
  local k, bits = modulus(key)
  local em_bits = bits - 1
  local em_len = (em_bits + 7) // 8
  local salt = rand.bytes(SALT_LEN)
  local h = sha256(string.rep("\0", 8) .. sha256(input) .. salt)
  local db = string.rep("\0", em_len - SALT_LEN - H_LEN - 2) .. "\1" .. salt
  local masked = xor(db, mgf1(h, em_len - H_LEN - 1))
  local clear = 8 * em_len - em_bits
  masked = string.char(masked:byte(1) & (0xff >> clear)) .. masked:sub(2)
  local em = masked .. h .. "\188"
  em = string.rep("\0", k - em_len) .. em
  return key:decrypt(em, NO_PADDING)
end

-- EMSA-PSS-VERIFY (RFC 8017 section 9.1.2) after the public-key operation.
local function pss_verify(key, input, sig)
  local k, bits = modulus(key)
  if #sig ~= k then return false end
  local ok, m = pcall(key.encrypt, key, sig, NO_PADDING)
  if not ok or #m ~= k then return false end
  local em_bits = bits - 1
  local em_len = (em_bits + 7) // 8
  if k > em_len then
    if m:byte(1) ~= 0 then return false end
    m = m:sub(2)
  end
  if em_len < H_LEN + SALT_LEN + 2 or m:byte(em_len) ~= 0xbc then return false end
  local masked = m:sub(1, em_len - H_LEN - 1)
  local h = m:sub(em_len - H_LEN, em_len - 1)
  local clear = 8 * em_len - em_bits
  if masked:byte(1) & ~(0xff >> clear) & 0xff ~= 0 then return false end
  local db = xor(masked, mgf1(h, #masked))
  db = string.char(db:byte(1) & (0xff >> clear)) .. db:sub(2)
  local pad_len = em_len - H_LEN - SALT_LEN - 2
  if db:sub(1, pad_len) ~= string.rep("\0", pad_len) or db:byte(pad_len + 1) ~= 1 then
    return false
  end
  local salt = db:sub(-SALT_LEN)
  return sha256(string.rep("\0", 8) .. sha256(input) .. salt) == h
end

local function rs_digest(input)
  local d = digest.new("sha256")
  d:update(input)
  return d
end

local signers = {
  RS256 = function(key, input) return key:sign(rs_digest(input)) end,
  PS256 = pss_sign,
}

local verifiers = {
  RS256 = function(key, input, sig)
    local ok, good = pcall(key.verify, key, sig, rs_digest(input))
    return ok and good == true
  end,
  PS256 = pss_verify,
}

-- Tokens ---------------------------------------------------------------------

-- Signs claims with a private key. header: extra header fields (kid, x5t...).
function M.encode(claims, key, alg, header)
  alg = alg or "RS256"
  local sign = signers[alg]
  if not sign then error("jwt.encode: unsupported alg " .. tostring(alg), 2) end
  local h = { typ = "JWT", alg = alg }
  for k, v in pairs(header or {}) do h[k] = v end
  local input = M.b64url_encode(json.encode(h)) .. "." .. M.b64url_encode(json.encode(claims))
  return input .. "." .. M.b64url_encode(sign(key, input))
end

-- Splits and decodes a compact JWS without checking anything.
-- Returns { header, claims, input (signed part), signature } or nil, reason.
function M.decode(token)
  if type(token) ~= "string" then return nil, "not a string" end
  local h64, c64, s64 = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]*)$")
  if not h64 then return nil, "not a compact JWS" end
  local h, c, sig = M.b64url_decode(h64), M.b64url_decode(c64), M.b64url_decode(s64)
  if not (h and c and sig) then return nil, "bad base64url" end
  local header, claims = json.decode(h), json.decode(c)
  if type(header) ~= "table" or type(claims) ~= "table" then
    return nil, "header or claims are not JSON objects"
  end
  return { header = header, claims = claims, input = h64 .. "." .. c64, signature = sig }
end

-- Checks the signature of a decoded token with a public key; the algorithm
-- comes from the header and must be in `allowed` (default: RS256 and PS256).
function M.verify_signature(parsed, key, allowed)
  local alg = parsed.header.alg
  if type(alg) ~= "string" or (allowed and not allowed[alg]) or not verifiers[alg] then
    return nil, "unsupported alg"
  end
  if not verifiers[alg](key, parsed.input, parsed.signature) then
    return nil, "bad signature"
  end
  return true
end

-- The public JWK (RFC 7517) of an RSA key, for jwks_uri documents.
function M.jwk(key, kid)
  local p = key:getParameters()
  return { kty = "RSA", use = "sig", alg = "RS256", kid = kid,
    n = M.b64url_encode(p.n:toBinary()), e = M.b64url_encode(p.e:toBinary()) }
end

return M
