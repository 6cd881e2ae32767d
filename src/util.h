/*
** Small helpers of the C core that carry no Lua types: clocks, URLs and
** the few header formats ARM uses.
*/
#ifndef AZRP_UTIL_H
#define AZRP_UTIL_H

#include <stddef.h>
#include "buffer.h"

/* Monotonic seconds (for deadlines) and wall-clock Unix seconds (token expiry). */
double azrp_now (void);
double azrp_wall (void);

/* Retry-After as seconds: an integer (ARM) or an HTTP date; -1 if absent or unreadable. */
double azrp_retry_after (const char *v, size_t len);

/* Appends s percent-encoded as one path segment (RFC 3986 unreserved kept). */
int azrp_url_segment (azrp_buf *b, const char *s);
/* Appends s percent-encoded as a query value. */
int azrp_url_query (azrp_buf *b, const char *s);

/* What an http(s) URL is, as libcurl will use it. */
typedef struct azrp_url {
  int https;      /* else http */
  int loopback;   /* the host is 127.0.0.0/8, [::1] or localhost */
  int userinfo;   /* user or password before the host */
  int sas;        /* the query carries a SAS signature (sig=) */
} azrp_url;

/* 0 and *u filled, or -1 when url is not an absolute http(s) URL. */
int azrp_url_parse (const char *url, azrp_url *u);

/*
** NULL when a request may go to url, else why not (a phrase to follow
** "the URL ..."): never a URL with user-info; when the request carries a
** secret (a bearer token, or a SAS signature in the query), https only,
** or http to loopback when allow_http, and only loopback when TLS
** verification is off (insecure).
*/
const char *azrp_url_problem (const char *url, int token, int allow_http, int insecure);

/*
** Copies url into out with every query value but api-version replaced by
** "REDACTED", so that a SAS signature never reaches a message or a log.
*/
void azrp_url_redact (const char *url, char *out, size_t outlen);

/* 1 when v is YYYY-MM-DD or YYYY-MM-DD-preview. */
int azrp_api_version_ok (const char *v);

/* "resourceGroupName" -> "resource_group_name", "$expand" -> "expand". */
void azrp_snake (const char *camel, char *out, size_t outlen);

/* Edit distance of a and b (adjacent transpositions count one), ignoring case. */
int azrp_distance (const char *a, const char *b);

/*
** "Did you mean": the one of the n candidates nearest to word (within 2
** edits, 1 for words of up to 4 characters; case differences are free),
** or NULL.
*/
const char *azrp_suggest (const char *word, const char *const *cands, size_t n);

#endif
