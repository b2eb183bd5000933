/* Fuzzes API Gateway's response mapping (lib/apigw): the input is a
 * function's result.  Valid JSON maps to a status of 100 to 599 with
 * header names that are tokens and values without CR, LF or NUL, or is
 * refused (-1, a 502); what is not JSON is refused.  Base64 decodes what
 * it encodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/apigw.h"
#include "core/b64.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_headers(const struct apigw_resp *r)
{
	const char *h = r->headers.p, *end;

	if (r->nheaders == 0)
		return;
	end = h + r->headers.n;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *v = h + strlen(h) + 1;
		if (*h == '\0' || strpbrk(h, " :\r\n") != NULL || strpbrk(v, "\r\n") != NULL)
			abort();
		h = v + strlen(v) + 1;
	}
	if (h != end)
		abort();
}

static void
check_b64(const uint8_t *data, size_t size)
{
	struct buf enc = { 0 }, dec = { 0 };

	b64_encode(&enc, data, size);
	if (b64_decode(&dec, enc.p != NULL ? enc.p : "", enc.n) != 0 || dec.n != size ||
	    (size > 0 && memcmp(dec.p, data, size) != 0))
		abort();
	buf_free(&enc);
	buf_free(&dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apigw_resp r = { 0 };
	struct json_err je;
	const char *p = (const char *)data;
	int kind = json_validate(p, size, 0, &je);
	int rc = apigw_response(p, size, &r);

	if (kind == 0 && rc == 0)
		abort();
	if (rc == 0) {
		if (r.status < 100 || r.status > 599)
			abort();
		check_headers(&r);
	} else if (r.nheaders != 0 || r.body.n != 0) {
		abort();	/* a refusal leaves nothing half made */
	}
	if (kind != 0 && kind != '{' && (rc != 0 || r.status != 200))
		abort();	/* not an object: always a 200 of the JSON */
	apigw_resp_free(&r);
	check_b64(data, size);
	return 0;
}
