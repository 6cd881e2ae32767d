/*
** Response header parsing (src/http.c azrp_xfer_header) over any header
** block: the value found lies inside the block, on one line, after the
** colon of a line whose name matches, with no white space at either end.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const names[] = {
  "retry-after", "retry-after-ms", "x-ms-retry-after-ms", "location",
  "azure-asyncoperation", "x-ms-request-id", "x-ms-client-request-id",
  "x-ms-ratelimit-remaining-subscription-writes", "content-type", "", NULL
};

static int space (char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  azrp_xfer x;
  int i;
  memset(&x, 0, sizeof x);
  /* an exact-size copy, not NUL-terminated, so ASan sees any overread */
  x.headers.data = (char *)malloc(size ? size : 1);
  if (x.headers.data == NULL) return 0;
  if (size) memcpy(x.headers.data, data, size);
  x.headers.len = x.headers.cap = size;
  for (i = 0; names[i]; i++) {
    size_t len = 12345;
    const char *v = azrp_xfer_header(&x, names[i], &len);
    const char *b = x.headers.data, *e = b + size, *ls, *colon;
    if (v == NULL) continue;
    if (v < b || v > e || len > (size_t)(e - v)) abort();
    if (memchr(v, '\n', len) != NULL) abort();
    if (len > 0 && (space(v[0]) || space(v[len - 1]))) abort();
    /* the line it is on starts with the name, then spaces, then ':' */
    ls = v;
    while (ls > b && ls[-1] != '\n') ls--;
    colon = memchr(ls, ':', (size_t)(v - ls) + 1);
    if (colon == NULL || colon > v) abort();
    if (strncasecmp(ls, names[i], strlen(names[i])) != 0) abort();
  }
  free(x.headers.data);
  return 0;
}
