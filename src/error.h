/*
** azrp.Error: what the world can do wrong, as a value.  Functions return
** nil, err with err a table of metatable azrp.Error carrying kind, status,
** code, message, request_id, client_request_id, retryable, retry_after,
** operation and target, and printing readably.  No field ever holds a
** token, secret, assertion or SAS signature.
*/
#ifndef AZRP_ERROR_H
#define AZRP_ERROR_H

#include "compat.h"

#define AZRP_ERROR_MT "azrp.Error"

typedef struct azrp_errinfo {
  const char *kind;          /* transport, tls, http, azure, lro, timeout, auth, throttled, canceled, invalid */
  long status;               /* HTTP status, 0 if none */
  const char *code;          /* Azure error code or libcurl's name */
  const char *message;
  const char *request_id;    /* x-ms-request-id */
  const char *client_request_id;
  const char *operation;     /* operationId */
  const char *target;        /* the field at fault */
  int retryable;
  double retry_after;        /* seconds, < 0 if none */
} azrp_errinfo;

/* Pushes a new error table built from e. */
void azrp_error_push (lua_State *L, const azrp_errinfo *e);
/* Registers the metatable; called once from luaopen. */
void azrp_error_open (lua_State *L);

#endif
