/* jpath — EventBridge's JSONPath subset ("$", "$.a.b", "$.a[0]") looked
 * up in raw JSON text, without building values: the event line is read in
 * place and the result is a span of it. */
#ifndef EVKIT_JPATH_H
#define EVKIT_JPATH_H

#include <stddef.h>

#include "core/buf.h"

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

/* Steps through the members of an object: start with *at at its '{'.
 * Each call gives the next member's key (quotes included) in
 * p[*k..*kend) and its value in p[*v..*vend), and returns 1; 0 at the
 * end, or where the text is not JSON. */
int json_member(const char *p, size_t n, size_t *at, size_t *k, size_t *kend, size_t *v,
    size_t *vend);

/* The index just past the JSON value starting at p[i] (after white
 * space), or (size_t)-1 if there is none.  Structure only: strings,
 * brackets and scalars are skipped, not fully validated. */
size_t json_skip(const char *p, size_t n, size_t i);

/* The index of the first byte at or after i that is not JSON white space. */
size_t json_ws(const char *p, size_t n, size_t i);

/* Appends the characters a JSON string body (the bytes between its quotes)
 * stands for: escapes decoded, \u surrogate pairs joined into UTF-8. */
void json_unescape(struct buf *out, const char *s, size_t n);

#endif
