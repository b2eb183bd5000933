/* Fuzzes ASL's JSONPath (lib/flow/fpath*): the input is a path, a NUL,
 * and a JSON value.  A path is refused with a reason or accepted; an
 * accepted one reads any value (a result, or a failure with an error name
 * and a cause, never a crash), a reference path sets into any value, and
 * the value, read as a Choice rule or a payload template, is refused with
 * a reason or applied to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/jx.h"
#include "flow/fpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_say_why(int rc, const struct ferr *f)
{
	if (rc != 0 && (f->error[0] == '\0' || f->cause[0] == '\0'))
		abort();
}

static void
paths(const char *path, jv v)
{
	struct fscope s = { v, v, jv_null() };
	struct ferr f;
	jv out;

	if (fpath_check(path, FPATH_PATH) != NULL)
		return;
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		s.vars = jv_copy(v);
	int rc = fpath_get(path, &s, "InputPath", &out, &f);
	must_say_why(rc, &f);
	if (rc == 0)
		jv_free(jv_dump_string(out, 0));
	rc = fpath_get(path, &s, "x.$", &out, &f);
	must_say_why(rc, &f);
	if (rc == 0)
		jv_free(out);
	if (fpath_check(path, FPATH_REFERENCE) == NULL) {
		rc = fpath_set(v, path, v, &out, &f);
		must_say_why(rc, &f);
		if (rc == 0)
			jv_free(jv_dump_string(out, 0));
	}
	jv_free(s.vars);
}

static void
template(jv v)
{
	struct fscope s = { v, v, jv_null() };
	char where[128];
	struct ferr f;
	jv out;

	if (ftmpl_check(v, "/t", where, sizeof where) != NULL)
		return;
	int rc = ftmpl_apply(v, &s, "Parameters", &out, &f);
	must_say_why(rc, &f);
	if (rc == 0)
		jv_free(jv_dump_string(out, 0));
}

static void
rule(jv v)
{
	struct fscope s = { v, jv_null(), jv_null() };
	char where[128];
	struct ferr f;
	int m;

	if (fchoice_check(v, "/r", where, sizeof where) != NULL)
		return;
	must_say_why(fchoice_eval(v, &s, &m, &f), &f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	struct json_err je;
	struct ev_err e;
	jv v;

	if (nul == NULL)
		return 0;
	char *path = strndup((const char *)data, (size_t)(nul - (const char *)data));
	const char *json = nul + 1;
	size_t n = size - (size_t)(json - (const char *)data);
	fpath_check(path, FPATH_REFERENCE);
	if (json_validate(json, n, 0, &je) != 0 && jx_parse(json, n, &v, &e) == 0) {
		paths(path, v);
		rule(v);
		template(v);
		jv_free(v);
	}
	free(path);
	return 0;
}
