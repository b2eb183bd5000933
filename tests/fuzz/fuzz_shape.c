/* Fuzzes input shaping (lib/shape): the input is a template, a NUL, and
 * an event.  A template is refused with a message or compiled; a compiled
 * one renders any valid event without crashing, and a JSON template gives
 * valid JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "bus/shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct shape_ctx ctx = { "r", "arn:r", "2026-11-23T12:00:00.000Z" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	char *tmpl, *why = NULL;
	struct json_err je;
	struct buf out = { 0 };

	if (nul == NULL)
		return 0;
	tmpl = strndup((const char *)data, (size_t)(nul - (const char *)data));
	const char *ev = nul + 1;
	size_t n = size - (size_t)(ev - (const char *)data);
	jv map = jv_parse("{\"a\":\"$.a\",\"b\":\"$.b[1].c\",\"d\":\"$.detail\"}");
	struct shape *sh = shape_transformer(map, tmpl, &why);
	jv_free(map);
	if (sh == NULL) {
		if (why == NULL)
			abort();
		free(why);
	} else if (json_validate(ev, n, 0, &je) == '{') {
		int kind = shape_apply(sh, ev, n, &ctx, &out, &why);
		if (kind == SHAPE_JSON && json_validate(out.p, out.n, 0, &je) == 0)
			abort();
	}
	shape_free(sh);
	buf_free(&out);
	free(tmpl);
	return 0;
}
