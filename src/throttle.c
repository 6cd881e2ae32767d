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
  b->inflight = 0;
}

double azrp_bucket_level (azrp_bucket *b, double now) {
  /* The server's bucket holds ours plus what is still on its way to it,
     and it stops filling at size: while requests are in flight ours stops
     that much earlier, or a latency near a full bucket (the server full,
     refilling nothing, while we count refill) would put us ahead of it.
     Below zero when more are on their way than it holds: those over will
     meet a 429 unless the server answered some already. */
  double cap = b->size - b->inflight;
  b->tokens += (now - b->at) * b->rate;
  if (b->tokens > cap) b->tokens = cap;
  b->at = now;
  return b->tokens;
}

int azrp_bucket_take (azrp_bucket *b, double now, double *wait) {
  if (azrp_bucket_level(b, now) >= 1) {
    b->tokens -= 1;
    b->inflight++;
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

void azrp_bucket_answered (azrp_bucket *b) {
  if (b->inflight > 0) b->inflight--;
}

void azrp_bucket_heard (azrp_bucket *b, double left, double now,
                        int (*count_later) (void *ud), void *ud) {
  if (left - b->inflight < azrp_bucket_level(b, now))
    azrp_bucket_sync(b, left, count_later(ud), now);
}

void azrp_bucket_sync (azrp_bucket *b, double left, int later, double now) {
  /* Refill first: the server's count already includes the refill since
     our last take.  Our later requests still on their way will each take
     one of the server's left: without them, hundreds in flight would put
     our level that many above the server's. */
  if (left - later < azrp_bucket_level(b, now)) b->tokens = left - later;
}
