/*
** azrp.Signer: a certificate and its private key, for the certificate
** credential's client assertion.  The key never leaves C: Lua gets the
** thumbprints and signed JWTs, and __tostring shows neither key nor
** certificate bytes.
*/
#include <string.h>

#include "compat.h"
#include "crypto.h"

#define AZRP_SIGNER_MT "azrp.Signer"

typedef struct signer_box { azrp_signer *s; } signer_box;

static azrp_signer *check_signer (lua_State *L) {
  signer_box *b = (signer_box *)luaL_checkudata(L, 1, AZRP_SIGNER_MT);
  if (b->s == NULL) luaL_error(L, "attempt to use a closed azrp.Signer");
  return b->s;
}

/* core.signer(cert_pem [, key_pem [, passphrase]]) -> signer | nil, msg */
static int signer_new (lua_State *L) {
  size_t clen, klen = 0;
  const char *cert = luaL_checklstring(L, 1, &clen);
  const char *key = luaL_optlstring(L, 2, NULL, &klen);
  const char *pass = luaL_optstring(L, 3, NULL);
  char err[256];
  signer_box *b = (signer_box *)lua_newuserdatauv(L, sizeof(signer_box), 0);
  b->s = NULL;   /* closed until loaded, so __gc is safe on any failure */
  luaL_setmetatable(L, AZRP_SIGNER_MT);
  b->s = azrp_signer_new(cert, clen, key, klen, pass, err, sizeof err);
  if (b->s == NULL) {
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  return 1;
}

static int signer_gc (lua_State *L) {
  signer_box *b = (signer_box *)luaL_checkudata(L, 1, AZRP_SIGNER_MT);
  if (b->s) azrp_signer_free(b->s);
  b->s = NULL;
  return 0;
}

static int signer_x5t (lua_State *L) {
  lua_pushstring(L, azrp_signer_x5t(check_signer(L)));
  return 1;
}

static int signer_x5t_s256 (lua_State *L) {
  lua_pushstring(L, azrp_signer_x5t_s256(check_signer(L)));
  return 1;
}

static int signer_x5c (lua_State *L) {
  lua_pushstring(L, azrp_signer_x5c(check_signer(L)));
  return 1;
}

/* sign(alg, header_json, claims_json) -> jwt | nil, msg */
static int signer_sign (lua_State *L) {
  azrp_signer *s = check_signer(L);
  static const char *const algs[] = {"RS256", "PS256", NULL};
  const char *alg = algs[luaL_checkoption(L, 2, NULL, algs)];
  size_t hl, cl;
  const char *h = luaL_checklstring(L, 3, &hl);
  const char *c = luaL_checklstring(L, 4, &cl);
  azrp_buf out = AZRP_BUF_INIT;
  char err[256];
  if (azrp_jwt_sign(s, alg, h, hl, c, cl, &out, err, sizeof err) != 0) {
    azrp_buf_free(&out);
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushlstring(L, out.data, out.len);
  azrp_buf_free(&out);
  return 1;
}

static int signer_tostring (lua_State *L) {
  signer_box *b = (signer_box *)luaL_checkudata(L, 1, AZRP_SIGNER_MT);
  lua_pushfstring(L, "azrp.Signer (%p)%s", (void *)b, b->s ? "" : " closed");
  return 1;
}

/* core.uuid() -> a random v4 UUID string */
static int core_uuid (lua_State *L) {
  char u[37];
  if (azrp_uuid4(u) != 0) return luaL_error(L, "no randomness available");
  lua_pushstring(L, u);
  return 1;
}

/* core.base64url(s) -> s encoded, no padding */
static int core_base64url (lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  azrp_buf out = AZRP_BUF_INIT;
  if (azrp_base64url((const unsigned char *)s, n, &out) != 0) return luaL_error(L, "out of memory");
  lua_pushlstring(L, out.data ? out.data : "", out.len);
  azrp_buf_free(&out);
  return 1;
}

void azrp_signer_open (lua_State *L);

void azrp_signer_open (lua_State *L) {
  static const luaL_Reg methods[] = {
    {"x5t", signer_x5t},
    {"x5t_s256", signer_x5t_s256},
    {"x5c", signer_x5c},
    {"sign", signer_sign},
    {"close", signer_gc},
    {NULL, NULL}
  };
  static const luaL_Reg meta[] = {
    {"__gc", signer_gc},
    {"__close", signer_gc},
    {"__tostring", signer_tostring},
    {NULL, NULL}
  };
  luaL_newmetatable(L, AZRP_SIGNER_MT);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, signer_new);
  lua_setfield(L, -2, "signer");
  lua_pushcfunction(L, core_uuid);
  lua_setfield(L, -2, "uuid");
  lua_pushcfunction(L, core_base64url);
  lua_setfield(L, -2, "base64url");
}
