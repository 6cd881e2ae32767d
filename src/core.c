/*
** azrp.core: the C heart of azrp.  For now it reports the versions of the
** libraries it is built on; the operation registry, transfers and LRO
** pollers are added here file by file (see README, "C core").
** luaopen_azrp_core is the only symbol the shared object exports.
*/
#include <curl/curl.h>
#include <openssl/opensslv.h>
#include <openssl/crypto.h>

#include "compat.h"

#define AZRP_VERSION "0.1.0-dev"

#if defined(__GNUC__)
#define AZRP_EXPORT __attribute__((visibility("default")))
#else
#define AZRP_EXPORT
#endif

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

static const luaL_Reg core_funcs[] = {
  {"versions", core_versions},
  {NULL, NULL}
};

AZRP_EXPORT int luaopen_azrp_core (lua_State *L);

AZRP_EXPORT int luaopen_azrp_core (lua_State *L) {
  luaL_newlib(L, core_funcs);
  lua_pushliteral(L, AZRP_VERSION);
  lua_setfield(L, -2, "_VERSION");
  return 1;
}
