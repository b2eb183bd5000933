#include <stdlib.h>
#include <string.h>

#include "jpath.h"
#include "core/alloc.h"

#define NONE ((size_t)-1)

int
jpath_parse(const char *s, struct jpath *jp, const char **why)
{
	size_t cap = 0;

	memset(jp, 0, sizeof *jp);
	if (s[0] != '$') {
		*why = "a JSONPath starts with \"$\"";
		return -1;
	}
	for (s++; *s != '\0';) {
		struct jseg g = { 0 };
		if (*s == '.') {
			size_t len = strcspn(++s, ".[]");
			if (len == 0) {
				*why = "empty member name in JSONPath";
				goto bad;
			}
			g.name = xstrndup(s, len);
			g.len = len;
			s += len;
		} else if (*s == '[') {
			char *end;
			if (s[1] < '0' || s[1] > '9') {
				*why = "an index in JSONPath is [N]";
				goto bad;
			}
			g.idx = strtoul(s + 1, &end, 10);
			if (*end != ']') {
				*why = "an index in JSONPath is [N]";
				goto bad;
			}
			s = end + 1;
		} else {
			*why = "JSONPath uses dot notation: $.a.b";
			goto bad;
		}
		XGROW(&jp->seg, &cap, jp->n + 1);
		jp->seg[jp->n++] = g;
	}
	return 0;
bad:
	jpath_free(jp);
	return -1;
}

void
jpath_free(struct jpath *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		free(jp->seg[i].name);
	free(jp->seg);
	memset(jp, 0, sizeof *jp);
}

/* Whether the raw key body k[0..kn) stands for name[0..len). */
static int
key_is(const char *k, size_t kn, const char *name, size_t len)
{
	if (memchr(k, '\\', kn) == NULL)
		return kn == len && memcmp(k, name, len) == 0;
	struct buf b = { 0 };
	json_unescape(&b, k, kn);
	int same = b.n == len && memcmp(b.p, name, len) == 0;
	buf_free(&b);
	return same;
}

/* The member g of the object at p[i]; its value's start, or NONE. */
static size_t
member(const char *p, size_t n, size_t i, const struct jseg *g)
{
	size_t found = NONE, k, kend, v, vend;

	while (json_member(p, n, &i, &k, &kend, &v, &vend))
		if (key_is(p + k + 1, kend - k - 2, g->name, g->len))
			found = v;	/* keep going: the last duplicate wins */
	return found;
}

/* Element g->idx of the array at p[i]; its start, or NONE. */
static size_t
element(const char *p, size_t n, size_t i, const struct jseg *g)
{
	i = json_ws(p, n, i + 1);
	for (size_t k = 0; i < n && p[i] != ']'; k++) {
		if (k == g->idx)
			return i;
		size_t end = json_skip(p, n, i);
		if (end == NONE)
			return NONE;
		i = json_ws(p, n, end);
		if (i < n && p[i] == ',')
			i = json_ws(p, n, i + 1);
	}
	return NONE;
}

int
jpath_find(const struct jpath *jp, const char *p, size_t n, const char **v, size_t *vn)
{
	size_t i = json_ws(p, n, 0);

	for (size_t s = 0; s < jp->n && i < n; s++) {
		const struct jseg *g = &jp->seg[s];
		if (g->name != NULL)
			i = p[i] == '{' ? member(p, n, i, g) : NONE;
		else
			i = p[i] == '[' ? element(p, n, i, g) : NONE;
		if (i == NONE)
			return 0;
	}
	size_t end = json_skip(p, n, i);
	if (end == NONE)
		return 0;
	*v = p + i;
	*vn = end - i;
	return 1;
}
