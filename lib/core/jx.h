/* jx — libjq programs compiled once and run per event. */
#ifndef EVKIT_JX_H
#define EVKIT_JX_H

#include <stddef.h>

#include <jv.h>

struct jx;

/* Compiles prog; on failure returns NULL and *err (malloc'd) says why. */
struct jx *jx_compile(const char *prog, char **err);
void jx_free(struct jx *x);

/* Runs x on v (consumed) and returns its first output, or jv_invalid()
 * with a message on a runtime error, or jv_invalid() without one when the
 * program printed nothing. */
jv jx_first(struct jx *x, jv v);

/* The first output of x on the JSON text as a key string: a string as is,
 * a number or boolean as its JSON text.  NULL with *why when libjq cannot
 * read the text, the program fails, or yields nothing, null, or a
 * container.  The result is malloc'd. */
char *jx_key(struct jx *x, const char *json, size_t len, const char **why);

#endif
