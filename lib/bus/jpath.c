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

int
jpath_find(const struct jpath *jp, const char *p, size_t n, const char **v, size_t *vn)
{
	size_t i = json_ws(p, n, 0);

	for (size_t s = 0; s < jp->n && i < n; s++) {
		const struct jseg *g = &jp->seg[s];
		if (g->name != NULL)
			i = p[i] == '{' ? json_find_member(p, n, i, g->name, g->len) : NONE;
		else
			i = p[i] == '[' ? json_find_index(p, n, i, g->idx) : NONE;
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
