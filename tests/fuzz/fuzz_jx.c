/* Fuzzes the libjq wrapper (lib/core/jx): the first byte picks a program,
 * the rest is a value.  Whatever evkit's validator accepts, jx_eval and
 * jx_key answer (a result, nothing, or a reason) and never let libjq
 * abort (an assertion inside a builtin fails the run, see jx_run); a simple path's key is the value's text, and compacting valid
 * JSON keeps it valid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/jx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const progs[] = {
	".", ".a", ".a.b", ".a[\"b\"][0]", ".[0]", "tostream", "[paths]", "tojson",
	"[..|numbers]", "to_entries?", "keys?", ".[]?", "(.a // .b) | tostring",
	"fromjson?", "error(.)", "halt_error", "first(.[]?), halt",
	"[.. | numbers | todate]",	/* asserts inside libjq on -1e19 */
};
enum { NPROG = sizeof progs / sizeof progs[0] };

static struct jx *compiled[NPROG];

static void
check_key(struct jx *x, const char *p, size_t n)
{
	struct buf key = { 0 };
	struct ev_err e;
	int rc = jx_key(x, p, n, &key, &e);

	if (rc != 0 && (rc != EV_DATAERR || e.msg[0] == '\0'))
		abort();	/* a failure always says why */
	buf_free(&key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_err je;
	struct ev_err e;
	struct buf b = { 0 };
	jv out;

	if (size < 1)
		return 0;
	size_t k = data[0] % NPROG;
	const char *p = (const char *)data + 1;
	size_t n = size - 1;
	for (size_t i = 0; i < NPROG; i++)
		if (compiled[i] == NULL && jx_compile(progs[i], &compiled[i], &e) != 0)
			abort();
	if (json_validate(p, n, 0, &je) == 0)
		return 0;	/* evkit refuses it before any jq */
	int rc = jx_eval(compiled[k], p, n, data[0] & 0x80 ? JX_LAST : JX_FIRST, &out, &e);
	if (rc != 0 && rc != EV_NONE && rc != EV_DATAERR)
		abort();
	if (rc == 0) {
		jv s = jv_dump_string(out, 0);	/* what fnrun and the bus do next */
		jv_free(s);
	} else {
		jv_free(out);
	}
	check_key(compiled[k], p, n);
	check_key(compiled[1], p, n);	/* .a: the raw-text path */
	check_key(compiled[3], p, n);
	json_compact(&b, p, n);
	if (json_validate(b.p, b.n, 0, &je) == 0)
		abort();
	buf_free(&b);
	return 0;
}
