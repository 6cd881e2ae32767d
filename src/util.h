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

/* 1 when url is https://, or http:// to a loopback host (127.0.0.0/8, localhost, [::1]). */
int azrp_url_is_https (const char *url);
int azrp_url_is_loopback (const char *url);

/*
** Copies url into out with every query value but api-version replaced by
** "REDACTED", so that a SAS signature never reaches a message or a log.
*/
void azrp_url_redact (const char *url, char *out, size_t outlen);

/* "resourceGroupName" -> "resource_group_name", "$expand" -> "expand". */
void azrp_snake (const char *camel, char *out, size_t outlen);

#endif
