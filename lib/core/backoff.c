/* backoff — exponential backoff with full jitter (see backoff.h). */
#include <stdlib.h>

#include "backoff.h"
#include "clock.h"

int64_t
backoff_ms(int64_t base_ms, int64_t cap_ms, int retry)
{
	int64_t top = base_ms;

	for (int i = 0; i < retry && top < cap_ms; i++)
		top *= 2;
	if (top > cap_ms)
		top = cap_ms;
	return top > 0 ? (int64_t)(rand64() % (uint64_t)(top + 1)) : 0;
}

int64_t
backoff_base(const char *var, int64_t dflt)
{
	const char *e = getenv(var);
	int64_t b = dflt;

	if (e != NULL && *e != '\0')
		b = strtoll(e, NULL, 10);
	return b > 0 ? b : 0;
}
