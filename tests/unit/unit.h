/* unit.h — a tiny TAP harness for the C unit tests of lib/. */
#ifndef EVKIT_UNIT_H
#define EVKIT_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond) do { \
	unit_n++; \
	if (cond) { \
		printf("ok %d - %s\n", unit_n, #cond); \
	} else { \
		unit_failed++; \
		printf("not ok %d - %s:%d: %s\n", unit_n, __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	unit_n++; \
	if (g_ != NULL && strcmp(g_, w_) == 0) { \
		printf("ok %d - %s == \"%s\"\n", unit_n, #got, w_); \
	} else { \
		unit_failed++; \
		printf("not ok %d - %s:%d: %s is \"%s\", want \"%s\"\n", unit_n, \
		    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_); \
	} \
} while (0)

#define UNIT_DONE() (printf("1..%d\n", unit_n), unit_failed ? 1 : 0)

#endif
