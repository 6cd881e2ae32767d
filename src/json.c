/*
** The cjson bridge.  cjson.safe returns nil, msg instead of raising, so a
** malformed response body never unwinds through the C core.
*/
#include "json.h"

#define DECODE_KEY "azrp.json.decode"
#define ENCODE_KEY "azrp.json.encode"

void azrp_json_open (lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson.safe");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "decode");
  lua_setfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
  lua_getfield(L, -1, "encode");
  lua_setfield(L, LUA_REGISTRYINDEX, ENCODE_KEY);
  lua_pop(L, 1);
}

#if LUA_VERSION_NUM >= 503
/*
** Debian's cjson decodes every number as a float; ARM integers (sizes,
** LUNs, percentages) read better as integers on Lua 5.3+.
*/
static void integers (lua_State *L, int idx, int depth) {
  /*
  ** Each level holds a key and a value on the stack: without room asked
  ** for, a body nested some tens deep wrote past the Lua stack (found by
  ** spec/fuzz/fuzz_json).
  */
  if (depth > 64 || !lua_checkstack(L, 3)) return;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      lua_Number n = lua_tonumber(L, -1);
      lua_Integer i;
      if (lua_numbertointeger(n, &i) && (lua_Number)i == n) {
        lua_pushvalue(L, -2);
        lua_pushinteger(L, i);
        lua_rawset(L, idx);
      }
    }
    else if (lua_type(L, -1) == LUA_TTABLE) {
      integers(L, lua_gettop(L), depth + 1);
    }
    lua_pop(L, 1);
  }
}
#endif

int azrp_json_decode (lua_State *L, const char *s, size_t len) {
  lua_getfield(L, LUA_REGISTRYINDEX, DECODE_KEY);
  lua_pushlstring(L, s, len);
  lua_call(L, 1, 1);
#if LUA_VERSION_NUM >= 503
  if (lua_type(L, -1) == LUA_TTABLE) integers(L, lua_gettop(L), 0);
#endif
  return 1;
}

int azrp_json_encode (lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, ENCODE_KEY);
  lua_pushvalue(L, idx);
  lua_call(L, 1, 2);
  if (lua_isnil(L, -2)) return 2;
  lua_pop(L, 1);
  return 1;
}
