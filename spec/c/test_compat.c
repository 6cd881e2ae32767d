/*
** Tests of src/compat.h / src/compat.c: each 5.2+/5.3+/5.4 call the
** layer provides is run against the interpreter it is built for, and
** must behave as Lua 5.4's (within the limits compat.h states).
**
** Build (one Lua at a time; spec/c/run_compat.sh does every installed one):
**   cc -Isrc -I/usr/include/lua5.1 spec/c/test_compat.c src/compat.c -llua5.1
** Prints "N passed, N failed" last; exits non-zero on any failure.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "lualib.h"

#include "check.h"

static int has (const char *s, const char *part) {
  return s != NULL && strstr(s, part) != NULL;
}

/* ------------------------------------------------------------------ */

static int up_sum (lua_State *L) {
  lua_pushinteger(L, lua_tointeger(L, lua_upvalueindex(1)) +
                     lua_tointeger(L, lua_upvalueindex(2)));
  return 1;
}

static int seven (lua_State *L) {
  lua_pushinteger(L, 7);
  return 1;
}

static void test_setfuncs (lua_State *L) {
  static const luaL_Reg fns[] = {{"sum", up_sum}, {"none", NULL}, {NULL, NULL}};
  static const luaL_Reg lib[] = {{"seven", seven}, {NULL, NULL}};
  int top = lua_gettop(L);
  lua_newtable(L);
  lua_pushinteger(L, 40);
  lua_pushinteger(L, 2);
  luaL_setfuncs(L, fns, 2);
  check(lua_gettop(L) == top + 1, "setfuncs pops its upvalues");
  lua_getfield(L, -1, "sum");
  lua_call(L, 0, 1);
  check(lua_tointeger(L, -1) == 42, "setfuncs shares the upvalues");
  lua_pop(L, 1);
  check(lua_getfield(L, -1, "none") == LUA_TBOOLEAN && !lua_toboolean(L, -1),
        "setfuncs: a NULL function is a false placeholder");
  lua_pop(L, 2);
  luaL_newlib(L, lib);
  lua_getfield(L, -1, "seven");
  lua_call(L, 0, 1);
  check(lua_tointeger(L, -1) == 7, "newlib");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static int check_t (lua_State *L) {
  luaL_checkudata(L, 1, "azrp.T");
  return 0;
}

static int typeerror_t (lua_State *L) {
  return luaL_typeerror(L, 1, "azrp.T");
}

static void test_udata (lua_State *L) {
  int top = lua_gettop(L);
  void *p;
  check(luaL_newmetatable(L, "azrp.T") == 1, "newmetatable: new");
  check(lua_getfield(L, -1, "__name") == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "azrp.T") == 0, "newmetatable sets __name");
  lua_pop(L, 2);
  check(luaL_newmetatable(L, "azrp.T") == 0, "newmetatable: existing");
  lua_pop(L, 1);
  luaL_newmetatable(L, "azrp.U");
  lua_pop(L, 1);

  p = lua_newuserdatauv(L, 16, 1);
  luaL_setmetatable(L, "azrp.T");
  check(luaL_testudata(L, -1, "azrp.T") == p, "testudata: same type");
  check(luaL_testudata(L, -1, "azrp.U") == NULL, "testudata: other type");
  lua_pushinteger(L, 1);
  check(luaL_testudata(L, -1, "azrp.T") == NULL, "testudata: not a userdata");
  lua_pop(L, 1);
  lua_newuserdatauv(L, 4, 0);
  check(luaL_testudata(L, -1, "azrp.T") == NULL, "testudata: no metatable");
  lua_pop(L, 1);

  check(luaL_getmetafield(L, -1, "__name") == LUA_TSTRING, "getmetafield: type of the field");
  lua_pop(L, 1);
  check(luaL_getmetafield(L, -1, "__nothing") == LUA_TNIL &&
        lua_gettop(L) == top + 1, "getmetafield: LUA_TNIL, nothing pushed");

  lua_pushcfunction(L, check_t);
  lua_pushvalue(L, -2);
  check(lua_pcall(L, 1, 0, 0) == LUA_OK, "checkudata accepts its type");
  lua_pushcfunction(L, check_t);
  lua_pushboolean(L, 1);
  check(lua_pcall(L, 1, 0, 0) != LUA_OK && has(lua_tostring(L, -1), "azrp.T expected"),
        "checkudata refuses a boolean: %s", lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_pushcfunction(L, typeerror_t);
  lua_pushvalue(L, -2);
  check(lua_pcall(L, 1, 0, 0) != LUA_OK &&
        has(lua_tostring(L, -1), "azrp.T expected, got azrp.T"),
        "typeerror names the actual type by __name: %s", lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_pushcfunction(L, typeerror_t);
  lua_pushnil(L);
  check(lua_pcall(L, 1, 0, 0) != LUA_OK && has(lua_tostring(L, -1), "azrp.T expected, got nil"),
        "typeerror: %s", lua_tostring(L, -1));
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static int new_udata (lua_State *L) {
  lua_newuserdatauv(L, 8, 1);
  return 1;
}

static void test_uservalue (lua_State *L) {
  int top = lua_gettop(L);
  lua_newuserdatauv(L, 8, 1);
  check(lua_getiuservalue(L, -1, 1) == LUA_TNIL, "a fresh userdata's user value is nil");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "k");
  check(lua_setiuservalue(L, -2, 1) == 1, "setiuservalue 1");
  check(lua_getiuservalue(L, -1, 1) == LUA_TTABLE, "getiuservalue: the table");
  check(lua_getfield(L, -1, "k") == LUA_TSTRING, "getiuservalue: the same table");
  lua_pop(L, 2);
  lua_pushnil(L);
  lua_setiuservalue(L, -2, 1);
  check(lua_getiuservalue(L, -1, 1) == LUA_TNIL, "a user value set to nil reads nil");
  lua_pop(L, 1);
  check(lua_getiuservalue(L, -1, 2) == LUA_TNONE && lua_isnil(L, -1),
        "getiuservalue of a missing value: LUA_TNONE, pushes nil");
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
#if LUA_VERSION_NUM >= 504
  check(lua_setiuservalue(L, -2, 3) == 0, "setiuservalue of a missing value: 0");
#else
  check(lua_setiuservalue(L, -2, 2) == 0, "setiuservalue of a missing value: 0");
#endif
  check(lua_gettop(L) == top + 1, "setiuservalue pops the value even when it fails");
  lua_getuservalue(L, -1);
  check(lua_isnil(L, -1), "getuservalue is getiuservalue 1");
  lua_settop(L, top);

  /* Made by a C function, as azrp.core's userdata are. */
  lua_pushcfunction(L, new_udata);
#if LUA_VERSION_NUM == 501
  /* require runs C loaders with the package table as their environment */
  lua_getglobal(L, "package");
  lua_setfenv(L, -2);
#endif
  lua_call(L, 0, 1);
  check(lua_getiuservalue(L, -1, 1) == LUA_TNIL, "user value of a userdata made in C: nil");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static void test_get_types (lua_State *L) {
  int top = lua_gettop(L);
  static const char key = 'k';
  lua_newtable(L);
  lua_pushliteral(L, "s");
  lua_setfield(L, -2, "a");
  lua_pushinteger(L, 5);
  lua_rawseti(L, -2, 1);
  check(lua_getfield(L, -1, "a") == LUA_TSTRING, "getfield returns the type");
  check(lua_getfield(L, -2, "none") == LUA_TNIL, "getfield returns LUA_TNIL");
  lua_pop(L, 2);
  lua_pushliteral(L, "a");
  check(lua_gettable(L, -2) == LUA_TSTRING, "gettable returns the type");
  lua_pushliteral(L, "a");
  check(lua_rawget(L, -3) == LUA_TSTRING, "rawget returns the type");
  check(lua_rawgeti(L, -3, 1) == LUA_TNUMBER, "rawgeti returns the type");
  lua_pop(L, 3);
  check(lua_geti(L, -1, 1) == LUA_TNUMBER && lua_tointeger(L, -1) == 5, "geti");
  lua_pop(L, 1);
  lua_pushliteral(L, "two");
  lua_seti(L, -2, 2);
  check(lua_rawgeti(L, -1, 2) == LUA_TSTRING, "seti");
  lua_pop(L, 1);
  lua_pushliteral(L, "p");
  lua_rawsetp(L, -2, &key);
  check(lua_rawgetp(L, -1, &key) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "p") == 0,
        "rawsetp/rawgetp");
  lua_pop(L, 1);
  check(lua_rawgetp(L, -1, &top) == LUA_TNIL, "rawgetp: absent");
  lua_pop(L, 1);
  check(lua_getglobal(L, "string") == LUA_TTABLE, "getglobal returns the type");
  lua_pop(L, 1);
  lua_pushglobaltable(L);
  check(lua_getfield(L, -1, "print") == LUA_TFUNCTION, "pushglobaltable");
  lua_settop(L, top);

  lua_newtable(L);
  check(luaL_getsubtable(L, -1, "sub") == 0 && lua_istable(L, -1), "getsubtable makes it");
  lua_pop(L, 1);
  check(luaL_getsubtable(L, -1, "sub") == 1, "getsubtable finds it");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static void test_stack (lua_State *L) {
  int top = lua_gettop(L), i, ok;
  static const int rot1[] = {1, 4, 2, 3}, rotm1[] = {1, 3, 4, 2};
  check(lua_absindex(L, -1) == top, "absindex -1");
  check(lua_absindex(L, LUA_REGISTRYINDEX) == LUA_REGISTRYINDEX, "absindex of a pseudo-index");
  for (i = 1; i <= 4; i++) lua_pushinteger(L, i);
  lua_rotate(L, top + 2, 1);
  for (ok = 1, i = 0; i < 4; i++) ok = ok && lua_tointeger(L, top + 1 + i) == rot1[i];
  check(ok, "rotate 1");
  lua_rotate(L, top + 2, -1);
  lua_rotate(L, top + 2, -1);
  for (ok = 1, i = 0; i < 4; i++) ok = ok && lua_tointeger(L, top + 1 + i) == rotm1[i];
  check(ok, "rotate -1");
  lua_copy(L, top + 1, top + 4);
  check(lua_tointeger(L, top + 4) == 1 && lua_gettop(L) == top + 4, "copy");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static void test_numbers (lua_State *L) {
  int top = lua_gettop(L), isnum;
  lua_Integer k = 0;
  lua_pushnumber(L, 3);
  lua_pushnumber(L, 3.5);
  lua_pushliteral(L, "7");
  lua_pushliteral(L, "x");
#if LUA_VERSION_NUM >= 503
  check(lua_isinteger(L, top + 1) == 0, "isinteger: 5.3+ has a float subtype");
  lua_pushinteger(L, 3);
  lua_replace(L, top + 1);
#endif
  check(lua_isinteger(L, top + 1) == 1, "isinteger 3");
  check(lua_isinteger(L, top + 2) == 0, "isinteger 3.5");
  check(lua_isinteger(L, top + 3) == 0, "isinteger \"7\"");
  check(lua_tointegerx(L, top + 1, &isnum) == 3 && isnum, "tointegerx 3");
  check(lua_tointegerx(L, top + 2, &isnum) == 0 && !isnum, "tointegerx 3.5");
  check(lua_tointegerx(L, top + 3, &isnum) == 7 && isnum, "tointegerx \"7\"");
  check(lua_tointegerx(L, top + 4, &isnum) == 0 && !isnum, "tointegerx \"x\"");
  check(lua_tonumberx(L, top + 3, &isnum) == 7 && isnum, "tonumberx \"7\"");
  check(lua_tonumberx(L, top + 4, &isnum) == 0 && !isnum, "tonumberx \"x\"");
  check(lua_numbertointeger(2.0, &k) && k == 2, "numbertointeger 2.0");
  check(!lua_numbertointeger(-(lua_Number)LUA_MININTEGER, &k), "numbertointeger out of range");
  check(LUA_MAXINTEGER > 2147483647 || sizeof(lua_Integer) == 4, "LUA_MAXINTEGER");
  lua_settop(L, top);
  check(lua_stringtonumber(L, "0x10") == 5 && lua_tonumber(L, -1) == 16, "stringtonumber 0x10");
  lua_pop(L, 1);
  check(lua_stringtonumber(L, "1e") == 0 && lua_gettop(L) == top, "stringtonumber: not a number");
}

/* ------------------------------------------------------------------ */

static int len_five (lua_State *L) {
  lua_pushinteger(L, 5);
  return 1;
}

static void test_len (lua_State *L) {
  int top = lua_gettop(L);
  lua_createtable(L, 0, 0);
  lua_pushinteger(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushinteger(L, 2);
  lua_rawseti(L, -2, 2);
  check(lua_rawlen(L, -1) == 2, "rawlen");
  check(luaL_len(L, -1) == 2, "luaL_len");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, len_five);
  lua_setfield(L, -2, "__len");
  lua_setmetatable(L, -2);
  check(luaL_len(L, -1) == 5, "luaL_len honours __len on a table");
  check(lua_rawlen(L, -1) == 2, "rawlen does not");
  lua_len(L, -1);
  check(lua_tointeger(L, -1) == 5, "lua_len");
  lua_pushliteral(L, "abc");
  check(luaL_len(L, -1) == 3, "luaL_len of a string");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static int tostring_meta (lua_State *L) {
  lua_pushliteral(L, "<T>");
  return 1;
}

static void test_tolstring (lua_State *L) {
  int top = lua_gettop(L);
  size_t len;
  lua_pushinteger(L, 42);
  check(strcmp(luaL_tolstring(L, -1, &len), "42") == 0 && len == 2, "tolstring 42");
  check(lua_type(L, -2) == LUA_TNUMBER, "tolstring leaves a number a number");
  lua_settop(L, top);
  lua_pushboolean(L, 0);
  check(strcmp(luaL_tolstring(L, -1, NULL), "false") == 0, "tolstring false");
  lua_pushnil(L);
  check(strcmp(luaL_tolstring(L, -1, NULL), "nil") == 0, "tolstring nil");
  lua_newtable(L);
  check(strncmp(luaL_tolstring(L, -1, NULL), "table: ", 7) == 0, "tolstring table");
  lua_newuserdatauv(L, 1, 0);
  luaL_setmetatable(L, "azrp.T");
  check(strncmp(luaL_tolstring(L, -1, NULL), "azrp.T: ", 8) == 0,
        "tolstring names a userdata by __name: %s", lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, tostring_meta);
  lua_setfield(L, -2, "__tostring");
  lua_setmetatable(L, -2);
  check(strcmp(luaL_tolstring(L, -1, NULL), "<T>") == 0, "tolstring calls __tostring");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static int opens = 0;

static int open_mod (lua_State *L) {
  opens++;
  lua_newtable(L);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "name");
  return 1;
}

static void test_requiref (lua_State *L) {
  int top = lua_gettop(L);
  luaL_requiref(L, "azrp_test_mod", open_mod, 1);
  check(opens == 1 && lua_istable(L, -1), "requiref opens");
  check(lua_getfield(L, -1, "name") == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "azrp_test_mod") == 0, "requiref passes the name");
  lua_settop(L, top);
  check(lua_getglobal(L, "azrp_test_mod") == LUA_TTABLE, "requiref glb sets the global");
  lua_settop(L, top);
  luaL_requiref(L, "azrp_test_mod", open_mod, 0);
  check(opens == 1, "requiref does not reopen a loaded module");
  check(lua_gettop(L) == top + 1, "requiref pushes one value");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static void test_resume (lua_State *L) {
  int top = lua_gettop(L), nres = -1, status;
  lua_State *co = lua_newthread(L);
  check(luaL_loadstring(co, "local a = ... ; local b = coroutine.yield(a + 1, a + 2); return b * 10")
        == LUA_OK, "load the coroutine body");
  lua_pushinteger(co, 1);
  status = lua_resume(co, L, 1, &nres);
  check(status == LUA_YIELD && nres == 2 && lua_tointeger(co, -1) == 3,
        "resume: yields 2 values (status %d, nres %d)", status, nres);
  lua_pop(co, nres);
  lua_pushinteger(co, 4);
  status = lua_resume(co, L, 1, &nres);
  check(status == LUA_OK && nres == 1 && lua_tointeger(co, -1) == 40,
        "resume: returns 1 value (status %d, nres %d)", status, nres);
  lua_settop(L, top);
  co = lua_newthread(L);
  luaL_loadstring(co, "error('boom')");
  status = lua_resume(co, L, 0, &nres);
  check(status == LUA_ERRRUN && has(lua_tostring(co, -1), "boom"), "resume: an error");
  lua_settop(L, top);
}

/* ------------------------------------------------------------------ */

static int traceback_here (lua_State *L) {
  luaL_traceback(L, L, "the message", 1);
  return 1;
}

static void test_misc (lua_State *L) {
  int top = lua_gettop(L);
  const char *tb;
  FILE *f;
  lua_pushcfunction(L, traceback_here);
  lua_setglobal(L, "traceback_here");
  /* no tail calls: LuaJIT leaves no frame for them */
  check(luaL_dostring(L, "local function inner() local r = traceback_here() return r end\n"
                         "local r = inner() return r") == LUA_OK, "traceback: run");
  tb = lua_tostring(L, -1);
  check(has(tb, "the message\nstack traceback:\n\t") && has(tb, "inner"),
        "traceback: %s", tb);
  lua_settop(L, top);
  check(luaL_dostring(L, "local function deep(n) if n == 0 then local r = traceback_here() return r end "
                         "local r = deep(n - 1) return r end return deep(40)") == LUA_OK &&
        has(lua_tostring(L, -1), "\n\t..."), "traceback of a deep stack is cut");
  lua_settop(L, top);

  check(luaL_loadbufferx(L, "return 1", 8, "=t", "b") == LUA_ERRSYNTAX &&
        has(lua_tostring(L, -1), "text chunk"), "loadbufferx refuses text in mode b");
  lua_pop(L, 1);
  check(luaL_loadbufferx(L, "return 1", 8, "=t", "t") == LUA_OK, "loadbufferx mode t");
  lua_pop(L, 1);
  check(luaL_loadbufferx(L, "return 1", 8, "=t", NULL) == LUA_OK, "loadbufferx mode NULL");
  lua_pop(L, 1);

  f = fopen("/nonexistent/azrp", "r");
  check(f == NULL && luaL_fileresult(L, 0, "/nonexistent/azrp") == 3 && lua_isnil(L, -3) &&
        has(lua_tostring(L, -2), "/nonexistent/azrp: ") && lua_tointeger(L, -1) != 0,
        "fileresult of a failure");
  lua_settop(L, top);
  check(luaL_fileresult(L, 1, NULL) == 1 && lua_toboolean(L, -1), "fileresult of a success");
  lua_settop(L, top);

  luaL_pushfail(L);
  check(lua_isnil(L, -1), "pushfail");
  lua_settop(L, top);

  check(luaL_dostring(L, "return io.stdout") == LUA_OK, "io.stdout");
  check(((luaL_Stream *)luaL_checkudata(L, -1, LUA_FILEHANDLE))->f == stdout,
        "luaL_Stream reads an io handle's FILE *");
  lua_settop(L, top);
}

int main (void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  printf("%s\n", LUA_RELEASE);
  test_setfuncs(L);
  test_udata(L);
  test_uservalue(L);
  test_get_types(L);
  test_stack(L);
  test_numbers(L);
  test_len(L);
  test_tolstring(L);
  test_requiref(L);
  test_resume(L);
  test_misc(L);
  check(lua_gettop(L) == 0, "the stack is balanced");
  lua_close(L);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
