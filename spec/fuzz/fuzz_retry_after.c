/*
** Retry-After and retry-after-ms (src/util.c azrp_retry_after): whatever
** the value, the delay is -1 (absent or unreadable) or a finite number of
** seconds >= 0, never NaN or infinite (a poll scheduled at now + NaN
** never fires, and now + inf never either).
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

#include "util.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  double d = azrp_retry_after((const char *)data, size);
  if (!(d == -1 || (isfinite(d) && d >= 0))) {
    fprintf(stderr, "azrp_retry_after returned %g\n", d);
    abort();
  }
  return 0;
}
