/* clock — wall-clock milliseconds, RFC 3339 UTC times, random ids. */
#ifndef EVKIT_CLOCK_H
#define EVKIT_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
/* Monotonic milliseconds, for timeouts and back-off. */
int64_t clock_mono_ms(void);
/* Monotonic microseconds, for pacing finer than a millisecond. */
int64_t clock_mono_us(void);
/* "2026-11-23T12:00:00.123Z" into out (at least 25 bytes). */
void clock_rfc3339(int64_t ms, char out[25]);
/* Parses an RFC 3339 time (Z or ±hh:mm, optional fraction) into epoch ms;
 * returns 0 on success, -1 if s is not one. */
int clock_parse_rfc3339(const char *s, int64_t *ms);

/* 64 random bits from a per-process generator seeded by getrandom(2). */
uint64_t rand64(void);
/* A random (version 4) UUID, lower-case, into out (37 bytes). */
void uuid_v4(char out[37]);
/* A time-ordered (version 7) UUID. */
void uuid_v7(char out[37]);
void uuid_format(const unsigned char u[16], char out[37]);

#endif
