/*
** Helpers without Lua types: clocks, URL encoding and redaction.
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "util.h"

double azrp_now (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double azrp_wall (void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double azrp_retry_after (const char *v, size_t len) {
  char tmp[64];
  char *end;
  double secs;
  time_t when;
  if (v == NULL || len == 0 || len >= sizeof(tmp)) return -1;
  memcpy(tmp, v, len);
  tmp[len] = '\0';
  secs = strtod(tmp, &end);
  if (end != tmp && *end == '\0') return secs < 0 ? -1 : secs;
  /* An HTTP date: curl_getdate understands RFC 1123. */
  when = curl_getdate(tmp, NULL);
  if (when == -1) return -1;
  secs = (double)when - azrp_wall();
  return secs < 0 ? 0 : secs;
}

static int unreserved (unsigned char c) {
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int encode (azrp_buf *b, const char *s, int keep_extra) {
  static const char hex[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (unreserved(c) || (keep_extra && (c == '(' || c == ')'))) {
      if (azrp_buf_append(b, s, 1) != 0) return -1;
    }
    else {
      char e[3];
      e[0] = '%'; e[1] = hex[c >> 4]; e[2] = hex[c & 15];
      if (azrp_buf_append(b, e, 3) != 0) return -1;
    }
  }
  return 0;
}

int azrp_url_segment (azrp_buf *b, const char *s) { return encode(b, s, 1); }
int azrp_url_query (azrp_buf *b, const char *s) { return encode(b, s, 0); }

int azrp_url_is_https (const char *url) {
  return strncasecmp(url, "https://", 8) == 0;
}

int azrp_url_is_loopback (const char *url) {
  const char *h;
  if (strncasecmp(url, "http://", 7) == 0) h = url + 7;
  else if (strncasecmp(url, "https://", 8) == 0) h = url + 8;
  else return 0;
  if (strncmp(h, "127.", 4) == 0) return 1;
  if (strncasecmp(h, "localhost", 9) == 0 && (h[9] == ':' || h[9] == '/' || h[9] == '\0')) return 1;
  if (strncmp(h, "[::1]", 5) == 0) return 1;
  return 0;
}

void azrp_url_redact (const char *url, char *out, size_t outlen) {
  size_t o = 0;
  const char *q = strchr(url, '?');
  const char *p;
  if (outlen == 0) return;
  if (q == NULL) {
    snprintf(out, outlen, "%s", url);
    return;
  }
  for (p = url; p <= q && o + 1 < outlen; p++) out[o++] = *p;
  p = q + 1;
  while (*p && o + 1 < outlen) {
    const char *amp = strchr(p, '&');
    const char *eq = strchr(p, '=');
    size_t keylen;
    const char *end = amp ? amp : p + strlen(p);
    if (eq == NULL || eq > end) eq = end;
    keylen = (size_t)(eq - p);
    while (p < eq && o + 1 < outlen) out[o++] = *p++;
    if (eq < end) {
      const char *keep = (keylen == 11 && strncasecmp(eq - keylen, "api-version", 11) == 0) ? eq + 1 : NULL;
      if (o + 1 < outlen) out[o++] = '=';
      if (keep) {
        const char *v;
        for (v = keep; v < end && o + 1 < outlen; v++) out[o++] = *v;
      }
      else {
        const char *r = "REDACTED";
        while (*r && o + 1 < outlen) out[o++] = *r++;
      }
    }
    p = end;
    if (*p == '&' && o + 1 < outlen) out[o++] = *p++;
  }
  out[o] = '\0';
}

void azrp_snake (const char *camel, char *out, size_t outlen) {
  size_t o = 0;
  const char *s = camel;
  if (outlen == 0) return;
  if (*s == '$') s++;
  for (; *s && o + 2 < outlen; s++) {
    unsigned char c = (unsigned char)*s;
    if (isupper(c)) {
      if (o > 0) out[o++] = '_';
      out[o++] = (char)tolower(c);
    }
    else out[o++] = (char)c;
  }
  out[o] = '\0';
}
