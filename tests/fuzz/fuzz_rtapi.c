/* Fuzzes the Runtime API's request handling (lib/fn/fn_rtproto, what
 * fnrun --runtime-api does with each request): the input is a state
 * byte, then METHOD, URL, the assigned request id and an error-type
 * header, NUL-separated, then a body.  Routing never reads past the URL,
 * an id is never longer than FN_RT_ID_MAX, each call gets one of the
 * statuses the RIE answers, an event is given only when one is assigned,
 * and the error object made of any body is valid JSON. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "fn/fn_rtproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated field of [*p, end), copied; NULL at the end. */
static char *
field(const char **p, const char *end)
{
	const char *nul = memchr(*p, '\0', (size_t)(end - *p));

	if (nul == NULL)
		return NULL;
	char *s = strndup(*p, (size_t)(nul - *p));
	*p = nul + 1;
	return s;
}

static void
check_decision(int phase, int assigned, const char *cur, int call, const char *id, int big)
{
	struct fn_rt_decision d;

	fn_rt_decide((enum fn_rt_phase)phase, assigned, cur, (enum fn_rt_call)call, id, big, &d);
	assert(d.status == 200 || d.status == 202 || d.status == 400 || d.status == 403 ||
	    d.status == 404 || d.status == 405 || d.status == 413);
	assert((d.act == FN_RT_DO_DELIVER) <= (assigned && call == FN_RT_NEXT));
	assert((d.status >= 400) == (d.type != NULL));
	if (d.act == FN_RT_DO_RESULT || d.act == FN_RT_DO_FN_ERROR)
		assert(phase == FN_RT_BUSY && cur != NULL && strcmp(cur, id) == 0);
	if (d.act == FN_RT_DO_INIT_ERROR)
		assert(phase == FN_RT_INIT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	char id[FN_RT_ID_MAX + 1];
	struct buf b = { 0 };
	struct json_err je;

	if (size < 1)
		return 0;
	char *method = field(&p, end), *url = method ? field(&p, end) : NULL;
	char *cur = url ? field(&p, end) : NULL, *type = cur ? field(&p, end) : NULL;
	if (type == NULL)
		goto out;
	enum fn_rt_call call = fn_rt_route(method, url, id);
	assert(strlen(id) <= FN_RT_ID_MAX);
	if (strncmp(url, "/2018-06-01/runtime/", 20) != 0)
		assert(call == FN_RT_NOT_FOUND);
	check_decision(data[0] % 3, data[0] >> 7, cur[0] != '\0' ? cur : NULL, call, id,
	    (data[0] >> 6) & 1);
	fn_rt_error_obj(&b, type, "Unhandled", p, (size_t)(end - p));
	assert(json_validate(b.p, b.n, 0, &je) == '{');
out:
	buf_free(&b);
	free(method);
	free(url);
	free(cur);
	free(type);
	return 0;
}
