/*
** A growable byte buffer (see buffer.h).  No Lua types: libcurl callbacks
** append to it directly, so it must never raise or longjmp, only report
** running out of memory and leave the buffer as it was.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

/* the first allocation; small enough for headers, and doubling from here
   reaches a large body in few steps */
#define BUF_MIN 256


/* Makes room for n more bytes plus the terminating NUL. */
static int buf_grow (azrp_buf *b, size_t n) {
  size_t need, cap;
  char *p;
  if (n > SIZE_MAX - 1 - b->len)
    return -1;  /* the size itself would overflow */
  need = b->len + n + 1;
  if (need <= b->cap)
    return 0;
  cap = b->cap < BUF_MIN ? BUF_MIN : b->cap;
  while (cap < need)  /* double, unless that overflows: then exactly need */
    cap = (cap > SIZE_MAX / 2) ? need : cap * 2;
  p = (char *)realloc(b->data, cap);
  if (p == NULL)
    return -1;  /* b->data is still valid and unchanged */
  b->data = p;
  b->cap = cap;
  return 0;
}


int azrp_buf_append (azrp_buf *b, const void *p, size_t n) {
  if (buf_grow(b, n) != 0)
    return -1;
  if (n > 0)  /* p may be NULL when n is 0; memcpy must not see it */
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}


int azrp_buf_appends (azrp_buf *b, const char *s) {
  return azrp_buf_append(b, s, strlen(s));
}


void azrp_buf_reset (azrp_buf *b) {
  b->len = 0;
  if (b->data != NULL)
    b->data[0] = '\0';
}


void azrp_buf_free (azrp_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}
