/* fchoice_int — the table of Choice operators and the value tests that
 * fchoice.c and fchoice_rule.c share. */
#ifndef EVKIT_FCHOICE_INT_H
#define EVKIT_FCHOICE_INT_H

#include <stddef.h>

enum ftype { FT_STRING, FT_NUMBER, FT_BOOLEAN, FT_TIMESTAMP, FT_IS_NULL, FT_IS_PRESENT };
enum fcop { FC_EQ, FC_LT, FC_GT, FC_LE, FC_GE, FC_MATCH, FC_IS };

struct fchoice_op {
	const char *name;
	enum ftype type;
	enum fcop cmp;
	int path;	/* the operand is a path to the value to compare with */
};

extern const struct fchoice_op fchoice_ops[];

/* The operator called name, or NULL. */
const struct fchoice_op *fchoice_op(const char *name);

/* Whether s is an RFC 3339 timestamp as AWS takes it; its instant. */
int fchoice_timestamp(const char *s, long long *sec, long *nsec);

/* -1, 0 or 1 as a[0..la) against b[0..lb), both UTF-8, in Java's order
 * (UTF-16 code units). */
int fchoice_strcmp(const char *a, size_t la, const char *b, size_t lb);

/* Whether s[0..n) matches StringMatches' pattern pat[0..m). */
int fchoice_match(const char *s, size_t n, const char *pat, size_t m);

#endif
