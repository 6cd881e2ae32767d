/*
** The local image a disk export writes: sized without allocating
** (ftruncate leaves a hole, so an 8 GiB disk holding 1 GiB takes 1 GiB
** on disk), and hashed the way the disk would be, holes read as zeros.
** Hashing skips the holes' read(2)s (SEEK_DATA/SEEK_HOLE) and feeds
** SHA-256 zeros from a static buffer instead: the digest must still see
** every byte, but the kernel need not copy them.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "compat.h"

#define CHUNK (1 << 20)

static FILE *check_file (lua_State *L, int i) {
  luaL_Stream *s = (luaL_Stream *)luaL_checkudata(L, i, LUA_FILEHANDLE);
  if (s->f == NULL) luaL_argerror(L, i, "closed file");
  return s->f;
}

static lua_Integer check_size (lua_State *L, int i) {
  lua_Integer n = luaL_checkinteger(L, i);
  luaL_argcheck(L, n >= 0, i, "a size in bytes, 0 or more");
  return n;
}

static int fail (lua_State *L, const char *what) {
  luaL_pushfail(L);
  lua_pushfstring(L, "%s: %s", what, strerror(errno));
  return 2;
}

/* image_truncate(file, size) -> true | nil, msg: the file's length
** becomes size; what is past the written data is a hole. */
static int image_truncate (lua_State *L) {
  FILE *f = check_file(L, 1);
  lua_Integer size = check_size(L, 2);
  if (fflush(f) != 0 || ftruncate(fileno(f), (off_t)size) != 0) return fail(L, "truncate");
  lua_pushboolean(L, 1);
  return 1;
}

/* Feeds n bytes of the file from off; 0 or -1 (errno set). */
static int feed_data (EVP_MD_CTX *md, int fd, off_t off, off_t n, unsigned char *buf) {
  while (n > 0) {
    ssize_t got = pread(fd, buf, (size_t)(n < CHUNK ? n : CHUNK), off);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (got == 0) { errno = EIO; return -1; }  /* shorter than its own length */
    EVP_DigestUpdate(md, buf, (size_t)got);
    off += got;
    n -= got;
  }
  return 0;
}

static void feed_zeros (EVP_MD_CTX *md, off_t n) {
  static const unsigned char zeros[CHUNK];
  while (n > 0) {
    size_t k = (size_t)(n < CHUNK ? n : CHUNK);
    EVP_DigestUpdate(md, zeros, k);
    n -= (off_t)k;
  }
}

/* Feeds [pos, stop) of the file: holes as zeros (no read), data as read.
** 0, or -1 with errno set. */
static int feed_range (EVP_MD_CTX *md, int fd, off_t pos, off_t stop, unsigned char *buf) {
  while (pos < stop) {
    off_t data = lseek(fd, pos, SEEK_DATA), hole;
    if (data < 0 && errno == ENXIO) data = stop;     /* only a hole to the end */
    else if (data < 0) return -1;
    if (data > stop) data = stop;
    feed_zeros(md, data - pos);
    pos = data;
    if (pos >= stop) break;
    hole = lseek(fd, pos, SEEK_HOLE);
    if (hole < 0) return -1;
    if (hole > stop) hole = stop;
    if (feed_data(md, fd, pos, hole - pos, buf) != 0) return -1;
    pos = hole;
  }
  return 0;
}

static void push_hex (lua_State *L, EVP_MD_CTX *md) {
  unsigned char out[EVP_MAX_MD_SIZE];
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  unsigned int len = 0, i;
  EVP_DigestFinal_ex(md, out, &len);
  for (i = 0; i < len; i++) snprintf(hex + 2 * i, 3, "%02x", out[i]);
  lua_pushlstring(L, hex, 2 * len);
}

/* image_sha256(file, size [, prefix]) -> hex [, prefix_hex] | nil, msg:
** SHA-256 of the file's first size bytes (a file shorter than size
** fails) and, in the same pass, of its first prefix bytes (a VHD's disk
** without its footer). */
static int image_sha256 (lua_State *L) {
  FILE *f = check_file(L, 1);
  off_t size = (off_t)check_size(L, 2);
  off_t prefix = lua_isnoneornil(L, 3) ? -1 : (off_t)check_size(L, 3);
  int fd = fileno(f), rc = 0;
  unsigned char *buf;
  EVP_MD_CTX *md, *pmd = NULL;
  luaL_argcheck(L, prefix <= size, 3, "a prefix no longer than size");
  if (fflush(f) != 0) return fail(L, "sha256");
  buf = (unsigned char *)lua_newuserdata(L, CHUNK);  /* freed by the GC, also on error */
  md = EVP_MD_CTX_new();
  if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(md);
    return luaL_error(L, "sha256: cannot start a digest");
  }
  if (prefix >= 0) {
    rc = feed_range(md, fd, 0, prefix, buf);
    pmd = EVP_MD_CTX_new();
    if (rc == 0 && (pmd == NULL || EVP_MD_CTX_copy_ex(pmd, md) != 1)) { errno = ENOMEM; rc = -1; }
  }
  if (rc == 0) rc = feed_range(md, fd, prefix >= 0 ? prefix : 0, size, buf);
  if (rc == 0 && lseek(fd, 0, SEEK_END) < size) {
    char msg[80];
    EVP_MD_CTX_free(md);
    EVP_MD_CTX_free(pmd);
    /* %I of lua_pushfstring is 5.3's: format it here for every Lua */
    snprintf(msg, sizeof msg, "sha256: the file is shorter than %lld bytes", (long long)size);
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
  }
  if (rc != 0) {
    EVP_MD_CTX_free(md);
    EVP_MD_CTX_free(pmd);
    return fail(L, "sha256");
  }
  push_hex(L, md);
  EVP_MD_CTX_free(md);
  if (pmd == NULL) return 1;
  push_hex(L, pmd);
  EVP_MD_CTX_free(pmd);
  return 2;
}

/* Writes n bytes of buf at off, whole; 0 or -1 (errno set). */
static int write_all (int fd, const unsigned char *buf, size_t n, off_t off) {
  while (n > 0) {
    ssize_t put = pwrite(fd, buf, n, off);
    if (put < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += put;
    off += put;
    n -= (size_t)put;
  }
  return 0;
}

static int all_zero (const unsigned char *p, size_t n) {
  static const unsigned char zeros[CHUNK];
  return memcmp(p, zeros, n) == 0;
}

/* image_copy(from, to, size) -> bytes written | nil, msg: to becomes a
** copy of from's first size bytes, as sparse as it can be: from's holes
** are not read and blocks of zeros are not written, so that patching a
** copy of an 8 GiB image holding 1 GiB costs 1 GiB of reads and writes.
** An incremental export starts from such a copy of the earlier image. */
static int image_copy (lua_State *L) {
  FILE *from = check_file(L, 1), *to = check_file(L, 2);
  off_t size = (off_t)check_size(L, 3), pos = 0, written = 0;
  int in, out;
  unsigned char *buf;
  if (fflush(from) != 0 || fflush(to) != 0) return fail(L, "copy");
  in = fileno(from);
  out = fileno(to);
  if (lseek(in, 0, SEEK_END) < size) {
    char msg[80];
    snprintf(msg, sizeof msg, "copy: the file is shorter than %lld bytes", (long long)size);
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    return 2;
  }
  /* What the target held before (a copy cut short by a crash) goes. */
  if (ftruncate(out, 0) != 0 || ftruncate(out, size) != 0) return fail(L, "copy");
  buf = (unsigned char *)lua_newuserdata(L, CHUNK);
  while (pos < size) {
    off_t data = lseek(in, pos, SEEK_DATA), hole;
    if (data < 0 && errno == ENXIO) break;           /* only a hole to the end */
    if (data < 0) return fail(L, "copy");
    if (data >= size) break;
    hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0) return fail(L, "copy");
    if (hole > size) hole = size;
    for (pos = data; pos < hole; ) {
      size_t k = (size_t)(hole - pos < CHUNK ? hole - pos : CHUNK);
      ssize_t got = pread(in, buf, k, pos);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return fail(L, "copy");
      if (got == 0) { errno = EIO; return fail(L, "copy"); }
      if (!all_zero(buf, (size_t)got)) {
        if (write_all(out, buf, (size_t)got, pos) != 0) return fail(L, "copy");
        written += got;
      }
      pos += got;
    }
  }
  lua_pushinteger(L, (lua_Integer)written);
  return 1;
}

/* image_zero(file, offset, length) -> true | nil, msg: the bytes read as
** zeros from now on, as a hole where the file system can punch one (a
** page range a diff says was cleared), written as zeros where not. */
static int image_zero (lua_State *L) {
  static const unsigned char zeros[CHUNK];
  FILE *f = check_file(L, 1);
  off_t off = (off_t)check_size(L, 2), n = (off_t)check_size(L, 3);
  int fd;
  if (fflush(f) != 0) return fail(L, "zero");
  fd = fileno(f);
#ifdef FALLOC_FL_PUNCH_HOLE
  if (n == 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, n) == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (errno != EOPNOTSUPP && errno != ENOSYS) return fail(L, "zero");
#endif
  while (n > 0) {
    size_t k = (size_t)(n < CHUNK ? n : CHUNK);
    if (write_all(fd, zeros, k, off) != 0) return fail(L, "zero");
    off += (off_t)k;
    n -= (off_t)k;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static const luaL_Reg image_funcs[] = {
  {"image_truncate", image_truncate},
  {"image_sha256", image_sha256},
  {"image_copy", image_copy},
  {"image_zero", image_zero},
  {NULL, NULL}
};

void azrp_image_open (lua_State *L);

/* Adds the functions to the module table on top of the stack. */
void azrp_image_open (lua_State *L) {
  luaL_setfuncs(L, image_funcs, 0);
}
