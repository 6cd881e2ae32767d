/*
** ARM and Entra error bodies (http_error in src/operation.c, included
** here for its static functions) and the azrp.Error built from them: the
** first input byte picks the HTTP status, the rest is the body.  The
** error always has a kind and a message, its kind is one of the
** documented ones, and __tostring renders it without raising.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/operation.c"
#include "fuzz_lua.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const long statuses[] = {400, 401, 403, 404, 409, 429, 500, 503, 200, 202};

static int build (lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, 1, &n);
  azrp_op op;
  azrp_xfer x;
  azrp_errinfo e;
  const char *shown;
  memset(&op, 0, sizeof op);
  memset(&x, 0, sizeof x);
  snprintf(op.name, sizeof op.name, "RestorePoints_Create");
  op.method = (char *)"PUT";
  x.status = n ? statuses[(unsigned char)s[0] % 10] : 500;
  x.body.data = (char *)(n > 1 ? s + 1 : "");
  x.body.len = n > 1 ? n - 1 : 0;
  http_error(L, &op, &x, &e);
  if (e.kind == NULL || e.message == NULL) abort();
  if (strcmp(e.kind, "auth") && strcmp(e.kind, "throttled") && strcmp(e.kind, "http") &&
      strcmp(e.kind, "azure")) abort();
  azrp_error_push(L, &e);
  shown = luaL_tolstring(L, -1, NULL);
  if (shown == NULL) abort();
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  if (fuzz_pcall(build, (const char *)data, size) != 0) abort();
  fuzz_gc();
  return 0;
}
