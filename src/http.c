/*
** HTTP transfers over libcurl's multi interface (see http.h), free of Lua
** types so that the operation layer above can own the policy (retries,
** LRO polling) and this file only moves bytes.
**
** The event model is libcurl's "multi_socket" API: libcurl tells us which
** sockets it wants watched (on_socket) and when it next needs a kick
** (on_timer); we keep those in an epoll set and a deadline.  The epoll
** descriptor is what azrp_http_pollfd() hands out, so an outer event loop
** (cqueues, luv, a plain poll()) waits on one descriptor for any number of
** transfers, and azrp_http_step() then acts only on the sockets epoll
** reports ready -- nothing here ever waits, except azrp_http_wait().
**
** Ownership: an azrp_http owns its multi handle, a share handle, a
** template easy handle, the epoll descriptor and every transfer started
** on it (a list), so azrp_http_free() can release everything even when the
** caller forgot transfers.  A transfer owns its easy handle and header
** list only while it runs: both are released the moment it finishes, so a
** finished transfer waiting for the garbage collector costs just its
** buffers and holds no socket.
*/
/* clock_gettime and CLOCK_MONOTONIC, also under a strict -std=c99 */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>

#include "http.h"
#include "util.h"

#if LIBCURL_VERSION_NUM < 0x071e00
#error "azrp needs libcurl 7.30.0 or newer (CURLMOPT_MAX_HOST_CONNECTIONS)"
#endif

#define AZRP_HTTP_UA              "azrp/0.1"
#define DEF_CONNECT_TIMEOUT_MS    10000L
#define DEF_TIMEOUT_MS            120000L
#define DEF_MAX_HOST_CONNECTIONS  AZRP_HTTP_MAX_CONNECTIONS
/* ARM's answers are JSON of a few KiB: a small read buffer, which every
   transfer holds from its start, also while it waits for a connection.
   Ranged reads of blob data get libcurl's default (CURL_MAX_WRITE_SIZE). */
#define ARM_BUFFER_SIZE           4096L
/* Azure's load balancers drop idle flows after 4 minutes; probing every
   minute keeps a pooled connection alive well inside that */
#define KEEPALIVE_SECONDS         60L
/* events one step takes from epoll; level-triggered, so sockets beyond
   this stay ready and the descriptor stays readable for the next step */
#define STEP_EVENTS               256


/* One transfer: the public part first, so the two pointers coincide. */
typedef struct xfer {
  azrp_xfer pub;
  azrp_http *h;
  CURL *easy;                  /* NULL once finished */
  struct curl_slist *hdrs;     /* request headers; NULL once finished */
  struct xfer *prev, *next;    /* every transfer not yet freed */
  struct xfer *qprev, *qnext;  /* the done queue, while queued */
  int queued;
  int oom;                     /* a callback ran out of memory */
} xfer;

struct azrp_http {
  CURLM *multi;
  CURLSH *share;
  CURL *tmpl;          /* the options every transfer shares, duplicated */
  int epfd;            /* the sockets libcurl asked us to watch */
  int has_deadline;    /* libcurl's timer is armed */
  int64_t deadline;    /* when, in CLOCK_MONOTONIC nanoseconds */
  int running;         /* started and not yet finished */
  xfer *all;           /* every transfer not yet freed */
  xfer *qhead, *qtail; /* finished, not yet returned by azrp_http_done */
};


#if defined(__GNUC__)
static void set_error (char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
#endif

/* A message for the caller, who may pass no buffer. */
static void set_error (char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}


static int64_t now_ns (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


/*
** {======================================================
** libcurl's callbacks
** =======================================================
*/

/*
** libcurl wants socket s watched for what (or no longer watched).  No
** per-socket state of ours exists: the interest travels in the epoll entry
** itself (fd in the low half of data.u64, what in the high half), so
** step() can tell which direction an error or hang-up concerns.
*/
static int on_socket (CURL *e, curl_socket_t s, int what, void *ud,
                      void *sockp) {
  azrp_http *h = (azrp_http *)ud;
  struct epoll_event ev;
  if (what == CURL_POLL_REMOVE || what == CURL_POLL_NONE) {
    /* errors ignored: libcurl may already have closed s, which took it out
       of the set by itself */
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  memset(&ev, 0, sizeof(ev));
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
              ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.u64 = (uint64_t)(uint32_t)s | ((uint64_t)(uint32_t)what << 32);
  /* MOD first: a socket usually changes interest more often than it is
     new; ENOENT means new (or closed and its number reused) */
  if (epoll_ctl(h->epfd, EPOLL_CTL_MOD, s, &ev) == 0)
    return 0;
  if (errno == ENOENT && epoll_ctl(h->epfd, EPOLL_CTL_ADD, s, &ev) == 0)
    return 0;
  return -1;  /* libcurl fails the transfers on this socket */
}


/*
** libcurl's single timer: ms < 0 disarms it, 0 means "as soon as you
** can".  Only recorded; libcurl forbids acting on it from here.
*/
static int on_timer (CURLM *m, long ms, void *ud) {
  azrp_http *h = (azrp_http *)ud;
  if (ms < 0)
    h->has_deadline = 0;
  else {
    h->has_deadline = 1;
    h->deadline = now_ns() + (int64_t)ms * 1000000;
  }
  return 0;
}


/* Body bytes; returning less than given makes libcurl abort the transfer. */
static size_t on_write (char *p, size_t size, size_t n, void *ud) {
  xfer *x = (xfer *)ud;
  size_t len = size * n;
  if (azrp_buf_append(&x->pub.body, p, len) != 0) {
    x->oom = 1;
    return 0;
  }
  return len;
}


/*
** Header lines, one per call, of every response libcurl reads: interim
** ones (100 Continue, a proxy's CONNECT answer) and, if we followed them,
** redirects.  A status line starts a new response, so it clears what an
** earlier one left: only the final response's headers remain.  The status
** line and the blank line ending the block are not kept.
*/
static size_t on_header (char *p, size_t size, size_t n, void *ud) {
  xfer *x = (xfer *)ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
    azrp_buf_reset(&x->pub.headers);
  else if (!(len <= 2 && (p[0] == '\r' || p[0] == '\n'))) {
    if (azrp_buf_append(&x->pub.headers, p, len) != 0) {
      x->oom = 1;
      return 0;
    }
  }
  return len;
}

/* }====================================================== */


/*
** {======================================================
** Handle
** =======================================================
*/

/*
** curl_global_init is not thread-safe before libcurl 7.84 and must run
** before any other libcurl call.  It is process-wide by nature, so this is
** the one mutable global: a flag so that every azrp_http_new (one per Lua
** client, perhaps in several lua_States) does not repeat it.  Two threads
** racing here on an old libcurl is the host's to prevent, as libcurl
** documents; AZRP_NO_CURL_INIT lets a host that initialises libcurl itself
** opt out.  curl_global_cleanup is never called: other code in the process
** may still use libcurl.
*/
static int curl_ready = 0;

static int global_init (char *err, size_t errlen) {
  CURLcode rc;
  if (curl_ready)
    return 0;
  if (getenv("AZRP_NO_CURL_INIT") == NULL) {
    rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
      set_error(err, errlen, "cannot initialise libcurl: %s",
                curl_easy_strerror(rc));
      return -1;
    }
  }
  curl_ready = 1;
  return 0;
}


/* Sets one option unless an earlier one failed, naming the failure. */
#define SETOPT(rc, what, e, opt, v) \
  do { if ((rc) == CURLE_OK && \
           ((rc) = curl_easy_setopt((e), opt, (v))) != CURLE_OK) \
         (what) = #opt; } while (0)


/*
** The options every transfer shares, set once on a template that
** azrp_xfer_start duplicates.  libcurl copies strings it is given, so the
** caller's option strings need not outlive this call, and a bad option
** fails here, at client creation, rather than on the first request.
*/
static CURL *make_template (const azrp_http_opts *o, char *err,
                            size_t errlen) {
  CURLcode rc = CURLE_OK;
  const char *what = "curl_easy_init";
  int verify = o == NULL || !o->insecure_skip_tls_verify;
  long cto = (o != NULL && o->connect_timeout_ms > 0) ?
             o->connect_timeout_ms : DEF_CONNECT_TIMEOUT_MS;
  long to = (o != NULL && o->timeout_ms > 0) ? o->timeout_ms : DEF_TIMEOUT_MS;
  const char *ua = (o != NULL && o->user_agent != NULL) ?
                   o->user_agent : AZRP_HTTP_UA;
  CURL *e = curl_easy_init();
  if (e == NULL) {
    set_error(err, errlen, "cannot create a curl handle (out of memory)");
    return NULL;
  }
  /* no signals: we may run in a host (nginx, Neovim) with its own handlers */
  SETOPT(rc, what, e, CURLOPT_NOSIGNAL, 1L);
  /* Only HTTP(S), and never a redirect: ARM does not redirect, and
     following one would send the Authorization header elsewhere */
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(rc, what, e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SETOPT(rc, what, e, CURLOPT_PROTOCOLS,
         (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SETOPT(rc, what, e, CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(rc, what, e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  SETOPT(rc, what, e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (o != NULL && o->ca_file != NULL)
    SETOPT(rc, what, e, CURLOPT_CAINFO, o->ca_file);
  if (o != NULL && o->ca_path != NULL)
    SETOPT(rc, what, e, CURLOPT_CAPATH, o->ca_path);
  SETOPT(rc, what, e, CURLOPT_CONNECTTIMEOUT_MS, cto);
  SETOPT(rc, what, e, CURLOPT_TIMEOUT_MS, to);
  /* unset, libcurl itself reads http(s)_proxy and no_proxy */
  if (o != NULL && o->proxy != NULL)
    SETOPT(rc, what, e, CURLOPT_PROXY, o->proxy);
  if (o != NULL && o->no_proxy != NULL)
    SETOPT(rc, what, e, CURLOPT_NOPROXY, o->no_proxy);
  SETOPT(rc, what, e, CURLOPT_USERAGENT, ua);
  SETOPT(rc, what, e, CURLOPT_ACCEPT_ENCODING, "");  /* all it can decode */
  SETOPT(rc, what, e, CURLOPT_TCP_KEEPALIVE, 1L);
  SETOPT(rc, what, e, CURLOPT_TCP_KEEPIDLE, KEEPALIVE_SECONDS);
  SETOPT(rc, what, e, CURLOPT_TCP_KEEPINTVL, KEEPALIVE_SECONDS);
#if LIBCURL_VERSION_NUM >= 0x073600
  SETOPT(rc, what, e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
#endif
  SETOPT(rc, what, e, CURLOPT_WRITEFUNCTION, on_write);
  SETOPT(rc, what, e, CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(rc, what, e, CURLOPT_BUFFERSIZE, ARM_BUFFER_SIZE);
  if (rc != CURLE_OK) {
    set_error(err, errlen, "cannot set %s: %s", what, curl_easy_strerror(rc));
    curl_easy_cleanup(e);
    return NULL;
  }
  return e;
}


/*
** Sharing DNS answers, TLS sessions and connections across the transfers
** of one client is what makes a burst of requests cheap: one handshake per
** connection, and connections return to the pool when a transfer ends.
** Everything runs in the thread that owns the client, so no locks.
*/
static CURLSH *make_share (char *err, size_t errlen) {
  CURLSHcode sc;
  CURLSH *sh = curl_share_init();
  if (sh == NULL) {
    set_error(err, errlen, "cannot create a curl share handle (out of memory)");
    return NULL;
  }
  sc = curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (sc == CURLSHE_OK)
    sc = curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
#if LIBCURL_VERSION_NUM >= 0x073900
  if (sc == CURLSHE_OK)
    sc = curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
#endif
  if (sc != CURLSHE_OK) {
    set_error(err, errlen, "cannot set up the curl share handle: %s",
              curl_share_strerror(sc));
    curl_share_cleanup(sh);
    return NULL;
  }
  return sh;
}


azrp_http *azrp_http_new (const azrp_http_opts *o, char *err, size_t errlen) {
  azrp_http *h;
  CURLMcode mc = CURLM_OK;
  long maxhost = (o != NULL && o->max_host_connections > 0) ?
                 o->max_host_connections : DEF_MAX_HOST_CONNECTIONS;
  if (global_init(err, errlen) != 0)
    return NULL;
  h = (azrp_http *)calloc(1, sizeof(*h));
  if (h == NULL) {
    set_error(err, errlen, "out of memory");
    return NULL;
  }
  h->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (h->epfd < 0) {
    set_error(err, errlen, "cannot create an epoll descriptor: %s",
              strerror(errno));
    free(h);
    return NULL;
  }
  /* partial set-ups are undone by azrp_http_free, which copes with NULLs */
  h->tmpl = make_template(o, err, errlen);
  if (h->tmpl == NULL)
    goto fail;
  h->share = make_share(err, errlen);
  if (h->share == NULL)
    goto fail;
  h->multi = curl_multi_init();
  if (h->multi == NULL) {
    set_error(err, errlen, "cannot create a curl multi handle (out of memory)");
    goto fail;
  }
  mc = curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, (void *)h);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, (void *)h);
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxhost);
  /* the pool keeps as many idle connections as may run to one host, so a
     second burst finds the first burst's connections (libcurl's default,
     four per transfer still added, shrinks to four as a burst drains) */
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, maxhost);
  if (mc != CURLM_OK) {
    set_error(err, errlen, "cannot set up the curl multi handle: %s",
              curl_multi_strerror(mc));
    goto fail;
  }
  return h;
fail:
  azrp_http_free(h);
  return NULL;
}


/* Takes x out of the done queue. */
static void dequeue (azrp_http *h, xfer *x) {
  if (x->qprev != NULL)
    x->qprev->qnext = x->qnext;
  else
    h->qhead = x->qnext;
  if (x->qnext != NULL)
    x->qnext->qprev = x->qprev;
  else
    h->qtail = x->qprev;
  x->qprev = x->qnext = NULL;
  x->queued = 0;
}


/*
** The request headers carry the bearer token: our copies are zeroed before
** they go back to malloc, so a later heap dump or reuse cannot show them.
** (libcurl's own request buffer is beyond our reach.)
*/
static void wipe_headers (struct curl_slist *l) {
  for (; l != NULL; l = l->next)
    memset(l->data, 0, strlen(l->data));
}


/* Releases what libcurl holds for x: its easy handle and header list. */
static void release_easy (azrp_http *h, xfer *x) {
  if (x->easy != NULL) {
    /* a running transfer leaves the multi handle first, which closes its
       connection if it was mid-response; a finished one already left */
    if (!x->pub.done) {
      curl_multi_remove_handle(h->multi, x->easy);
      h->running--;
    }
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
  }
  wipe_headers(x->hdrs);
  curl_slist_free_all(x->hdrs);
  x->hdrs = NULL;
}


void azrp_xfer_free (azrp_http *h, azrp_xfer *px) {
  xfer *x;
  if (h == NULL || px == NULL)
    return;
  x = (xfer *)px->priv;
  h = x->h;  /* the handle it was started on, whatever the caller passed */
  release_easy(h, x);
  if (x->queued)
    dequeue(h, x);
  if (x->prev != NULL)
    x->prev->next = x->next;
  else
    h->all = x->next;
  if (x->next != NULL)
    x->next->prev = x->prev;
  azrp_buf_free(&x->pub.body);
  azrp_buf_free(&x->pub.headers);
  free(x);
}


void azrp_http_free (azrp_http *h) {
  if (h == NULL)
    return;
  while (h->all != NULL)
    azrp_xfer_free(h, &h->all->pub);
  /* the order matters: the multi handle's cleanup may still report
     sockets to on_socket (so the epoll descriptor must be open), and a
     share handle cannot go while an easy handle uses it */
  if (h->multi != NULL)
    curl_multi_cleanup(h->multi);
  if (h->share != NULL)
    curl_share_cleanup(h->share);
  if (h->tmpl != NULL)
    curl_easy_cleanup(h->tmpl);
  if (h->epfd >= 0)
    close(h->epfd);
  free(h);
}

/* }====================================================== */


/*
** {======================================================
** Transfers
** =======================================================
*/

/* ASCII case-insensitive equality of n bytes, whatever the C locale. */
static int same_name (const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
    if (ca >= 'A' && ca <= 'Z') ca = (unsigned char)(ca - 'A' + 'a');
    if (cb >= 'A' && cb <= 'Z') cb = (unsigned char)(cb - 'A' + 'a');
    if (ca != cb)
      return 0;
  }
  return 1;
}


/* Whether the caller's header list names header 'name' (lower case). */
static int has_header (const char *const *headers, const char *name) {
  size_t n = strlen(name);
  if (headers == NULL)
    return 0;
  for (; *headers != NULL; headers++) {
    if (strlen(*headers) > n && (*headers)[n] == ':' &&
        same_name(*headers, name, n))
      return 1;
  }
  return 0;
}


/*
** The request headers as libcurl wants them.  Two are added: an empty
** "Expect:" stops libcurl from sending "Expect: 100-continue" and waiting
** for the interim answer before a large body; an empty "Content-Type:"
** stops it from labelling a body application/x-www-form-urlencoded when
** the caller gave no type.  Either only when the caller did not set it.
*/
static int build_headers (xfer *x, const char *const *headers, int body) {
  struct curl_slist *l;
  if (headers != NULL) {
    for (; *headers != NULL; headers++) {
      l = curl_slist_append(x->hdrs, *headers);
      if (l == NULL)
        return -1;  /* x->hdrs is intact and freed with x */
      x->hdrs = l;
    }
  }
  if (!has_header(headers, "expect")) {
    if ((l = curl_slist_append(x->hdrs, "Expect:")) == NULL)
      return -1;
    x->hdrs = l;
  }
  if (body && !has_header(headers, "content-type")) {
    if ((l = curl_slist_append(x->hdrs, "Content-Type:")) == NULL)
      return -1;
    x->hdrs = l;
  }
  return 0;
}


/*
** The method.  GET and HEAD use libcurl's own modes (HEAD must, or libcurl
** waits for a body that never comes); anything with a body goes through
** the POST machinery (which sends Content-Length, 0 for an empty body)
** with the verb replaced.  POST, PUT and PATCH always send a body, if an
** empty one: ARM and proxies answer 411 to a PUT without Content-Length.
*/
static CURLcode set_method (xfer *x, const char *method, int sends,
                            const char *body, size_t bodylen,
                            const char **what) {
  CURLcode rc = CURLE_OK;
  CURL *e = x->easy;
  if (strcmp(method, "HEAD") == 0)
    SETOPT(rc, *what, e, CURLOPT_NOBODY, 1L);
  else if (strcmp(method, "GET") == 0 && !sends)
    SETOPT(rc, *what, e, CURLOPT_HTTPGET, 1L);
  else {
    if (sends) {
      /* the size first: COPYPOSTFIELDS copies that many bytes */
      SETOPT(rc, *what, e, CURLOPT_POSTFIELDSIZE_LARGE,
             (curl_off_t)(body != NULL ? bodylen : 0));
      SETOPT(rc, *what, e, CURLOPT_COPYPOSTFIELDS, body != NULL ? body : "");
    }
    if (strcmp(method, "POST") != 0)
      SETOPT(rc, *what, e, CURLOPT_CUSTOMREQUEST, method);
  }
  return rc;
}


/* Whether the request asks for a byte range (Range, x-ms-range): a read of
** blob data, megabytes, not an ARM answer. */
static int ranged (const char *const *headers) {
  for (; headers != NULL && *headers != NULL; headers++) {
    if (strncasecmp(*headers, "range:", 6) == 0 ||
        strncasecmp(*headers, "x-ms-range:", 11) == 0)
      return 1;
  }
  return 0;
}


#if LIBCURL_VERSION_NUM >= 0x075000
/* libcurl has a connection and is about to send the request: the moment
** it goes on the wire, which may be long after the transfer started (it
** waits for one of max_host_connections).  The client's throttle needs
** it to tell which of its requests the server had seen (client.c). */
static int prereq (void *clientp, char *primary_ip, char *local_ip, int primary_port,
                   int local_port) {
  xfer *x = (xfer *)clientp;
  (void)primary_ip; (void)local_ip; (void)primary_port; (void)local_port;
  x->pub.wire = azrp_now();
  return CURL_PREREQFUNC_OK;
}
#endif


azrp_xfer *azrp_xfer_start (azrp_http *h, const char *method, const char *url,
                            const char *const *headers, const char *body,
                            size_t bodylen, long timeout_ms, int fresh, void *owner,
                            char *err, size_t errlen) {
  CURLcode rc = CURLE_OK;
  CURLMcode mc;
  const char *what = "curl_easy_duphandle";
  int sends;
  xfer *x = (xfer *)calloc(1, sizeof(*x));
  if (x == NULL) {
    set_error(err, errlen, "out of memory");
    return NULL;
  }
  x->pub.owner = owner;
  x->pub.priv = x;
  x->pub.result = CURLE_OK;
  x->h = h;
  /* whether a body goes out; HEAD never sends one */
  sends = strcmp(method, "HEAD") != 0 &&
          (body != NULL || strcmp(method, "POST") == 0 ||
           strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0);
  x->easy = curl_easy_duphandle(h->tmpl);
  if (x->easy == NULL) {
    set_error(err, errlen, "cannot create a curl handle (out of memory)");
    goto fail;
  }
  if (build_headers(x, headers, sends) != 0) {
    set_error(err, errlen, "out of memory building the request headers");
    goto fail;
  }
  rc = set_method(x, method, sends, body, bodylen, &what);
  SETOPT(rc, what, x->easy, CURLOPT_URL, url);
  SETOPT(rc, what, x->easy, CURLOPT_HTTPHEADER, x->hdrs);
  SETOPT(rc, what, x->easy, CURLOPT_ERRORBUFFER, x->pub.error);
  SETOPT(rc, what, x->easy, CURLOPT_PRIVATE, (void *)x);
  SETOPT(rc, what, x->easy, CURLOPT_WRITEDATA, (void *)x);
  SETOPT(rc, what, x->easy, CURLOPT_HEADERDATA, (void *)x);
#if LIBCURL_VERSION_NUM >= 0x075000
  SETOPT(rc, what, x->easy, CURLOPT_PREREQFUNCTION, prereq);
  SETOPT(rc, what, x->easy, CURLOPT_PREREQDATA, (void *)x);
#endif
  /* not inherited from the template: curl_easy_duphandle drops the share */
  SETOPT(rc, what, x->easy, CURLOPT_SHARE, h->share);
  if (timeout_ms > 0)
    SETOPT(rc, what, x->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  if (fresh)
    SETOPT(rc, what, x->easy, CURLOPT_FRESH_CONNECT, 1L);
  if (ranged(headers))
    SETOPT(rc, what, x->easy, CURLOPT_BUFFERSIZE, (long)CURL_MAX_WRITE_SIZE);
  if (rc != CURLE_OK) {
    set_error(err, errlen, "cannot set %s: %s", what, curl_easy_strerror(rc));
    goto fail;
  }
  /* adding arms the timer (due at once); the next step starts the work */
  mc = curl_multi_add_handle(h->multi, x->easy);
  if (mc != CURLM_OK) {
    set_error(err, errlen, "cannot start the transfer: %s",
              curl_multi_strerror(mc));
    goto fail;
  }
  h->running++;
  x->next = h->all;
  if (h->all != NULL)
    h->all->prev = x;
  h->all = x;
  return &x->pub;
fail:
  /* not added to the multi handle: only the handle and the list to free */
  if (x->easy != NULL)
    curl_easy_cleanup(x->easy);
  wipe_headers(x->hdrs);
  curl_slist_free_all(x->hdrs);
  free(x);
  return NULL;
}


/*
** A transfer libcurl reports done: its results are read, its easy handle
** released (the connection goes back to the pool) and it joins the done
** queue.  The message libcurl gave must not be touched after removal, so
** the caller passes its contents, not the message.
*/
static void finish (azrp_http *h, xfer *x, CURLcode result) {
  long status = 0, connects = 0;
  double seconds = 0, pre = 0, first = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &seconds);
  /* both from the transfer's start; their difference is the request's
     round trip to the first byte of the answer */
  curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME, &pre);
  curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME, &first);
  x->pub.first_byte = first > pre ? first - pre : 0;
  curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
  x->pub.status = status;
  x->pub.seconds = seconds;
  x->pub.connects = connects;
  if (x->oom) {  /* more telling than libcurl's "failed writing" */
    result = CURLE_OUT_OF_MEMORY;
    snprintf(x->pub.error, sizeof(x->pub.error),
             "out of memory collecting the response");
  }
  else if (result == CURLE_OK)
    x->pub.error[0] = '\0';
  else if (x->pub.error[0] == '\0')
    snprintf(x->pub.error, sizeof(x->pub.error), "%s",
             curl_easy_strerror(result));
  x->pub.result = result;
  curl_multi_remove_handle(h->multi, x->easy);
  x->pub.done = 1;
  h->running--;
  release_easy(h, x);
  x->queued = 1;
  x->qprev = h->qtail;
  x->qnext = NULL;
  if (h->qtail != NULL)
    h->qtail->qnext = x;
  else
    h->qhead = x;
  h->qtail = x;
}


/* Moves every transfer libcurl has finished into the done queue. */
static void collect (azrp_http *h) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
    if (m->msg == CURLMSG_DONE) {
      char *p = NULL;
      CURL *e = m->easy_handle;
      CURLcode result = m->data.result;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
      if (p != NULL)
        finish(h, (xfer *)p, result);
    }
  }
}


static int timer_due (azrp_http *h) {
  return h->has_deadline && now_ns() >= h->deadline;
}


/*
** One non-blocking round: ask epoll (timeout 0) which watched sockets are
** ready and tell libcurl about each, then fire libcurl's timer if due.
** An error or hang-up is passed on as the direction the socket was
** watched for, not as CURL_CSELECT_ERR: given that bit alone, libcurl
** fails the transfer with a generic "select/poll returned error"
** (CURLE_SEND_ERROR), whereas a recv/send of its own reports the precise
** cause (connection reset, refused, empty reply).
*/
int azrp_http_step (azrp_http *h) {
  struct epoll_event ev[STEP_EVENTS];
  CURLMcode mc = CURLM_OK;
  int n, i, still;
  n = epoll_wait(h->epfd, ev, STEP_EVENTS, 0);
  if (n < 0) {
    if (errno != EINTR)
      return -1;
    n = 0;
  }
  for (i = 0; i < n && mc == CURLM_OK; i++) {
    curl_socket_t s = (curl_socket_t)(uint32_t)(ev[i].data.u64 & 0xffffffffu);
    int what = (int)(ev[i].data.u64 >> 32);
    int bits = 0;
    if (ev[i].events & EPOLLIN)
      bits |= CURL_CSELECT_IN;
    if (ev[i].events & EPOLLOUT)
      bits |= CURL_CSELECT_OUT;
    if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
      if (what & CURL_POLL_IN)
        bits |= CURL_CSELECT_IN;
      if (what & CURL_POLL_OUT)
        bits |= CURL_CSELECT_OUT;
    }
    /* an earlier action may have closed s; libcurl ignores unknown sockets */
    mc = curl_multi_socket_action(h->multi, s, bits, &still);
  }
  if (mc == CURLM_OK && timer_due(h)) {
    /* disarmed first: libcurl re-arms it from inside the call */
    h->has_deadline = 0;
    mc = curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &still);
  }
  collect(h);  /* even after an error: what finished is still reported */
  return mc == CURLM_OK ? h->running : -1;
}


azrp_xfer *azrp_http_done (azrp_http *h) {
  xfer *x = h->qhead;
  if (x == NULL)
    return NULL;
  dequeue(h, x);
  return &x->pub;
}


long azrp_http_timeout (azrp_http *h) {
  int64_t left;
  if (!h->has_deadline)
    return -1;
  left = h->deadline - now_ns();
  if (left <= 0)
    return 0;
  /* rounded up: a caller sleeping this long wakes past the deadline,
     not just before it to find nothing due and spin */
  left = (left + 999999) / 1000000;
  return left > LONG_MAX ? LONG_MAX : (long)left;
}


int azrp_http_pollfd (azrp_http *h) {
  return h->epfd;
}


/*
** Sleeps until a watched socket is ready, libcurl's timer is due or max_ms
** passed (max_ms < 0: no limit of the caller's).  With nothing running
** and no limit nothing could ever wake us, so it returns at once; with a
** limit it sleeps, which a caller honouring Retry-After may want.
*/
int azrp_http_wait (azrp_http *h, long max_ms) {
  struct epoll_event ev;
  long t = azrp_http_timeout(h);
  if (t >= 0 && (max_ms < 0 || t < max_ms))
    max_ms = t;
  if (max_ms < 0 && h->running == 0)
    return 0;
  if (max_ms > INT_MAX)
    max_ms = INT_MAX;
  if (epoll_wait(h->epfd, &ev, 1, (int)max_ms) < 0 && errno != EINTR)
    return -1;
  return 0;
}


int azrp_http_running (azrp_http *h) {
  return h->running;
}


static int is_space (char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/*
** Header lines are "Name: value\r\n" as received.  The first line whose
** name matches wins (ARM sends each header it uses once); whitespace
** around the value, and around the name before the colon, is ignored.
*/
const char *azrp_xfer_header (const azrp_xfer *x, const char *name,
                              size_t *len) {
  const char *p, *end;
  size_t nlen = strlen(name);
  if (x->headers.data == NULL || x->headers.len == 0)
    return NULL;
  p = x->headers.data;
  end = p + x->headers.len;
  while (p < end) {
    const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
    const char *next = eol != NULL ? eol + 1 : end;
    const char *colon, *ne;
    if (eol == NULL)
      eol = end;
    colon = (const char *)memchr(p, ':', (size_t)(eol - p));
    if (colon != NULL) {
      ne = colon;
      while (ne > p && is_space(ne[-1]))
        ne--;
      if ((size_t)(ne - p) == nlen && same_name(p, name, nlen)) {
        const char *v = colon + 1, *ve = eol;
        while (v < ve && is_space(*v))
          v++;
        while (ve > v && is_space(ve[-1]))
          ve--;
        if (len != NULL)
          *len = (size_t)(ve - v);
        return v;
      }
    }
    p = next;
  }
  return NULL;
}

/* }====================================================== */
