/*
** azrp.Operation: one REST operation and, for long-running ones, its whole
** life: the first request (retried on 408/429/5xx and transport errors
** with backoff and jitter, honouring Retry-After), then polling through
** Azure-AsyncOperation, Location or provisioningState, then the final
** result as final-state-via says, and for cross-region copies the
** per-disk replication until 100 %.
**
** The state machine never blocks: op_fire() starts a transfer when the
** operation is due, azrp_op_response() digests a finished one and sets
** the next due time.  The client's step() drives both (azrp_op_run).  While it
** runs, an operation is anchored in the registry (self_ref) so that a
** script dropping it cannot free memory libcurl still writes to.
**
** States (op->state) and what moves them:
**
**                       azrp_op_start
**                             |
**                             v
**          +------------> WAITING <----------------------+
**          |               |     |                       |
**          | set_token     |     | fire when due         | response: retry
**          |               |     | (transfer begun)      | (backoff or
**          |   fire: no    |     v                       | Retry-After),
**      NEED_TOKEN <--------+   SENDING ------------------+ next poll or
**          ^   valid token       |  |                      phase
**          |                     |  |
**          +------ 401, once ----+  | response: the result, or an
**                                   | error not retried
**                                   v
**                                 DONE
**
** azrp_op_new leaves an op DONE (nothing to unlink or cancel) until
** azrp_op_start.  While its throttle bucket is empty, fire leaves the op
** WAITING, due when the bucket has refilled.  Any running state goes to
** DONE at its deadline, on cancel() and on close (of the op or of its
** client); fire ends an op whose request cannot be sent (a refused URL,
** headers or token too long, libcurl refusing the transfer), and
** token_failed() one in NEED_TOKEN.
**
** Phases (op->phase) say which request WAITING sends next: INITIAL (the
** operation's own), POLL (Azure-AsyncOperation, Location or the resource
** until provisioningState is terminal), FINAL (the result per
** final-state-via) and REPLICATION (the copy's instanceView to 100 %).
** DONE is final: the result or error is kept (result_ref), the op is
** unlinked from its client and unanchored, and nothing fires it again.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "engine.h"
#include "error.h"
#include "json.h"
#include "util.h"

#define MAX_HEADERS 24

/* Where an operation is. */
enum { OP_WAITING = 0, OP_SENDING, OP_NEED_TOKEN, OP_DONE };
/* Which request it sends next. */
enum { PH_INITIAL = 0, PH_POLL, PH_FINAL, PH_REPLICATION };
/* How its LRO is polled. */
enum { POLL_ASYNC = 0, POLL_LOCATION, POLL_STATE };

struct azrp_op {
  azrp_client *c;
  int client_ref;             /* keeps the client alive while the op lives */
  int self_ref;               /* keeps the op alive while it runs */
  const azrp_opdef *def;      /* NULL for a raw request */
  char name[64];              /* operationId or "request" */
  int state, phase, poll_mode;
  int lro, final_state, kind, retry_unsafe, auth;
  int wait_replication;       /* a copy: poll instanceView to 100 % */
  char *method, *url, *body;
  size_t bodylen;
  char **headers;             /* extra request headers ("Name: value"), NULL-terminated */
  int nheaders;
  char request_id[37];        /* x-ms-client-request-id, the same on every try and poll */
  char *poll_url, *location;
  int attempts;
  int max_attempts;           /* tries per request for this op; 0 = the client's */
  char last_error[256];       /* why the last try failed, for a later timeout's message */
  int auth_retried;
  double due;                 /* next send (monotonic) */
  double deadline;            /* give up at (monotonic); 0 = never */
  double started;
  azrp_xfer *x;
  int held;                   /* throttle kind of the request in flight, -1 none */
  double sent;                /* and when it was sent (monotonic) */
  int result_ref;             /* value on success, azrp.Error on failure */
  int ok;
  double percent;             /* progress, -1 unknown */
  int progress_ref;           /* per-disk replication progress table */
  long last_status;
  char last_request_id[64];   /* x-ms-request-id of the latest response */
  char lro_status[32];        /* InProgress, Succeeded ... */
  int raw;                    /* keep the body as a string (raw requests) */
  azrp_oplink link;           /* in the client's list while running */
};

static void op_strings_free (azrp_op *op) {
  int i;
  free(op->method); op->method = NULL;
  free(op->url); op->url = NULL;
  free(op->body); op->body = NULL;
  free(op->poll_url); op->poll_url = NULL;
  free(op->location); op->location = NULL;
  if (op->headers) {
    for (i = 0; op->headers[i]; i++) free(op->headers[i]);
    free(op->headers);
    op->headers = NULL;
  }
}

/* The request in flight is answered, or will never be: its bucket stops
   counting it. */
static void op_unhold (azrp_op *op) {
  if (op->held >= 0 && op->c) azrp_client_answered(op->c, op->held);
  op->held = -1;
}

/* Ends the operation; the result (value or error) is on the stack top. */
static void op_finish (lua_State *L, azrp_op *op, int ok) {
  if (op->state == OP_DONE) { lua_pop(L, 1); return; }
  op_unhold(op);
  if (op->x) {
    azrp_xfer_free(azrp_client_http(op->c), op->x);
    op->x = NULL;
  }
  luaL_unref(L, LUA_REGISTRYINDEX, op->result_ref);
  op->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  op->ok = ok;
  op->state = OP_DONE;
  if (ok && op->percent >= 0) op->percent = 100;
  azrp_client_unlink(op->c, op);
  /* No longer running: the script's references alone keep it now. */
  luaL_unref(L, LUA_REGISTRYINDEX, op->self_ref);
  op->self_ref = LUA_NOREF;
}

static void op_error_info (lua_State *L, azrp_op *op, azrp_errinfo *e) {
  e->operation = op->name;
  e->client_request_id = op->request_id;
  if (e->request_id == NULL && op->last_request_id[0]) e->request_id = op->last_request_id;
  azrp_error_push(L, e);
  op_finish(L, op, 0);
}

/* The deadline passed: say so, with the last failure when there was one. */
static void op_expired (lua_State *L, azrp_op *op) {
  char msg[400];
  if (op->last_error[0])
    snprintf(msg, sizeof msg, "the operation did not finish before its deadline; last error: %s", op->last_error);
  else
    snprintf(msg, sizeof msg, "the operation did not finish before its deadline");
  azrp_op_fail(L, op, "timeout", "OperationTimeout", msg);
}

void azrp_op_fail (lua_State *L, azrp_op *op, const char *kind, const char *code, const char *msg) {
  azrp_errinfo e;
  memset(&e, 0, sizeof e);
  e.kind = kind; e.code = code; e.message = msg; e.retry_after = -1;
  op_error_info(L, op, &e);
}

/*
** Builds the request headers of the next try: ours, then the caller's
** (raw requests).  Returns their count, or -1 when they do not fit.
*/
static int build_headers (azrp_op *op, char *store, size_t storelen, const char **out) {
  int n = 0, i;
  size_t used = 0;
#define ADD(...) do { \
    int w_ = snprintf(store + used, storelen - used, __VA_ARGS__); \
    if (w_ < 0 || (size_t)w_ >= storelen - used) return -1; \
    out[n++] = store + used; used += (size_t)w_ + 1; } while (0)
  if (!op->raw) {
    ADD("Accept: application/json");
    ADD("x-ms-client-request-id: %s", op->request_id);
    ADD("x-ms-return-client-request-id: true");
  }
  if (op->auth) out[n++] = NULL;   /* the Authorization header is added by the caller */
  if (op->body && !op->raw) ADD("Content-Type: application/json");
  if (op->headers)
    for (i = 0; op->headers[i] && n < MAX_HEADERS - 2; i++) out[n++] = op->headers[i];
  out[n] = NULL;
#undef ADD
  return n;
}

/* The URL the next request goes to, by phase. */
static const char *next_url (azrp_op *op) {
  if (op->phase == PH_POLL || op->phase == PH_FINAL || op->phase == PH_REPLICATION)
    return op->poll_url ? op->poll_url : op->url;
  return op->url;
}

static const char *next_method (azrp_op *op) {
  return op->phase == PH_INITIAL ? op->method : "GET";
}

static int method_safe (azrp_op *op);

/* Which URL of the operation url is, for messages. */
static const char *url_source (azrp_op *op, const char *url) {
  if (op->phase == PH_INITIAL || url == op->url) return op->raw ? "the request URL" : "the endpoint's URL";
  if (op->phase == PH_POLL && op->poll_mode == POLL_ASYNC) return "the Azure-AsyncOperation URL";
  if (op->location && strcmp(url, op->location) == 0) return "the Location URL";
  return "the endpoint's URL";
}

/*
** Every URL is checked as it is used, whether the caller gave it or a
** response did (Azure-AsyncOperation, Location, nextLink): no user-info,
** and secrets only where azrp_url_problem allows them.
*/
static int url_refused (lua_State *L, azrp_op *op, const char *url) {
  char shown[256], msg[512];
  const char *why = azrp_client_url_problem(op->c, url, op->auth);
  if (why == NULL) return 0;
  azrp_url_redact(url, shown, sizeof shown);
  snprintf(msg, sizeof msg, "%s %s %s", url_source(op, url), shown, why);
  azrp_op_fail(L, op, "invalid", strstr(why, "user-info") || strstr(why, "absolute") ? "InvalidUrl" : "InsecureTransport", msg);
  return 1;
}

static void op_fire (lua_State *L, azrp_op *op) {
  azrp_client *c = op->c;
  const char *hdrs[MAX_HEADERS + 2];
  char store[2048];
  char auth[8192 + 32];
  char err[CURL_ERROR_SIZE + 64];
  const char *url = next_url(op), *method = next_method(op), *token = NULL;
  double now = azrp_now(), wait;
  int n, i, kind = op->phase == PH_INITIAL ? op->kind : AZRP_READ;
  if (op->deadline > 0 && now >= op->deadline) {
    op_expired(L, op);
    return;
  }
  if (url_refused(L, op, url)) return;
  if (op->auth && (token = azrp_client_token(c)) == NULL) {
    op->state = OP_NEED_TOKEN;   /* the client wants one now */
    return;
  }
  if (!azrp_client_take(c, kind, now, &wait, &op->held)) {
    op->due = now + wait;
    op->state = OP_WAITING;
    return;
  }
  n = build_headers(op, store, sizeof store, hdrs);
  if (n < 0) {
    op_unhold(op);
    azrp_op_fail(L, op, "invalid", "InvalidRequest", "the request headers are too long");
    return;
  }
  if (op->auth) {
    if (strlen(token) > 8192) {
      op_unhold(op);
      azrp_op_fail(L, op, "auth", "InvalidToken", "the access token is too long");
      return;
    }
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    for (i = 0; i < n; i++)
      if (hdrs[i] == NULL) { hdrs[i] = auth; break; }
  }
  /* libcurl silently resends a request whose kept-alive connection died
     before any answer: a request that must not be sent twice gets a
     connection of its own. */
  op->x = azrp_xfer_start(azrp_client_http(c), method, url, hdrs,
                          op->phase == PH_INITIAL ? op->body : NULL,
                          op->phase == PH_INITIAL ? op->bodylen : 0,
                          0, !method_safe(op), op, err, sizeof err);
  /* The token's copy in auth[] must not outlive this call in our memory. */
  memset(auth, 0, sizeof auth);
  if (op->x == NULL) {
    op_unhold(op);
    azrp_op_fail(L, op, "transport", "RequestFailed", err);
    return;
  }
  op->sent = now;
  op->attempts++;
  op->state = OP_SENDING;
  azrp_client_note_request(c);
}

/* Schedules the next try of the current request, or fails the operation. */
static int max_attempts (azrp_op *op) {
  return op->max_attempts > 0 ? op->max_attempts : azrp_client_max_attempts(op->c);
}

static void retry_or_fail (lua_State *L, azrp_op *op, azrp_errinfo *e, double retry_after) {
  azrp_client *c = op->c;
  double delay;
  if (e->message) snprintf(op->last_error, sizeof op->last_error, "%s", e->message);
  if (op->attempts >= max_attempts(op) || !e->retryable) {
    e->retry_after = retry_after;
    op_error_info(L, op, e);
    return;
  }
  if (retry_after >= 0) {
    if (retry_after > azrp_client_max_retry_after(c)) {
      /* Waiting that long is the caller's decision, as in the Go SDK. */
      e->retry_after = retry_after;
      op_error_info(L, op, e);
      return;
    }
    delay = retry_after;
  }
  else delay = azrp_client_backoff(c, op->attempts);
  azrp_client_note_retry(c);
  op->due = azrp_now() + delay;
  op->state = OP_WAITING;
}

static int method_safe (azrp_op *op) {
  const char *m = next_method(op);
  return strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 ||
         strcmp(m, "HEAD") == 0 || strcmp(m, "PATCH") == 0 || op->retry_unsafe;
}

static int status_retryable (long s) {
  return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || s >= 506;
}

/* Whether a transport failure may be retried, and its error kind. */
static int transport_retryable (CURLcode r, const char **kind) {
  *kind = "transport";
  switch (r) {
    case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
    case CURLE_SSL_CACERT:
#endif
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      *kind = "tls";
      return 0;
    case CURLE_OPERATION_TIMEDOUT:
      *kind = "timeout";
      return 1;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return 1;
    default:
      return 0;
  }
}

static void copy_header (const azrp_xfer *x, const char *name, char *out, size_t outlen) {
  size_t len = 0;
  const char *v = azrp_xfer_header(x, name, &len);
  if (outlen == 0) return;
  if (v == NULL) { out[0] = '\0'; return; }
  if (len >= outlen) len = outlen - 1;
  memcpy(out, v, len);
  out[len] = '\0';
}

static char *dup_header (const azrp_xfer *x, const char *name) {
  size_t len = 0;
  const char *v = azrp_xfer_header(x, name, &len);
  char *s;
  if (v == NULL || len == 0) return NULL;
  s = (char *)malloc(len + 1);
  if (s == NULL) return NULL;
  memcpy(s, v, len);
  s[len] = '\0';
  return s;
}

static double header_retry_after (const azrp_xfer *x) {
  size_t len = 0;
  const char *v = azrp_xfer_header(x, "retry-after-ms", &len);
  if (v == NULL) v = azrp_xfer_header(x, "x-ms-retry-after-ms", &len);
  if (v != NULL) {
    double ms = azrp_retry_after(v, len);
    return ms < 0 ? -1 : ms / 1000.0;
  }
  v = azrp_xfer_header(x, "retry-after", &len);
  return azrp_retry_after(v, len);
}

/* Pushes the decoded body (or nil when empty or not JSON). */
static void push_body (lua_State *L, const azrp_xfer *x) {
  if (x->body.len == 0) lua_pushnil(L);
  else azrp_json_decode(L, x->body.data, x->body.len);
}

/* Reads t.a.b (string) from the table at idx; NULL if absent. */
static const char *path_str (lua_State *L, int idx, const char *a, const char *b) {
  const char *s = NULL;
  if (lua_type(L, idx) != LUA_TTABLE) return NULL;
  lua_getfield(L, idx, a);
  if (b == NULL) {
    if (lua_type(L, -1) == LUA_TSTRING) s = lua_tostring(L, -1);
  }
  else if (lua_type(L, -1) == LUA_TTABLE) {
    lua_getfield(L, -1, b);
    if (lua_type(L, -1) == LUA_TSTRING) s = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);   /* strings stay referenced by the table at idx */
  return s;
}

/* An error from an HTTP failure status, with the Azure (or Entra) body. */
static void http_error (lua_State *L, azrp_op *op, const azrp_xfer *x, azrp_errinfo *e) {
  int body;
  char msg[512];
  push_body(L, x);
  body = lua_gettop(L);
  memset(e, 0, sizeof *e);
  e->status = x->status;
  e->retry_after = -1;
  e->kind = x->status == 401 || x->status == 403 ? "auth" : x->status == 429 ? "throttled" : "http";
  e->code = path_str(L, body, "error", "code");
  e->message = path_str(L, body, "error", "message");
  e->target = path_str(L, body, "error", "target");
  if (e->code == NULL) {   /* Entra: {"error": "invalid_client", "error_description": ...} */
    e->code = path_str(L, body, "error", NULL);
    e->message = path_str(L, body, "error_description", NULL);
  }
  if (e->code && e->kind[0] == 'h') e->kind = "azure";
  if (e->message == NULL) {
    snprintf(msg, sizeof msg, "HTTP %ld from %s %s", x->status, next_method(op), op->name);
    lua_pushstring(L, msg);   /* kept on the stack until the error is built */
    e->message = lua_tostring(L, -1);
  }
  e->retryable = status_retryable(x->status);
  /* the body (and message) stay on the stack; the caller pops after use */
}

static int lro_terminal (const char *s) {
  return strcasecmp(s, "Succeeded") == 0 || strcasecmp(s, "Failed") == 0 ||
         strcasecmp(s, "Canceled") == 0 || strcasecmp(s, "Cancelled") == 0;
}

static void schedule_poll (azrp_op *op, const azrp_xfer *x) {
  double d = azrp_client_poll_delay(op->c, header_retry_after(x));
  op->attempts = 0;
  op->due = azrp_now() + d;
  op->state = OP_WAITING;
}

/* Switches to the final GET or finishes, once the LRO reached Succeeded. */
static void lro_succeeded (lua_State *L, azrp_op *op, int status_body) {
  const char *m = op->method;
  if (strcmp(m, "DELETE") == 0) {
    lua_pushboolean(L, 1);
    op_finish(L, op, 1);
    return;
  }
  if (op->final_state == AZRP_FINAL_ASYNC && status_body && strcmp(m, "POST") == 0) {
    lua_getfield(L, status_body, "properties");
    if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
    op_finish(L, op, 1);
    return;
  }
  /* final-state-via location: the Location URL; PUT/PATCH without one: the resource. */
  free(op->poll_url);
  op->poll_url = NULL;
  if (op->location && (op->final_state == AZRP_FINAL_LOCATION || strcmp(m, "POST") == 0))
    op->poll_url = strdup(op->location);
  else if (strcmp(m, "POST") == 0) {
    lua_pushboolean(L, 1);
    op_finish(L, op, 1);
    return;
  }
  op->phase = PH_FINAL;
  op->attempts = 0;
  op->due = azrp_now();
  op->state = OP_WAITING;
}

/* A copy's replication, from GET ...?$expand=instanceView. */
static void replication (lua_State *L, azrp_op *op, const azrp_xfer *x) {
  int body, n = 0, failed = 0;
  double minp = 100;
  push_body(L, x);
  body = lua_gettop(L);
  lua_newtable(L);   /* progress: { { id =, percent =, status = }, ... } */
  if (lua_type(L, body) == LUA_TTABLE) {
    lua_getfield(L, body, "properties");
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_getfield(L, -1, "instanceView");
      if (lua_type(L, -1) == LUA_TTABLE) {
        lua_getfield(L, -1, "diskRestorePoints");
        if (lua_type(L, -1) == LUA_TTABLE) {
          int list = lua_gettop(L), i;
          for (i = 1; ; i++) {
            double p = 0;
            const char *code;
            lua_rawgeti(L, list, i);
            if (lua_type(L, -1) != LUA_TTABLE) { lua_pop(L, 1); break; }
            lua_getfield(L, -1, "replicationStatus");
            if (lua_type(L, -1) == LUA_TTABLE) {
              lua_getfield(L, -1, "completionPercent");
              p = lua_tonumber(L, -1);
              lua_pop(L, 1);
              code = path_str(L, lua_gettop(L), "status", "code");
              if (code && strstr(code, "ailed")) failed = 1;
            }
            lua_pop(L, 1);
            if (p < minp) minp = p;
            lua_createtable(L, 0, 2);
            lua_getfield(L, -2, "id");
            lua_setfield(L, -2, "id");
            lua_pushnumber(L, p);
            lua_setfield(L, -2, "percent");
            lua_rawseti(L, body + 1, ++n);
            lua_pop(L, 1);
          }
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  luaL_unref(L, LUA_REGISTRYINDEX, op->progress_ref);
  op->progress_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* pops the progress table */
  op->percent = n > 0 ? minp : 0;
  if (failed) {
    lua_pop(L, 1);
    azrp_op_fail(L, op, "lro", "ReplicationFailed", "a disk restore point of the copy failed to replicate");
    return;
  }
  if (n > 0 && minp >= 100) {
    op_finish(L, op, 1);   /* the body with its instanceView is the result */
    return;
  }
  lua_pop(L, 1);
  schedule_poll(op, x);
}

static void start_replication (lua_State *L, azrp_op *op, const azrp_xfer *x) {
  size_t n = strlen(op->url) + 32;
  free(op->poll_url);
  op->poll_url = (char *)malloc(n);
  if (op->poll_url == NULL) {
    azrp_op_fail(L, op, "transport", "OutOfMemory", "not enough memory");
    return;
  }
  snprintf(op->poll_url, n, "%s%s$expand=instanceView", op->url, strchr(op->url, '?') ? "&" : "?");
  op->phase = PH_REPLICATION;
  op->attempts = 0;
  op->due = azrp_now();
  op->state = OP_WAITING;
  (void)x;
}

/* The first response of an LRO: decide how to follow it. */
static void lro_started (lua_State *L, azrp_op *op, const azrp_xfer *x) {
  char *ao = dup_header(x, "azure-asyncoperation");
  const char *m = op->method;
  free(op->location);
  op->location = dup_header(x, "location");
  if (ao) {
    free(op->poll_url);
    op->poll_url = ao;
    op->poll_mode = POLL_ASYNC;
  }
  else if (op->location) {   /* as the Azure SDKs: Location polling whatever the first status */
    free(op->poll_url);
    op->poll_url = strdup(op->location);
    op->poll_mode = POLL_LOCATION;
  }
  else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
    const char *st;
    int body;
    push_body(L, x);
    body = lua_gettop(L);
    lua_getfield(L, body, "properties");
    st = lua_type(L, -1) == LUA_TTABLE ? path_str(L, body, "properties", "provisioningState") : NULL;
    lua_pop(L, 1);
    if (st == NULL || lro_terminal(st)) {
      if (st && strcasecmp(st, "Succeeded") != 0) {
        lua_pop(L, 1);
        azrp_op_fail(L, op, "lro", st, "the resource's provisioningState is not Succeeded");
        return;
      }
      if (op->wait_replication) { lua_pop(L, 1); start_replication(L, op, x); return; }
      op_finish(L, op, 1);
      return;
    }
    lua_pop(L, 1);
    free(op->poll_url);
    op->poll_url = strdup(op->url);
    op->poll_mode = POLL_STATE;
  }
  else {   /* POST or DELETE done at once: 200 with a body, or 204 */
    push_body(L, x);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
    op_finish(L, op, 1);
    return;
  }
  op->phase = PH_POLL;
  schedule_poll(op, x);
}

static void on_poll (lua_State *L, azrp_op *op, const azrp_xfer *x) {
  int body;
  if (op->poll_mode == POLL_LOCATION) {
    if (x->status == 202) {
      char *loc = dup_header(x, "location");
      if (loc) { free(op->poll_url); op->poll_url = loc; }
      schedule_poll(op, x);
      return;
    }
    push_body(L, x);   /* 200/201/204: what the synchronous call would have returned */
    if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
    op_finish(L, op, 1);
    return;
  }
  push_body(L, x);
  body = lua_gettop(L);
  if (op->poll_mode == POLL_ASYNC) {
    const char *st = path_str(L, body, "status", NULL);
    double pct;
    lua_getfield(L, body, "percentComplete");
    pct = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : -1;
    lua_pop(L, 1);
    if (pct >= 0 && op->phase == PH_POLL && !op->wait_replication) op->percent = pct;
    snprintf(op->lro_status, sizeof op->lro_status, "%s", st ? st : "InProgress");
    if (st == NULL || !lro_terminal(st)) {
      lua_pop(L, 1);
      schedule_poll(op, x);
      return;
    }
    if (strcasecmp(st, "Succeeded") == 0) {
      lro_succeeded(L, op, body);
      if (op->state != OP_DONE) lua_pop(L, 1);
      else lua_remove(L, body);
      return;
    }
    {
      azrp_errinfo e;
      memset(&e, 0, sizeof e);
      e.kind = strcasecmp(st, "Failed") == 0 ? "lro" : "canceled";
      e.code = path_str(L, body, "error", "code");
      e.message = path_str(L, body, "error", "message");
      if (e.code == NULL) e.code = st;
      if (e.message == NULL) e.message = "the long-running operation did not succeed";
      e.retry_after = -1;
      op_error_info(L, op, &e);
      lua_pop(L, 1);
    }
    return;
  }
  /* POLL_STATE: the resource's provisioningState */
  {
    const char *st = path_str(L, body, "properties", "provisioningState");
    if (st == NULL || strcasecmp(st, "Succeeded") == 0) {
      if (op->wait_replication) { lua_pop(L, 1); start_replication(L, op, x); return; }
      op_finish(L, op, 1);
      return;
    }
    if (lro_terminal(st)) {
      lua_pop(L, 1);
      azrp_op_fail(L, op, strcasecmp(st, "Failed") == 0 ? "lro" : "canceled", st,
                   "the resource's provisioningState is not Succeeded");
      return;
    }
    lua_pop(L, 1);
    schedule_poll(op, x);
  }
}

/* Raw requests answer with { status, headers, body } whatever the status. */
static void raw_done (lua_State *L, azrp_op *op, const azrp_xfer *x) {
  const char *p = x->headers.data, *end = p ? p + x->headers.len : NULL;
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)x->status);
  lua_setfield(L, -2, "status");
  lua_newtable(L);
  while (p && p < end) {
    const char *eol = strstr(p, "\r\n"), *colon;
    if (eol == NULL) eol = end;
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon) {
      char name[128];
      size_t nl = (size_t)(colon - p), i;
      const char *v = colon + 1;
      if (nl >= sizeof name) nl = sizeof name - 1;
      for (i = 0; i < nl; i++) name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
      name[nl] = '\0';
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      lua_pushlstring(L, v, (size_t)(eol - v));
      lua_setfield(L, -2, name);
    }
    p = eol + 2;
  }
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
  lua_setfield(L, -2, "body");
  op_finish(L, op, 1);
}

void azrp_op_response (lua_State *L, azrp_op *op, azrp_xfer *x) {
  azrp_client *c = op->c;
  azrp_http *http = azrp_client_http(c);
  azrp_errinfo e;
  int top = lua_gettop(L);
  op->x = NULL;
  op->last_status = x->status;
  copy_header(x, "x-ms-request-id", op->last_request_id, sizeof op->last_request_id);
  op_unhold(op);
  if (x->result == CURLE_OK && !op->raw) azrp_client_ratelimit(c, x, op->sent);
  if (x->result != CURLE_OK) {
    const char *kind;
    char msg[CURL_ERROR_SIZE + 700], safe[512];
    memset(&e, 0, sizeof e);
    e.retryable = transport_retryable(x->result, &kind);
    /* A POST that may have reached the server is not sent twice. */
    if (!method_safe(op) && x->result != CURLE_COULDNT_CONNECT && x->result != CURLE_COULDNT_RESOLVE_HOST)
      e.retryable = 0;
    e.kind = kind;
    e.code = curl_easy_strerror(x->result);
    azrp_url_redact(next_url(op), safe, sizeof safe);
    snprintf(msg, sizeof msg, "%s %s: %s", next_method(op), safe, x->error[0] ? x->error : e.code);
    e.message = msg;
    azrp_xfer_free(http, x);
    retry_or_fail(L, op, &e, -1);
    lua_settop(L, top);
    return;
  }
  if (x->status == 401 && op->auth && !op->auth_retried) {
    /* An expired or revoked token: drop it once, wait for a new one, resend
       (a raw request too: a list's nextLink, a SAS-less GET with auth). */
    op->auth_retried = 1;
    azrp_client_token_rejected(c);
    op->attempts = 0;
    op->state = OP_NEED_TOKEN;
    azrp_xfer_free(http, x);
    return;
  }
  if (op->raw) {
    if (status_retryable(x->status) && method_safe(op) && op->attempts < max_attempts(op)) {
      double ra = header_retry_after(x);
      memset(&e, 0, sizeof e);
      e.retryable = 1;
      azrp_xfer_free(http, x);
      if (ra >= 0 && ra <= azrp_client_max_retry_after(c)) {
        azrp_client_note_retry(c);
        op->due = azrp_now() + ra;
        op->state = OP_WAITING;
      }
      else if (ra < 0) {
        e.kind = "http";
        retry_or_fail(L, op, &e, -1);
      }
      else {
        e.kind = "throttled";
        e.code = "RetryAfterTooLong";
        e.message = "the server asked to wait longer than max_retry_after";
        e.status = op->last_status;
        e.retry_after = ra;
        op_error_info(L, op, &e);
      }
      lua_settop(L, top);
      return;
    }
    raw_done(L, op, x);
    azrp_xfer_free(http, x);
    lua_settop(L, top);
    return;
  }
  if (x->status >= 400) {
    double ra = header_retry_after(x);
    if (op->phase == PH_FINAL && x->status == 404 && strcmp(op->method, "DELETE") == 0) {
      lua_pushboolean(L, 1);
      op_finish(L, op, 1);
      azrp_xfer_free(http, x);
      return;
    }
    http_error(L, op, x, &e);
    /* A POST that must not run twice is resent only when the server says it
       did not run it: 429 (ARM throttled it before the resource provider)
       and, as the Azure SDKs do, 500/503/504. */
    if (!method_safe(op) && !(x->status == 429 || x->status == 500 || x->status == 503 || x->status == 504))
      e.retryable = 0;
    retry_or_fail(L, op, &e, ra);
    azrp_xfer_free(http, x);
    lua_settop(L, top);
    return;
  }
  op->auth_retried = 0;   /* the token worked: a later 401 is a new refusal */
  switch (op->phase) {
    case PH_INITIAL:
      if (op->lro) lro_started(L, op, x);
      else {
        push_body(L, x);
        if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
        op_finish(L, op, 1);
      }
      break;
    case PH_POLL:
      on_poll(L, op, x);
      break;
    case PH_FINAL:
      if (op->wait_replication) { start_replication(L, op, x); break; }
      push_body(L, x);
      if (lua_isnil(L, -1)) { lua_pop(L, 1); lua_pushboolean(L, 1); }
      op_finish(L, op, 1);
      break;
    case PH_REPLICATION:
      replication(L, op, x);
      break;
  }
  azrp_xfer_free(http, x);
  lua_settop(L, top);
}

/*
** {==================================================================
** Lua methods
** ===================================================================
*/

static azrp_op *check_op (lua_State *L) {
  return (azrp_op *)luaL_checkudata(L, 1, AZRP_OP_MT);
}

static char *dup_bytes (const char *s, size_t len) {
  char *d = (char *)malloc(len + 1);
  if (d == NULL) return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

azrp_op *azrp_op_new (lua_State *L, int client_idx, const azrp_opinit *init) {
  azrp_op *op;
  client_idx = lua_absindex(L, client_idx);
  op = (azrp_op *)lua_newuserdatauv(L, sizeof(azrp_op), 1);
  memset(op, 0, sizeof *op);
  op->held = -1;
  op->client_ref = op->self_ref = op->result_ref = op->progress_ref = LUA_NOREF;
  op->percent = -1;
  op->state = OP_DONE;   /* nothing to free until started */
  luaL_setmetatable(L, AZRP_OP_MT);
  op->c = azrp_client_check(L, client_idx);
  lua_pushvalue(L, client_idx);
  op->client_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (azrp_uuid4(op->request_id) != 0) snprintf(op->request_id, sizeof op->request_id, "00000000-0000-4000-8000-000000000000");
  snprintf(op->name, sizeof op->name, "%s", init->name);
  op->def = init->def;
  if (init->def) {
    op->lro = init->def->lro;
    op->final_state = init->def->final_state;
  }
  op->kind = init->kind;
  op->auth = init->auth;
  op->retry_unsafe = init->retry_unsafe;
  op->wait_replication = init->wait_replication;
  op->raw = init->raw;
  op->max_attempts = init->max_attempts;
  if (init->timeout > 0) op->deadline = azrp_now() + init->timeout;
  /* A failure here leaves the op done: __gc frees what was copied. */
  op->method = strdup(init->method);
  op->url = strdup(init->url);
  if (op->method == NULL || op->url == NULL) luaL_error(L, "out of memory");
  if (init->body) {
    op->body = dup_bytes(init->body, init->bodylen);
    if (op->body == NULL) luaL_error(L, "out of memory");
    op->bodylen = init->bodylen;
  }
  return op;
}

int azrp_op_add_header (azrp_op *op, const char *name, const char *value) {
  size_t len = strlen(name) + strlen(value) + 3;
  char **h = (char **)realloc(op->headers, ((size_t)op->nheaders + 2) * sizeof(char *));
  if (h == NULL) return -1;
  op->headers = h;
  h[op->nheaders] = (char *)malloc(len);
  if (h[op->nheaders] == NULL) { h[op->nheaders] = NULL; return -1; }
  snprintf(h[op->nheaders], len, "%s: %s", name, value);
  h[++op->nheaders] = NULL;
  return 0;
}

void azrp_op_start (lua_State *L, azrp_op *op) {
  lua_pushvalue(L, -1);
  op->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  op->state = OP_WAITING;
  op->started = azrp_now();
  op->due = op->started;
  azrp_client_link(op->c, op);
}

azrp_oplink *azrp_op_link (azrp_op *op) {
  return &op->link;
}

int azrp_op_run (lua_State *L, azrp_op *op, double now) {
  if (op->state == OP_WAITING && op->due <= now) {
    op_fire(L, op);
    return 1;
  }
  if (op->deadline > 0 && now >= op->deadline && op->state != OP_DONE)
    op_expired(L, op);
  return 0;
}

int azrp_op_held (const azrp_op *op, double *sent) {
  /* When it went on the wire; one that has not yet (waiting in libcurl
     for a connection) reaches the server after anything answered now. */
  *sent = op->x != NULL && op->x->wire > 0 ? op->x->wire : HUGE_VAL;
  return op->held;
}

double azrp_op_wakeup (const azrp_op *op, double now, int *sending) {
  double d = 1e18;
  if (op->state == OP_WAITING) d = op->due - now;
  if (op->deadline > 0 && op->deadline - now < d) d = op->deadline - now;
  *sending = op->state == OP_SENDING;
  return d;
}

void azrp_op_token_ready (azrp_op *op) {
  if (op->state == OP_NEED_TOKEN) {
    op->state = OP_WAITING;
    op->due = azrp_now();
  }
}

void azrp_op_token_failed (lua_State *L, azrp_op *op, azrp_errinfo *e) {
  if (op->state == OP_NEED_TOKEN) op_error_info(L, op, e);
}

static int op_gc (lua_State *L) {
  azrp_op *op = check_op(L);
  /* A running op is anchored, so __gc sees a linked one only at
     lua_close, where every finalizer runs: unlink it, or the client's
     list would keep a pointer to freed memory. */
  if (op->x && op->c && azrp_client_http(op->c)) azrp_xfer_free(azrp_client_http(op->c), op->x);
  op->x = NULL;
  if (op->state != OP_DONE) op_unhold(op);
  if (op->state != OP_DONE && op->c) { azrp_client_unlink(op->c, op); op->state = OP_DONE; }
  op_strings_free(op);
  luaL_unref(L, LUA_REGISTRYINDEX, op->result_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, op->progress_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, op->client_ref);
  op->result_ref = op->progress_ref = op->client_ref = LUA_NOREF;
  return 0;
}

/* status() -> "running" | "succeeded" | "failed" | "canceled" */
static int op_status (lua_State *L) {
  azrp_op *op = check_op(L);
  if (op->state != OP_DONE) lua_pushliteral(L, "running");
  else if (op->ok) lua_pushliteral(L, "succeeded");
  else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, op->result_ref);
    lua_getfield(L, -1, "kind");
    if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "canceled") == 0) lua_pushliteral(L, "canceled");
    else lua_pushliteral(L, "failed");
  }
  return 1;
}

static int op_done (lua_State *L) {
  lua_pushboolean(L, check_op(L)->state == OP_DONE);
  return 1;
}

/* result() -> value | nil, err (raises if still running) */
static int op_result (lua_State *L) {
  azrp_op *op = check_op(L);
  if (op->state != OP_DONE) return luaL_error(L, "operation %s is still running", op->name);
  if (op->ok) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, op->result_ref);
    return 1;
  }
  luaL_pushfail(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, op->result_ref);
  return 2;
}

/* cancel(): stops polling (Azure's own operation goes on) */
static int op_cancel (lua_State *L) {
  azrp_op *op = check_op(L);
  if (op->state != OP_DONE)
    azrp_op_fail(L, op, "canceled", "Canceled", "the operation was canceled by the caller");
  return 0;
}

/*
** __close: a running op is canceled (unlinked and unanchored through
** op_finish, as cancel() does); its memory stays until __gc, so methods
** called on it afterwards still answer.  Sharing __gc here freed the URL
** of an op still in the client's list.
*/
static int op_close (lua_State *L) {
  azrp_op *op = check_op(L);
  if (op->state != OP_DONE && op->c && azrp_client_http(op->c))
    azrp_op_fail(L, op, "canceled", "Canceled", "the operation was closed while running");
  return 0;
}

/* progress() -> percent (or nil), per-disk table (copies) */
static int op_progress (lua_State *L) {
  azrp_op *op = check_op(L);
  if (op->percent < 0) lua_pushnil(L);
  else lua_pushnumber(L, op->percent);
  if (op->progress_ref == LUA_NOREF) lua_pushnil(L);
  else lua_rawgeti(L, LUA_REGISTRYINDEX, op->progress_ref);
  return 2;
}

static int op_client (lua_State *L) {
  azrp_op *op = check_op(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, op->client_ref);
  return 1;
}

static int op_info (lua_State *L) {
  azrp_op *op = check_op(L);
  static const char *const states[] = {"waiting", "sending", "need_token", "done"};
  static const char *const phases[] = {"initial", "poll", "final", "replication"};
  lua_createtable(L, 0, 8);
  lua_pushstring(L, op->name); lua_setfield(L, -2, "operation");
  lua_pushstring(L, states[op->state]); lua_setfield(L, -2, "state");
  lua_pushstring(L, phases[op->phase]); lua_setfield(L, -2, "phase");
  lua_pushstring(L, op->request_id); lua_setfield(L, -2, "client_request_id");
  lua_pushinteger(L, op->attempts); lua_setfield(L, -2, "attempts");
  lua_pushinteger(L, (lua_Integer)op->last_status); lua_setfield(L, -2, "last_status");
  if (op->lro_status[0]) { lua_pushstring(L, op->lro_status); lua_setfield(L, -2, "lro_status"); }
  if (op->last_request_id[0]) { lua_pushstring(L, op->last_request_id); lua_setfield(L, -2, "request_id"); }
  return 1;
}

/* The cqueues polling protocol, on the client's descriptor and deadlines. */
static int op_pollfd (lua_State *L) {
  azrp_op *op = check_op(L);
  azrp_http *http = azrp_client_http(op->c);
  lua_pushinteger(L, http ? azrp_http_pollfd(http) : -1);
  return 1;
}

/* timeout() -> seconds until the client must step again, 0 when done, nil if nothing waits */
static int op_timeout (lua_State *L) {
  azrp_op *op = check_op(L);
  int any = 0;
  double t;
  if (op->state == OP_DONE || azrp_client_http(op->c) == NULL) { lua_pushnumber(L, 0); return 1; }
  t = azrp_client_timeout(op->c, &any);
  if (op->state == OP_NEED_TOKEN && (!any || t > 0.05)) { t = 0.05; any = 1; }   /* the script must renew the token */
  if (!any) lua_pushnil(L);
  else lua_pushnumber(L, t);
  return 1;
}

static int op_events (lua_State *L) {
  check_op(L);
  lua_pushliteral(L, "r");
  return 1;
}

static int op_tostring (lua_State *L) {
  azrp_op *op = check_op(L);
  lua_pushfstring(L, "azrp.Operation %s (%p)", op->name, (void *)op);
  return 1;
}

void azrp_op_open (lua_State *L) {
  static const luaL_Reg methods[] = {
    {"status", op_status},
    {"done", op_done},
    {"result", op_result},
    {"cancel", op_cancel},
    {"progress", op_progress},
    {"client", op_client},
    {"info", op_info},
    {"pollfd", op_pollfd},
    {"events", op_events},
    {"timeout", op_timeout},
    {NULL, NULL}
  };
  static const luaL_Reg meta[] = {
    {"__gc", op_gc},
    {"__close", op_close},
    {"__tostring", op_tostring},
    {NULL, NULL}
  };
  luaL_newmetatable(L, AZRP_OP_MT);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}
/* }================================================================== */
