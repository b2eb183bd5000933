/* fpath_filter — the parser's shared state and the filter expressions of
 * [?(...)]: @ and $ paths, string, number, true, false and null literals,
 * ==, !=, <, <=, >, >=, existence, !, && and ||, parentheses. */
#ifndef EVKIT_FPATH_FILTER_H
#define EVKIT_FPATH_FILTER_H

#include <stddef.h>

#include <jv.h>

#include "fpath_int.h"

struct pp {
	const char *s;
	size_t i;
	int depth;
	const char *why;
};

int fpp_fail(struct pp *p, const char *what);
void fpp_ws(struct pp *p);
int fpp_quoted(struct pp *p, char **out);
int fpp_path(struct pp *p, struct fpq *q, int infilter);
/* A filter expression from p's position up to (not past) its ')'. */
int fpp_filter(struct pp *p, struct fexpr **out);
void fexpr_free(struct fexpr *x);

/* Whether x holds for cur (the element, "@"), s->input being "$". */
int fexpr_eval(const struct fexpr *x, jv cur, const struct fscope *s);

/* fpq_eval with the path's value read from root (borrowed). */
int fpq_eval_at(const struct fpq *q, jv root, const struct fscope *s, jv *out, char *why,
    size_t n);

#endif
