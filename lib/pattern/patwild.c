/* Wildcards in linear time.  A pattern is compiled once into its literal
 * runs separated by PWILD_STAR; a value then matches when it starts with
 * the first run, ends with the last, and holds the others in order
 * between them.  Taking each middle run at its leftmost place is enough
 * (a later place leaves less room to the rest), so one substring search
 * per run decides it: O(n + m), where backtracking globs are O(n × m). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pattern_int.h"

size_t
pwild_compile(const char *w, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (w[i] == '\\' && i + 1 < n)
			out[o++] = w[++i];
		else
			out[o++] = w[i] == '*' ? PWILD_STAR : w[i];
	}
	return o;
}

int
pwild_run(const char *c, size_t cn, const char *s, size_t n)
{
	const char *first = memchr(c, PWILD_STAR, cn);

	if (first == NULL)
		return cn == n && memcmp(c, s, n) == 0;
	const char *last = memrchr(c, PWILD_STAR, cn);
	size_t head = (size_t)(first - c), tail = cn - (size_t)(last - c) - 1;
	if (head + tail > n || memcmp(s, c, head) != 0 ||
	    memcmp(s + n - tail, last + 1, tail) != 0)
		return 0;
	const char *at = s + head, *end = s + n - tail;
	for (const char *run = first + 1; run < last;) {
		const char *star = memchr(run, PWILD_STAR, (size_t)(last - run) + 1);
		size_t len = (size_t)(star - run);
		if (len > 0) {
			const char *hit = memmem(at, (size_t)(end - at), run, len);
			if (hit == NULL)
				return 0;
			at = hit + len;
		}
		run = star + 1;
	}
	return 1;
}

int
pwild_match(const char *w, size_t wn, const char *s, size_t n)
{
	char small[256], *c = wn <= sizeof small ? small : xmalloc(wn);
	int r = pwild_run(c, pwild_compile(w, wn, c), s, n);

	if (c != small)
		free(c);
	return r;
}
