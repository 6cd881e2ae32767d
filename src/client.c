/*
** azrp.Client: one connection pool (a libcurl multi handle), its settings,
** a bearer token slot, a client-side throttle, and the operations in
** flight.  step() drives them all without blocking; pollfd(), events()
** and timeout() let any event loop (cqueues, luv, a plain poll) decide when
** to call it; wait() blocks for plain scripts.
**
** Tokens come from Lua: when an operation needs one (none yet, expired, or
** rejected with 401), token_wanted() turns true and the operation waits
** in need_token state until set_token() provides it.  The credential code
** that fetches tokens is itself made of non-blocking operations on this
** same client, so nothing here ever calls back into Lua.
*/
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "engine.h"
#include "error.h"
#include "json.h"
#include "throttle.h"
#include "util.h"

struct azrp_client {
  azrp_http *http;            /* NULL once closed */
  char *endpoint;             /* ARM base URL, no trailing slash */
  char *subscription;         /* default subscriptionId */
  char *api_versions[8];      /* per-provider overrides, index as azrp_providers */
  char *token;                /* bearer token; never printed */
  double token_expires;       /* wall clock; 0 = does not expire */
  double refresh_margin;      /* ask for a new token this long before expiry */
  int token_wanted;           /* an operation needs a (new) token */
  int token_rejected;         /* the server refused the last one (401): bypass caches */
  int allow_http;             /* tokens may go to http:// loopback URLs */
  int insecure;               /* insecure_skip_tls_verify: secrets go to loopback only */
  int max_attempts;           /* tries per request, first included */
  double base_delay, max_delay, max_retry_after;
  double poll_default, poll_min, poll_max;
  double op_timeout;          /* default total time of an operation; 0 = none */
  int throttle;               /* the client-side token bucket is on */
  azrp_bucket buckets[AZRP_NKINDS];
  uint64_t rng;               /* jitter */
  azrp_op *head;              /* operations in flight, newest first */
  int nactive;
  long requests;              /* HTTP requests sent, for stats */
  long retries;
  long throttled_waits;
};

azrp_client *azrp_client_check (lua_State *L, int idx) {
  azrp_client *c = (azrp_client *)luaL_checkudata(L, idx, AZRP_CLIENT_MT);
  if (c->http == NULL) luaL_error(L, "attempt to use a closed azrp.Client");
  return c;
}

/* Overwrites the token before freeing it: it must not linger in freed memory. */
static void token_clear (azrp_client *c) {
  if (c->token) { memset(c->token, 0, strlen(c->token)); free(c->token); c->token = NULL; }
}

/*
** {==================================================================
** What operations (operation.c) and client:begin (request.c) need of
** their client, each a function so that the fields stay here
** ===================================================================
*/

azrp_http *azrp_client_http (azrp_client *c) {
  return c->http;
}

void azrp_client_link (azrp_client *c, azrp_op *op) {
  azrp_oplink *l = azrp_op_link(op);
  l->next = c->head;
  if (c->head) azrp_op_link(c->head)->prev = op;
  c->head = op;
  c->nactive++;
}

void azrp_client_unlink (azrp_client *c, azrp_op *op) {
  azrp_oplink *l = azrp_op_link(op);
  if (l->prev) azrp_op_link(l->prev)->next = l->next;
  else if (c->head == op) c->head = l->next;
  if (l->next) azrp_op_link(l->next)->prev = l->prev;
  l->prev = l->next = NULL;
  c->nactive--;
}

const char *azrp_client_endpoint (azrp_client *c) {
  return c->endpoint;
}

const char *azrp_client_subscription (azrp_client *c) {
  return c->subscription;
}

const char *azrp_client_api_version (azrp_client *c, const char *provider) {
  int i;
  for (i = 0; azrp_providers[i].name != NULL && i < 8; i++)
    if (strcmp(azrp_providers[i].name, provider) == 0)
      return c->api_versions[i] ? c->api_versions[i] : azrp_providers[i].api_version;
  return NULL;
}

double azrp_client_op_timeout (azrp_client *c) {
  return c->op_timeout;
}

const char *azrp_client_url_problem (azrp_client *c, const char *url, int secret) {
  return azrp_url_problem(url, secret, c->allow_http, c->insecure);
}

const char *azrp_client_token (azrp_client *c) {
  if (c->token == NULL || (c->token_expires > 0 && azrp_wall() >= c->token_expires)) {
    c->token_wanted = 1;
    return NULL;
  }
  if (c->token_expires > 0 && azrp_wall() >= c->token_expires - c->refresh_margin)
    c->token_wanted = 1;   /* still valid: send, and let the script renew it */
  return c->token;
}

void azrp_client_token_rejected (azrp_client *c) {
  token_clear(c);
  c->token_wanted = 1;
  c->token_rejected = 1;
}

int azrp_client_take (azrp_client *c, int kind, double now, double *wait, int *held) {
  *held = -1;
  if (!c->throttle || kind < 0 || kind >= AZRP_NKINDS) return 1;
  if (azrp_bucket_take(&c->buckets[kind], now, wait)) {
    *held = kind;
    return 1;
  }
  c->throttled_waits++;
  return 0;
}

void azrp_client_answered (azrp_client *c, int held) {
  if (held >= 0 && held < AZRP_NKINDS) azrp_bucket_answered(&c->buckets[held]);
}

/* Our requests of a kind not yet answered that went on the wire after
   a moment, or have not yet. */
typedef struct later_ud { azrp_client *c; int kind; double after; } later_ud;

static int sent_later (void *ud) {
  const later_ud *l = (const later_ud *)ud;
  azrp_op *op;
  int n = 0;
  for (op = l->c->head; op; op = azrp_op_link(op)->next) {
    double sent;
    if (azrp_op_held(op, &sent) == l->kind && sent > l->after) n++;
  }
  return n;
}

/*
** ARM says how many requests of each kind are left; when it counts fewer
** than our bucket holds (other clients share the subscription), our
** bucket comes down to it, so that the fleet slows before a 429.
*/
void azrp_client_ratelimit (azrp_client *c, const azrp_xfer *x, double sent) {
  static const char *const names[AZRP_NKINDS] = {
    "x-ms-ratelimit-remaining-subscription-reads",
    "x-ms-ratelimit-remaining-subscription-writes",
    "x-ms-ratelimit-remaining-subscription-deletes"
  };
  int k;
  if (!c->throttle) return;
  for (k = 0; k < AZRP_NKINDS; k++) {
    size_t len = 0;
    const char *v = azrp_xfer_header(x, names[k], &len);
    if (v != NULL && len > 0 && len < 16) {
      char tmp[16];
      double left;
      memcpy(tmp, v, len);
      tmp[len] = '\0';
      left = atof(tmp);
      if (left >= 0) {
        azrp_bucket *b = &c->buckets[k];
        double now = azrp_now();
        /* The server counted left when the request reached it: half the
           round trip from the request on the wire to the answer's first
           byte (libcurl's times leave out the wait for a connection, the
           body and our own delay in reading it), else half the whole.
           Ours that went on the wire after that, or have not yet, will
           each take one more.  (Those sent with it in one burst are
           counted in left or not, in any order: not subtracted, or a
           burst of hundreds would wait for nothing.)  The operations
           are walked only when those in flight could matter. */
        later_ud l;
        l.c = c;
        l.kind = k;
        l.after = x->wire > 0 ? x->wire + (x->first_byte > 0 ? x->first_byte : now - x->wire) / 2
                              : sent + (now - sent) / 2;
        azrp_bucket_heard(b, left, now, sent_later, &l);
      }
    }
  }
}

int azrp_client_max_attempts (azrp_client *c) {
  return c->max_attempts;
}

double azrp_client_max_retry_after (azrp_client *c) {
  return c->max_retry_after;
}

/* A multiplier in [0.8, 1.3), as the Go SDK jitters its backoff. */
static double jitter (azrp_client *c) {
  uint64_t x = c->rng;
  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
  c->rng = x;
  return 0.8 + 0.5 * (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

double azrp_client_backoff (azrp_client *c, int attempts) {
  int k = attempts - 1;
  double delay = c->base_delay * (double)(1u << (k > 16 ? 16 : k));
  if (delay > c->max_delay) delay = c->max_delay;
  return delay * jitter(c);
}

double azrp_client_poll_delay (azrp_client *c, double retry_after) {
  double d = retry_after;
  if (d < 0) d = c->poll_default;
  if (d < c->poll_min) d = c->poll_min;
  if (d > c->poll_max) d = c->poll_max;
  return d;
}

void azrp_client_note_request (azrp_client *c) {
  c->requests++;
}

void azrp_client_note_retry (azrp_client *c) {
  c->retries++;
}
/* }================================================================== */

/*
** {==================================================================
** Options
** ===================================================================
*/

static const char *const client_options[] = {
  "endpoint", "subscription_id", "ca_file", "ca_path", "insecure_skip_tls_verify", "timeout",
  "connect_timeout", "proxy", "no_proxy", "user_agent", "allow_http", "retry",
  "poll", "operation_timeout", "throttle", "api_versions", "max_connections",
  "refresh_margin", NULL
};

static void check_keys (lua_State *L, int idx, const char *const *known, const char *what) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int i, found = 0;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "%s: option names must be strings", what);
    for (i = 0; known[i]; i++)
      if (strcmp(known[i], lua_tostring(L, -2)) == 0) { found = 1; break; }
    if (!found) luaL_error(L, "%s: unknown option '%s'", what, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
}

/* t[k] as a string anchored in t, or def when nil; raises for another type or a NUL byte inside. */
static const char *opt_string (lua_State *L, int idx, const char *k, const char *def) {
  const char *s = def;
  size_t len;
  lua_getfield(L, idx, k);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option '%s' must be a string", k);
    s = lua_tolstring(L, -1, &len);
    if (strlen(s) != len) luaL_error(L, "option '%s' holds a NUL byte", k);
  }
  lua_pop(L, 1);
  return s;
}

static double opt_number (lua_State *L, int idx, const char *k, double def, double lo, double hi) {
  double v = def;
  lua_getfield(L, idx, k);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "option '%s' must be a number", k);
    v = lua_tonumber(L, -1);
    if (!(v >= lo && v <= hi)) luaL_error(L, "option '%s' must be from %f to %f", k, lo, hi);
  }
  lua_pop(L, 1);
  return v;
}

static int opt_bool (lua_State *L, int idx, const char *k, int def) {
  int v = def;
  lua_getfield(L, idx, k);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TBOOLEAN) luaL_error(L, "option '%s' must be a boolean", k);
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static char *dupstr (const char *s) {
  return s ? strdup(s) : NULL;
}

static void read_retry (lua_State *L, int opts, azrp_client *c) {
  static const char *const keys[] = {"max_attempts", "base_delay", "max_delay", "max_retry_after", NULL};
  lua_getfield(L, opts, "retry");
  if (!lua_isnil(L, -1)) {
    int t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    check_keys(L, t, keys, "retry");
    c->max_attempts = (int)opt_number(L, t, "max_attempts", c->max_attempts, 1, 100);
    c->base_delay = opt_number(L, t, "base_delay", c->base_delay, 0, 3600);
    c->max_delay = opt_number(L, t, "max_delay", c->max_delay, 0, 86400);
    c->max_retry_after = opt_number(L, t, "max_retry_after", c->max_retry_after, 0, 86400);
  }
  lua_pop(L, 1);
}

static void read_poll (lua_State *L, int opts, azrp_client *c) {
  static const char *const keys[] = {"default", "min", "max", NULL};
  lua_getfield(L, opts, "poll");
  if (!lua_isnil(L, -1)) {
    int t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    check_keys(L, t, keys, "poll");
    c->poll_default = opt_number(L, t, "default", c->poll_default, 0, 86400);
    c->poll_min = opt_number(L, t, "min", c->poll_min, 0, 86400);
    c->poll_max = opt_number(L, t, "max", c->poll_max, 0, 86400);
    if (c->poll_min > c->poll_max) luaL_error(L, "poll.min must not exceed poll.max");
  }
  lua_pop(L, 1);
}

static void read_throttle (lua_State *L, int opts, azrp_client *c) {
  static const char *const keys[] = {"read", "write", "delete", NULL};
  static const char *const kinds[] = {"read", "write", "delete"};
  static const char *const bucket_keys[] = {"size", "rate", NULL};
  int k;
  /* ARM's published per-subscription buckets. */
  c->buckets[AZRP_READ].size = 250; c->buckets[AZRP_READ].rate = 25;
  c->buckets[AZRP_WRITE].size = 200; c->buckets[AZRP_WRITE].rate = 10;
  c->buckets[AZRP_DELETE].size = 200; c->buckets[AZRP_DELETE].rate = 10;
  c->throttle = 1;
  lua_getfield(L, opts, "throttle");
  if (lua_type(L, -1) == LUA_TBOOLEAN) c->throttle = lua_toboolean(L, -1);
  else if (lua_type(L, -1) == LUA_TTABLE) {
    int t = lua_gettop(L);
    check_keys(L, t, keys, "throttle");
    for (k = 0; k < AZRP_NKINDS; k++) {
      lua_getfield(L, t, kinds[k]);
      if (!lua_isnil(L, -1)) {
        int b = lua_gettop(L);
        luaL_checktype(L, b, LUA_TTABLE);
        check_keys(L, b, bucket_keys, "throttle bucket");
        c->buckets[k].size = opt_number(L, b, "size", c->buckets[k].size, 1, 1e9);
        c->buckets[k].rate = opt_number(L, b, "rate", c->buckets[k].rate, 1e-6, 1e9);
      }
      lua_pop(L, 1);
    }
  }
  else if (!lua_isnil(L, -1)) luaL_error(L, "option 'throttle' must be false or a table");
  lua_pop(L, 1);
  for (k = 0; k < AZRP_NKINDS; k++)
    azrp_bucket_init(&c->buckets[k], c->buckets[k].size, c->buckets[k].rate, azrp_now());
}

static void read_api_versions (lua_State *L, int opts, azrp_client *c) {
  lua_getfield(L, opts, "api_versions");
  if (!lua_isnil(L, -1)) {
    int t = lua_gettop(L);
    luaL_checktype(L, t, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
      int i, found = -1;
      const char *v;
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "api_versions: keys are provider names");
      for (i = 0; azrp_providers[i].name && i < 8; i++)
        if (strcmp(azrp_providers[i].name, lua_tostring(L, -2)) == 0) found = i;
      if (found < 0) luaL_error(L, "api_versions: unknown provider '%s'", lua_tostring(L, -2));
      v = luaL_checkstring(L, -1);
      if (!azrp_api_version_ok(v)) luaL_error(L, "api_versions.%s: '%s' is not an api-version (YYYY-MM-DD)", lua_tostring(L, -2), v);
      if (strncmp(v, AZRP_MIN_API_VERSION, 10) < 0)
        luaL_error(L, "api_versions.%s: '%s' is older than %s, which azrp does not send", lua_tostring(L, -2), v, AZRP_MIN_API_VERSION);
      free(c->api_versions[found]);
      c->api_versions[found] = strdup(v);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static void client_free (azrp_client *c) {
  int i;
  if (c->http) azrp_http_free(c->http);
  c->http = NULL;
  free(c->endpoint); c->endpoint = NULL;
  free(c->subscription); c->subscription = NULL;
  token_clear(c);
  for (i = 0; i < 8; i++) { free(c->api_versions[i]); c->api_versions[i] = NULL; }
}

/* core.client(opts) -> client */
static int client_new (lua_State *L) {
  azrp_client *c;
  azrp_http_opts ho;
  char err[256];
  const char *endpoint;
  size_t n;
  luaL_checktype(L, 1, LUA_TTABLE);
  check_keys(L, 1, client_options, "azrp client");
  endpoint = opt_string(L, 1, "endpoint", NULL);
  if (endpoint == NULL) luaL_error(L, "azrp client: option 'endpoint' is required");
  {
    /* Tokens are checked again at each request; user-info is refused here. */
    const char *why = azrp_url_problem(endpoint, 0, 0, 0);
    if (why) luaL_error(L, "azrp client: option 'endpoint' %s", why);
    if (strchr(endpoint, '?') || strchr(endpoint, '#'))
      luaL_error(L, "azrp client: option 'endpoint' must not carry a query or fragment");
  }
  c = (azrp_client *)lua_newuserdatauv(L, sizeof(azrp_client), 1);
  memset(c, 0, sizeof *c);
  luaL_setmetatable(L, AZRP_CLIENT_MT);
  c->endpoint = strdup(endpoint);
  n = strlen(c->endpoint);
  while (n > 0 && c->endpoint[n - 1] == '/') c->endpoint[--n] = '\0';
  c->subscription = dupstr(opt_string(L, 1, "subscription_id", NULL));
  c->allow_http = opt_bool(L, 1, "allow_http", 0);
  c->refresh_margin = opt_number(L, 1, "refresh_margin", 300, 0, 86400);
  c->max_attempts = 4;       /* as the Python SDK: 3 retries */
  c->base_delay = 0.8;
  c->max_delay = 60;
  c->max_retry_after = 600;
  c->poll_default = 30;      /* Azure SDKs' ARM default when Retry-After is absent */
  c->poll_min = 0;
  c->poll_max = 600;
  read_retry(L, 1, c);
  read_poll(L, 1, c);
  read_throttle(L, 1, c);
  read_api_versions(L, 1, c);
  c->op_timeout = opt_number(L, 1, "operation_timeout", 0, 0, 1e9);
  memset(&ho, 0, sizeof ho);
  ho.ca_file = opt_string(L, 1, "ca_file", NULL);
  ho.ca_path = opt_string(L, 1, "ca_path", NULL);
  c->insecure = opt_bool(L, 1, "insecure_skip_tls_verify", 0);
  ho.insecure_skip_tls_verify = c->insecure;
  ho.timeout_ms = (long)(opt_number(L, 1, "timeout", 120, 0.001, 86400) * 1000);
  ho.connect_timeout_ms = (long)(opt_number(L, 1, "connect_timeout", 10, 0.001, 3600) * 1000);
  ho.proxy = opt_string(L, 1, "proxy", NULL);
  ho.no_proxy = opt_string(L, 1, "no_proxy", NULL);
  ho.user_agent = opt_string(L, 1, "user_agent", NULL);
  ho.max_host_connections = (long)opt_number(L, 1, "max_connections", AZRP_HTTP_MAX_CONNECTIONS, 1, 10000);
  {
    char seed[37];
    if (azrp_uuid4(seed) == 0) memcpy(&c->rng, seed, sizeof c->rng);
    c->rng ^= (uint64_t)(azrp_now() * 1e6);
    if (c->rng == 0) c->rng = 0x9E3779B97F4A7C15ULL;
  }
  c->http = azrp_http_new(&ho, err, sizeof err);
  if (c->http == NULL) {
    client_free(c);
    return luaL_error(L, "azrp client: %s", err);
  }
  return 1;
}

/*
** close(), __close and __gc: fails every running operation (unlinking and
** unanchoring it), then frees the connection pool.  Running operations
** hold references to the client, so __gc meets them only at lua_close.
*/
static int client_close (lua_State *L) {
  azrp_client *c = (azrp_client *)luaL_checkudata(L, 1, AZRP_CLIENT_MT);
  while (c->http && c->head)
    azrp_op_fail(L, c->head, "canceled", "ClientClosed", "the client was closed");
  client_free(c);
  return 0;
}
/* }================================================================== */

/*
** {==================================================================
** Raw requests
** ===================================================================
*/

/*
** request{ method =, url =, headers = {...}, body =, auth = bool,
** timeout = s, retry = bool, attempts = n } -> operation whose result is
** { status, headers, body } for any HTTP status (for token endpoints and
** SAS URLs); transport errors fail it.
*/
/* RFC 9110 token characters: method and header names. */
static int token_chars (const char *s) {
  if (*s == '\0') return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && strchr("!#$%&'*+-.^_`|~", *s) == NULL) return 0;
  return 1;
}

/* A header value: visible characters, spaces and tabs. */
static int header_chars (const char *s) {
  for (; *s; s++)
    if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f) return 0;
  return 1;
}

static int client_request (lua_State *L) {
  static const char *const keys[] = {"method", "url", "headers", "body", "auth", "timeout", "retry", "kind",
    "attempts", NULL};
  azrp_op *op;
  azrp_opinit init;
  azrp_client_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  check_keys(L, 2, keys, "request");
  memset(&init, 0, sizeof init);
  init.name = "request";
  init.raw = 1;
  init.kind = -1;   /* not ARM: no throttle bucket */
  init.method = opt_string(L, 2, "method", "GET");
  init.url = opt_string(L, 2, "url", NULL);
  if (init.url == NULL) return luaL_error(L, "request: 'url' is required");
  if (!token_chars(init.method)) return luaL_error(L, "request: 'method' must be an HTTP method name");
  /* user-info and plain http with a secret fail the operation when it is fired */
  if (strncasecmp(init.url, "https://", 8) != 0 && strncasecmp(init.url, "http://", 7) != 0)
    return luaL_error(L, "request: url must be http(s)");
  init.auth = opt_bool(L, 2, "auth", 0);
  init.retry_unsafe = opt_bool(L, 2, "retry", 0);
  lua_getfield(L, 2, "kind");
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *k = lua_tostring(L, -1);
    init.kind = strcmp(k, "read") == 0 ? AZRP_READ : strcmp(k, "write") == 0 ? AZRP_WRITE :
                strcmp(k, "delete") == 0 ? AZRP_DELETE : -1;
  }
  lua_pop(L, 1);
  lua_getfield(L, 2, "body");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "request: 'body' must be a string");
    init.body = lua_tolstring(L, -1, &init.bodylen);
  }
  lua_pop(L, 1);   /* the body stays referenced by the options table */
  lua_getfield(L, 2, "headers");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
      const char *k, *v;
      size_t klen, vlen;
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "request: headers are name = string");
      k = lua_tolstring(L, -2, &klen);
      v = lua_tolstring(L, -1, &vlen);
      /* CR, LF or NUL would end the header early and start another one. */
      if (strlen(k) != klen || !token_chars(k)) return luaL_error(L, "request: header name '%s' is not a token", k);
      if (strlen(v) != vlen || !header_chars(v))
        return luaL_error(L, "request: header '%s' holds a control character (CR, LF, NUL...)", k);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  lua_getfield(L, 2, "timeout");
  if (!lua_isnil(L, -1)) {
    init.timeout = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(init.timeout > 0))
      return luaL_error(L, "request: 'timeout' must be a positive number");
  }
  lua_pop(L, 1);
  init.max_attempts = (int)opt_number(L, 2, "attempts", 0, 0, 100);
  op = azrp_op_new(L, 1, &init);
  /* Checked above, in the same order: now the op takes its copies. */
  lua_getfield(L, 2, "headers");
  if (lua_type(L, -1) == LUA_TTABLE) {
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
      if (azrp_op_add_header(op, lua_tostring(L, -2), lua_tostring(L, -1)) != 0)
        return luaL_error(L, "out of memory");
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  azrp_op_start(L, op);
  return 1;
}
/* }================================================================== */

/*
** {==================================================================
** Driving
** ===================================================================
*/

/* Runs one round: finished transfers, due operations. Returns the count in flight. */
static int client_step (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  azrp_xfer *x;
  azrp_op *op, *next;
  double now;
  int fired = 0;
  if (azrp_http_step(c->http) < 0) return luaL_error(L, "libcurl's multi interface failed");
  while ((x = azrp_http_done(c->http)) != NULL) {
    op = (azrp_op *)x->owner;
    azrp_op_response(L, op, x);
  }
  now = azrp_now();
  for (op = c->head; op != NULL; op = next) {
    next = azrp_op_link(op)->next;   /* running op may unlink it */
    if (azrp_op_run(L, op, now)) fired = 1;
  }
  if (fired) {
    /* Starting transfers can finish some at once (a fast answer on a
       kept-alive connection): collect those now, or they would wait for
       an event that already happened. */
    if (azrp_http_step(c->http) < 0) return luaL_error(L, "libcurl's multi interface failed");
    while ((x = azrp_http_done(c->http)) != NULL) {
      op = (azrp_op *)x->owner;
      azrp_op_response(L, op, x);
    }
  }
  lua_pushinteger(L, c->nactive);
  lua_pushboolean(L, c->token_wanted);
  return 2;
}

/* Seconds until step() must run again (0 = now); *any = 0 when nothing waits. */
double azrp_client_timeout (azrp_client *c, int *any) {
  double now = azrp_now(), best = 1e18;
  long ms = azrp_http_timeout(c->http);
  azrp_op *op;
  *any = 0;
  if (ms >= 0) { best = (double)ms / 1000.0; *any = 1; }
  for (op = c->head; op; op = azrp_op_link(op)->next) {
    int sending;
    double d = azrp_op_wakeup(op, now, &sending);
    if (sending) *any = 1;
    if (d < 1e17) { *any = 1; if (d < best) best = d; }
  }
  if (best < 0) best = 0;
  if (best > 3600) best = 3600;   /* a transfer in flight with no libcurl timer: look again later */
  return best;
}

static int client_timeout (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  int any;
  double t = azrp_client_timeout(c, &any);
  if (!any) lua_pushnil(L);
  else lua_pushnumber(L, t);
  return 1;
}

/* wait([seconds]): blocks until there is something for step() to do. */
static int client_wait (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  double limit = luaL_optnumber(L, 2, 1e9), t;
  int any;
  t = azrp_client_timeout(c, &any);
  if (!any || t > limit) t = limit;
  if (t > 0) azrp_http_wait(c->http, (long)ceil(t * 1000.0));
  return 0;
}

static int client_pollfd (lua_State *L) {
  lua_pushinteger(L, azrp_http_pollfd(azrp_client_check(L, 1)->http));
  return 1;
}

static int client_events (lua_State *L) {
  azrp_client_check(L, 1);
  lua_pushliteral(L, "r");
  return 1;
}

/* set_token(token, expires_on) — expires_on: Unix seconds, nil = never. */
static int client_set_token (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  size_t len;
  const char *t = luaL_checklstring(L, 2, &len);
  double exp = luaL_optnumber(L, 3, 0);
  azrp_op *op;
  if (len == 0) return luaL_argerror(L, 2, "empty token");
  if (strlen(t) != len) return luaL_argerror(L, 2, "the token holds a NUL byte");
  token_clear(c);
  c->token = strdup(t);
  c->token_expires = exp;
  c->token_wanted = 0;
  c->token_rejected = 0;
  for (op = c->head; op; op = azrp_op_link(op)->next)
    azrp_op_token_ready(op);
  return 0;
}

/* token_wanted() -> wanted, rejected (the server refused the current token: do not reuse a cached one) */
static int client_token_wanted (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  lua_pushboolean(L, c->token_wanted || (c->token_expires > 0 && azrp_wall() >= c->token_expires - c->refresh_margin));
  lua_pushboolean(L, c->token_rejected);
  return 2;
}

static const char *err_field (lua_State *L, int idx, const char *k, const char *def) {
  const char *s = def;
  if (lua_type(L, idx) != LUA_TTABLE) return def;
  lua_getfield(L, idx, k);
  if (lua_type(L, -1) == LUA_TSTRING) s = lua_tostring(L, -1);
  lua_pop(L, 1);   /* the string stays referenced by the table */
  return s;
}

/*
** token_failed(err): operations waiting for a token fail with the
** credential's error (its kind, code and status kept; the message too).
*/
static int client_token_failed (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  azrp_op *op, *next;
  azrp_errinfo e;
  luaL_checkany(L, 2);
  memset(&e, 0, sizeof e);
  e.kind = err_field(L, 2, "kind", "auth");
  e.code = err_field(L, 2, "code", "CredentialUnavailable");
  e.message = err_field(L, 2, "message", NULL);
  e.retry_after = -1;
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_getfield(L, 2, "status");
    e.status = (long)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (e.message == NULL) {
    lua_getglobal(L, "tostring");   /* luaL_tolstring is 5.2+; tostring honours __tostring everywhere */
    lua_pushvalue(L, 2);
    lua_call(L, 1, 1);
    e.message = lua_tostring(L, -1);
  }
  for (op = c->head; op; op = next) {
    next = azrp_op_link(op)->next;   /* failing op unlinks it */
    azrp_op_token_failed(L, op, &e);
  }
  c->token_wanted = 0;
  c->token_rejected = 0;
  return 0;
}

/*
** set_owner(t) / owner() -> t: the object that drives this client (the
** azrp.client facade, which renews tokens), kept in the client's user
** value, as luv keeps a handle's Lua side on the handle: an operation
** holds its client, so it holds the facade too, and a wait on it can
** always reach the token renewal.
*/
static int client_set_owner (lua_State *L) {
  azrp_client_check(L, 1);
  if (!lua_isnil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, 1);
  return 0;
}

static int client_owner (lua_State *L) {
  luaL_checkudata(L, 1, AZRP_CLIENT_MT);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int client_stats (lua_State *L) {
  azrp_client *c = azrp_client_check(L, 1);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, c->nactive); lua_setfield(L, -2, "active");
  lua_pushinteger(L, c->requests); lua_setfield(L, -2, "requests");
  lua_pushinteger(L, c->retries); lua_setfield(L, -2, "retries");
  lua_pushinteger(L, c->throttled_waits); lua_setfield(L, -2, "throttled_waits");
  if (c->throttle) {   /* the bucket levels now: { read =, write =, delete = } */
    static const char *const kinds[] = {"read", "write", "delete"};
    int k;
    double now = azrp_now();
    lua_createtable(L, 0, AZRP_NKINDS);
    for (k = 0; k < AZRP_NKINDS; k++) {
      lua_pushnumber(L, azrp_bucket_level(&c->buckets[k], now));
      lua_setfield(L, -2, kinds[k]);
    }
    lua_setfield(L, -2, "tokens");
  }
  return 1;
}

static int client_tostring (lua_State *L) {
  azrp_client *c = (azrp_client *)luaL_checkudata(L, 1, AZRP_CLIENT_MT);
  lua_pushfstring(L, "azrp.Client %s (%p)%s", c->endpoint ? c->endpoint : "", (void *)c,
                  c->http ? "" : " closed");
  return 1;
}
/* }================================================================== */

void azrp_client_open (lua_State *L) {
  static const luaL_Reg methods[] = {
    {"begin", azrp_client_begin},
    {"request", client_request},
    {"step", client_step},
    {"wait", client_wait},
    {"timeout", client_timeout},
    {"pollfd", client_pollfd},
    {"events", client_events},
    {"set_token", client_set_token},
    {"token_wanted", client_token_wanted},
    {"token_failed", client_token_failed},
    {"stats", client_stats},
    {"set_owner", client_set_owner},
    {"owner", client_owner},
    {"close", client_close},
    {NULL, NULL}
  };
  static const luaL_Reg meta[] = {
    {"__gc", client_close},
    {"__close", client_close},
    {"__tostring", client_tostring},
    {NULL, NULL}
  };
  luaL_newmetatable(L, AZRP_CLIENT_MT);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, client_new);
  lua_setfield(L, -2, "client");
}
