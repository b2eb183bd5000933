/* backoff — the one retry backoff of evkit (bus targets, fnrun retries):
 * exponential with full jitter, as the AWS SDKs back off, so that the
 * retries of many deliveries spread out instead of arriving together. */
#ifndef EVKIT_BACKOFF_H
#define EVKIT_BACKOFF_H

#include <stdint.h>

/* The wait before retry n (0-based): a random time from 0 to
 * base_ms * 2^n, at most cap_ms. */
int64_t backoff_ms(int64_t base_ms, int64_t cap_ms, int retry);

/* base_ms from the environment variable var (tests make retries quick),
 * else dflt; read it once, before threads start (getenv is not safe
 * against a concurrent setenv). */
int64_t backoff_base(const char *var, int64_t dflt);

#endif
