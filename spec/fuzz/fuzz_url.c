/*
** URL checks and encoding (src/util.c): azrp_url_parse and
** azrp_url_problem over any string (user-info never passes; a secret is
** never allowed over plain http to a non-loopback host), and
** path-segment and query encoding (azrp_url_segment, azrp_url_query):
** the output is only unreserved characters and %XX, and decodes back to
** the input.  Also azrp_api_version_ok and azrp_snake, which read
** caller-given names.
*/
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int hexval (char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void check_encoding (const char *s, int segment) {
  azrp_buf b = AZRP_BUF_INIT;
  size_t i, o = 0, n = strlen(s);
  char *dec;
  if ((segment ? azrp_url_segment(&b, s) : azrp_url_query(&b, s)) != 0) abort();
  dec = (char *)malloc(n + 1);
  if (dec == NULL) abort();
  for (i = 0; i < b.len; i++) {
    unsigned char c = (unsigned char)b.data[i];
    if (c == '%') {
      int h, l;
      if (i + 2 >= b.len) abort();
      h = hexval(b.data[i + 1]); l = hexval(b.data[i + 2]);
      if (h < 0 || l < 0) abort();
      dec[o++] = (char)(h * 16 + l);
      i += 2;
    }
    else {
      if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
            (segment && (c == '(' || c == ')')))) abort();
      dec[o++] = (char)c;
    }
    if (o > n) abort();
  }
  if (o != n || memcmp(dec, s, n) != 0) abort();
  free(dec);
  azrp_buf_free(&b);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  char *s = (char *)malloc(size + 1);
  char snake[96];
  azrp_url u;
  int token, allow, insecure;
  if (s == NULL) return 0;
  memcpy(s, data, size);
  s[size] = '\0';   /* C strings: everything up to the first NUL */
  if (azrp_url_parse(s, &u) == 0) {
    for (token = 0; token < 2; token++)
      for (allow = 0; allow < 2; allow++)
        for (insecure = 0; insecure < 2; insecure++) {
          const char *why = azrp_url_problem(s, token, allow, insecure);
          if (why == NULL && u.userinfo) abort();
          if (why == NULL && (token || u.sas) && !u.https && !(allow && u.loopback)) abort();
          if (why == NULL && (token || u.sas) && insecure && !u.loopback) abort();
        }
  }
  else if (azrp_url_problem(s, 1, 1, 1) == NULL) abort();
  check_encoding(s, 1);
  check_encoding(s, 0);
  if (azrp_api_version_ok(s) && strlen(s) != 10 && strlen(s) != 18) abort();
  azrp_snake(s, snake, sizeof snake);
  if (strlen(snake) >= sizeof snake) abort();
  free(s);
  return 0;
}
