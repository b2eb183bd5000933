/* fintr_int — the parsed form of an intrinsic function call, shared by
 * the parser and evaluator (fintr.c) and the functions (fintr_fn.c). */
#ifndef EVKIT_FINTR_INT_H
#define EVKIT_FINTR_INT_H

#include <stddef.h>

#include <jv.h>

#include "fintr.h"

enum fnode_kind { FN_STR, FN_NUM, FN_TRUE, FN_FALSE, FN_NULL, FN_PATH, FN_CALL };

/* One argument or call; p[0..n) is its text in the call as written (a
 * string literal's without the quotes, escapes kept). */
struct fnode {
	enum fnode_kind kind;
	const char *p;
	size_t n;
	double num;		/* FN_NUM */
	int fn;			/* FN_CALL: the function's index (fintr_lookup) */
	int nargs;
	struct fnode *args;
};

/* One evaluation: the whole call (for causes) and the path resolver. */
struct fctx {
	const char *top;
	size_t topn;
	fintr_get_fn get;
	void *arg;
	struct ferr *f;
};

/* Parses s into *root (freed with fintr_free, also after a failure).
 * 0, or -1 with why[0..whyn) saying why. */
int fintr_parse(const char *s, struct fnode *root, char *why, size_t whyn);
void fintr_free(struct fnode *n);

/* The index of the function named name[0..len), or -1. */
int fintr_lookup(const char *name, size_t len);
/* Runs call n on its evaluated arguments a[0..argc) (borrowed). */
int fintr_run(struct fctx *x, const struct fnode *n, const jv *a, int argc, jv *out);
/* Fails call n with States.Runtime and AWS's cause; returns -1. */
int fintr_invalid(struct fctx *x, const struct fnode *n);

#endif
