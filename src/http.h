/*
** HTTP transfers over libcurl's multi interface, free of Lua types.
**
** One azrp_http owns a CURLM (with a CURLSH sharing DNS and TLS sessions)
** and drives any number of transfers concurrently with zero wait: the
** caller calls azrp_http_step() when azrp_http_pollfd() is readable or
** azrp_http_timeout() has passed, then collects finished transfers with
** azrp_http_done().  Nothing here blocks except azrp_http_wait().
** Connections are kept alive and reused across transfers.
*/
#ifndef AZRP_HTTP_H
#define AZRP_HTTP_H

#include <curl/curl.h>
#include "buffer.h"

/* Connections to one host at most, by default.  ARM paces a principal at
** 25 reads and 10 writes a second once its bursts are spent: 16
** connections carry that at up to 600 ms a request.  Each is a TLS session
** of about 50 KiB: 64 held 2.3 MiB more for a fleet of 200 restore points
** at once, and were no faster (BENCHMARKS.md, fleet). */
#define AZRP_HTTP_MAX_CONNECTIONS 16L

typedef struct azrp_http_opts {
  const char *ca_file;         /* NULL: libcurl's default bundle */
  const char *ca_path;         /* NULL: default */
  int insecure_skip_tls_verify; /* 1: no peer or host-name check (loopback tests only) */
  long connect_timeout_ms;     /* 0: 10000 */
  long timeout_ms;             /* whole transfer; 0: 120000 */
  const char *proxy;           /* NULL: libcurl reads the environment */
  const char *no_proxy;        /* NULL: environment */
  const char *user_agent;      /* NULL: "azrp/<version>" */
  long max_host_connections;   /* 0: AZRP_HTTP_MAX_CONNECTIONS */
} azrp_http_opts;

typedef struct azrp_http azrp_http;

typedef struct azrp_xfer {
  void *owner;                 /* the caller's, untouched here */
  int done;                    /* 1 once finished (success or not) */
  CURLcode result;             /* CURLE_OK or the transport error */
  long status;                 /* HTTP status of the final response, 0 if none */
  azrp_buf body;               /* response body */
  azrp_buf headers;            /* header lines of the final response, "name: value\r\n" */
  char error[CURL_ERROR_SIZE]; /* libcurl's message when result != CURLE_OK */
  double seconds;              /* total time */
  double wire;                 /* azrp_now() when libcurl was about to send the
                                  request on a connection; 0: not yet */
  double first_byte;           /* seconds from then to the response's first
                                  byte; 0: unknown */
  long connects;               /* new connections this transfer opened (0 = reused) */
  void *priv;                  /* http.c's own state */
} azrp_xfer;

/* NULL and a message in err when libcurl cannot be set up. */
azrp_http *azrp_http_new (const azrp_http_opts *o, char *err, size_t errlen);
/* Frees every transfer not yet freed, then the handle. */
void azrp_http_free (azrp_http *h);

/*
** Starts a transfer.  headers is a NULL-terminated array of "Name: value"
** strings (copied); body (copied) may be NULL.  method is any HTTP verb.
** timeout_ms 0 uses the handle's.  fresh: use a new connection, so that
** libcurl cannot resend the request by itself on a dead kept-alive one
** (for requests that must not be sent twice).  NULL and a message in err
** on failure.
*/
azrp_xfer *azrp_xfer_start (azrp_http *h, const char *method, const char *url,
                            const char *const *headers, const char *body,
                            size_t bodylen, long timeout_ms, int fresh, void *owner,
                            char *err, size_t errlen);
/* Stops (if running) and frees a transfer; safe on a finished one. */
void azrp_xfer_free (azrp_http *h, azrp_xfer *x);

/* Drives all transfers without waiting; returns how many still run, -1 on a libcurl error. */
int azrp_http_step (azrp_http *h);
/* The next finished transfer not yet returned, or NULL. */
azrp_xfer *azrp_http_done (azrp_http *h);
/* Milliseconds until azrp_http_step() must be called again; -1 = no deadline. */
long azrp_http_timeout (azrp_http *h);
/* A descriptor that polls readable when a transfer's socket is ready (epoll on Linux); -1 if none. */
int azrp_http_pollfd (azrp_http *h);
/* Blocks up to max_ms for activity (then call step); returns 0 or -1. */
int azrp_http_wait (azrp_http *h, long max_ms);
/* Number of transfers started and not yet finished. */
int azrp_http_running (azrp_http *h);

/* Case-insensitive lookup of a response header; value (not NUL-terminated) and its length, or NULL. */
const char *azrp_xfer_header (const azrp_xfer *x, const char *name, size_t *len);

#endif
