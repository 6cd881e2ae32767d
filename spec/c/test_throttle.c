/*
** Standalone tests of src/throttle.c (no Lua, no network): the client's
** token bucket against a simulated ARM bucket, with requests that take
** time to reach it.  The server side is written here from ARM's rule (a
** bucket of size refilled at rate, 429 below one token, the remaining
** count floored into x-ms-ratelimit-remaining-*), as the emulator's
** lua/azrp/emulator/throttle.lua does, not from throttle.c.  The client
** side uses the bucket as src/client.c does: a token per request sent,
** answered() when its response comes, and a sync to the server's count
** less the client's later requests still on their way.
**
** Time is simulated in 1 ms steps, latencies are drawn from a seeded
** generator: the results are the same on every machine.
**
** Build: cc -Isrc spec/c/test_throttle.c src/throttle.c -lm
** (`sh spec/c/run_unit.sh throttle` builds it with sanitizers and under
** valgrind).  Prints "N passed, N failed" last; exits non-zero on failure.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

#include "check.h"

/* xorshift64*: a deterministic stream of doubles in [0, 1) */
static unsigned long long rng_state;
static double rnd (void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ARM's bucket, as the server keeps it. */
typedef struct server { double size, rate, tokens, at; } server;

static int server_take (server *s, double now, double *left) {
  s->tokens += (now - s->at) * s->rate;
  if (s->tokens > s->size) s->tokens = s->size;
  s->at = now;
  if (s->tokens < 1) { *left = 0; return 0; }
  s->tokens -= 1;
  *left = floor(s->tokens);
  return 1;
}

enum { WAITING, TRAVELLING, ANSWERING, DONE };

typedef struct req {
  int state;
  double due;            /* WAITING: when it tries the bucket again */
  double arrive, answer; /* when it reaches the server, when its answer is back */
  double sent;
  double left;           /* the server's remaining count in its answer */
  int refused;
} req;

typedef struct scenario {
  const char *name;
  int n;                 /* requests */
  double size, rate;
  double burst_every;    /* > 0: requests become ready in bursts of burst_n */
  int burst_n;
  int trickle_n;         /* > 0: the first trickle_n ready at trickle_rate, the rest at once after */
  double trickle_rate;
  double others;         /* requests per second other clients take from the server's bucket */
  double lat_min, lat_max;   /* one way, uniform */
  unsigned long long seed;
} scenario;

typedef struct outcome { int refused; double finished; } outcome;

/* Our requests still on their way that were sent after a moment, as
   client.c counts them. */
typedef struct later_ud { const req *r; int n; double after; } later_ud;

static int sent_later (void *ud) {
  const later_ud *l = (const later_ud *)ud;
  int i, later = 0;
  for (i = 0; i < l->n; i++)
    if ((l->r[i].state == TRAVELLING || l->r[i].state == ANSWERING) && l->r[i].sent > l->after) later++;
  return later;
}

/* A count_later for heard(): two later requests, and a count of calls. */
static int count_two (void *ud) {
  (*(int *)ud)++;
  return 2;
}

/* When request i is ready to go. */
static double ready_at (const scenario *sc, int i) {
  if (sc->burst_every > 0) return (i / sc->burst_n) * sc->burst_every;
  if (sc->trickle_n > 0) return (i < sc->trickle_n ? i : sc->trickle_n) / sc->trickle_rate;
  return 0;
}

static outcome run (const scenario *sc) {
  req *r = calloc((size_t)sc->n, sizeof *r);
  azrp_bucket b;
  server s;
  outcome o = { 0, 0 };
  int i, done = 0;
  double t, wait, others = 0, left;
  rng_state = sc->seed;
  azrp_bucket_init(&b, sc->size, sc->rate, 0);
  s.size = sc->size; s.rate = sc->rate; s.tokens = sc->size; s.at = 0;
  for (i = 0; i < sc->n; i++) {
    r[i].state = WAITING;
    r[i].due = ready_at(sc, i);
  }
  for (t = 0; done < sc->n && t < 600; t += 0.001) {
    for (others += sc->others * 0.001; others >= 1; others -= 1) server_take(&s, t, &left);
    for (i = 0; i < sc->n; i++) {
      req *q = &r[i];
      if (q->state == WAITING && q->due <= t) {
        if (azrp_bucket_take(&b, t, &wait)) {
          q->sent = t;
          q->arrive = t + sc->lat_min + rnd() * (sc->lat_max - sc->lat_min);
          q->state = TRAVELLING;
        }
        else q->due = t + wait;
      }
      else if (q->state == TRAVELLING && q->arrive <= t) {
        q->refused = !server_take(&s, t, &q->left);
        q->answer = t + sc->lat_min + rnd() * (sc->lat_max - sc->lat_min);
        q->state = ANSWERING;
      }
      else if (q->state == ANSWERING && q->answer <= t) {
        q->state = DONE;
        done++;
        azrp_bucket_answered(&b);
        if (q->refused) o.refused++;
        /* those sent after it reached the server (half its round trip)
           will take from what the server said was left */
        {
          later_ud l;
          l.r = r; l.n = sc->n; l.after = q->sent + (t - q->sent) / 2;
          azrp_bucket_heard(&b, q->left, t, sent_later, &l);
        }
      }
    }
  }
  o.finished = t;
  free(r);
  return o;
}

int main (void) {
  /* ARM's read bucket, reads sent as fast as the bucket lets them go;
     the ideal is the burst at once, then the refill rate. */
  static const scenario cases[] = {
    { "1000 reads at once, 0-5 ms each way", 1000, 250, 25, 0, 0, 0, 0, 0, 0, 0.005, 1 },
    { "1000 reads at once, 0-200 ms each way", 1000, 250, 25, 0, 0, 0, 0, 0, 0, 0.2, 2 },
    { "1000 reads at once, 300-900 ms each way", 1000, 250, 25, 0, 0, 0, 0, 0, 0.3, 0.9, 3 },
    /* bursts that find the bucket full while earlier ones still travel */
    { "bursts of 40 every 1.2 s, 50-400 ms each way", 800, 250, 25, 1.2, 40, 0, 0, 0, 0.05, 0.4, 4 },
    { "bursts of 300 every 10 s, 0-300 ms each way", 900, 250, 25, 10, 300, 0, 0, 0, 0, 0.3, 5 },
    /* a trickle keeps requests on their way while the bucket is full
       (the server's stops filling, ours must too), then a burst */
    { "20/s for 10 s, then 500 at once, 200-400 ms each way", 700, 250, 25, 0, 0, 200, 20, 0, 0.2, 0.4, 6 },
    { "5/s for 20 s, then 300 at once, 500-1000 ms each way", 400, 250, 25, 0, 0, 100, 5, 0, 0.5, 1, 7 },
    /* other clients take from the same bucket, which only the server's
       counts tell */
    { "1000 reads at once, others 5/s, 0-200 ms each way", 1000, 250, 25, 0, 0, 0, 0, 5, 0, 0.2, 9 },
    { "20/s for 10 s, then 500 at once, others 10/s, 100-300 ms", 700, 250, 25, 0, 0, 200, 20, 10, 0.1, 0.3, 10 },
    /* ARM's write bucket */
    { "400 writes at once, 0-250 ms each way", 400, 200, 10, 0, 0, 0, 0, 0, 0, 0.25, 8 },
  };
  size_t k;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const scenario *sc = &cases[k];
    scenario instant = *sc;
    outcome o = run(sc), ideal;
    /* the ideal: the same requests with no latency at all */
    instant.lat_min = instant.lat_max = 0;
    ideal = run(&instant);
    check(o.refused == 0, "%s: %d answered 429", sc->name, o.refused);
    /* within 3 % of it, plus the last request's round trip and a half
       (its answer, and what a bucket full of requests on their way
       holds back) */
    check(o.finished <= ideal.finished * 1.03 + 3 * sc->lat_max + 0.1, "%s: done at %.2f s, ideal %.2f s",
          sc->name, o.finished, ideal.finished);
    printf("%s: %d refused, done at %.2f s (no latency: %.2f s)\n", sc->name, o.refused, o.finished,
           ideal.finished);
  }
  {
    /* a bucket with more in flight than it holds has a level below zero */
    azrp_bucket b;
    double wait;
    int i;
    azrp_bucket_init(&b, 10, 1, 0);
    for (i = 0; i < 10; i++) azrp_bucket_take(&b, 0, &wait);
    check(azrp_bucket_level(&b, 5) < 0.5, "full of requests in flight, the level stays down: %.2f",
          azrp_bucket_level(&b, 5));
    for (i = 0; i < 10; i++) azrp_bucket_answered(&b);
    check(fabs(azrp_bucket_level(&b, 6) - 1) < 1e-9, "answered, it refills from there: %.2f",
          azrp_bucket_level(&b, 6));
    azrp_bucket_sync(&b, 3, 5, 6);
    check(azrp_bucket_level(&b, 6) <= -2 + 1e-9, "a sync counts our later requests: %.2f",
          azrp_bucket_level(&b, 6));
    check(!azrp_bucket_take(&b, 6, &wait) && wait > 2.9, "and waits for them: %.2f s", wait);
  }
  {
    /* heard(): the later requests are counted only when they could matter */
    azrp_bucket b;
    double wait;
    int calls = 0;
    azrp_bucket_init(&b, 10, 1, 0);
    azrp_bucket_take(&b, 0, &wait);                 /* 9 left, 1 in flight */
    azrp_bucket_heard(&b, 10, 0, count_two, &calls);
    check(calls == 0 && fabs(azrp_bucket_level(&b, 0) - 9) < 1e-9,
          "the server counting more: no walk, level kept (%d walks, %.2f)", calls, azrp_bucket_level(&b, 0));
    azrp_bucket_heard(&b, 6, 0, count_two, &calls);
    check(calls == 1 && fabs(azrp_bucket_level(&b, 0) - 4) < 1e-9,
          "the server counting fewer: one walk, level = left - later (%d walks, %.2f)", calls,
          azrp_bucket_level(&b, 0));
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
