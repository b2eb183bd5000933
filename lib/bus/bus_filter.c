/* bus_filter — filter mode's -p patterns, kept as text: a compiled set
 * serves one scanning thread, so each thread compiles its own copy from
 * the texts (filter_run's copy callback, which takes no context: the
 * texts are this file's, one list per process). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/msg.h"

static struct {
	char **text;
	size_t *len;
	size_t n, cap;
} pats;

/* The text of a pattern file; the file is what the user named, so a
 * missing one is 66 like any missing input. */
static int
slurp(const char *path, char **text, size_t *n, struct ev_err *e)
{
	struct buf b = { 0 };
	int rc = buf_read_file(&b, path);

	if (rc != 0) {
		buf_free(&b);
		errno = rc;
		return err_sys(e, EV_NOINPUT, "cannot read pattern file '%s'", path);
	}
	*n = b.n;
	*text = buf_detach(&b);
	return 0;
}

int
bus_filter_add(struct pat_set *set, const char *arg, struct ev_err *e)
{
	char *why, label[32], *text = NULL;
	const char *where = arg + 1;
	size_t n = 0;

	if (arg[0] == '@') {
		int rc = slurp(arg + 1, &text, &n, e);
		if (rc != 0)
			return rc;
	} else {
		text = xstrdup(arg);
		n = strlen(arg);
		snprintf(label, sizeof label, "-p %zu", pat_count(set) + 1);
		where = label;
	}
	if (pat_add(set, text, n, &why) < 0) {
		int rc = err_set(e, EV_USAGE, "%s: invalid event pattern %s", where, why);
		free(why);
		free(text);
		return rc;
	}
	if (pats.n == pats.cap) {
		pats.cap = pats.cap ? pats.cap * 2 : 8;
		pats.text = xreallocarray(pats.text, pats.cap, sizeof *pats.text);
		pats.len = xreallocarray(pats.len, pats.cap, sizeof *pats.len);
	}
	pats.text[pats.n] = text;
	pats.len[pats.n++] = n;
	return 0;
}

struct pat_set *
bus_filter_copy(void)
{
	struct pat_set *set = pat_new();
	char *why;

	/* Each text compiled once already: it cannot fail now. */
	for (size_t i = 0; i < pats.n; i++)
		if (pat_add(set, pats.text[i], pats.len[i], &why) < 0)
			free(why);
	return set;
}

void
bus_filter_free(void)
{
	for (size_t i = 0; i < pats.n; i++)
		free(pats.text[i]);
	free(pats.text);
	free(pats.len);
	memset(&pats, 0, sizeof pats);
}
