/*
** JSON through lua-cjson: the C core calls cjson.safe's encode and decode,
** which luaopen_azrp_core stores in the registry.
*/
#ifndef AZRP_JSON_H
#define AZRP_JSON_H

#include "compat.h"

/* Loads cjson.safe (raises if it is not installed). */
void azrp_json_open (lua_State *L);
/* Pushes the decoded value, or nil when s is not JSON. Integral numbers become integers on 5.3+. */
int azrp_json_decode (lua_State *L, const char *s, size_t len);
/* Encodes the value at idx; pushes the string, or nil and a message. */
int azrp_json_encode (lua_State *L, int idx);

#endif
