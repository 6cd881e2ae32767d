/*
** Host services a resumable workflow needs and the Lua standard library
** lacks: fsync of a journal file (a record must be on disk before the
** request it announces is sent), isatty (progress lines only on a
** terminal), SIGINT/SIGTERM as a flag the runner polls (stop new work,
** clean up, report), and the pid of this process and of a journal's owner
** (is the run that holds a lock still alive?).
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "compat.h"

/* Set by the handler, read and cleared by core.signal(): a
** volatile sig_atomic_t is all a handler may touch. */
static volatile sig_atomic_t pending = 0;

static void on_signal (int sig) {
  pending = sig;
}

static FILE *check_file (lua_State *L, int i) {
  luaL_Stream *s = (luaL_Stream *)luaL_checkudata(L, i, LUA_FILEHANDLE);
  if (s->f == NULL) luaL_argerror(L, i, "closed file");
  return s->f;
}

/* fsync(file) -> true | nil, msg: flushes the stdio buffer, then the
** kernel's, so the record survives a power cut and a SIGKILL alike. */
static int host_fsync (lua_State *L) {
  FILE *f = check_file(L, 1);
  if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "fsync: %s", strerror(errno));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* isatty(file) -> boolean */
static int host_isatty (lua_State *L) {
  lua_pushboolean(L, isatty(fileno(check_file(L, 1))));
  return 1;
}

static int signal_number (lua_State *L, int i) {
  static const char *const names[] = { "INT", "TERM", "HUP", NULL };
  static const int numbers[] = { SIGINT, SIGTERM, SIGHUP };
  return numbers[luaL_checkoption(L, i, NULL, names)];
}

/* trap("INT", "TERM", ...) -> true: from now on these signals set a flag
** instead of killing the process.  No SA_RESTART: a blocking wait (poll
** in the client's step) returns EINTR at once, so the runner notices the
** signal within one step rather than at the next timeout. */
static int host_trap (lua_State *L) {
  int i, n = lua_gettop(L);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (i = 1; i <= n; i++) {
    if (sigaction(signal_number(L, i), &sa, NULL) != 0)
      return luaL_error(L, "sigaction: %s", strerror(errno));
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* signal([clear]) -> "INT" | "TERM" | "HUP" | nil: the last trapped
** signal; clear = true forgets it. */
static int host_signal (lua_State *L) {
  int sig = pending;
  if (lua_toboolean(L, 1)) pending = 0;
  if (sig == SIGINT) lua_pushliteral(L, "INT");
  else if (sig == SIGTERM) lua_pushliteral(L, "TERM");
  else if (sig == SIGHUP) lua_pushliteral(L, "HUP");
  else lua_pushnil(L);
  return 1;
}

/* pid() -> this process's id */
static int host_pid (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

/* alive(pid) -> boolean: kill(pid, 0); EPERM means alive, owned by
** someone else. */
static int host_alive (lua_State *L) {
  lua_Integer pid = luaL_checkinteger(L, 1);
  int alive;
  luaL_argcheck(L, pid > 0, 1, "a process id");
  alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
  lua_pushboolean(L, alive);
  return 1;
}

static const luaL_Reg host_funcs[] = {
  {"fsync", host_fsync},
  {"isatty", host_isatty},
  {"trap", host_trap},
  {"signal", host_signal},
  {"pid", host_pid},
  {"alive", host_alive},
  {NULL, NULL}
};

void azrp_host_open (lua_State *L);

/* Adds the functions to the module table on top of the stack. */
void azrp_host_open (lua_State *L) {
  luaL_setfuncs(L, host_funcs, 0);
}
