/*
** The client and operation structures shared by client.c (the Lua-visible
** client and its event loop) and operation.c (each operation's state
** machine).  Neither file exposes them beyond the C core.
*/
#ifndef AZRP_ENGINE_H
#define AZRP_ENGINE_H

#include <stdint.h>

#include "compat.h"
#include "http.h"
#include "registry.h"
#include "throttle.h"

#define AZRP_CLIENT_MT "azrp.Client"
#define AZRP_OP_MT "azrp.Operation"

typedef struct azrp_op azrp_op;


typedef struct azrp_client {
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
  azrp_op *head;              /* operations in flight */
  int nactive;
  long requests;              /* HTTP requests sent, for stats */
  long retries;
  long throttled_waits;
} azrp_client;

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
  int result_ref;             /* value on success, azrp.Error on failure */
  int ok;
  double percent;             /* progress, -1 unknown */
  int progress_ref;           /* per-disk replication progress table */
  long last_status;
  char last_request_id[64];   /* x-ms-request-id of the latest response */
  char lro_status[32];        /* InProgress, Succeeded ... */
  int raw;                    /* keep the body as a string (raw requests) */
  azrp_op *prev, *next;
};

/* operation.c */
azrp_op *azrp_op_new (lua_State *L, int client_idx);
void azrp_op_start (lua_State *L, azrp_op *op);       /* links it and anchors it */
void azrp_op_fire (lua_State *L, azrp_op *op);        /* sends when due */
void azrp_op_response (lua_State *L, azrp_op *op, azrp_xfer *x);
void azrp_op_fail (lua_State *L, azrp_op *op, const char *kind, const char *code, const char *msg);
void azrp_op_timeout (lua_State *L, azrp_op *op);
struct azrp_errinfo;
void azrp_op_error_info (lua_State *L, azrp_op *op, struct azrp_errinfo *e);
void azrp_op_open (lua_State *L);

/* request.c */
int azrp_client_begin (lua_State *L);   /* client:begin(operationId, params) */

/* client.c */
azrp_client *azrp_client_check (lua_State *L, int idx);
double azrp_client_jitter (azrp_client *c);
int azrp_client_take (azrp_client *c, int kind, double now, double *wait);
const char *azrp_client_api_version (azrp_client *c, const char *provider);
double azrp_client_timeout (azrp_client *c, int *any);
void azrp_client_open (lua_State *L);

#endif
