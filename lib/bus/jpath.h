/* jpath — EventBridge's JSONPath subset ("$", "$.a.b", "$.a[0]") looked
 * up in raw JSON text, without building values: the event line is read in
 * place and the result is a span of it. */
#ifndef EVKIT_JPATH_H
#define EVKIT_JPATH_H

#include <stddef.h>

#include "core/json.h"

struct jseg {
	char *name;	/* a member name, or NULL for an array index */
	size_t len;
	size_t idx;
};

struct jpath {
	struct jseg *seg;
	size_t n;
};

/* Parses s into jp.  Returns 0, or -1 with *why (static text). */
int jpath_parse(const char *s, struct jpath *jp, const char **why);
void jpath_free(struct jpath *jp);

/* The raw text of the value at jp inside the JSON value p[0..n), in
 * *v[0..*vn).  Returns 1 if found, 0 if absent (or the text is not JSON
 * where the walk reads it).  Duplicate member names: the last one wins,
 * as in the pattern matcher. */
int jpath_find(const struct jpath *jp, const char *p, size_t n, const char **v, size_t *vn);

#endif
