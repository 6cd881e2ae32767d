/*
** Path-template expansion, ARM id reading and query building of
** client:begin (src/request.c, included here for its static functions):
** the first input byte picks a registry operation; the rest, split at
** '\n', is the id, then one value per placeholder of the template (empty:
** not given), then api_version.  Read as begin reads them (names, id,
** placeholders, api-version, query), then the URL is built; a refusal
** names its field, and an accepted URL is the endpoint followed by
** exactly the template's segments, literals as in the template, none
** holding '/', '?', '#' or a NUL.  Nothing is sent: the client exists but
** no operation is made.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/request.c"
#include "fuzz_lua.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define ENDPOINT "https://management.azure.com"

static int nops;

static int expand (lua_State *L) {
  size_t n, start, i;
  const char *s = lua_tolstring(L, 1, &n);
  begin_ctx *b;
  azrp_buf url = AZRP_BUF_INIT;
  int field = 0, pos, params;
  lua_getglobal(L, "fuzz_client");
  b = (begin_ctx *)lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  b->L = L;
  b->c = azrp_client_check(L, 2);
  b->d = &azrp_opdefs[n ? (unsigned char)s[0] % nops : 0];
  snprintf(b->tbuf, sizeof b->tbuf, "%s", b->d->path);
  b->nt = split_path(b->tbuf, b->tsegs);
  if (b->nt < 0) abort();
  lua_newtable(L);
  params = lua_gettop(L);
  /* the fields: id, then the placeholders in template order, then api_version */
  for (start = 1, i = 1; i <= n; i++) {
    if (i < n && s[i] != '\n') continue;
    if (i > start) {
      char name[96], snake[96];
      const char *key = NULL;
      if (field == 0) key = "id";
      else {
        int k = 0;
        for (pos = 0; pos < b->nt; pos++)
          if (b->tsegs[pos][0] == '{' && ++k == field) break;
        if (pos < b->nt) {
          size_t l = strlen(b->tsegs[pos]) - 2;
          if (l >= sizeof name) l = sizeof name - 1;
          memcpy(name, b->tsegs[pos] + 1, l);
          name[l] = '\0';
          azrp_snake(name, snake, sizeof snake);
          key = snake;
        }
        else if (k + 1 == field) key = "api_version";
      }
      if (key) {
        lua_pushlstring(L, s + start, i - start);
        lua_setfield(L, params, key);
      }
    }
    field++;
    start = i + 1;
  }
  b->params = params;
  check_names(b);
  if (read_id(b) < 0 || read_path(b) < 0 || read_api_version(b) < 0 || read_query(b) < 0) {
    if (b->target == NULL || b->msg[0] == '\0') abort();
    return 0;
  }
  if (build_url(b, &url) != 0) abort();
  /* the endpoint, then exactly the template's segments, then the query */
  if (strncmp(url.data, ENDPOINT "/", sizeof ENDPOINT) != 0) abort();
  {
    const char *p = url.data + sizeof ENDPOINT - 1, *q = strchr(p, '?');
    if (q == NULL || strchr(p, '#') || strlen(url.data) != url.len) abort();
    for (pos = 0; pos < b->nt; pos++) {
      const char *e;
      if (*p != '/') abort();
      p++;
      e = p + strcspn(p, "/?");
      if (e == p || e > q) abort();
      if (b->tsegs[pos][0] != '{' &&
          (strlen(b->tsegs[pos]) != (size_t)(e - p) || strncmp(p, b->tsegs[pos], (size_t)(e - p)) != 0))
        abort();
      p = e;
    }
    if (p != q) abort();
  }
  azrp_buf_free(&url);
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  lua_State *L = fuzz_lua();
  if (nops == 0) {
    while (azrp_opdefs[nops].id) nops++;
    fuzz_quiet = 1;
    if (luaL_dostring(L, "fuzz_client = core.client{endpoint = '" ENDPOINT "', "
                         "subscription_id = '00000000-0000-0000-0000-000000000000'}") != 0) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      abort();
    }
  }
  /* a raise is a programmer's mistake reported as such (a missing name): not a crash */
  (void)fuzz_pcall(expand, (const char *)data, size);
  fuzz_gc();
  return 0;
}
