/* Fuzzes API Gateway's request mapping (lib/apigw): the input is a
 * request cut at NULs into method, path, query, a header count's worth
 * of name and value pairs, and the body (the rest, NULs and all).  Its
 * payload format 2.0 event is valid JSON whose body gives back the
 * request's body exactly, as is or through base64. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/apigw.h"
#include "core/b64.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated part of the input, or NULL at its end. */
static const char *
part(const char **at, const char *end)
{
	const char *s = *at, *nul = memchr(s, '\0', (size_t)(end - s));

	if (nul == NULL)
		return NULL;
	*at = nul + 1;
	return s;
}

static void
check_body(const struct buf *ev, const char *body, size_t n)
{
	size_t top = json_ws(ev->p, ev->n, 0);
	size_t b = json_find_member(ev->p, ev->n, top, "body", 4);
	size_t b64 = json_find_member(ev->p, ev->n, top, "isBase64Encoded", 15);
	struct buf s = { 0 }, raw = { 0 };

	if (b64 == (size_t)-1 || (body == NULL) != (b == (size_t)-1))
		abort();
	if (body == NULL)
		return;
	if (!json_string_at(ev->p, ev->n, b, &s))
		abort();
	if (ev->p[b64] == 't') {
		if (b64_decode(&raw, s.p, s.n) != 0 || raw.n != n ||
		    (n > 0 && memcmp(raw.p, body, n) != 0))
			abort();
	} else if (s.n != n || (n > 0 && memcmp(s.p, body, n) != 0)) {
		abort();	/* text passes as is: it was valid UTF-8 */
	}
	buf_free(&s);
	buf_free(&raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *at = (const char *)data, *end = at + size;
	const char *hv[16];
	struct json_err je;
	struct buf ev = { 0 };

	const char *method = part(&at, end), *path = part(&at, end), *query = part(&at, end);
	const char *count = part(&at, end);
	if (count == NULL)
		return 0;
	size_t nh = (size_t)(count[0] & 7);
	for (size_t i = 0; i < nh * 2; i++)
		if ((hv[i] = part(&at, end)) == NULL)
			return 0;
	struct apigw_req rq = {
		.method = method, .protocol = "HTTP/1.1", .path = path, .query = query,
		.headers = hv, .nheaders = nh, .source_ip = "127.0.0.1",
		.request_id = "00000000-0000-4000-8000-000000000000", .time_ms = 1796669542180,
		.body = at < end ? at : NULL, .body_n = (size_t)(end - at),
	};
	apigw_event(&rq, &ev);
	if (json_validate(ev.p, ev.n, 0, &je) != '{')
		abort();
	check_body(&ev, rq.body, rq.body_n);
	buf_free(&ev);
	return 0;
}
