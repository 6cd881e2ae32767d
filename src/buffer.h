/*
** A growable byte buffer, free of Lua types: transfers collect response
** bodies and headers in it, crypto builds tokens in it.
*/
#ifndef AZRP_BUFFER_H
#define AZRP_BUFFER_H

#include <stddef.h>

typedef struct azrp_buf {
  char *data;    /* always NUL-terminated when len > 0 or after reset */
  size_t len;
  size_t cap;
} azrp_buf;

#define AZRP_BUF_INIT {NULL, 0, 0}

/* 0 on success, -1 when memory runs out (the buffer is left unchanged). */
int azrp_buf_append (azrp_buf *b, const void *p, size_t n);
int azrp_buf_appends (azrp_buf *b, const char *s);
void azrp_buf_reset (azrp_buf *b);   /* len = 0, keeps the memory */
void azrp_buf_free (azrp_buf *b);    /* frees; the buffer is empty again */

#endif
