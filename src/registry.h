/*
** The operation registry: one row per REST operation azrp binds.  The
** Lua bindings are made from these rows, so adding an operation is adding
** a row to registry.c.
*/
#ifndef AZRP_REGISTRY_H
#define AZRP_REGISTRY_H

/* How an operation completes (ARM's long-running operation styles). */
enum {
  AZRP_SYNC = 0,      /* one request: its response is the result */
  AZRP_LRO            /* 201/202 starts an operation that is polled */
};

/* Where a finished LRO's result comes from (x-ms-long-running-operation-options). */
enum {
  AZRP_FINAL_LOCATION = 0,   /* GET the Location URL (PUT falls back to the resource) */
  AZRP_FINAL_ASYNC,          /* the Azure-AsyncOperation status body */
  AZRP_FINAL_ORIGINAL        /* GET the original URL */
};

/* Throttle bucket an operation draws from (ARM's operation types). */
enum { AZRP_READ = 0, AZRP_WRITE, AZRP_DELETE, AZRP_NKINDS };

/* Request body. */
enum { AZRP_BODY_NONE = 0, AZRP_BODY_OPTIONAL, AZRP_BODY_REQUIRED };

typedef struct azrp_opdef {
  const char *id;          /* operationId, e.g. "RestorePoints_Create" */
  const char *method;      /* HTTP method */
  const char *path;        /* path template with {placeholders} */
  const char *provider;    /* api-version family: compute, disk, gallery, network, resources, subscriptions */
  int lro;                 /* AZRP_SYNC or AZRP_LRO */
  int final_state;         /* AZRP_FINAL_* */
  int kind;                /* AZRP_READ, AZRP_WRITE, AZRP_DELETE */
  int body;                /* AZRP_BODY_* */
  int pageable;            /* a list whose pages link with nextLink */
  int retry_unsafe;        /* a POST that may be sent again after a failure */
  const char *query;       /* optional query parameters, space-separated ("$expand forceDeletion") */
  int replication;         /* a copy can be followed to 100 % replication (wait_replication) */
} azrp_opdef;

typedef struct azrp_provider {
  const char *name;            /* "compute" */
  const char *api_version;     /* newest stable, the default */
} azrp_provider;

extern const azrp_opdef azrp_opdefs[];
extern const azrp_provider azrp_providers[];

/* The row of operationId id, or NULL. */
const azrp_opdef *azrp_opdef_find (const char *id);
/* The default api-version of a provider, or NULL. */
const char *azrp_provider_version (const char *name);

/* Oldest api-version azrp sends: restore points began in 2021-03-01. */
#define AZRP_MIN_API_VERSION "2021-03-01"

#endif
