/*
** The standalone C tests' one assertion: check(ok, fmt, ...) counts a
** pass, or prints FAIL and the message; each test prints
** "N passed, N failed" last from passed and failed, the line the spec
** runners read.  Included once, by the test's own file.
*/
#ifndef AZRP_SPEC_CHECK_H
#define AZRP_SPEC_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int passed = 0, failed = 0;

static void check (int ok, const char *fmt, ...) {
  va_list ap;
  if (ok) {
    passed++;
    return;
  }
  failed++;
  printf("FAIL: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

#endif
