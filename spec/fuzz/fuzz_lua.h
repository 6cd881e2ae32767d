/*
** A Lua 5.4 state with azrp.core opened (linked in, not loaded), for the
** harnesses whose parser needs one.  One state per process, made on the
** first input; every input runs inside lua_pcall, so a Lua error (the
** way the core reports a bad value) is not a crash, and the stack is
** reset after each input.
*/
#ifndef FUZZ_LUA_H
#define FUZZ_LUA_H
#include <stdio.h>
#include <stdlib.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

int luaopen_azrp_core (lua_State *L);

static lua_State *fuzz_L;
/* 1: a Lua error is an expected outcome, not worth a line */
static int fuzz_quiet;

/* The state, with azrp.core as global "core". */
static lua_State *fuzz_lua (void) {
  if (fuzz_L == NULL) {
    fuzz_L = luaL_newstate();
    if (fuzz_L == NULL) abort();
    luaL_openlibs(fuzz_L);
    luaL_requiref(fuzz_L, "azrp.core", luaopen_azrp_core, 0);
    lua_setglobal(fuzz_L, "core");
  }
  return fuzz_L;
}

/* Runs f(L) with the input as its argument under pcall; 0 or the pcall status. */
static int fuzz_pcall (lua_CFunction f, const char *s, size_t n) {
  lua_State *L = fuzz_lua();
  int top = lua_gettop(L), rc;
  lua_pushcfunction(L, f);
  lua_pushlstring(L, s, n);
  rc = lua_pcall(L, 1, 0, 0);
  if (rc != 0 && !fuzz_quiet) fprintf(stderr, "Lua error: %s\n", lua_tostring(L, -1));
  lua_settop(L, top);
  return rc;
}

/* A full collection every so often, so that __gc paths run under ASan too. */
static void fuzz_gc (void) {
  static unsigned n;
  if (++n % 64 == 0) lua_gc(fuzz_lua(), LUA_GCCOLLECT, 0);
}
#endif
