/*
** Tests of the Lua-free transport (src/http.c, src/buffer.c) against a
** running azrp emulator and against a raw socket "capture" server that
** records the exact request bytes libcurl sends.
**
** usage: test_http READY_FILE
** READY_FILE is the emulator's --ready-file: {"url": ..., "ca_file": ...}.
** Transfers are driven the way an outer event loop drives them: poll() on
** azrp_http_pollfd() with azrp_http_timeout(), then azrp_http_step();
** azrp_http_wait() is exercised by one test of its own.
** Prints "N passed, N failed" last; exits 1 on any failure.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http.h"
#include "util.h"

#define SUB   "/subscriptions/00000000-0000-4000-8000-000000000001"
#define RG    SUB "/resourceGroups/rg-prod/providers/Microsoft.Compute"
#define VM    RG "/virtualMachines/vm-app-01"
#define API   "?api-version=2025-11-01"
#define RPC   RG "/restorePointCollections/rpc-ctest"

static int passed = 0, failed = 0;
static char base_url[512];
static char ca_file[1024];

static void check (int ok, int line, const char *what) {
  if (ok)
    passed++;
  else {
    failed++;
    fprintf(stderr, "FAIL (line %d): %s\n", line, what);
  }
}

#define CHECK(c)  check((c) ? 1 : 0, __LINE__, #c)




static void url_of (char *out, size_t n, const char *path) {
  snprintf(out, n, "%s%s", base_url, path);
}


/* Reads "key":"value" from the ready file's JSON (flat, no escapes). */
static int json_field (const char *json, const char *key, char *out,
                       size_t n) {
  char pat[64];
  const char *p, *e;
  snprintf(pat, sizeof(pat), "\"%s\"", key);
  p = strstr(json, pat);
  if (p == NULL)
    return -1;
  p = strchr(p + strlen(pat), '"');
  if (p == NULL)
    return -1;
  p++;
  e = strchr(p, '"');
  if (e == NULL || (size_t)(e - p) >= n)
    return -1;
  memcpy(out, p, (size_t)(e - p));
  out[e - p] = '\0';
  return 0;
}


static int read_ready (const char *file) {
  char buf[4096];
  size_t n;
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (json_field(buf, "url", base_url, sizeof(base_url)) != 0 ||
      json_field(buf, "ca_file", ca_file, sizeof(ca_file)) != 0)
    return -1;
  return 0;
}


static azrp_http *new_handle (const char *ca, int verify, long timeout_ms) {
  azrp_http_opts o;
  char err[256];
  azrp_http *h;
  memset(&o, 0, sizeof(o));
  o.ca_file = ca;
  o.insecure_skip_tls_verify = !verify;
  o.timeout_ms = timeout_ms;
  /* generous: TLS handshakes under valgrind are slow, and in a CPU-bound
     `make test` one step of the 300-transfer test once took 13.8 s of
     handshakes, so that a transfer queued behind them ran out of 30 s */
  o.connect_timeout_ms = 120000;
  o.no_proxy = "127.0.0.1,localhost";  /* a CI proxy must not intercept */
  h = azrp_http_new(&o, err, sizeof(err));
  if (h == NULL)
    fprintf(stderr, "azrp_http_new: %s\n", err);
  return h;
}


/*
** The event loop every test uses: poll() the one descriptor with libcurl's
** timeout, then step, and pop whatever finished (the caller keeps its own
** pointers).  Runs until x is done (or, x NULL, nothing runs) or max_s.
** Returns how many poll() rounds it took.
*/
static int drive (azrp_http *h, azrp_xfer *x, double max_s) {
  double end = azrp_now() + max_s;
  int rounds = 0;
  while (azrp_now() < end) {
    struct pollfd p;
    long t;
    if (x != NULL ? x->done : azrp_http_running(h) == 0)
      break;
    t = azrp_http_timeout(h);
    if (t < 0 || t > 200)
      t = 200;
    p.fd = azrp_http_pollfd(h);
    p.events = POLLIN;
    p.revents = 0;
    poll(&p, 1, (int)t);
    if (azrp_http_step(h) < 0)
      fprintf(stderr, "azrp_http_step failed\n");
    while (azrp_http_done(h) != NULL)
      ;
    rounds++;
  }
  return rounds;
}


/* Starts one transfer and runs it to completion. */
static azrp_xfer *go (azrp_http *h, const char *method, const char *path,
                      const char *const *headers, const char *body,
                      long timeout_ms) {
  char url[1024], err[256];
  azrp_xfer *x;
  url_of(url, sizeof(url), path);
  x = azrp_xfer_start(h, method, url, headers, body,
                      body != NULL ? strlen(body) : 0, timeout_ms, 0, NULL,
                      err, sizeof(err));
  if (x == NULL) {
    fprintf(stderr, "azrp_xfer_start: %s\n", err);
    return NULL;
  }
  drive(h, x, 120);
  return x;
}


static int header_is (const azrp_xfer *x, const char *name,
                      const char *want) {
  size_t n;
  const char *v = azrp_xfer_header(x, name, &n);
  return v != NULL && n == strlen(want) && memcmp(v, want, n) == 0;
}


/*
** {======================================================
** A capture server: plain HTTP on a raw socket, answering every request
** with a fixed reply and keeping the last request's bytes.
** =======================================================
*/

typedef struct cap {
  int lfd, cfd, port;
  azrp_buf in;          /* received, not yet a complete request */
  azrp_buf last;        /* the last complete request */
  int requests;
  const char *reply;
  size_t replylen;
  int close_after;      /* close the connection after each reply */
} cap;


static int cap_open (cap *c, const char *reply) {
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  memset(c, 0, sizeof(*c));
  c->cfd = -1;
  c->reply = reply;
  c->replylen = strlen(reply);
  c->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->lfd < 0)
    return -1;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(c->lfd, 16) != 0 ||
      getsockname(c->lfd, (struct sockaddr *)&a, &al) != 0) {
    close(c->lfd);
    return -1;
  }
  c->port = ntohs(a.sin_port);
  return 0;
}


static void cap_close (cap *c) {
  if (c->cfd >= 0)
    close(c->cfd);
  close(c->lfd);
  azrp_buf_free(&c->in);
  azrp_buf_free(&c->last);
}


static const char *find_ci (const char *hay, size_t n, const char *needle) {
  size_t k = strlen(needle), i;
  for (i = 0; k <= n && i <= n - k; i++) {
    if (strncasecmp(hay + i, needle, k) == 0)
      return hay + i;
  }
  return NULL;
}


static int last_has (const cap *c, const char *s) {
  return c->last.len > 0 && find_ci(c->last.data, c->last.len, s) != NULL;
}


/* Answers the request in c->in if it is complete. */
static void cap_serve (cap *c) {
  const char *end, *cl;
  size_t hlen, total, body = 0;
  if (c->in.len == 0)
    return;
  end = find_ci(c->in.data, c->in.len, "\r\n\r\n");
  if (end == NULL)
    return;
  hlen = (size_t)(end - c->in.data) + 4;
  cl = find_ci(c->in.data, hlen, "\r\ncontent-length:");
  if (cl != NULL)
    body = (size_t)strtoul(cl + 17, NULL, 10);
  total = hlen + body;
  if (c->in.len < total)
    return;
  azrp_buf_reset(&c->last);
  azrp_buf_append(&c->last, c->in.data, total);
  memmove(c->in.data, c->in.data + total, c->in.len - total);
  c->in.len -= total;
  c->requests++;
  if (send(c->cfd, c->reply, c->replylen, MSG_NOSIGNAL) < 0)
    fprintf(stderr, "capture: send failed\n");
  if (c->close_after) {
    close(c->cfd);
    c->cfd = -1;
  }
}


/* Like drive(), with the capture server's sockets in the same poll(). */
static void drive_cap (azrp_http *h, cap *c, azrp_xfer *x, double max_s) {
  double end = azrp_now() + max_s;
  while (!x->done && azrp_now() < end) {
    struct pollfd p[3];
    long t = azrp_http_timeout(h);
    if (t < 0 || t > 100)
      t = 100;
    p[0].fd = azrp_http_pollfd(h);
    p[1].fd = c->lfd;
    p[2].fd = c->cfd;
    p[0].events = p[1].events = p[2].events = POLLIN;
    p[0].revents = p[1].revents = p[2].revents = 0;
    poll(p, 3, (int)t);
    if ((p[1].revents & POLLIN) && c->cfd < 0)
      c->cfd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c->cfd >= 0 && (p[2].revents & (POLLIN | POLLHUP))) {
      char buf[65536];
      ssize_t r;
      while ((r = recv(c->cfd, buf, sizeof(buf), 0)) > 0)
        azrp_buf_append(&c->in, buf, (size_t)r);
      if (r == 0) {  /* the client closed */
        close(c->cfd);
        c->cfd = -1;
      }
      else
        cap_serve(c);
    }
    azrp_http_step(h);
    while (azrp_http_done(h) != NULL)
      ;
  }
}


static azrp_xfer *cap_go (azrp_http *h, cap *c, const char *method,
                          const char *const *headers, const char *body,
                          size_t bodylen) {
  char url[128], err[256];
  azrp_xfer *x;
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/capture", c->port);
  x = azrp_xfer_start(h, method, url, headers, body, bodylen, 0, 0, NULL, err,
                      sizeof(err));
  if (x == NULL) {
    fprintf(stderr, "azrp_xfer_start: %s\n", err);
    return NULL;
  }
  drive_cap(h, c, x, 10);
  return x;
}

/* }====================================================== */


static void test_buffer (void) {
  azrp_buf b = AZRP_BUF_INIT;
  int i, ok = 1;
  CHECK(azrp_buf_append(&b, NULL, 0) == 0 && b.len == 0 && b.data != NULL &&
        b.data[0] == '\0');
  CHECK(azrp_buf_appends(&b, "abc") == 0 && b.len == 3 &&
        strcmp(b.data, "abc") == 0);
  for (i = 0; i < 10000; i++)
    ok &= azrp_buf_append(&b, "0123456789", 10) == 0;
  CHECK(ok && b.len == 100003 && b.data[b.len] == '\0' && b.cap > b.len);
  CHECK(azrp_buf_append(&b, "x", (size_t)-1) == -1 && b.len == 100003);
  azrp_buf_reset(&b);
  CHECK(b.len == 0 && b.data[0] == '\0');
  azrp_buf_free(&b);
  CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
  azrp_buf_reset(&b);  /* safe on an empty buffer */
  azrp_buf_free(&b);
}


static void test_header_lookup (void) {
  azrp_xfer x;
  size_t n = 99;
  const char *v;
  memset(&x, 0, sizeof(x));
  CHECK(azrp_xfer_header(&x, "content-type", &n) == NULL);
  azrp_buf_appends(&x.headers,
    "Content-Type:  application/json ; charset=utf-8 \t\r\n"
    "X-Empty:\r\n"
    "Retry-After: 5\r\n"
    "x-ms-request-id:abc\n"
    "Content: not the type\r\n"
    "Location: https://h/op?x=1:2\r\n");
  CHECK(header_is(&x, "content-type", "application/json ; charset=utf-8"));
  CHECK(header_is(&x, "CONTENT-TYPE", "application/json ; charset=utf-8"));
  CHECK(header_is(&x, "retry-after", "5"));
  CHECK(header_is(&x, "X-MS-Request-Id", "abc"));
  CHECK(header_is(&x, "content", "not the type"));
  CHECK(header_is(&x, "location", "https://h/op?x=1:2"));
  v = azrp_xfer_header(&x, "x-empty", &n);
  CHECK(v != NULL && n == 0);
  CHECK(azrp_xfer_header(&x, "content-typ", &n) == NULL);
  CHECK(azrp_xfer_header(&x, "type", &n) == NULL);
  CHECK(azrp_xfer_header(&x, "missing", &n) == NULL);
  azrp_buf_free(&x.headers);
}


static void test_idle_handle (void) {
  char err[256];
  azrp_http *h = azrp_http_new(NULL, err, sizeof(err));
  CHECK(h != NULL);
  if (h == NULL)
    return;
  CHECK(azrp_http_pollfd(h) >= 0);
  CHECK(azrp_http_timeout(h) == -1);
  CHECK(azrp_http_running(h) == 0);
  CHECK(azrp_http_step(h) == 0);
  CHECK(azrp_http_done(h) == NULL);
  {
    double t0 = azrp_now();
    CHECK(azrp_http_wait(h, -1) == 0);  /* nothing runs: no hang */
    CHECK(azrp_now() - t0 < 0.5);
    t0 = azrp_now();
    CHECK(azrp_http_wait(h, 50) == 0);  /* a bounded wait still sleeps */
    CHECK(azrp_now() - t0 >= 0.04);
  }
  azrp_http_free(h);
  azrp_http_free(NULL);
}


static void test_tls_and_health (void) {
  azrp_http *h = new_handle(ca_file, 1, 0);
  azrp_xfer *x;
  char url[1024], err[256];
  double t0;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  url_of(url, sizeof(url), "/_emulator/health");
  t0 = azrp_now();
  x = azrp_xfer_start(h, "GET", url, NULL, NULL, 0, 0, 0, &passed, err,
                      sizeof(err));
  CHECK(x != NULL);
  if (x == NULL) {
    azrp_http_free(h);
    return;
  }
  CHECK(x->owner == &passed && !x->done);
  CHECK(x->wire == 0);  /* not on the wire before the first step */
  CHECK(azrp_http_running(h) == 1);
  CHECK(azrp_http_timeout(h) == 0);  /* adding arms the timer at once */
  drive(h, x, 120);
  CHECK(x->done && x->result == CURLE_OK && x->status == 200);
  CHECK(x->body.len == 15 && strcmp(x->body.data, "{\"status\":\"ok\"}") == 0);
  CHECK(x->error[0] == '\0');
  CHECK(x->connects == 1 && x->seconds > 0);
  /* when it went on the wire (after the connection), and its round trip
     to the first byte: what the client's throttle places ARM's count by */
  CHECK(x->wire > t0 && x->wire <= azrp_now());
  CHECK(x->first_byte > 0 && x->first_byte <= x->seconds);
  CHECK(header_is(x, "Content-Type", "application/json; charset=utf-8"));
  CHECK(header_is(x, "content-length", "15"));
  CHECK(azrp_xfer_header(x, "x-ms-request-id", NULL) != NULL);
  CHECK(azrp_xfer_header(x, "x-nope", NULL) == NULL);
  CHECK(find_ci(x->headers.data, x->headers.len, "HTTP/") == NULL);
  CHECK(azrp_http_running(h) == 0);
  azrp_xfer_free(h, x);

  /* keep-alive: the next transfer rides the same connection */
  x = go(h, "GET", "/_emulator/health", NULL, NULL, 0);
  CHECK(x != NULL && x->status == 200 && x->connects == 0);
  azrp_xfer_free(h, x);
  x = go(h, "GET", VM API, NULL, NULL, 0);
  CHECK(x != NULL && x->status == 401 && x->connects == 0);
  CHECK(x != NULL && strstr(x->body.data, "AuthenticationFailed") != NULL);
  CHECK(x != NULL && azrp_xfer_header(x, "www-authenticate", NULL) != NULL);
  azrp_xfer_free(h, x);
  azrp_http_free(h);

  /* libcurl's default bundle does not know the emulator's CA */
  h = new_handle(NULL, 1, 0);
  x = h != NULL ? go(h, "GET", "/_emulator/health", NULL, NULL, 0) : NULL;
  CHECK(x != NULL && x->result == CURLE_PEER_FAILED_VERIFICATION);
  CHECK(x != NULL && x->status == 0 && x->body.len == 0);
  CHECK(x != NULL && x->error[0] != '\0');
  azrp_http_free(h);  /* frees x too */

  /* verification off: no CA needed */
  h = new_handle(NULL, 0, 0);
  x = h != NULL ? go(h, "GET", "/_emulator/health", NULL, NULL, 0) : NULL;
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 200);
  azrp_http_free(h);
}


/* 300 at once, driven only by poll() on the pollfd, step and timeout. */
static void test_concurrent (void) {
  enum { N = 300 };
  azrp_xfer *xs[N];
  azrp_http *h = new_handle(ca_file, 1, 0);
  char url[1024], err[256];
  int i, burst, ok = 1, started = 0, popped = 0, rounds = 0, r;
  long connects[2] = {0, 0};
  double end, maxstep = 0;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  url_of(url, sizeof(url), "/_emulator/health");
  for (burst = 0; burst < 2; burst++) {
    started = popped = 0;
    for (i = 0; i < N; i++) {
      xs[i] = azrp_xfer_start(h, "GET", url, NULL, NULL, 0, 0, 0, NULL, err,
                              sizeof(err));
      if (xs[i] != NULL)
        started++;
      else
        fprintf(stderr, "start %d: %s\n", i, err);
    }
    CHECK(started == N && azrp_http_running(h) == N);
    end = azrp_now() + 300;
    while (popped < started && azrp_now() < end) {
      struct pollfd p;
      long t = azrp_http_timeout(h);
      double t0;
      p.fd = azrp_http_pollfd(h);
      p.events = POLLIN;
      p.revents = 0;
      poll(&p, 1, t < 0 ? 1000 : (int)t);
      t0 = azrp_now();
      r = azrp_http_step(h);
      if (azrp_now() - t0 > maxstep)
        maxstep = azrp_now() - t0;
      if (r < 0)
        ok = 0;
      while (azrp_http_done(h) != NULL)
        popped++;
      rounds++;
    }
    CHECK(ok && popped == N && azrp_http_running(h) == 0);
    for (i = 0; i < N; i++) {
      if (xs[i] == NULL)
        continue;
      if (!(xs[i]->done && xs[i]->result == CURLE_OK && xs[i]->status == 200
            && xs[i]->body.len == 15)) {
        if (ok)
          fprintf(stderr, "transfer %d: result %d status %ld: %s\n", i,
                  (int)xs[i]->result, xs[i]->status, xs[i]->error);
        ok = 0;
      }
      connects[burst] += xs[i]->connects;
      azrp_xfer_free(h, xs[i]);
    }
    CHECK(ok);
  }
  fprintf(stderr, "  300 concurrent, twice: connects %ld then %ld, "
          "%d poll rounds, longest step %.1f ms\n", connects[0], connects[1],
          rounds, maxstep * 1000);
  /* at most 64 per host by default, and the pool keeps them for later */
  CHECK(connects[0] >= 1 && connects[0] <= 64);
  CHECK(connects[1] < connects[0]);
  azrp_http_free(h);
}


static void test_bodies (void) {
  static const char *const json[] = {"Content-Type: application/json", NULL};
  azrp_http *h = new_handle(ca_file, 1, 0);
  azrp_xfer *x;
  char auth[4096];
  const char *authh[3];
  size_t n;
  const char *tok;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  /* POST with no body: Content-Length 0 */
  x = go(h, "POST", "/_emulator/counters/reset", NULL, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 200);
  azrp_xfer_free(h, x);
  /* the body reaches the server: a bad one is refused, a good one used */
  x = go(h, "POST", "/_emulator/clock/advance", json, "{\"seconds\":\"x\"}", 0);
  CHECK(x != NULL && x->status == 400);
  azrp_xfer_free(h, x);
  x = go(h, "POST", "/_emulator/tokens", json, "{\"expires_in\":123}", 0);
  CHECK(x != NULL && x->status == 200 &&
        strstr(x->body.data, "\"expires_in\":123") != NULL);
  tok = x != NULL ? strstr(x->body.data, "\"access_token\":\"") : NULL;
  CHECK(tok != NULL);
  if (tok == NULL) {
    azrp_http_free(h);
    return;
  }
  tok += 16;
  n = (size_t)(strchr(tok, '"') - tok);
  snprintf(auth, sizeof(auth), "Authorization: Bearer %.*s", (int)n, tok);
  azrp_xfer_free(h, x);
  authh[0] = auth;
  authh[1] = "content-type: application/json";
  authh[2] = NULL;
  /* an authorised PUT with a JSON body creates a restore point collection */
  x = go(h, "PUT", RPC API, authh,
         "{\"location\":\"westeurope\",\"properties\":{\"source\":{\"id\":\""
         VM "\"}}}", 0);
  CHECK(x != NULL && (x->status == 201 || x->status == 200));
  CHECK(x != NULL && strstr(x->body.data, "\"name\":\"rpc-ctest\"") != NULL);
  azrp_xfer_free(h, x);
  x = go(h, "GET", VM API, authh, NULL, 0);
  CHECK(x != NULL && x->status == 200 &&
        strstr(x->body.data, "vm-app-01") != NULL);
  azrp_xfer_free(h, x);
  x = go(h, "DELETE", RPC API, authh, NULL, 0);
  CHECK(x != NULL && x->status >= 200 && x->status < 300);
  azrp_xfer_free(h, x);
  x = go(h, "HEAD", "/_emulator/health", NULL, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->body.len == 0);
  azrp_xfer_free(h, x);
  azrp_http_free(h);
}


static void test_faults (void) {
  static const char *const reset[] = {"x-azrp-fault: reset", NULL};
  static const char *const trunc[] = {"x-azrp-fault: truncate", NULL};
  static const char *const slow1[] = {"x-azrp-fault: slow",
                                      "x-azrp-fault-seconds: 1", NULL};
  static const char *const slow2[] = {"x-azrp-fault: slow",
                                      "x-azrp-fault-seconds: 2", NULL};
  azrp_http *h = new_handle(ca_file, 1, 0);
  azrp_xfer *x;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  x = go(h, "GET", VM API, reset, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_GOT_NOTHING && x->error[0] != '\0');
  azrp_xfer_free(h, x);
  x = go(h, "GET", VM API, trunc, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_PARTIAL_FILE && x->status == 401);
  CHECK(x != NULL && x->body.len > 0 && x->body.len < 115);
  azrp_xfer_free(h, x);
  /* after both, the handle still works */
  x = go(h, "GET", "/_emulator/health", NULL, NULL, 0);
  CHECK(x != NULL && x->status == 200);
  azrp_xfer_free(h, x);
  x = go(h, "GET", VM API, slow1, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 401);
  CHECK(x != NULL && x->seconds > 0.7 && x->body.len == 115);
  azrp_xfer_free(h, x);
  /* the per-transfer total timeout */
  x = go(h, "GET", VM API, slow2, NULL, 300);
  CHECK(x != NULL && x->result == CURLE_OPERATION_TIMEDOUT);
  CHECK(x != NULL && x->seconds >= 0.25 && x->seconds < 1.5);
  azrp_xfer_free(h, x);
  azrp_http_free(h);

  /* the handle's timeout, and a per-transfer override above it */
  h = new_handle(ca_file, 1, 300);
  if (h == NULL)
    return;
  x = go(h, "GET", VM API, slow2, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OPERATION_TIMEDOUT);
  azrp_xfer_free(h, x);
  x = go(h, "GET", VM API, slow1, NULL, 10000);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 401);
  azrp_xfer_free(h, x);
  azrp_http_free(h);
}


static void test_errors (void) {
  azrp_http *h = new_handle(ca_file, 1, 0);
  azrp_xfer *x;
  char err[256], url[128];
  struct sockaddr_in a;
  socklen_t al = sizeof(a);
  int fd;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  /* only http and https */
  x = azrp_xfer_start(h, "GET", "file:///etc/hostname", NULL, NULL, 0, 0, 0,
                      NULL, err, sizeof(err));
  CHECK(x != NULL);
  if (x != NULL) {
    drive(h, x, 5);
    CHECK(x->done && x->result == CURLE_UNSUPPORTED_PROTOCOL);
    CHECK(x->error[0] != '\0' && x->body.len == 0);
    azrp_xfer_free(h, x);
  }
  /* a port nobody listens on */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof(a));
  getsockname(fd, (struct sockaddr *)&a, &al);
  close(fd);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
  x = azrp_xfer_start(h, "GET", url, NULL, NULL, 0, 0, 0, NULL, err, sizeof(err));
  CHECK(x != NULL);
  if (x != NULL) {
    drive(h, x, 5);
    CHECK(x->done && x->result == CURLE_COULDNT_CONNECT && x->status == 0);
    azrp_xfer_free(h, x);
  }
  x = azrp_xfer_start(h, "GET", "http://[::1", NULL, NULL, 0, 0, 0, NULL, err,
                      sizeof(err));
  CHECK(x != NULL);
  if (x != NULL) {
    drive(h, x, 5);
    CHECK(x->done && x->result == CURLE_URL_MALFORMAT);
    azrp_xfer_free(h, x);
  }
  azrp_http_free(h);
}


/* The exact bytes of requests, and responses the emulator never sends. */
static void test_capture (void) {
  static const char *const xt[] = {"X-Test: 1", NULL};
  static const char *const json[] = {"Content-Type: application/json", NULL};
  static const char ok204[] = "HTTP/1.1 204 No Content\r\n\r\n";
  static const unsigned char gz[] = {31,139,8,0,0,0,0,0,2,3,203,72,205,201,
    201,215,81,72,175,202,44,80,40,207,47,202,73,1,0,235,131,70,130,17,0,0,0};
  char gzreply[256];
  size_t gzhead;
  azrp_http *h = new_handle(NULL, 1, 0);
  azrp_xfer *x;
  cap c;
  char *big;
  size_t bign = 2 * 1024 * 1024;
  if (h == NULL || cap_open(&c, ok204) != 0) {
    CHECK(0);
    azrp_http_free(h);
    return;
  }
  /* PUT without a body still says Content-Length: 0; no Expect, no type */
  x = cap_go(h, &c, "PUT", xt, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 204);
  CHECK(last_has(&c, "PUT /capture HTTP/1.1\r\n"));
  CHECK(last_has(&c, "\r\nContent-Length: 0\r\n"));
  CHECK(last_has(&c, "\r\nX-Test: 1\r\n"));
  CHECK(last_has(&c, "\r\nUser-Agent: azrp/0.1\r\n"));
  CHECK(last_has(&c, "\r\nAccept-Encoding: ") && last_has(&c, "gzip"));
  CHECK(!last_has(&c, "\r\nExpect:") && !last_has(&c, "\r\nContent-Type:"));
  azrp_xfer_free(h, x);
  /* keep-alive on plain HTTP too */
  x = cap_go(h, &c, "PATCH", json, "{\"a\":1}", 7);
  CHECK(x != NULL && x->status == 204 && x->connects == 0);
  CHECK(last_has(&c, "PATCH /capture HTTP/1.1\r\n"));
  CHECK(last_has(&c, "\r\nContent-Length: 7\r\n"));
  CHECK(last_has(&c, "\r\nContent-Type: application/json\r\n"));
  CHECK(c.last.len > 7 &&
        memcmp(c.last.data + c.last.len - 7, "{\"a\":1}", 7) == 0);
  azrp_xfer_free(h, x);
  x = cap_go(h, &c, "DELETE", NULL, NULL, 0);
  CHECK(x != NULL && x->status == 204);
  CHECK(last_has(&c, "DELETE /capture HTTP/1.1\r\n"));
  CHECK(!last_has(&c, "Content-Length"));
  azrp_xfer_free(h, x);
  x = cap_go(h, &c, "POST", NULL, NULL, 0);
  CHECK(x != NULL && x->status == 204);
  CHECK(last_has(&c, "POST /capture HTTP/1.1\r\n"));
  CHECK(last_has(&c, "\r\nContent-Length: 0\r\n"));
  CHECK(!last_has(&c, "\r\nContent-Type:"));
  azrp_xfer_free(h, x);
  /* the server drops the pooled connection: the next transfer notices
     and connects afresh instead of failing */
  c.close_after = 1;
  x = cap_go(h, &c, "GET", NULL, NULL, 0);
  CHECK(x != NULL && x->status == 204);
  azrp_xfer_free(h, x);
  x = cap_go(h, &c, "GET", NULL, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 204 &&
        x->connects == 1);
  azrp_xfer_free(h, x);
  c.close_after = 0;
  /* a large body goes at once: libcurl would otherwise add Expect */
  big = (char *)malloc(bign);
  if (big != NULL) {
    memset(big, 'b', bign);
    x = cap_go(h, &c, "POST", json, big, bign);
    CHECK(x != NULL && x->status == 204);
    CHECK(last_has(&c, "\r\nContent-Length: 2097152\r\n"));
    CHECK(!last_has(&c, "\r\nExpect:"));
    CHECK(c.last.len > bign && c.last.data[c.last.len - 1] == 'b');
    azrp_xfer_free(h, x);
    free(big);
  }
  cap_close(&c);

  /* HEAD: headers announce a body that does not come */
  cap_open(&c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-A: 1\r\n\r\n");
  x = cap_go(h, &c, "HEAD", NULL, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 200);
  CHECK(last_has(&c, "HEAD /capture HTTP/1.1\r\n"));
  CHECK(x != NULL && x->body.len == 0 && header_is(x, "x-a", "1"));
  azrp_xfer_free(h, x);
  cap_close(&c);

  /* an interim 100 Continue: only the final response's headers remain */
  cap_open(&c, "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
               "HTTP/1.1 201 Created\r\nX-Final: yes\r\n"
               "Content-Length: 2\r\n\r\nok");
  x = cap_go(h, &c, "POST", json, "{}", 2);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 201);
  CHECK(x != NULL && header_is(x, "x-final", "yes"));
  CHECK(x != NULL && azrp_xfer_header(x, "x-interim", NULL) == NULL);
  CHECK(x != NULL && strcmp(x->body.data, "ok") == 0);
  azrp_xfer_free(h, x);
  cap_close(&c);

  /* a redirect is reported, never followed */
  cap_open(&c, "HTTP/1.1 302 Found\r\n"
               "Location: http://127.0.0.1:1/elsewhere\r\n"
               "Content-Length: 0\r\n\r\n");
  x = cap_go(h, &c, "GET", NULL, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 302);
  CHECK(x != NULL && header_is(x, "location", "http://127.0.0.1:1/elsewhere"));
  CHECK(c.requests == 1);
  azrp_xfer_free(h, x);
  cap_close(&c);

  /* gzip is asked for and decoded (the reply holds NULs: length given) */
  gzhead = (size_t)snprintf(gzreply, sizeof(gzreply),
    "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n",
    (int)sizeof(gz));
  memcpy(gzreply + gzhead, gz, sizeof(gz));
  cap_open(&c, gzreply);
  c.replylen = gzhead + sizeof(gz);
  x = cap_go(h, &c, "GET", NULL, NULL, 0);
  CHECK(x != NULL && x->result == CURLE_OK && x->status == 200);
  CHECK(x != NULL && x->body.len == 17 &&
        strcmp(x->body.data, "hello, gzip world") == 0);
  azrp_xfer_free(h, x);
  cap_close(&c);
  azrp_http_free(h);

  /* a user agent of the caller's */
  {
    azrp_http_opts o;
    char err[256];
    memset(&o, 0, sizeof(o));
    o.user_agent = "test-agent/9";
    o.no_proxy = "127.0.0.1";
    h = azrp_http_new(&o, err, sizeof(err));
    CHECK(h != NULL);
    if (h != NULL && cap_open(&c, ok204) == 0) {
      x = cap_go(h, &c, "GET", NULL, NULL, 0);
      CHECK(x != NULL && x->status == 204);
      CHECK(last_has(&c, "\r\nUser-Agent: test-agent/9\r\n"));
      cap_close(&c);
    }
    azrp_http_free(h);
  }
}


static void test_wait (void) {
  azrp_http *h = new_handle(ca_file, 1, 0);
  azrp_xfer *x;
  char url[1024], err[256];
  int rounds = 0, ok = 1;
  double end;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  url_of(url, sizeof(url), VM API);
  {
    static const char *const slow[] = {"x-azrp-fault: slow",
                                       "x-azrp-fault-seconds: 1", NULL};
    x = azrp_xfer_start(h, "GET", url, slow, NULL, 0, 0, 0, NULL, err,
                        sizeof(err));
  }
  CHECK(x != NULL);
  if (x == NULL) {
    azrp_http_free(h);
    return;
  }
  end = azrp_now() + 30;
  while (!x->done && azrp_now() < end) {
    ok &= azrp_http_wait(h, 5000) == 0;
    ok &= azrp_http_step(h) >= 0;
    ok &= azrp_http_done(h) == (x->done ? x : NULL);
    rounds++;
  }
  CHECK(ok);
  CHECK(x->done && x->result == CURLE_OK && x->status == 401);
  /* a blocking wait: a second of dribbled body takes a few dozen wakes,
     not the thousands a spinning loop would make */
  fprintf(stderr, "  wait: %d rounds for a 1 s response\n", rounds);
  CHECK(rounds < 300);
  azrp_http_free(h);
}


static void test_free_running (void) {
  static const char *const slow[] = {"x-azrp-fault: slow",
                                     "x-azrp-fault-seconds: 2", NULL};
  azrp_http *h = new_handle(ca_file, 1, 0);
  azrp_xfer *x, *y, *a, *b;
  char url[1024], hurl[1024], err[256];
  double end;
  int i;
  if (h == NULL) {
    CHECK(h != NULL);
    return;
  }
  url_of(url, sizeof(url), VM API);
  url_of(hurl, sizeof(hurl), "/_emulator/health");
  /* stop a transfer mid-body: the handle carries on */
  x = azrp_xfer_start(h, "GET", url, slow, NULL, 0, 0, 0, NULL, err, sizeof(err));
  CHECK(x != NULL);
  if (x != NULL) {
    end = azrp_now() + 10;
    while (x->headers.len == 0 && azrp_now() < end) {
      struct pollfd p;
      p.fd = azrp_http_pollfd(h);
      p.events = POLLIN;
      poll(&p, 1, 20);
      azrp_http_step(h);
    }
    CHECK(x->headers.len > 0 && !x->done && azrp_http_running(h) == 1);
    azrp_xfer_free(h, x);
    CHECK(azrp_http_running(h) == 0 && azrp_http_done(h) == NULL);
  }
  y = go(h, "GET", "/_emulator/health", NULL, NULL, 0);
  CHECK(y != NULL && y->status == 200);
  azrp_xfer_free(h, y);

  /* freeing a finished transfer nobody popped takes it off the queue */
  a = azrp_xfer_start(h, "GET", hurl, NULL, NULL, 0, 0, 0, NULL, err, sizeof(err));
  b = azrp_xfer_start(h, "GET", hurl, NULL, NULL, 0, 0, 0, NULL, err, sizeof(err));
  CHECK(a != NULL && b != NULL);
  end = azrp_now() + 10;
  while (azrp_http_running(h) > 0 && azrp_now() < end) {
    struct pollfd p;
    p.fd = azrp_http_pollfd(h);
    p.events = POLLIN;
    poll(&p, 1, 20);
    azrp_http_step(h);  /* not popping */
  }
  CHECK(a != NULL && a->done && b != NULL && b->done);
  azrp_xfer_free(h, a);
  CHECK(azrp_http_done(h) == b);
  CHECK(azrp_http_done(h) == NULL);
  azrp_xfer_free(h, b);
  azrp_xfer_free(h, NULL);

  /* free the handle with transfers in every state: slow ones mid-body,
     fresh ones not yet stepped, finished ones queued */
  for (i = 0; i < 5; i++)
    azrp_xfer_start(h, "GET", url, slow, NULL, 0, 0, 0, NULL, err, sizeof(err));
  for (i = 0; i < 5; i++)
    azrp_xfer_start(h, "GET", hurl, NULL, NULL, 0, 0, 0, NULL, err, sizeof(err));
  end = azrp_now() + 0.5;
  while (azrp_now() < end) {
    struct pollfd p;
    p.fd = azrp_http_pollfd(h);
    p.events = POLLIN;
    poll(&p, 1, 20);
    azrp_http_step(h);
  }
  for (i = 0; i < 3; i++)
    azrp_xfer_start(h, "POST", hurl, NULL, "x", 1, 0, 0, NULL, err, sizeof(err));
  CHECK(azrp_http_running(h) >= 3);
  azrp_http_free(h);  /* ASan and valgrind judge this one */
  CHECK(1);
}


int main (int argc, char **argv) {
  if (argc < 2 || read_ready(argv[1]) != 0) {
    fprintf(stderr, "usage: %s READY_FILE (emulator's --ready-file)\n",
            argv[0]);
    return 2;
  }
  test_buffer();
  test_header_lookup();
  test_idle_handle();
  test_tls_and_health();
  test_bodies();
  test_faults();
  test_errors();
  test_capture();
  test_wait();
  test_free_running();
  test_concurrent();
  curl_global_cleanup();
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
