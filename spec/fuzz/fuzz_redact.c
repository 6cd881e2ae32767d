/*
** Redaction of SAS signatures, tokens and user-info (src/util.c
** azrp_url_redact, and core.redact of src/core.c, which finds the URLs
** in a text).  With room enough, every query value but api-version comes
** out as REDACTED and user-info as REDACTED; with any room, the output is
** NUL-terminated inside it; core.redact of a text that is one URL is
** azrp_url_redact of it.
*/
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "fuzz_lua.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Every query value of out is REDACTED, but api-version's. */
static void check_query (const char *out) {
  const char *p = strchr(out, '?');
  if (p == NULL) return;
  p++;
  while (*p) {
    const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (eq) {
      size_t kl = (size_t)(eq - p), vl = (size_t)(end - eq - 1);
      int api = kl == 11 && strncasecmp(p, "api-version", 11) == 0;
      if (!api && !(vl == 8 && memcmp(eq + 1, "REDACTED", 8) == 0)) {
        fprintf(stderr, "a query value survived: %s\n", out);
        abort();
      }
    }
    p = amp ? amp + 1 : end;
  }
}

static char *big_out;

static int lua_redact (lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, 1, &n);
  const char *r;
  lua_getglobal(L, "core");
  lua_getfield(L, -1, "redact");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  r = lua_tostring(L, -1);
  /* a text with no white space, quote or <> that starts with a scheme is one URL */
  if (big_out != NULL && strcspn(s, " \t\r\n\v\f\"'<>") == n && strlen(s) == n &&
      strstr(s, "://") != NULL) {
    size_t i = 0;
    while (i < n && (s[i] == '+' || s[i] == '.' || s[i] == '-' ||
                     (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9'))) i++;
    if (i > 0 && s[0] >= 'A' && (s[0] | 32) >= 'a' && (s[0] | 32) <= 'z' &&
        strncmp(s + i, "://", 3) == 0 && strcmp(r, big_out) != 0) {
      fprintf(stderr, "core.redact %s\n   != azrp_url_redact %s\n", r, big_out);
      abort();
    }
  }
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  char *s = (char *)malloc(size + 1);
  size_t room = 2 * size + 8 * (size + 1) + 2, lens[] = {1, 2, 9, 17, 40, 0};
  int i;
  if (s == NULL) return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  big_out = (char *)malloc(room);
  if (big_out == NULL) abort();
  azrp_url_redact(s, big_out, room);
  if (strlen(big_out) >= room) abort();
  check_query(big_out);
  {
    const char *auth = strstr(s, "://"), *c = s;
    while (auth && c < auth && (isalnum((unsigned char)*c) || *c == '+' || *c == '.' || *c == '-')) c++;
    if (auth && c == auth && c != s) {
      size_t alen = strcspn(auth + 3, "/?#");
      if (memchr(auth + 3, '@', alen) &&
          strncmp(big_out + (auth + 3 - s), "REDACTED@", 9) != 0) abort();
    }
  }
  for (i = 0; lens[i]; i++) {   /* short outputs: exact-size heap buffers */
    char *o = (char *)malloc(lens[i]);
    if (o == NULL) abort();
    azrp_url_redact(s, o, lens[i]);
    if (memchr(o, '\0', lens[i]) == NULL) abort();
    free(o);
  }
  if (fuzz_pcall(lua_redact, (const char *)data, size) != 0) {
    abort();
  }
  free(big_out);
  big_out = NULL;
  free(s);
  fuzz_gc();
  return 0;
}
