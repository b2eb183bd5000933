/* Fuzzes the intrinsic functions (lib/flow/fintr): the input is one call
 * as a definition holds it.  fintr_check and fintr_eval agree on what is
 * a call (a refused one fails to run too, as States.Runtime); a run ends
 * in a value or in an error with a cause, never in a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/jx.h"
#include "flow/fintr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jv doc;

/* Any path but those naming "missing" reads the same document, so that
 * every function meets arrays, objects, strings and numbers. */
static int
resolve(void *arg, const char *path, jv *out, struct ferr *f)
{
	(void)arg;
	if (strstr(path, "missing") != NULL)
		return ferr_set(f, "States.Runtime", "The JsonPath argument for the field '%s'"
		    " could not be found in the input '{}'", path);
	size_t k = strlen(path) % 6;
	static const char *const keys[] = { "arr", "obj", "s", "n", "b64", "nest" };
	*out = k == 5 && path[1] == '\0' ? jv_copy(doc) : jv_object_get(jv_copy(doc), jv_string(keys[k]));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char json[] = "{\"arr\":[1,2,2,\"x\",{\"a\":1},[1]],\"obj\":{\"k\":[1,{}]},"
	    "\"s\":\"a,b\\u2713{}\",\"n\":-3.5,\"b64\":\"aGk=\",\"nest\":[[1,2],[3]]}";
	struct ev_err e;
	struct ferr f;
	jv out;

	if (jv_get_kind(doc) == JV_KIND_INVALID && jx_parse(json, sizeof json - 1, &doc, &e) != 0)
		abort();
	if (size > 4096)
		return 0;
	char *s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	const char *why = fintr_check(s);
	memset(&f, 0, sizeof f);
	int rc = fintr_eval(s, resolve, NULL, &out, &f);
	if (rc == 0) {
		if (why != NULL)
			abort();	/* ran what the check refused */
		jv txt = jv_dump_string(out, 0);
		jv_free(txt);
	} else if (rc != -1 || f.error[0] == '\0' || f.cause[0] == '\0' ||
	    (why != NULL && strcmp(f.error, "States.Runtime") != 0)) {
		abort();
	}
	free(s);
	return 0;
}
