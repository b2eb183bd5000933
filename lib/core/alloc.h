/* alloc — allocation that cannot fail.  Out of memory is the one error
 * the library does not return (err.h): these print "prog: out of memory"
 * and exit 70, as git's xmalloc dies.  Use them instead of an open-coded
 * "if (p == NULL)" after malloc. */
#ifndef EVKIT_ALLOC_H
#define EVKIT_ALLOC_H

#include <stddef.h>
#include <stdnoreturn.h>

noreturn void die_oom(void);
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* realloc to count * size, dying on overflow as on out of memory. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* Makes room for at least need elements in the array *pp of capacity *capp
 * (doubling, from 16), as the one grow loop of the library. */
#define XGROW(pp, capp, need) do { \
	if ((size_t)(need) > (size_t)*(capp)) { \
		size_t xg_cap_ = *(capp) ? (size_t)*(capp) : 16; \
		while (xg_cap_ < (size_t)(need)) \
			xg_cap_ *= 2; \
		*(pp) = xreallocarray(*(pp), xg_cap_, sizeof **(pp)); \
		*(capp) = xg_cap_; \
	} \
} while (0)

#endif
