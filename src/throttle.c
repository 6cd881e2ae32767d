/*
** Token buckets (see throttle.h).
*/
#include "throttle.h"

void azrp_bucket_init (azrp_bucket *b, double size, double rate, double now) {
  b->size = size;
  b->rate = rate;
  b->tokens = size;
  b->at = now;
  b->promised = 0;
}

double azrp_bucket_level (azrp_bucket *b, double now) {
  b->tokens += (now - b->at) * b->rate;
  if (b->tokens > b->size) b->tokens = b->size;
  b->at = now;
  return b->tokens;
}

int azrp_bucket_take (azrp_bucket *b, double now, double *wait) {
  if (azrp_bucket_level(b, now) >= 1) {
    b->tokens -= 1;
    return 1;
  }
  /* Waiters queue: each is promised the next token after the previous
     waiter's, so that hundreds of operations do not all wake at the same
     refill instant and fight for one token. */
  if (b->promised < now + (1 - b->tokens) / b->rate) b->promised = now + (1 - b->tokens) / b->rate;
  else b->promised += 1 / b->rate;
  *wait = b->promised - now;
  return 0;
}

void azrp_bucket_sync (azrp_bucket *b, double left, double now) {
  /* Refill first: the server's count already includes the refill since our last take. */
  if (left < azrp_bucket_level(b, now)) b->tokens = left;
}
