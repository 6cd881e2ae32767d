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

/*
** An operation's place in its client's list of operations in flight.
** client.c walks the list; each operation holds its own node, so that
** linking costs no allocation and unlinking is O(1).
*/
typedef struct azrp_oplink {
  azrp_op *prev, *next;
} azrp_oplink;

/*
** What a new operation sends and how it reads the answers: request.c
** fills one from a registry row, client.c from request{} options.
** azrp_op_new copies the strings.
*/
typedef struct azrp_opinit {
  const char *name;           /* operationId or "request" */
  const azrp_opdef *def;      /* its registry row (LRO style); NULL for a raw request */
  const char *method, *url;
  const char *body;           /* NULL for none */
  size_t bodylen;
  int kind;                   /* throttle bucket (AZRP_READ ...); -1 for none */
  int auth;                   /* send the client's bearer token */
  int retry_unsafe;           /* a POST that may be sent again after a failure */
  int wait_replication;       /* a copy: poll instanceView to 100 % */
  int raw;                    /* result { status, headers, body } whatever the status */
  double timeout;             /* seconds from now to give up; 0 = never */
  int max_attempts;           /* tries per request; 0 = the client's */
} azrp_opinit;

/*
** operation.c.  request.c and client.c make operations; client.c drives
** them (step, timeout, tokens) without seeing their state.
*/
struct azrp_errinfo;
/* Pushes a new operation on client_idx, not running yet. */
azrp_op *azrp_op_new (lua_State *L, int client_idx, const azrp_opinit *init);
/* Adds a raw request's own header; -1 when out of memory. */
int azrp_op_add_header (azrp_op *op, const char *name, const char *value);
void azrp_op_start (lua_State *L, azrp_op *op);       /* links it and anchors it */
azrp_oplink *azrp_op_link (azrp_op *op);
/* step(): sends the op when due at now, or times it out; 1 when it was due. */
int azrp_op_run (lua_State *L, azrp_op *op, double now);
/* Seconds from now until the op needs step() (1e18: nothing scheduled); *sending while a transfer runs. */
double azrp_op_wakeup (const azrp_op *op, double now, int *sending);
void azrp_op_response (lua_State *L, azrp_op *op, azrp_xfer *x);
/* A token came: an op waiting for one is due now (others are left alone). */
void azrp_op_token_ready (azrp_op *op);
/* No token will come: an op waiting for one fails with e (others are left alone). */
void azrp_op_token_failed (lua_State *L, azrp_op *op, struct azrp_errinfo *e);
/* Ends a running op with an error (cancel, close, a refused URL ...). */
void azrp_op_fail (lua_State *L, azrp_op *op, const char *kind, const char *code, const char *msg);
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
