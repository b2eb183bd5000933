/* fpath_int — the parsed form of an ASL JSONPath and its evaluation, as
 * Jayway JsonPath (the library Step Functions runs) evaluates it; shared
 * by fpath.c, ftmpl.c and fchoice.c. */
#ifndef EVKIT_FPATH_INT_H
#define EVKIT_FPATH_INT_H

#include <stddef.h>

#include <jv.h>

#include "fpath.h"

enum fseg_kind {
	FSEG_NAME,	/* .a, ['a'] */
	FSEG_NAMES,	/* ['a','b']: a leaf only; an object of those found */
	FSEG_INDEX,	/* [0], [-1] */
	FSEG_INDEXES,	/* [0,2] */
	FSEG_SLICE,	/* [1:3], [:2], [-2:] */
	FSEG_WILD,	/* .*, [*] */
	FSEG_SCAN,	/* ..: the next segment at every depth */
	FSEG_FILTER	/* [?(...)] */
};

struct fexpr;

struct fseg {
	enum fseg_kind kind;
	char **names;
	size_t nnames;
	long *idx;
	size_t nidx;
	long from, to;
	int has_from, has_to;
	struct fexpr *filter;
	jv key;		/* FSEG_NAME, when has_key: names[0] as a jv, made once */
	int has_key;
};

enum froot {
	FROOT_INPUT,	/* $ */
	FROOT_CTX,	/* $$ */
	FROOT_VAR,	/* $name */
	FROOT_CUR	/* @, inside a filter */
};

struct fpq {
	enum froot root;
	char *var;
	struct fseg *seg;
	size_t n;
	size_t first_indef;	/* index of the first indefinite segment, or n */
	int reference;		/* only names and non-negative indexes */
};

/* Parses path.  0, or -1 with *why (a thread-local text, valid until the
 * next call). */
int fpq_parse(const char *path, struct fpq *q, const char **why);
void fpq_free(struct fpq *q);

/* path parsed, from the thread's cache of parsed paths (fpath_cache.c):
 * valid until the next call (which may start the cache afresh), or NULL
 * with *why as fpq_parse's. */
const struct fpq *fpq_cached(const char *path, const char **why);

/* Drops the compiled templates ftmpl_apply keeps (fpath_cache_clear). */
void ftmpl_cache_clear(void);

/* The value q selects in s.  0 and *out; 1 when it selects nothing (a
 * definite path with no match, a missing variable), with Jayway's words
 * in why[0..n); *root (when not NULL) is then the value the path read
 * (a new reference: the input, the context object or the variable). */
int fpq_eval(const struct fpq *q, const struct fscope *s, jv *out, char *why, size_t n,
    jv *root);

/* fpath_get with q already parsed from path (a caller that keeps parsed
 * paths saves their parse on every read). */
int fpq_get(const struct fpq *q, const char *path, const struct fscope *s, const char *field,
    jv *out, struct ferr *f);

/* Compact JSON text of v (borrowed) into a jv string the caller frees. */
jv fpath_text(jv v);

/* The thread's buffer for the texts that checks return. */
char *fpath_msgbuf(size_t *n);

#endif
