/*
** The client-side token bucket, one per ARM operation kind (read, write,
** delete), sized as ARM's per-subscription buckets: requests wait here
** rather than meet a 429.  No Lua types.
*/
#ifndef AZRP_THROTTLE_H
#define AZRP_THROTTLE_H

typedef struct azrp_bucket {
  double size, rate;    /* capacity and refill per second */
  double tokens, at;    /* level at time at (monotonic) */
  double promised;      /* when the last waiter was told a token would be there */
} azrp_bucket;

/* Full, at time now. */
void azrp_bucket_init (azrp_bucket *b, double size, double rate, double now);
/* Refills to now and returns the level. */
double azrp_bucket_level (azrp_bucket *b, double now);
/* Takes a token: 1, or 0 and the seconds to wait in *wait (waiters queue). */
int azrp_bucket_take (azrp_bucket *b, double now, double *wait);
/* Lowers the level to left when the server counts fewer (others share it). */
void azrp_bucket_sync (azrp_bucket *b, double left, double now);

#endif
