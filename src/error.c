/*
** azrp.Error objects.  They are plain tables (so scripts may read and
** extend them freely) with a shared metatable whose __tostring renders
** "[azrp.http 429 TooManyRequests] message (operation RestorePoints_Create,
** request-id ...)".
*/
#include <string.h>

#include "error.h"

static void setstr (lua_State *L, const char *k, const char *v) {
  if (v != NULL && *v != '\0') {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
  }
}

void azrp_error_push (lua_State *L, const azrp_errinfo *e) {
  lua_createtable(L, 0, 10);
  setstr(L, "kind", e->kind ? e->kind : "http");
  if (e->status > 0) {
    lua_pushinteger(L, (lua_Integer)e->status);
    lua_setfield(L, -2, "status");
  }
  setstr(L, "code", e->code);
  setstr(L, "message", e->message ? e->message : "unknown error");
  setstr(L, "request_id", e->request_id);
  setstr(L, "client_request_id", e->client_request_id);
  setstr(L, "operation", e->operation);
  setstr(L, "target", e->target);
  lua_pushboolean(L, e->retryable);
  lua_setfield(L, -2, "retryable");
  if (e->retry_after >= 0) {
    lua_pushnumber(L, e->retry_after);
    lua_setfield(L, -2, "retry_after");
  }
  luaL_getmetatable(L, AZRP_ERROR_MT);
  lua_setmetatable(L, -2);
}

static const char *field (lua_State *L, int idx, const char *k) {
  const char *s;
  lua_getfield(L, idx, k);
  s = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1);   /* the string stays reachable from the table */
  return s;
}

static int error_tostring (lua_State *L) {
  luaL_Buffer b;
  const char *kind, *code, *msg, *op, *rid, *target;
  lua_Integer status;
  luaL_checktype(L, 1, LUA_TTABLE);
  kind = field(L, 1, "kind");
  code = field(L, 1, "code");
  msg = field(L, 1, "message");
  op = field(L, 1, "operation");
  rid = field(L, 1, "request_id");
  target = field(L, 1, "target");
  lua_getfield(L, 1, "status");
  status = lua_isnumber(L, -1) ? lua_tointeger(L, -1) : 0;
  lua_pop(L, 1);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "[azrp.");
  luaL_addstring(&b, kind ? kind : "error");
  if (status > 0) {
    lua_pushfstring(L, " %d", (int)status);
    luaL_addvalue(&b);
  }
  if (code) {
    luaL_addchar(&b, ' ');
    luaL_addstring(&b, code);
  }
  luaL_addstring(&b, "] ");
  luaL_addstring(&b, msg ? msg : "unknown error");
  if (target || op || rid) {
    int first = 1;
    luaL_addstring(&b, " (");
    if (target) { luaL_addstring(&b, "field "); luaL_addstring(&b, target); first = 0; }
    if (op) {
      if (!first) luaL_addstring(&b, ", ");
      luaL_addstring(&b, "operation ");
      luaL_addstring(&b, op);
      first = 0;
    }
    if (rid) {
      if (!first) luaL_addstring(&b, ", ");
      luaL_addstring(&b, "request-id ");
      luaL_addstring(&b, rid);
    }
    luaL_addchar(&b, ')');
  }
  luaL_pushresult(&b);
  return 1;
}

void azrp_error_open (lua_State *L) {
  if (luaL_newmetatable(L, AZRP_ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, AZRP_ERROR_MT);
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
}
