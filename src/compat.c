/*
** The functions behind compat.h (see there for what is covered and the
** limits).  Each uses only the API of the Luas it is compiled for; where
** it must reach the interpreter's own function of the same name, the
** name is parenthesized so that compat.h's macro does not expand.
*/
#include <errno.h>
#include <string.h>

#include "compat.h"

/* ---------------------------------------------------------------- 5.1 */
#if LUA_VERSION_NUM == 501

int azrp_compat_absindex (lua_State *L, int i) {
  if (i < 0 && i > LUA_REGISTRYINDEX) i += lua_gettop(L) + 1;
  return i;
}

void azrp_compat_copy (lua_State *L, int from, int to) {
  int abs_to = lua_absindex(L, to);
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_pushvalue(L, from);
  lua_replace(L, abs_to);
}

lua_Number azrp_compat_tonumberx (lua_State *L, int i, int *isnum) {
  lua_Number n = lua_tonumber(L, i);
  if (isnum != NULL) *isnum = (n != 0 || lua_isnumber(L, i));
  return n;
}

/* The # operator: 5.1 ignores __len on tables, 5.2+ honour it. */
void azrp_compat_len (lua_State *L, int i) {
  i = lua_absindex(L, i);
  switch (lua_type(L, i)) {
    case LUA_TSTRING:
      lua_pushinteger(L, (lua_Integer)lua_objlen(L, i));
      break;
    case LUA_TTABLE:
      if (!luaL_callmeta(L, i, "__len"))
        lua_pushinteger(L, (lua_Integer)lua_objlen(L, i));
      break;
    default:   /* only a userdata may have a __len */
      if (lua_type(L, i) != LUA_TUSERDATA || !luaL_callmeta(L, i, "__len"))
        luaL_error(L, "attempt to get length of a %s value", luaL_typename(L, i));
  }
}

lua_Integer azrp_compat_L_len (lua_State *L, int i) {
  lua_Integer n;
  int isnum;
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_len(L, i);
  n = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  if (!isnum) luaL_error(L, "object length is not an integer");
  return n;
}

int azrp_compat_rawgetp (lua_State *L, int i, const void *p) {
  i = lua_absindex(L, i);
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_pushlightuserdata(L, (void *)p);
  return lua_rawget(L, i);
}

void azrp_compat_rawsetp (lua_State *L, int i, const void *p) {
  i = lua_absindex(L, i);
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_pushlightuserdata(L, (void *)p);
  lua_insert(L, -2);
  lua_rawset(L, i);
}

/*
** A fresh 5.1 userdata's environment is the creating function's: the
** globals, or the package table for functions made while `require` ran a
** C loader.  Both read as nil, the 5.2+ default user value.
*/
static int default_env (lua_State *L) {
  int r;
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  r = lua_rawequal(L, -1, -2);
  lua_pop(L, 1);
  if (r) return 1;
  lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
  if (lua_type(L, -1) == LUA_TTABLE) lua_getfield(L, -1, "package");
  else lua_pushnil(L);
  r = lua_rawequal(L, -1, -3);
  lua_pop(L, 2);
  return r;
}

int azrp_compat_getuservalue (lua_State *L, int i) {
  luaL_checktype(L, i, LUA_TUSERDATA);
  luaL_checkstack(L, 3, "not enough stack slots");
  lua_getfenv(L, i);
  if (default_env(L)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  return lua_type(L, -1);
}

void azrp_compat_setuservalue (lua_State *L, int i) {
  i = lua_absindex(L, i);
  luaL_checktype(L, i, LUA_TUSERDATA);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
  }
  else if (lua_type(L, -1) != LUA_TTABLE)   /* lua_setfenv would misbehave */
    luaL_error(L, "a user value must be a table or nil on Lua 5.1");
  lua_setfenv(L, i);
}

void azrp_compat_setmetatable (lua_State *L, const char *tname) {
  luaL_checkstack(L, 1, "not enough stack slots");
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}

void *azrp_compat_testudata (lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  int same;
  luaL_checkstack(L, 2, "not enough stack slots");
  if (p == NULL || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, tname);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

int azrp_compat_getsubtable (lua_State *L, int i, const char *name) {
  i = lua_absindex(L, i);
  luaL_checkstack(L, 3, "not enough stack slots");
  if (lua_getfield(L, i, name) == LUA_TTABLE) return 1;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, i, name);
  return 0;
}

/* The level where L's stack ends (a binary search, as 5.2's lauxlib). */
static int lastlevel (lua_State *L) {
  lua_Debug ar;
  int li = 1, le = 1;
  while (lua_getstack(L, le, &ar)) { li = le; le *= 2; }
  while (li < le) {
    int m = (li + le) / 2;
    if (lua_getstack(L, m, &ar)) li = m + 1;
    else le = m;
  }
  return le - 1;
}

#define TB_FIRST 10   /* levels shown before the "..." of a deep stack */
#define TB_LAST 11    /* and after it */

void azrp_compat_traceback (lua_State *L, lua_State *L1, const char *msg, int level) {
  lua_Debug ar;
  int top = lua_gettop(L);
  int last = lastlevel(L1);
  int skip = (last - level > TB_FIRST + TB_LAST) ? TB_FIRST : -1;
  luaL_checkstack(L, 10, "not enough stack slots");
  if (msg != NULL) lua_pushfstring(L, "%s\n", msg);
  lua_pushliteral(L, "stack traceback:");
  while (lua_getstack(L1, level++, &ar)) {
    if (skip-- == 0) {
      lua_pushliteral(L, "\n\t...");
      level = last - TB_LAST + 1;
    }
    else {
      lua_getinfo(L1, "Sln", &ar);
      lua_pushfstring(L, "\n\t%s:", ar.short_src);
      if (ar.currentline > 0) lua_pushfstring(L, "%d:", ar.currentline);
      if (*ar.namewhat != '\0')
        lua_pushfstring(L, " in function '%s'", ar.name);
      else if (*ar.what == 'm')
        lua_pushliteral(L, " in main chunk");
      else if (*ar.what == 'C')
        lua_pushliteral(L, " in ?");
      else
        lua_pushfstring(L, " in function <%s:%d>", ar.short_src, ar.linedefined);
    }
    lua_concat(L, lua_gettop(L) - top);   /* one string, whatever the depth */
  }
  lua_concat(L, lua_gettop(L) - top);
}

int azrp_compat_fileresult (lua_State *L, int stat, const char *fname) {
  int en = errno;   /* before any call that may change it */
  if (stat) {
    lua_pushboolean(L, 1);
    return 1;
  }
  luaL_pushfail(L);
  if (fname != NULL) lua_pushfstring(L, "%s: %s", fname, strerror(en));
  else lua_pushstring(L, strerror(en));
  lua_pushinteger(L, en);
  return 3;
}

/* 5.1 loads text and binary chunks alike; the mode ("b", "t", "bt") decides here. */
int azrp_compat_loadbufferx (lua_State *L, const char *buff, size_t sz,
                             const char *name, const char *mode) {
  if (mode != NULL) {
    int binary = sz > 0 && buff[0] == LUA_SIGNATURE[0];
    if (strchr(mode, binary ? 'b' : 't') == NULL) {
      lua_pushfstring(L, "attempt to load a %s chunk (mode is '%s')",
                      binary ? "binary" : "text", mode);
      return LUA_ERRSYNTAX;
    }
  }
  return luaL_loadbuffer(L, buff, sz, name);
}

#endif /* 5.1 */

/* ------------------------------------------------------------ 5.1, 5.2 */
#if LUA_VERSION_NUM <= 502

int azrp_compat_geti (lua_State *L, int i, lua_Integer n) {
  i = lua_absindex(L, i);
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_pushinteger(L, n);
  return lua_gettable(L, i);
}

void azrp_compat_seti (lua_State *L, int i, lua_Integer n) {
  i = lua_absindex(L, i);
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_pushinteger(L, n);
  lua_insert(L, -2);
  lua_settable(L, i);
}

/* A number (not a numeric string) with an exact integer value. */
int azrp_compat_isinteger (lua_State *L, int i) {
  lua_Integer k;
  lua_Number n;
  if (lua_type(L, i) != LUA_TNUMBER) return 0;
  n = lua_tonumber(L, i);
  return lua_numbertointeger(n, &k) && (lua_Number)k == n;
}

lua_Integer azrp_compat_tointegerx (lua_State *L, int i, int *isnum) {
  lua_Integer k = 0;
  int ok;
  lua_Number n = lua_tonumberx(L, i, &ok);
  ok = ok && lua_numbertointeger(n, &k) && (lua_Number)k == n;
  if (isnum != NULL) *isnum = ok;
  return ok ? k : 0;
}

static void reverse (lua_State *L, int a, int b) {
  for (; a < b; a++, b--) {
    lua_pushvalue(L, a);
    lua_pushvalue(L, b);
    lua_replace(L, a);
    lua_replace(L, b);
  }
}

/* 5.3's: rotates the elements from i to the top n places toward the top. */
void azrp_compat_rotate (lua_State *L, int i, int n) {
  int t = lua_gettop(L);
  int m;
  i = lua_absindex(L, i);
  m = n >= 0 ? t - n : i - n - 1;
  luaL_checkstack(L, 2, "not enough stack slots");
  reverse(L, i, m);
  reverse(L, m + 1, t);
  reverse(L, i, t);
}

size_t azrp_compat_stringtonumber (lua_State *L, const char *s) {
  lua_Number n;
  luaL_checkstack(L, 1, "not enough stack slots");
  lua_pushstring(L, s);
  if (!lua_isnumber(L, -1)) {   /* the lexer's rules, as tonumber() */
    lua_pop(L, 1);
    return 0;
  }
  n = lua_tonumber(L, -1);
  lua_pop(L, 1);
  lua_pushnumber(L, n);
  return strlen(s) + 1;
}

/* 5.4's (5.2's ignores __name): __tostring, else by type, naming a userdata by its __name. */
const char *azrp_compat_tolstring (lua_State *L, int i, size_t *len) {
  i = lua_absindex(L, i);
  luaL_checkstack(L, 2, "not enough stack slots");
  if (luaL_callmeta(L, i, "__tostring")) {
    if (!lua_isstring(L, -1)) luaL_error(L, "'__tostring' must return a string");
  }
  else {
    switch (lua_type(L, i)) {
      case LUA_TNUMBER:
      case LUA_TSTRING:
        lua_pushvalue(L, i);
        lua_tolstring(L, -1, NULL);   /* converts the copy, not the original */
        break;
      case LUA_TBOOLEAN:
        lua_pushstring(L, lua_toboolean(L, i) ? "true" : "false");
        break;
      case LUA_TNIL:
        lua_pushliteral(L, "nil");
        break;
      default: {
        int tt = luaL_getmetafield(L, i, "__name");
        const char *kind = tt == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, i);
        lua_pushfstring(L, "%s: %p", kind, lua_topointer(L, i));
        if (tt != LUA_TNIL) lua_remove(L, -2);   /* the __name */
        break;
      }
    }
  }
  return lua_tolstring(L, -1, len);
}

int azrp_compat_newmetatable (lua_State *L, const char *tname) {
  if (!(luaL_newmetatable)(L, tname)) return 0;
  lua_pushstring(L, tname);
  lua_setfield(L, -2, "__name");
  return 1;
}

/* 5.3's: opens the module only if package.loaded does not have it yet. */
void azrp_compat_requiref (lua_State *L, const char *modname,
                           lua_CFunction openf, int glb) {
  luaL_checkstack(L, 3, "not enough stack slots");
  luaL_getsubtable(L, LUA_REGISTRYINDEX, "_LOADED");
  lua_getfield(L, -1, modname);
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    lua_pushcfunction(L, openf);
    lua_pushstring(L, modname);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, modname);
  }
  lua_remove(L, -2);
  if (glb) {
    lua_pushvalue(L, -1);
    lua_setglobal(L, modname);
  }
}

#endif /* 5.1, 5.2 */

/* ------------------------------------------------------- 5.1, 5.2, 5.3 */
#if LUA_VERSION_NUM <= 503

/* 5.4's: a NULL function makes a false placeholder (5.2 and 5.3 push it). */
void azrp_compat_setfuncs (lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    if (l->func == NULL)
      lua_pushboolean(L, 0);
    else {
      int i;
      for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
      lua_pushcclosure(L, l->func, nup);
    }
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}

int azrp_compat_getiuservalue (lua_State *L, int i, int n) {
  if (n != 1) {
    luaL_checkstack(L, 1, "not enough stack slots");
    lua_pushnil(L);
    return LUA_TNONE;
  }
  lua_getuservalue(L, i);
  return lua_type(L, -1);
}

int azrp_compat_setiuservalue (lua_State *L, int i, int n) {
  if (n != 1) {
    lua_pop(L, 1);
    return 0;
  }
  lua_setuservalue(L, i);
  return 1;
}

int azrp_compat_resume (lua_State *L, lua_State *from, int nargs, int *nres) {
  int status;
#if LUA_VERSION_NUM == 501
  (void)from;
  status = (lua_resume)(L, nargs);
#else
  status = (lua_resume)(L, from, nargs);
#endif
  *nres = (status == LUA_OK || status == LUA_YIELD) ? lua_gettop(L) : 0;
  return status;
}

int azrp_compat_typeerror (lua_State *L, int arg, const char *tname) {
  const char *actual;
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING)
    actual = lua_tostring(L, -1);
  else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA)
    actual = "light userdata";
  else
    actual = luaL_typename(L, arg);
  return luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", tname, actual));
}

#else
typedef int azrp_compat_nothing;   /* an empty file is not ISO C */
#endif
