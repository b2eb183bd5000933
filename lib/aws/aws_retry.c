/* aws_retry — AWS's standard retry mode, with the figures of the AWS SDK
 * for JavaScript v3 (the SDK our bench compares with): at most 3 attempts
 * (AWS_MAX_ATTEMPTS overrides), a wait before retry i of a random time in
 * [0, min(base * 2^(i-1), 20 s)] (full jitter) where base is 100 ms, or
 * 500 ms after throttling; a retry quota of 500 tokens per client, a retry
 * costing 5 (10 after a timeout or a failed connection), a success giving
 * back what its retry cost, or 1.  botocore has the same shape with a
 * 1 s base; the quota stops a client that fails everywhere from
 * multiplying its load on a struggling service. */
#include <stdlib.h>

#include "core/backoff.h"
#include "core/clock.h"

#include "aws_int.h"

enum { QUOTA = 500, COST = 5, TIMEOUT_COST = 10, NO_RETRY_GAIN = 1 };

void
aws_retry_init(struct aws_retry *r)
{
	const char *a = getenv("AWS_MAX_ATTEMPTS");
	long n = a != NULL && *a != '\0' ? strtol(a, NULL, 10) : 3;

	r->max_attempts = n >= 1 && n <= 100 ? (int)n : 3;
	r->base_ms = backoff_base("EVKIT_AWS_BACKOFF_MS", 100);
	r->throttle_base_ms = r->base_ms * 5;
	r->cap_ms = 20000;
	r->tokens = QUOTA;
	r->rnd = rand64;
}

int64_t
aws_retry_delay(const struct aws_retry *r, int kind, int retry)
{
	int64_t top = kind == AWS_R_THROTTLE ? r->throttle_base_ms : r->base_ms;

	for (int i = 1; i < retry && top < r->cap_ms; i++)
		top *= 2;
	if (top > r->cap_ms)
		top = r->cap_ms;
	return top > 0 ? (int64_t)(r->rnd() % (uint64_t)(top + 1)) : 0;
}

int
aws_retry_take(struct aws_retry *r, int kind)
{
	int cost = kind == AWS_R_TIMEOUT ? TIMEOUT_COST : COST;

	if (kind == AWS_R_NO || r->tokens < cost)
		return 0;
	r->tokens -= cost;
	return cost;
}

void
aws_retry_ok(struct aws_retry *r, int cost)
{
	r->tokens += cost > 0 ? cost : NO_RETRY_GAIN;
	if (r->tokens > QUOTA)
		r->tokens = QUOTA;
}
