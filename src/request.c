/*
** client:begin(operationId, params): an ARM request from a registry row
** and the caller's parameters.
**
** Every value is read and checked before the operation exists, so that
** nothing is sent for bad input.  Wrong types and unknown names raise (a
** programmer's mistake); values that are well-typed but that ARM would
** take for something else or refuse (a NUL byte inside, a name with '/',
** an id that names another resource, a conflict between the id and a
** name) return nil, err naming the field.  Strings are read with their
** length: C stops at the first NUL, and "scratch\0-other" must not become
** the disk "scratch".
**
** Order: names (check_names), the id (read_id), one value per path
** placeholder (read_path), api-version, query, body and options; then
** the operation is made and its URL built from the values read.
*/
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "error.h"
#include "json.h"
#include "util.h"

#define MAX_SEGS 32
#define MAX_QUERY 8

typedef struct begin_ctx {
  lua_State *L;
  azrp_client *c;
  const azrp_opdef *d;
  int params;                     /* stack index of params; 0 when none */
  char idbuf[2048];               /* params.id, split in place */
  char *idsegs[MAX_SEGS];         /* NULL where the template has a literal */
  int nids;
  char tbuf[1024];                /* the path template, split in place */
  char *tsegs[MAX_SEGS];
  int nt;
  const char *values[MAX_SEGS];   /* per placeholder segment, its value */
  const char *api;
  const char *qnames[MAX_QUERY];  /* "$expand" ... as the registry spells them */
  const char *qvalues[MAX_QUERY];
  char qbuf[256];                 /* the registry's query names, split in place */
  int nq;
  int body;                       /* stack index of the JSON body; 0 when none */
  int copy;                       /* the body has properties.sourceRestorePoint */
  const char *target;             /* the field at fault, with msg */
  char msg[512];
} begin_ctx;

/* Values of those: 0 read, -1 invalid (b->target and b->msg say why). */
static int invalid (begin_ctx *b, const char *target, const char *fmt, const char *a, const char *c) {
  b->target = target;
  snprintf(b->msg, sizeof b->msg, fmt, a, c);
  return -1;
}

/*
** {==================================================================
** Names
** ===================================================================
*/

/* Parameters any binding accepts beyond its placeholders and query. */
static const char *const common_params[] = {"id", "body", "api_version", "timeout", NULL};

/* The n-th name an operation accepts (snake case), into out; 0 past the last. */
static int nth_param (const azrp_opdef *d, int n, char *out, size_t outlen) {
  const char *p = d->path, *q;
  int i = 0;
  char name[96];
  for (; common_params[i]; i++) if (i == n) { snprintf(out, outlen, "%s", common_params[i]); return 1; }
  if (d->replication && i++ == n) { snprintf(out, outlen, "wait_replication"); return 1; }
  while ((p = strchr(p, '{')) != NULL) {
    const char *e = strchr(p, '}');
    size_t len = (size_t)(e - p - 1);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, p + 1, len);
    name[len] = '\0';
    if (i++ == n) { azrp_snake(name, out, outlen); return 1; }
    p = e;
  }
  for (q = d->query; q && *q; ) {
    size_t len = strcspn(q, " ");
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, q, len);
    name[len] = '\0';
    if (i++ == n) { azrp_snake(name, out, outlen); return 1; }
    q += strcspn(q, " ");
    while (*q == ' ') q++;
  }
  return 0;
}

/* More than any operation takes (4 common, wait_replication, path, query). */
#define MAX_PARAMS 24

/*
** Raises for a parameter name the operation does not take, suggesting the
** snake_case name for a camelCase one ("vmName": "vm_name") and the
** nearest name for a typo (azrp_suggest).
*/
static void check_names (begin_ctx *b) {
  lua_State *L = b->L;
  char names[MAX_PARAMS][96];
  const char *cands[MAX_PARAMS];
  size_t n = 0;
  while (n < MAX_PARAMS && nth_param(b->d, (int)n, names[n], sizeof names[n])) {
    cands[n] = names[n];
    n++;
  }
  lua_pushnil(L);
  while (lua_next(L, b->params) != 0) {
    char snake[96];
    const char *key, *best = NULL;
    size_t len, i;
    int found = 0;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "%s: parameter names must be strings", b->d->id);
    key = lua_tolstring(L, -2, &len);
    for (i = 0; !found && i < n; i++)
      found = strlen(key) == len && strcmp(names[i], key) == 0;
    if (!found) {
      if (strlen(key) != len)
        luaL_error(L, "%s: unknown parameter (its name holds a NUL byte)", b->d->id);
      azrp_snake(key, snake, sizeof snake);
      for (i = 0; best == NULL && i < n; i++)
        if (strcmp(snake, names[i]) == 0) best = names[i];
      if (best == NULL) best = azrp_suggest(snake, cands, n);
      if (best == NULL) best = azrp_suggest(key, cands, n);   /* "VM_NAME" */
      if (best)
        luaL_error(L, "%s: unknown parameter '%s' (did you mean '%s'?)", b->d->id, key, best);
      luaL_error(L, "%s: unknown parameter '%s'", b->d->id, key);
    }
    lua_pop(L, 1);
  }
}

/* A copy of s that lives as long as the call (the error's target). */
static const char *anchored (lua_State *L, const char *s) {
  lua_pushstring(L, s);
  return lua_tostring(L, -1);
}

/*
** params[key] as a string: 1 and *out (a string anchored in params), 0
** when nil; raises for another type; -1 for an embedded NUL.
*/
static int get_string (begin_ctx *b, const char *key, const char **out) {
  lua_State *L = b->L;
  size_t len;
  *out = NULL;
  if (b->params == 0) return 0;
  lua_getfield(L, b->params, key);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return 0; }
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "%s: parameter '%s' must be a string, not %s", b->d->id, key, luaL_typename(L, -1));
  *out = lua_tolstring(L, -1, &len);
  lua_pop(L, 1);   /* the string stays referenced by params */
  if (strlen(*out) != len)
    return invalid(b, anchored(L, key), "%s holds a NUL byte, which no Azure name or value contains%s", key, "");
  return 1;
}
/* }================================================================== */

/*
** {==================================================================
** The path: id and placeholders
** ===================================================================
*/

static int is_guid (const char *s) {
  int i;
  if (strlen(s) != 36) return 0;
  for (i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return 0; }
    else if (!isxdigit((unsigned char)s[i])) return 0;
  }
  return 1;
}

static int chars_ok (const char *s, const char *extra) {
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL) return 0;
  return 1;
}

/* NULL when value is a valid name for the placeholder, else why not. */
static const char *name_problem (const char *placeholder, const char *v) {
  size_t n = strlen(v);
  if (n == 0) return "must not be empty";
  if (strcmp(placeholder, "subscriptionId") == 0)
    return is_guid(v) ? NULL : "must be a GUID";
  if (strcmp(placeholder, "resourceGroupName") == 0) {
    if (n > 90 || !chars_ok(v, "-_.()") || v[n - 1] == '.')
      return "must be 1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'";
    return NULL;
  }
  if (strcmp(placeholder, "diskName") == 0 || strcmp(placeholder, "snapshotName") == 0) {
    if (n > 80 || !chars_ok(v, "-_")) return "must be 1 to 80 letters, digits, '-' or '_'";
    return NULL;
  }
  if (strcmp(placeholder, "galleryImageVersionName") == 0) {
    int dots = 0;
    const char *p;
    for (p = v; *p; p++) {
      if (*p == '.') { dots++; if (p == v || p[1] == '.' || p[1] == '\0') return "must be Major.Minor.Patch"; }
      else if (!isdigit((unsigned char)*p)) return "must be Major.Minor.Patch";
    }
    return dots == 2 ? NULL : "must be Major.Minor.Patch";
  }
  if (strcmp(placeholder, "galleryName") == 0) {
    if (n > 80 || !chars_ok(v, "_.") || !isalnum((unsigned char)v[0]) || !isalnum((unsigned char)v[n - 1]))
      return "must be 1 to 80 letters, digits, '_' or '.', starting and ending with a letter or digit";
    return NULL;
  }
  if (strcmp(placeholder, "vmName") == 0) {
    if (n > 64 || !chars_ok(v, "-_.") || v[n - 1] == '.' || v[n - 1] == '-')
      return "must be 1 to 64 letters, digits, '-', '_' or '.', not ending with '.' or '-'";
    return NULL;
  }
  if (n > 260 || !chars_ok(v, "-_.") || !isalnum((unsigned char)v[0]) || v[n - 1] == '.')
    return "must be letters, digits, '-', '_' or '.', starting with a letter or digit and not ending with '.'";
  return NULL;
}

/* Splits an ARM id or template into segments (in place, in buf); -1 past MAX_SEGS. */
static int split_path (char *buf, char **segs) {
  int n = 0;
  char *p = buf, *s;
  while (*p == '/') p++;
  while (*p) {
    if (n == MAX_SEGS) return -1;
    s = p;
    while (*p && *p != '/') p++;
    if (*p) *p++ = '\0';
    segs[n++] = s;
  }
  return n;
}

/* An ARM id fills the placeholders it covers, matching the template's literals. */
static int read_id (begin_ctx *b) {
  const char *id;
  int i, got = get_string(b, "id", &id);
  if (got <= 0) return got;
  if (strlen(id) >= sizeof b->idbuf || id[0] != '/')
    return invalid(b, "id", "id must be an ARM resource id starting with /subscriptions/%s%s", "", "");
  snprintf(b->idbuf, sizeof b->idbuf, "%s", id);
  b->nids = split_path(b->idbuf, b->idsegs);
  if (b->nids < 0 || b->nids > b->nt)
    return invalid(b, "id", "id has more segments than %s takes (%s)", b->d->id, b->d->path);
  for (i = 0; i < b->nids; i++) {
    if (b->tsegs[i][0] == '{') continue;
    if (strcasecmp(b->tsegs[i], b->idsegs[i]) != 0) {
      char what[160];
      snprintf(what, sizeof what, "%.60s' where '%.60s", b->idsegs[i], b->tsegs[i]);
      return invalid(b, "id", "id does not name a resource %s works on: segment '%s' was expected",
                     b->d->id, what);
    }
    b->idsegs[i] = NULL;   /* literals are taken from the template */
  }
  return 0;
}

/*
** The value of each placeholder: params[snake], else the id's segment at
** the same place, else (subscriptionId) the client's.  A name given both
** ways must agree with the id.
*/
static int read_path (begin_ctx *b) {
  int pos;
  for (pos = 0; pos < b->nt; pos++) {
    char name[96], snake[96];
    const char *v, *fromid, *why;
    size_t n;
    b->values[pos] = NULL;
    if (b->tsegs[pos][0] != '{') continue;
    n = strlen(b->tsegs[pos]) - 2;
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, b->tsegs[pos] + 1, n);
    name[n] = '\0';
    azrp_snake(name, snake, sizeof snake);
    if (get_string(b, snake, &v) < 0) return -1;
    fromid = pos < b->nids ? b->idsegs[pos] : NULL;
    if (v && fromid && strcasecmp(v, fromid) != 0) {
      char what[200];
      snprintf(what, sizeof what, "%.80s' conflicts with id, which names '%.80s", v, fromid);
      return invalid(b, anchored(b->L, snake), "%s '%s'", snake, what);
    }
    if (v == NULL) v = fromid;
    if (v == NULL && strcmp(name, "subscriptionId") == 0) v = azrp_client_subscription(b->c);
    if (v == NULL) luaL_error(b->L, "%s: missing parameter '%s'", b->d->id, snake);
    why = name_problem(name, v);
    if (why) {
      char what[400];
      snprintf(what, sizeof what, "%.200s' %s", v, why);
      return invalid(b, anchored(b->L, snake), "%s '%s", snake, what);
    }
    b->values[pos] = v;
  }
  return 0;
}
/* }================================================================== */

/*
** {==================================================================
** Query, body and options
** ===================================================================
*/

/* api-version: per call, per client, or the provider's newest stable. */
static int read_api_version (begin_ctx *b) {
  if (get_string(b, "api_version", &b->api) < 0) return -1;
  if (b->api == NULL) b->api = azrp_client_api_version(b->c, b->d->provider);
  if (!azrp_api_version_ok(b->api) || strncmp(b->api, AZRP_MIN_API_VERSION, 10) < 0) {
    char shown[64];
    snprintf(shown, sizeof shown, "%.40s", b->api);
    return invalid(b, "api_version", "api_version '%s' is not accepted: it must be YYYY-MM-DD and not older than %s",
                   shown, AZRP_MIN_API_VERSION);
  }
  return 0;
}

/* The registry's optional query parameters ("$expand"), as strings or booleans. */
static int read_query (begin_ctx *b) {
  lua_State *L = b->L;
  char *q, *save = NULL;
  b->nq = 0;
  if (b->d->query == NULL || b->params == 0) return 0;
  snprintf(b->qbuf, sizeof b->qbuf, "%s", b->d->query);
  for (q = strtok_r(b->qbuf, " ", &save); q && b->nq < MAX_QUERY; q = strtok_r(NULL, " ", &save)) {
    char snake[64];
    const char *v = NULL;
    azrp_snake(q, snake, sizeof snake);
    lua_getfield(L, b->params, snake);
    if (lua_type(L, -1) == LUA_TBOOLEAN) v = lua_toboolean(L, -1) ? "true" : "false";
    lua_pop(L, 1);
    if (v == NULL && get_string(b, snake, &v) < 0) return -1;
    if (v) {
      b->qnames[b->nq] = q;
      b->qvalues[b->nq++] = v;
    }
  }
  return 0;
}

/* 1 when the table at idx has properties.sourceRestorePoint (a copy). */
static int is_copy (lua_State *L, int idx) {
  int copy = 0;
  if (lua_getfield(L, idx, "properties") == LUA_TTABLE) {
    copy = lua_getfield(L, -1, "sourceRestorePoint") != LUA_TNIL;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return copy;
}

/*
** The body as JSON text, left on the stack at b->body, and whether it
** asks for a copy.  params.body is read once: what is sent and what
** decides the wait for replication are the same value, whatever a
** params table with an __index does.
*/
static void read_body (begin_ctx *b) {
  lua_State *L = b->L;
  const azrp_opdef *d = b->d;
  b->body = 0;
  b->copy = 0;
  if (b->params) {
    lua_getfield(L, b->params, "body");
    if (lua_isnil(L, -1)) lua_pop(L, 1);
    else {
      int top = lua_gettop(L);
      if (d->body == AZRP_BODY_NONE) luaL_error(L, "%s takes no body", d->id);
      if (lua_type(L, top) == LUA_TTABLE) {
        b->copy = is_copy(L, top);
        if (azrp_json_encode(L, top) == 2)
          luaL_error(L, "%s: body cannot be encoded as JSON: %s", d->id, lua_tostring(L, -1));
        lua_replace(L, top);
      }
      else if (lua_type(L, top) != LUA_TSTRING)
        luaL_error(L, "%s: body must be a table or a JSON string, not %s", d->id, luaL_typename(L, top));
      b->body = top;
    }
  }
  if (d->body == AZRP_BODY_REQUIRED && b->body == 0)
    luaL_error(L, "%s: missing parameter 'body'", d->id);
}

/* timeout (seconds) -> deadline; 0 when not given. */
static double read_timeout (begin_ctx *b) {
  lua_State *L = b->L;
  double t = 0;
  if (b->params == 0) return 0;
  lua_getfield(L, b->params, "timeout");
  if (!lua_isnil(L, -1)) {
    t = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(t > 0))
      luaL_error(L, "%s: parameter 'timeout' must be a positive number", b->d->id);
  }
  lua_pop(L, 1);
  return t;
}

/*
** A copy (a body with properties.sourceRestorePoint, as read_body saw
** it) is followed to 100 % replication unless wait_replication = false;
** true asks for it anyway.
*/
static int read_replication (begin_ctx *b) {
  lua_State *L = b->L;
  int follow = b->copy;
  if (!b->d->replication || b->params == 0) return 0;
  lua_getfield(L, b->params, "wait_replication");
  if (lua_type(L, -1) == LUA_TBOOLEAN) follow = lua_toboolean(L, -1);
  else if (!lua_isnil(L, -1))
    luaL_error(L, "%s: parameter 'wait_replication' must be a boolean", b->d->id);
  lua_pop(L, 1);
  return follow;
}
/* }================================================================== */

/* The endpoint, the path from b->values, api-version and query. */
static int build_url (begin_ctx *b, azrp_buf *url) {
  int pos, i, rc = azrp_buf_appends(url, azrp_client_endpoint(b->c));
  for (pos = 0; rc == 0 && pos < b->nt; pos++) {
    rc |= azrp_buf_append(url, "/", 1);
    if (b->values[pos]) rc |= azrp_url_segment(url, b->values[pos]);
    else rc |= azrp_buf_appends(url, b->tsegs[pos]);
  }
  rc |= azrp_buf_appends(url, "?api-version=");
  rc |= azrp_url_query(url, b->api);
  for (i = 0; i < b->nq; i++) {
    rc |= azrp_buf_append(url, "&", 1);
    rc |= azrp_buf_appends(url, b->qnames[i]);
    rc |= azrp_buf_append(url, "=", 1);
    rc |= azrp_url_query(url, b->qvalues[i]);
  }
  return rc;
}

/*
** begin(operationId, params) -> operation | nil, err
*/
int azrp_client_begin (lua_State *L) {
  begin_ctx *b;
  size_t len;
  const char *opname;
  azrp_buf url = AZRP_BUF_INIT;
  azrp_opinit init;
  azrp_op *op;
  azrp_client *c = azrp_client_check(L, 1);
  opname = luaL_checklstring(L, 2, &len);
  /* The context is big (ids, templates): keep it off the C stack. */
  b = (begin_ctx *)lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  b->L = L;
  b->c = c;
  b->d = strlen(opname) == len ? azrp_opdef_find(opname) : NULL;
  if (b->d == NULL) return luaL_argerror(L, 2, lua_pushfstring(L, "unknown operation '%s'", opname));
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    b->params = 3;
    check_names(b);
  }
  snprintf(b->tbuf, sizeof b->tbuf, "%s", b->d->path);
  b->nt = split_path(b->tbuf, b->tsegs);
  if (read_id(b) < 0 || read_path(b) < 0 || read_api_version(b) < 0 || read_query(b) < 0)
    goto refused;
  read_body(b);
  memset(&init, 0, sizeof init);
  init.timeout = read_timeout(b);
  if (init.timeout <= 0) init.timeout = azrp_client_op_timeout(c);
  init.wait_replication = read_replication(b);
  if (build_url(b, &url) != 0) { azrp_buf_free(&url); return luaL_error(L, "out of memory"); }
  /* Anchored as a Lua string, so that no error below can leak it. */
  lua_pushlstring(L, url.data, url.len);
  azrp_buf_free(&url);
  init.url = lua_tostring(L, -1);
  init.name = b->d->id;
  init.def = b->d;
  init.method = b->d->method;
  init.kind = b->d->kind;
  init.retry_unsafe = b->d->retry_unsafe;
  init.auth = 1;
  if (b->body) init.body = lua_tolstring(L, b->body, &init.bodylen);
  op = azrp_op_new(L, 1, &init);
  azrp_op_start(L, op);
  return 1;
refused:
  {
    azrp_errinfo e;
    memset(&e, 0, sizeof e);
    e.kind = "invalid"; e.code = "InvalidParameter"; e.message = b->msg;
    e.target = b->target; e.operation = b->d->id; e.retry_after = -1;
    luaL_pushfail(L);
    azrp_error_push(L, &e);
    return 2;
  }
}
