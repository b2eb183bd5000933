/* apigw_resp — a function's result as API Gateway's HTTP response
 * (payload format 2.0), read in place over core/json_walk. */
#include <string.h>
#include <strings.h>

#include "apigw.h"
#include "core/b64.h"
#include "core/json.h"

void
apigw_resp_free(struct apigw_resp *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
	r->nheaders = 0;
}

static void
reset(struct apigw_resp *r)
{
	buf_reset(&r->headers);
	buf_reset(&r->body);
	buf_add(&r->body, "", 0);
	r->nheaders = 0;
	r->status = 0;
}

static void
add_header(struct apigw_resp *r, const char *name, const char *v, size_t vn)
{
	buf_add(&r->headers, name, strlen(name) + 1);
	buf_add(&r->headers, v, vn);
	buf_addc(&r->headers, '\0');
	r->nheaders++;
}

void
apigw_resp_error(struct apigw_resp *r, int status, const char *msg)
{
	reset(r);
	r->status = status;
	add_header(r, "content-type", "application/json", 16);
	buf_adds(&r->body, "{\"message\":");
	json_add_string(&r->body, msg, strlen(msg));
	buf_addc(&r->body, '}');
}

/* Where the JSON value at p[i] ends, white space skipped before it. */
static size_t
value_end(const char *p, size_t n, size_t i)
{
	return json_skip(p, n, i);
}

/* A header value: a string's characters, a number's or boolean's text.
 * Returns 0, 1 for null (no header), -1 for anything else or a value
 * that would split the response (CR, LF, NUL). */
static int
header_value(const char *p, size_t n, size_t v, struct buf *out)
{
	size_t e = value_end(p, n, v);

	buf_reset(out);
	if (e == (size_t)-1)
		return -1;
	if (p[v] == 'n')
		return 1;
	if (p[v] == '{' || p[v] == '[')
		return -1;
	if (p[v] == '"')
		json_string_at(p, n, v, out);
	else
		buf_add(out, p + v, e - v);
	buf_add(out, "", 0);	/* NUL-terminated, not counted */
	return memchr(out->p, '\r', out->n) != NULL || memchr(out->p, '\n', out->n) != NULL ||
	    strlen(out->p) != out->n ? -1 : 0;
}

/* Whether name is an HTTP token that the server leaves to us. */
static int
header_name_ok(const char *name, size_t n)
{
	if (n == 0 || strlen(name) != n ||
	    strspn(name, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz") != n)
		return 0;
	return 1;
}

/* Framing is the server's to decide. */
static int
framing(const char *name)
{
	return strcasecmp(name, "content-length") == 0 || strcasecmp(name, "transfer-encoding") == 0 ||
	    strcasecmp(name, "connection") == 0;
}

/* Adds name: each value of the JSON value at v (an array's elements when
 * multi).  Returns 0 or -1. */
static int
add_values(struct apigw_resp *r, const char *name, const char *p, size_t n, size_t v, int multi)
{
	struct buf val = { 0 };
	int rc = 0;

	if (!multi) {
		if ((rc = header_value(p, n, v, &val)) == 0 && !framing(name))
			add_header(r, name, val.p, val.n);
		buf_free(&val);
		return rc < 0 ? -1 : 0;
	}
	if (p[v] != '[')
		rc = p[v] == 'n' ? 0 : -1;
	for (size_t i = json_ws(p, n, v + 1); rc == 0 && p[v] == '[' && i < n && p[i] != ']';) {
		if ((rc = header_value(p, n, i, &val)) == 0 && !framing(name))
			add_header(r, name, val.p, val.n);
		rc = rc < 0 ? -1 : 0;
		i = json_ws(p, n, value_end(p, n, i));
		if (i < n && p[i] == ',')
			i = json_ws(p, n, i + 1);
	}
	buf_free(&val);
	return rc;
}

/* headers (multi = 0) or multiValueHeaders (1): an object's members. */
static int
add_headers(struct apigw_resp *r, const char *p, size_t n, size_t at, int multi)
{
	size_t k, kend, v, vend;
	struct buf name = { 0 };
	int rc = 0;

	if (at == (size_t)-1 || p[at] == 'n')
		return 0;
	if (p[at] != '{')
		return -1;
	while (rc == 0 && json_member(p, n, &at, &k, &kend, &v, &vend)) {
		json_string_at(p, n, k, &name);
		if (!header_name_ok(name.p, name.n))
			rc = -1;
		else
			rc = add_values(r, name.p, p, n, v, multi);
	}
	buf_free(&name);
	return rc;
}

static int
status_code(const char *p, size_t n, size_t v)
{
	size_t e = value_end(p, n, v);
	int code = 0;

	if (e == (size_t)-1 || e - v > 3 || e - v < 3)
		return -1;
	for (size_t i = v; i < e; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		code = code * 10 + p[i] - '0';
	}
	return code >= 100 && code <= 599 ? code : -1;
}

/* A result that names its statusCode (at sc) is the response. */
static int
proxy(const char *p, size_t n, size_t obj, size_t sc, struct apigw_resp *r)
{
	size_t body = json_find_member(p, n, obj, "body", 4);
	size_t b64at = json_find_member(p, n, obj, "isBase64Encoded", 15);
	size_t cookies = json_find_member(p, n, obj, "cookies", 7);

	if ((r->status = status_code(p, n, sc)) < 0)
		return -1;
	if (add_headers(r, p, n, json_find_member(p, n, obj, "headers", 7), 0) != 0 ||
	    add_headers(r, p, n, json_find_member(p, n, obj, "multiValueHeaders", 17), 1) != 0)
		return -1;
	if (cookies != (size_t)-1 && add_values(r, "set-cookie", p, n, cookies, 1) != 0)
		return -1;
	if (body == (size_t)-1 || p[body] == 'n')
		return 0;
	struct buf text = { 0 };
	if (p[body] == '"')
		json_string_at(p, n, body, &text);
	else
		buf_add(&text, p + body, value_end(p, n, body) - body);
	int rc = 0;
	if (b64at != (size_t)-1 && p[b64at] == 't') {
		buf_reset(&r->body);
		rc = b64_decode(&r->body, text.p != NULL ? text.p : "", text.n);
	} else {
		buf_add(&r->body, text.p != NULL ? text.p : "", text.n);
	}
	buf_free(&text);
	return rc;
}

int
apigw_response(const char *p, size_t n, struct apigw_resp *r)
{
	struct json_err je;
	int kind = json_validate(p, n, 0, &je);
	size_t i = json_ws(p, n, 0), sc;

	reset(r);
	if (kind == 0)
		return -1;
	if (kind == '{' && (sc = json_find_member(p, n, i, "statusCode", 10)) != (size_t)-1) {
		if (proxy(p, n, i, sc, r) == 0)
			return 0;
		reset(r);
		return -1;
	}
	r->status = 200;
	add_header(r, "content-type", "application/json", 16);
	if (kind == '"')
		json_string_at(p, n, i, &r->body);
	else
		json_compact(&r->body, p, n);
	return 0;
}
