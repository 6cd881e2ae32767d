/*
** azrp.core: the C heart of azrp.  It binds every restore-point operation
** of the registry (registry.c) and drives them, many at once and without
** blocking, over libcurl's multi interface (client.c, operation.c).
** luaopen_azrp_core is the only symbol the shared object exports.
*/
#include <ctype.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/opensslv.h>
#include <openssl/crypto.h>

#include "compat.h"
#include "engine.h"
#include "error.h"
#include "json.h"
#include "registry.h"
#include "util.h"

#define AZRP_VERSION "0.1.0-dev"

#if defined(__GNUC__)
#define AZRP_EXPORT __attribute__((visibility("default")))
#else
#define AZRP_EXPORT
#endif

void azrp_signer_open (lua_State *L);
void azrp_host_open (lua_State *L);
void azrp_image_open (lua_State *L);

/* versions() -> { azrp = ..., curl = ..., openssl = ..., lua = ... } */
static int core_versions (lua_State *L) {
  const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, AZRP_VERSION);
  lua_setfield(L, -2, "azrp");
  lua_pushstring(L, cv->version);
  lua_setfield(L, -2, "curl");
  lua_pushstring(L, OpenSSL_version(OPENSSL_VERSION));
  lua_setfield(L, -2, "openssl");
  lua_pushliteral(L, LUA_RELEASE);
  lua_setfield(L, -2, "lua");
  return 1;
}

/* operations() -> { { id, method, path, provider, lro, kind, pageable, body, query }, ... } */
static int core_operations (lua_State *L) {
  static const char *const kinds[] = {"read", "write", "delete"};
  static const char *const bodies[] = {"none", "optional", "required"};
  static const char *const finals[] = {"location", "azure-async-operation", "original-uri"};
  const azrp_opdef *d;
  int i = 0;
  lua_newtable(L);
  for (d = azrp_opdefs; d->id; d++) {
    lua_createtable(L, 0, 10);
    lua_pushstring(L, d->id); lua_setfield(L, -2, "id");
    lua_pushstring(L, d->method); lua_setfield(L, -2, "method");
    lua_pushstring(L, d->path); lua_setfield(L, -2, "path");
    lua_pushstring(L, d->provider); lua_setfield(L, -2, "provider");
    lua_pushstring(L, azrp_provider_version(d->provider)); lua_setfield(L, -2, "api_version");
    lua_pushboolean(L, d->lro); lua_setfield(L, -2, "lro");
    lua_pushstring(L, finals[d->final_state]); lua_setfield(L, -2, "final_state_via");
    lua_pushstring(L, kinds[d->kind]); lua_setfield(L, -2, "kind");
    lua_pushboolean(L, d->pageable); lua_setfield(L, -2, "pageable");
    lua_pushboolean(L, strcmp(d->method, "POST") != 0 || d->retry_unsafe);
    lua_setfield(L, -2, "retry_safe");
    lua_pushstring(L, bodies[d->body]); lua_setfield(L, -2, "body");
    if (d->query) { lua_pushstring(L, d->query); lua_setfield(L, -2, "query"); }
    lua_pushboolean(L, d->replication); lua_setfield(L, -2, "wait_replication");
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

/* interpose(class, name, fn) -> previous: lets the Lua facade add or wrap methods. */
static int core_interpose (lua_State *L) {
  static const char *const classes[] = {"Client", "Operation", NULL};
  static const char *const names[] = {AZRP_CLIENT_MT, AZRP_OP_MT};
  int cls = luaL_checkoption(L, 1, NULL, classes);
  luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  luaL_getmetatable(L, names[cls]);
  lua_getfield(L, -1, "__index");
  lua_pushvalue(L, 2);
  lua_gettable(L, -2);       /* previous */
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_settable(L, -4);
  return 1;
}

/* error(t) -> t as an azrp.Error (for errors made in Lua, e.g. validation) */
static int core_error (lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_getmetatable(L, AZRP_ERROR_MT);
  lua_setmetatable(L, 1);
  return 1;
}

/*
** suggest(word, candidates) -> the candidate word most likely meant, or
** nil (azrp_suggest: case first, then up to 2 edits).  Words with a NUL
** byte are never near anything.
*/
static int core_suggest (lua_State *L) {
  size_t len, n, i, k = 0;
  const char *word = luaL_checklstring(L, 1, &len), *best;
  const char **cands;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = lua_rawlen(L, 2);
  cands = (const char **)lua_newuserdatauv(L, (n ? n : 1) * sizeof *cands, 0);
  for (i = 1; i <= n; i++) {
    size_t clen;
    const char *c;
    if (lua_rawgeti(L, 2, (int)i) != LUA_TSTRING)
      return luaL_argerror(L, 2, "candidates must be strings");
    c = lua_tolstring(L, -1, &clen);
    lua_pop(L, 1);   /* the string stays referenced by the table */
    if (strlen(c) == clen) cands[k++] = c;
  }
  best = strlen(word) == len ? azrp_suggest(word, cands, k) : NULL;
  if (best) lua_pushstring(L, best);
  else lua_pushnil(L);
  return 1;
}

/* A character of a URL scheme ("https", "svn+ssh"). */
static int scheme_char (unsigned char c) {
  return isalnum(c) || c == '+' || c == '.' || c == '-';
}

/* Where a URL quoted in a text ends: at white space, a quote or an angle bracket. */
static size_t url_end (const char *s, size_t i, size_t n) {
  while (i < n && s[i] != '\0' && !isspace((unsigned char)s[i]) && strchr("\"'<>", s[i]) == NULL) i++;
  return i;
}

/*
** redact(text) -> text with every URL in it (scheme://...) passed through
** azrp_url_redact, the redaction of the core's own errors: its user-info
** and every query value but api-version become REDACTED.  A URL is taken
** to end at white space, a quote or < >; the rest of the text is kept
** byte for byte.
*/
static int core_redact (lua_State *L) {
  size_t n, i = 0, eqs = 0, k;
  const char *s = luaL_checklstring(L, 1, &n);
  char *url, *out;
  luaL_Buffer b;
  for (k = 0; k < n; k++) if (s[k] == '=') eqs++;
  /*
  ** Room for the longest URL and for its redaction, which grows by at
  ** most "REDACTED" for the user-info and one for each '='.
  */
  url = (char *)lua_newuserdatauv(L, 2 * n + 8 * (eqs + 1) + 2, 0);
  out = url + n + 1;
  luaL_buffinit(L, &b);
  while (i < n) {
    size_t j = i;
    if (!isalpha((unsigned char)s[i])) {
      luaL_addchar(&b, s[i]);
      i++;
      continue;
    }
    while (j < n && scheme_char((unsigned char)s[j])) j++;
    if (n - j >= 3 && memcmp(s + j, "://", 3) == 0) {
      size_t e = url_end(s, j + 3, n);
      memcpy(url, s + i, e - i);
      url[e - i] = '\0';
      azrp_url_redact(url, out, n + 8 * (eqs + 1) + 1);
      luaL_addstring(&b, out);
      j = e;
    }
    else luaL_addlstring(&b, s + i, j - i);
    i = j;
  }
  luaL_pushresult(&b);
  return 1;
}

/* now() -> monotonic seconds; wall() -> Unix seconds (both fractional) */
static int core_now (lua_State *L) { lua_pushnumber(L, azrp_now()); return 1; }
static int core_wall (lua_State *L) { lua_pushnumber(L, azrp_wall()); return 1; }

static const luaL_Reg core_funcs[] = {
  {"now", core_now},
  {"wall", core_wall},
  {"error", core_error},
  {"suggest", core_suggest},
  {"redact", core_redact},
  {"versions", core_versions},
  {"operations", core_operations},
  {"interpose", core_interpose},
  {NULL, NULL}
};

AZRP_EXPORT int luaopen_azrp_core (lua_State *L);

AZRP_EXPORT int luaopen_azrp_core (lua_State *L) {
  azrp_json_open(L);
  azrp_error_open(L);
  azrp_op_open(L);
  luaL_newlib(L, core_funcs);
  azrp_client_open(L);
  azrp_signer_open(L);
  azrp_host_open(L);
  azrp_image_open(L);
  lua_pushliteral(L, AZRP_VERSION);
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, AZRP_MIN_API_VERSION);
  lua_setfield(L, -2, "MIN_API_VERSION");
  return 1;
}
