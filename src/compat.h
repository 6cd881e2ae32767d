/*
** Lua 5.1 (and LuaJIT) / 5.2 / 5.3 / 5.4 compatibility for azrp.core.
**
** The C sources are written against the Lua 5.4 API.  This header maps
** the 5.2+, 5.3+ and 5.4 calls onto older Luas, in the manner of
** lua-compat-5.3: every replacement is a macro naming a function defined
** in compat.c under the azrp_compat_ prefix (and hidden where the
** compiler allows), so that another module in the same process that
** carries its own copy of such shims (luaossl, cqueues, lua-compat-5.3
** itself) never clashes with ours, and so that nothing here is exported
** under a lua_/luaL_ name that the interpreter might own.
**
** LuaJIT has the 5.1 ABI (LUA_VERSION_NUM 501) plus some 5.2 extras;
** its lua.h does not say it is LuaJIT, so it gets the same shims as a
** plain 5.1, which only use the 5.1 API and behave alike there.
**
** Semantics are those of 5.4 where they can be had, with these limits:
**  - lua_newuserdatauv: at most one user value below 5.4 (n is ignored;
**    lua_getiuservalue/lua_setiuservalue only know n == 1).
**  - 5.1 user values live in the userdata's environment table, so only a
**    table or nil can be stored (nil is stored as the globals table and
**    read back as nil, as is a fresh userdata's default environment).
**  - lua_tointegerx and lua_isinteger below 5.3 accept a float only when
**    it has an exact integer value (5.3's rule; there is no subtype).
**  - Not provided, on purpose (a compile error beats a silent
**    difference): lua_toclose (no to-be-closed slots before 5.4; a
**    resource's __gc must do the work), lua_arith, lua_compare, lua_callk,
**    lua_pcallk, lua_yieldk, lua_setwarnf/lua_warning.
**
** spec/c/test_compat.c checks each call on every installed Lua
** (sh spec/c/run_compat.sh).
*/
#ifndef AZRP_COMPAT_H
#define AZRP_COMPAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lua.h"
#include "lauxlib.h"

#if defined(__GNUC__)
#define AZRP_COMPAT_API __attribute__((visibility("hidden")))
#else
#define AZRP_COMPAT_API
#endif

/* ---------------------------------------------------------------- 5.1 */
#if LUA_VERSION_NUM == 501

#ifndef LUA_OK
#define LUA_OK 0
#endif
#ifndef LUA_FILEHANDLE
#define LUA_FILEHANDLE "FILE*"
#endif

/*
** Reading only: 5.1's and LuaJIT's io handles start with the FILE *, so
** ((luaL_Stream *)luaL_checkudata(L, i, LUA_FILEHANDLE))->f works; making
** a handle that io.close understands is not possible this way on 5.1.
*/
typedef struct luaL_Stream {
  FILE *f;
} luaL_Stream;

#define lua_pushglobaltable(L) lua_pushvalue(L, LUA_GLOBALSINDEX)
#define lua_rawlen(L, i) ((size_t)lua_objlen(L, (i)))

#ifndef luaL_newlibtable
#define luaL_newlibtable(L, l) \
  lua_createtable(L, 0, (int)(sizeof(l) / sizeof((l)[0]) - 1))
#endif
#ifndef luaL_newlib
#define luaL_newlib(L, l) (luaL_newlibtable(L, l), luaL_setfuncs(L, l, 0))
#endif
#define luaL_pushresultsize(B, sz) (luaL_addsize(B, sz), luaL_pushresult(B))

#define lua_absindex(L, i) azrp_compat_absindex(L, (i))
AZRP_COMPAT_API int azrp_compat_absindex (lua_State *L, int i);

#define lua_copy(L, from, to) azrp_compat_copy(L, (from), (to))
AZRP_COMPAT_API void azrp_compat_copy (lua_State *L, int from, int to);

#define lua_tonumberx(L, i, isnum) azrp_compat_tonumberx(L, (i), (isnum))
AZRP_COMPAT_API lua_Number azrp_compat_tonumberx (lua_State *L, int i, int *isnum);

#define lua_len(L, i) azrp_compat_len(L, (i))
AZRP_COMPAT_API void azrp_compat_len (lua_State *L, int i);

#define luaL_len(L, i) azrp_compat_L_len(L, (i))
AZRP_COMPAT_API lua_Integer azrp_compat_L_len (lua_State *L, int i);

#define lua_rawgetp(L, i, p) azrp_compat_rawgetp(L, (i), (p))
AZRP_COMPAT_API int azrp_compat_rawgetp (lua_State *L, int i, const void *p);

#define lua_rawsetp(L, i, p) azrp_compat_rawsetp(L, (i), (p))
AZRP_COMPAT_API void azrp_compat_rawsetp (lua_State *L, int i, const void *p);

#define lua_getuservalue(L, i) azrp_compat_getuservalue(L, (i))
AZRP_COMPAT_API int azrp_compat_getuservalue (lua_State *L, int i);

#define lua_setuservalue(L, i) azrp_compat_setuservalue(L, (i))
AZRP_COMPAT_API void azrp_compat_setuservalue (lua_State *L, int i);

#define luaL_setmetatable(L, tname) azrp_compat_setmetatable(L, (tname))
AZRP_COMPAT_API void azrp_compat_setmetatable (lua_State *L, const char *tname);

#define luaL_testudata(L, i, tname) azrp_compat_testudata(L, (i), (tname))
AZRP_COMPAT_API void *azrp_compat_testudata (lua_State *L, int i, const char *tname);

#define luaL_getsubtable(L, i, name) azrp_compat_getsubtable(L, (i), (name))
AZRP_COMPAT_API int azrp_compat_getsubtable (lua_State *L, int i, const char *name);

#define luaL_traceback(L, L1, msg, level) azrp_compat_traceback(L, (L1), (msg), (level))
AZRP_COMPAT_API void azrp_compat_traceback (lua_State *L, lua_State *L1,
                                            const char *msg, int level);

#define luaL_fileresult(L, stat, fname) azrp_compat_fileresult(L, (stat), (fname))
AZRP_COMPAT_API int azrp_compat_fileresult (lua_State *L, int stat, const char *fname);

#define luaL_loadbufferx(L, buff, sz, name, mode) \
  azrp_compat_loadbufferx(L, (buff), (sz), (name), (mode))
AZRP_COMPAT_API int azrp_compat_loadbufferx (lua_State *L, const char *buff, size_t sz,
                                             const char *name, const char *mode);

#endif /* 5.1 */

/* ------------------------------------------------------------ 5.1, 5.2 */
#if LUA_VERSION_NUM <= 502

#ifndef LUA_MAXINTEGER
#define LUA_MAXINTEGER PTRDIFF_MAX   /* lua_Integer is ptrdiff_t here */
#define LUA_MININTEGER PTRDIFF_MIN
#endif

/* 5.3's: n fits a lua_Integer (the upper bound is exact as a float) */
#define lua_numbertointeger(n, p) \
  ((n) >= (lua_Number)(LUA_MININTEGER) && \
   (n) < -(lua_Number)(LUA_MININTEGER) && \
   (*(p) = (lua_Integer)(n), 1))

/* 5.3+ return the type of the value pushed; 5.1 and 5.2 return nothing. */
#define lua_getfield(L, i, k) (lua_getfield(L, (i), (k)), lua_type(L, -1))
#define lua_gettable(L, i) (lua_gettable(L, (i)), lua_type(L, -1))
#define lua_rawget(L, i) (lua_rawget(L, (i)), lua_type(L, -1))
#define lua_rawgeti(L, i, n) (lua_rawgeti(L, (i), (n)), lua_type(L, -1))
#if LUA_VERSION_NUM == 502
/* (5.1's lua_getglobal is a macro on lua_getfield, so it returns the type already) */
#define lua_getglobal(L, name) (lua_getglobal(L, (name)), lua_type(L, -1))
#define lua_rawgetp(L, i, p) (lua_rawgetp(L, (i), (p)), lua_type(L, -1))
#define lua_getuservalue(L, i) (lua_getuservalue(L, (i)), lua_type(L, -1))
#endif

/* 5.3's luaL_getmetafield returns the field's type (LUA_TNIL if absent). */
#define luaL_getmetafield(L, obj, e) \
  (luaL_getmetafield(L, (obj), (e)) ? lua_type(L, -1) : LUA_TNIL)

#define lua_geti(L, i, n) azrp_compat_geti(L, (i), (n))
AZRP_COMPAT_API int azrp_compat_geti (lua_State *L, int i, lua_Integer n);

#define lua_seti(L, i, n) azrp_compat_seti(L, (i), (n))
AZRP_COMPAT_API void azrp_compat_seti (lua_State *L, int i, lua_Integer n);

#define lua_isinteger(L, i) azrp_compat_isinteger(L, (i))
AZRP_COMPAT_API int azrp_compat_isinteger (lua_State *L, int i);

/* 5.2's lua_tointegerx truncates 3.5 to 3 and says it is a number. */
#define lua_tointegerx(L, i, isnum) azrp_compat_tointegerx(L, (i), (isnum))
AZRP_COMPAT_API lua_Integer azrp_compat_tointegerx (lua_State *L, int i, int *isnum);

#define lua_rotate(L, i, n) azrp_compat_rotate(L, (i), (n))
AZRP_COMPAT_API void azrp_compat_rotate (lua_State *L, int i, int n);

#define lua_stringtonumber(L, s) azrp_compat_stringtonumber(L, (s))
AZRP_COMPAT_API size_t azrp_compat_stringtonumber (lua_State *L, const char *s);

/* 5.2's ignores __name. */
#define luaL_tolstring(L, i, len) azrp_compat_tolstring(L, (i), (len))
AZRP_COMPAT_API const char *azrp_compat_tolstring (lua_State *L, int i, size_t *len);

/* 5.1 and 5.2 do not set __name, which 5.3+ messages and luaL_tolstring use. */
#define luaL_newmetatable(L, tname) azrp_compat_newmetatable(L, (tname))
AZRP_COMPAT_API int azrp_compat_newmetatable (lua_State *L, const char *tname);

/* 5.2's luaL_requiref reopens a module already in package.loaded. */
#define luaL_requiref(L, modname, openf, glb) \
  azrp_compat_requiref(L, (modname), (openf), (glb))
AZRP_COMPAT_API void azrp_compat_requiref (lua_State *L, const char *modname,
                                           lua_CFunction openf, int glb);

#endif /* 5.1, 5.2 */

/* ------------------------------------------------------- 5.1, 5.2, 5.3 */
#if LUA_VERSION_NUM <= 503

#define lua_newuserdatauv(L, sz, nuv) ((void)(nuv), lua_newuserdata(L, (sz)))
#define luaL_pushfail(L) lua_pushnil(L)

/* 5.4's takes a NULL function for a false placeholder. */
#define luaL_setfuncs(L, l, nup) azrp_compat_setfuncs(L, (l), (nup))
AZRP_COMPAT_API void azrp_compat_setfuncs (lua_State *L, const luaL_Reg *l, int nup);

#define lua_getiuservalue(L, i, n) azrp_compat_getiuservalue(L, (i), (n))
AZRP_COMPAT_API int azrp_compat_getiuservalue (lua_State *L, int i, int n);

#define lua_setiuservalue(L, i, n) azrp_compat_setiuservalue(L, (i), (n))
AZRP_COMPAT_API int azrp_compat_setiuservalue (lua_State *L, int i, int n);

/* 5.4's signature; *nres is the number of values yielded or returned. */
#define lua_resume(L, from, nargs, nres) azrp_compat_resume(L, (from), (nargs), (nres))
AZRP_COMPAT_API int azrp_compat_resume (lua_State *L, lua_State *from, int nargs, int *nres);

#define luaL_typeerror(L, arg, tname) azrp_compat_typeerror(L, (arg), (tname))
AZRP_COMPAT_API int azrp_compat_typeerror (lua_State *L, int arg, const char *tname);

#endif /* 5.1, 5.2, 5.3 */

#endif
