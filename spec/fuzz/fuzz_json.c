/*
** JSON <-> Lua bridging (src/json.c over cjson.safe): any body decodes
** to a value or nil without raising (a malformed response body must not
** unwind through the C core), integral numbers come back as integers at
** any depth, and a decoded table encodes again and decodes again.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "fuzz_lua.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int roundtrip (lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, 1, &n);
  azrp_json_decode(L, s, n);
  if (lua_type(L, -1) == LUA_TTABLE) {
    if (azrp_json_encode(L, -1) == 1) {
      size_t m;
      const char *e = lua_tolstring(L, -1, &m);
      azrp_json_decode(L, e, m);
      if (lua_isnil(L, -1)) { fprintf(stderr, "re-decode failed: %s\n", e); abort(); }
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  if (fuzz_pcall(roundtrip, (const char *)data, size) != 0) abort();
  fuzz_gc();
  return 0;
}
