/*
** The boundary between a client and its operations.  client.c owns
** struct azrp_client (the Lua-visible azrp.Client: connection pool,
** settings, token slot, throttle, the list of operations in flight and
** the event loop); operation.c owns struct azrp_op (one operation's state
** machine); request.c builds ARM operations for client:begin.  Both
** structures are opaque: each file reaches the other's only through the
** functions below, so that what a field means is decided in one file.
*/
#ifndef AZRP_ENGINE_H
#define AZRP_ENGINE_H

#include "compat.h"
#include "http.h"
#include "registry.h"

#define AZRP_CLIENT_MT "azrp.Client"
#define AZRP_OP_MT "azrp.Operation"

typedef struct azrp_client azrp_client;
typedef struct azrp_op azrp_op;
struct azrp_errinfo;

/*
** An operation's place in its client's list of operations in flight.
** The list is the client's (azrp_client_link, azrp_client_unlink, and
** client.c walks it); each operation holds its node, so that linking
** costs no allocation and unlinking is O(1).
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
** {==================================================================
** operation.c: request.c and client.c make operations; client.c drives
** them (step, timeout, tokens, close) without seeing their state
** ===================================================================
*/
/* Pushes a new operation of the client at client_idx, not running yet. */
azrp_op *azrp_op_new (lua_State *L, int client_idx, const azrp_opinit *init);
/* Adds one of a raw request's own headers; -1 when out of memory. */
int azrp_op_add_header (azrp_op *op, const char *name, const char *value);
/* Links the op (on the stack top) into its client and anchors it. */
void azrp_op_start (lua_State *L, azrp_op *op);
/* The op's node in its client's list. */
azrp_oplink *azrp_op_link (azrp_op *op);
/* step(): sends the op if it is due at now, or times it out; 1 when it was due. */
int azrp_op_run (lua_State *L, azrp_op *op, double now);
/* Seconds from now until the op needs step() (1e18: nothing scheduled); *sending while its transfer runs. */
double azrp_op_wakeup (const azrp_op *op, double now, int *sending);
/* The throttle kind its request in flight is counted in (-1: none), and in
   *sent when that request went on the wire (HUGE_VAL: not yet). */
int azrp_op_held (const azrp_op *op, double *sent);
/* Digests a finished transfer of the op (its owner). */
void azrp_op_response (lua_State *L, azrp_op *op, azrp_xfer *x);
/* set_token(): an op waiting for a token is due now; others are left alone. */
void azrp_op_token_ready (azrp_op *op);
/* token_failed(): an op waiting for a token fails with e; others are left alone. */
void azrp_op_token_failed (lua_State *L, azrp_op *op, struct azrp_errinfo *e);
/* Ends a running op with an error (close() cancels its ops with it). */
void azrp_op_fail (lua_State *L, azrp_op *op, const char *kind, const char *code, const char *msg);
/* luaopen (core.c): registers the azrp.Operation metatable. */
void azrp_op_open (lua_State *L);
/* }================================================================== */

/* request.c: client:begin(operationId, params) */
int azrp_client_begin (lua_State *L);

/*
** {==================================================================
** client.c: what an operation and client:begin need of the client
** ===================================================================
*/
/* The client at idx; raises when it is not one or is closed. */
azrp_client *azrp_client_check (lua_State *L, int idx);
/* The connection pool transfers run on; NULL once the client is closed. */
azrp_http *azrp_client_http (azrp_client *c);
/* An op starts or ends running: into or out of the list step() walks. */
void azrp_client_link (azrp_client *c, azrp_op *op);
void azrp_client_unlink (azrp_client *c, azrp_op *op);
/* What client:begin builds URLs from: ARM's base URL (no trailing slash), */
const char *azrp_client_endpoint (azrp_client *c);
/* the default subscriptionId (NULL when none), */
const char *azrp_client_subscription (azrp_client *c);
/* the api-version of a provider (the override, else its newest stable), */
const char *azrp_client_api_version (azrp_client *c, const char *provider);
/* and the default total time of an operation (operation_timeout; 0 = none). */
double azrp_client_op_timeout (azrp_client *c);
/* Why url must not be used with this client's transport settings (secret: it carries a token), or NULL. */
const char *azrp_client_url_problem (azrp_client *c, const char *url, int secret);
/*
** The bearer token to send now, or NULL when there is none or it expired;
** either way, or when it is near its expiry, the client then wants a new
** one (token_wanted()).
*/
const char *azrp_client_token (azrp_client *c);
/* A 401: the token is dropped and a new one wanted, bypassing caches. */
void azrp_client_token_rejected (azrp_client *c);
/* Takes a token of the throttle bucket of kind: 1, or 0 and the seconds to
   wait (counted for stats).  On 1, *held is the bucket that now counts the
   request in flight (-1: none). */
int azrp_client_take (azrp_client *c, int kind, double now, double *wait, int *held);
/* The request held by bucket held got its answer, or will not be sent. */
void azrp_client_answered (azrp_client *c, int held);
/* Lowers the buckets to the remaining-requests counts of ARM's response x
   to a request sent at sent. */
void azrp_client_ratelimit (azrp_client *c, const azrp_xfer *x, double sent);
/* The retry policy (client{retry=}): tries per request, the longest Retry-After honoured, */
int azrp_client_max_attempts (azrp_client *c);
double azrp_client_max_retry_after (azrp_client *c);
/* and the jittered exponential wait after attempts failed tries. */
double azrp_client_backoff (azrp_client *c, int attempts);
/* The wait before the next poll: Retry-After (-1: none) within client{poll=}. */
double azrp_client_poll_delay (azrp_client *c, double retry_after);
/* Counts for stats(). */
void azrp_client_note_request (azrp_client *c);
void azrp_client_note_retry (azrp_client *c);
/* Seconds until step() must run again (0 = now); *any = 0 when nothing waits. */
double azrp_client_timeout (azrp_client *c, int *any);
/* luaopen (core.c): registers azrp.Client and sets core.client on the module table at the top. */
void azrp_client_open (lua_State *L);
/* }================================================================== */

#endif
