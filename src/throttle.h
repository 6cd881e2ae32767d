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
  int inflight;         /* requests taken and not yet answered */
} azrp_bucket;

/* Full, at time now. */
void azrp_bucket_init (azrp_bucket *b, double size, double rate, double now);
/* Refills to now and returns the level. */
double azrp_bucket_level (azrp_bucket *b, double now);
/* Takes a token for a request: 1 (it is then in flight until
   azrp_bucket_answered), or 0 and the seconds to wait in *wait (waiters
   queue). */
int azrp_bucket_take (azrp_bucket *b, double now, double *wait);
/* A request taken from b got its answer (or was never sent). */
void azrp_bucket_answered (azrp_bucket *b);
/* The server said left after one of our requests, and later has of our
   requests had not reached it: the level comes down to left - later when
   the server counts fewer (others share the subscription). */
void azrp_bucket_sync (azrp_bucket *b, double left, int later, double now);
/* What an answer saying left does to b: a sync, when left less what we
   have in flight is below our level (only then can our requests the
   server had not yet seen matter, and count_later(ud) counts them: a
   walk of the caller's requests, spared otherwise). */
void azrp_bucket_heard (azrp_bucket *b, double left, double now,
                        int (*count_later) (void *ud), void *ud);

#endif
