/*
** Lua 5.1 (LuaJIT) / 5.4 compatibility for azrp.core.
** The C sources are written against the 5.4 API; this header supplies
** the few pieces 5.1 lacks.  LuaJIT 2.1 already exports luaL_setfuncs,
** luaL_testudata and luaL_setmetatable, so those shims are only for a
** plain Lua 5.1.
*/
#ifndef AZRP_COMPAT_H
#define AZRP_COMPAT_H

#include "lua.h"
#include "lauxlib.h"

#if LUA_VERSION_NUM < 502
#ifndef luaL_newlibtable
#define luaL_newlibtable(L, l) lua_createtable(L, 0, sizeof(l) / sizeof((l)[0]) - 1)
#endif
#ifndef luaL_newlib
#define luaL_newlib(L, l) (luaL_newlibtable(L, l), luaL_setfuncs(L, l, 0))
#endif
#define lua_rawlen(L, i) lua_objlen(L, (i))
#define lua_absindex(L, i) \
  ((i) > 0 || (i) <= LUA_REGISTRYINDEX ? (i) : lua_gettop(L) + (i) + 1)
#if !defined(LUAJIT_VERSION)
void luaL_setfuncs (lua_State *L, const luaL_Reg *l, int nup);
#endif
#endif

#if LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, s, n) lua_newuserdata(L, (s))
#define luaL_pushfail(L) lua_pushnil(L)
#endif

#endif
