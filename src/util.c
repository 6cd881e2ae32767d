/*
** Helpers without Lua types: clocks, URL encoding and redaction, and
** "did you mean" for mistyped names.
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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
  /*
  ** Seconds (or ms) are digits, with a fraction at most: strtod alone
  ** would also take "nan", "inf", "0x1p3" and "1e999", and a delay of
  ** NaN or infinity schedules a poll that never comes.
  */
  if (isdigit((unsigned char)tmp[0]) && strspn(tmp, "0123456789.") == len) {
    secs = strtod(tmp, &end);   /* under 64 digits: finite */
    return *end == '\0' ? secs : -1;
  }
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

/* 127.0.0.0/8, ::1 (and ::ffff:127.x), or the name localhost. */
static int host_is_loopback (const char *host) {
  char buf[64];
  unsigned char a[16];
  size_t n = strlen(host);
  if (strcasecmp(host, "localhost") == 0) return 1;
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
    static const unsigned char one[16] = {0,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,1};
    static const unsigned char mapped[12] = {0,0,0,0, 0,0,0,0, 0,0,0xff,0xff};
    memcpy(buf, host + 1, n - 2);
    buf[n - 2] = '\0';
    if (inet_pton(AF_INET6, buf, a) != 1) return 0;
    return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
  }
  return inet_pton(AF_INET, host, a) == 1 && a[0] == 127;
}

/* Does the query carry a SAS signature (sig=...)? */
static int query_has_sig (const char *q) {
  const char *p = q;
  while (p && *p) {
    if (strncasecmp(p, "sig=", 4) == 0) return 1;
    p = strchr(p, '&');
    if (p) p++;
  }
  return 0;
}

/*
** libcurl's own parser decides, so that the host checked is the host
** libcurl connects to: "http://127.0.0.1@192.0.2.2/" is user 127.0.0.1
** at 192.0.2.2, whatever a prefix test says.
*/
int azrp_url_parse (const char *url, azrp_url *u) {
  CURLU *h = curl_url();
  char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL, *query = NULL;
  int rc = -1;
  memset(u, 0, sizeof *u);
  if (h == NULL || url == NULL) goto done;
  if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK) goto done;
  if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) goto done;
  if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK) goto done;
  if (strcasecmp(scheme, "https") == 0) u->https = 1;
  else if (strcasecmp(scheme, "http") != 0) goto done;
  u->loopback = host_is_loopback(host);
  u->userinfo = curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                curl_url_get(h, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
  if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK) u->sas = query_has_sig(query);
  rc = 0;
done:
  curl_free(scheme); curl_free(host); curl_free(user); curl_free(password); curl_free(query);
  curl_url_cleanup(h);
  return rc;
}

const char *azrp_url_problem (const char *url, int token, int allow_http, int insecure) {
  azrp_url u;
  if (azrp_url_parse(url, &u) != 0) return "is not an absolute http(s) URL";
  if (u.userinfo) return "carries user-info (user:password@), which hides the host it goes to";
  if (!token && !u.sas) return NULL;
  if (!u.https && !(allow_http && u.loopback))
    return "is plain http: a token or signature is only sent over https (or to a loopback host with allow_http)";
  if (insecure && !u.loopback)
    return "is not a loopback host: with insecure_skip_tls_verify a token or signature is only sent to loopback";
  return NULL;
}

void azrp_url_redact (const char *url, char *out, size_t outlen) {
  size_t o = 0;
  const char *q, *p = url, *auth = strstr(url, "://");
  if (outlen == 0) return;
  if (auth) {   /* "://" is the authority's only after a scheme, not inside a query */
    const char *c = url;
    while (c < auth && (isalnum((unsigned char)*c) || *c == '+' || *c == '.' || *c == '-')) c++;
    if (c != auth || c == url) auth = NULL;
  }
  if (auth) {   /* user-info: "https://REDACTED@host" */
    size_t alen = strcspn(auth + 3, "/?#");
    const char *at = memchr(auth + 3, '@', alen);
    if (at) {
      const char *at2;
      while ((at2 = memchr(at + 1, '@', (size_t)(auth + 3 + alen - at - 1))) != NULL) at = at2;
      o = (size_t)snprintf(out, outlen, "%.*sREDACTED", (int)(auth + 3 - url), url);
      if (o >= outlen) { out[outlen - 1] = '\0'; return; }
      p = at;
    }
  }
  q = strchr(p, '?');
  if (q == NULL) {
    snprintf(out + o, outlen - o, "%s", p);
    return;
  }
  for (; p <= q && o + 1 < outlen; p++) out[o++] = *p;
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

int azrp_api_version_ok (const char *v) {
  size_t n = strlen(v), i;
  if (n != 10 && !(n == 18 && strcmp(v + 10, "-preview") == 0)) return 0;
  for (i = 0; i < 10; i++) {
    if (i == 4 || i == 7) { if (v[i] != '-') return 0; }
    else if (!isdigit((unsigned char)v[i])) return 0;
  }
  return 1;
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

/*
** {==================================================================
** Did you mean
** ===================================================================
*/

/* Names longer than this are never compared (no Azure name comes close). */
#define SUGGEST_MAX 128

/*
** Optimal string alignment distance (Levenshtein plus adjacent
** transpositions, "loaction" is one edit from "location"), ignoring ASCII
** case; SUGGEST_MAX + 1 for longer words.
*/
int azrp_distance (const char *a, const char *b) {
  int rows[3][SUGGEST_MAX + 1];
  size_t la = strlen(a), lb = strlen(b), i, j;
  if (la > SUGGEST_MAX || lb > SUGGEST_MAX) return SUGGEST_MAX + 1;
  for (j = 0; j <= lb; j++) rows[0][j] = (int)j;
  for (i = 1; i <= la; i++) {
    int *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];
    int ca = tolower((unsigned char)a[i - 1]);
    cur[0] = (int)i;
    for (j = 1; j <= lb; j++) {
      int cb = tolower((unsigned char)b[j - 1]);
      int v = prev[j - 1] + (ca != cb);
      if (prev[j] + 1 < v) v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2])
          && tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
        v = prev2[j - 2] + 1;
      cur[j] = v;
    }
  }
  return rows[la % 3][lb];
}

/*
** The candidate nearest to word within 2 edits (1 for words of up to 4
** characters, where 2 edits reach almost anything), ignoring case, so
** that a candidate differing only in case always wins; ties go to the
** first in byte order, so the answer does not depend on the caller's
** order.  NULL if none is that near.
*/
const char *azrp_suggest (const char *word, const char *const *cands, size_t n) {
  size_t lw = strlen(word), i;
  int limit = lw <= 4 ? 1 : 2, bestd = limit + 1;
  const char *best = NULL;
  for (i = 0; i < n; i++) {
    size_t lc = strlen(cands[i]);
    int d;
    if ((lc > lw ? lc - lw : lw - lc) > (size_t)limit) continue;   /* cannot be near */
    d = azrp_distance(word, cands[i]);
    if (d < bestd || (d == bestd && best && strcmp(cands[i], best) < 0)) {
      best = cands[i];
      bestd = d;
    }
  }
  return best;
}
/* }================================================================== */
