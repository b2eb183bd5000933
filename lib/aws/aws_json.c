/* aws_json — reading AWS responses in place over core/json_walk: the
 * members and elements the SQS and EventBridge shapes have, no values
 * built.  Callers validate a body (json_validate) before walking it. */
#include <stdarg.h>
#include <string.h>

#include "core/json.h"

#include "aws_int.h"

int
aws_json_get(const char *p, size_t n, size_t obj, const char *key, size_t *v, size_t *vend)
{
	obj = json_ws(p, n, obj);
	if (obj >= n || p[obj] != '{')
		return 0;
	size_t at = json_find_member(p, n, obj, key, strlen(key));
	if (at == (size_t)-1)
		return 0;
	size_t end = json_skip(p, n, at);
	if (end == (size_t)-1)
		return 0;
	*v = at;
	*vend = end;
	return 1;
}

int
aws_json_str(const char *p, size_t n, size_t obj, const char *key, struct buf *out)
{
	size_t v, vend;

	buf_reset(out);
	buf_add(out, "", 0);
	if (!aws_json_get(p, n, obj, key, &v, &vend) || p[v] == 'n')
		return 0;
	if (p[v] != '"' || vend - v < 2)
		return -1;
	json_unescape(out, p + v + 1, vend - v - 2);
	return 1;
}

int
aws_json_true(const char *p, size_t n, size_t obj, const char *key)
{
	size_t v, vend;

	return aws_json_get(p, n, obj, key, &v, &vend) && vend - v == 4 &&
	    memcmp(p + v, "true", 4) == 0;
}

int
aws_json_elem(const char *p, size_t n, size_t *at, size_t *v, size_t *vend)
{
	size_t i = json_ws(p, n, *at);

	if (i < n && (p[i] == '[' || p[i] == ','))
		i = json_ws(p, n, i + 1);
	if (i >= n || p[i] == ']' || p[i] == ',')
		return 0;
	size_t end = json_skip(p, n, i);
	if (end == (size_t)-1)
		return 0;
	*v = i;
	*vend = end;
	*at = end;
	return 1;
}

char *
aws_cat(const char *s, ...)
{
	struct buf b = { 0 };
	va_list ap;

	buf_add(&b, "", 0);
	va_start(ap, s);
	for (; s != NULL; s = va_arg(ap, const char *))
		buf_adds(&b, s);
	va_end(ap);
	return buf_detach(&b);
}
