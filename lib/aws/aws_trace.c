/* aws_trace — the trace id an event carries (SPEC 6), in the X-Ray form
 * AWS passes on (AWSTraceHeader, TraceHeader, _X_AMZN_TRACE_ID):
 * "Root=1-XXXXXXXX-YYYYYYYYYYYYYYYYYYYYYYYY;Parent=...;Sampled=...". */
#include <string.h>
#include <strings.h>

#include "core/json.h"

#include "aws_int.h"

/* An X-Ray header as AWS takes it: 1-500 printable ASCII bytes naming a
 * Root. */
static int
good_xray(const char *s, size_t n)
{
	if (n == 0 || n > 500 || (strncmp(s, "Root=", 5) != 0 && strstr(s, ";Root=") == NULL))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
hex(const char *s, size_t n)
{
	return strspn(s, "0123456789abcdef") >= n;
}

/* W3C traceparent "00-TRACEID32-SPANID16-FLAGS2" as X-Ray: the trace id's
 * first 8 digits are the Root's time part, as the X-Ray SDKs map it. */
static int
from_traceparent(const char *s, size_t n, struct buf *out)
{
	if (n != 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || !hex(s, 2) ||
	    !hex(s + 3, 32) || !hex(s + 36, 16) || !hex(s + 53, 2))
		return 0;
	buf_printf(out, "Root=1-%.8s-%.24s;Parent=%.16s;Sampled=%c", s + 3, s + 11, s + 36,
	    (s[54] - '0') & 1 ? '1' : '0');
	return 1;
}

/* The X-Amzn-Trace-Id member of a headers object, in any case. */
static size_t
header_value(const char *p, size_t n, size_t obj)
{
	size_t at = obj, k, kend, v, vend, found = (size_t)-1;

	if (obj == (size_t)-1 || p[obj] != '{')
		return found;
	while (json_member(p, n, &at, &k, &kend, &v, &vend))
		if (kend - k == 17 && strncasecmp(p + k + 1, "x-amzn-trace-id", 15) == 0)
			found = v;
	return found;
}

int
aws_trace_find(const char *ev, size_t n, struct buf *out)
{
	size_t obj = json_ws(ev, n, 0), a;
	struct buf s = { 0 };
	int found = 0;

	if (obj >= n || ev[obj] != '{')
		return 0;
	/* A batch ({"Records":[...]}, fnrun --batch and --queue): its first
	 * record's, as Lambda's SQS event source mapping does. */
	a = json_find_member(ev, n, obj, "Records", 7);
	if (a != (size_t)-1 && ev[a] == '[' &&
	    (a = json_find_index(ev, n, a, 0)) != (size_t)-1 && ev[a] == '{')
		obj = a;
	a = json_find_member(ev, n, obj, "attributes", 10);
	if (a != (size_t)-1 && ev[a] == '{' &&
	    json_string_at(ev, n, json_find_member(ev, n, a, "AWSTraceHeader", 14), &s))
		found = good_xray(s.p, s.n);
	if (!found && json_string_at(ev, n, header_value(ev, n, json_find_member(ev, n, obj,
	    "headers", 7)), &s))
		found = good_xray(s.p, s.n);
	if (found) {
		buf_reset(out);
		buf_add(out, s.p, s.n);
	} else if (json_string_at(ev, n, json_find_member(ev, n, obj, "traceparent", 11), &s)) {
		buf_reset(out);
		found = from_traceparent(s.p, s.n, out);
	}
	buf_free(&s);
	return found;
}
