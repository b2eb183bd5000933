/* apigw_event — an HTTP request as API Gateway's payload format 2.0
 * event: lower-case headers with repeats joined by commas, the Cookie
 * headers as cookies, the query as rawQueryString and decoded
 * queryStringParameters, and a text body as is, any other base64. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "apigw.h"
#include "core/b64.h"
#include "core/json.h"

static void
add_str(struct buf *b, const char *s)
{
	json_add_string(b, s, strlen(s));
}

/* Appends s[0..n) with %XX decoded, as a JSON string. */
static void
add_decoded(struct buf *b, const char *s, size_t n)
{
	struct buf d = { 0 };

	buf_add(&d, "", 0);
	for (size_t i = 0; i < n; i++) {
		char hex[3] = { 0 };
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			memcpy(hex, s + i + 1, 2);
			buf_addc(&d, (char)strtol(hex, NULL, 16));
			i += 2;
		} else {
			buf_addc(&d, s[i]);
		}
	}
	json_add_string(b, d.p, d.n);
	buf_free(&d);
}

/* Whether header i's name is the same as an earlier one's. */
static int
seen_before(const struct apigw_req *rq, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcasecmp(rq->headers[j * 2], rq->headers[i * 2]) == 0)
			return 1;
	return 0;
}

static const char *
header(const struct apigw_req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nheaders; i++)
		if (strcasecmp(rq->headers[i * 2], name) == 0)
			return rq->headers[i * 2 + 1];
	return NULL;
}

/* "headers": each name once, lower-case, its values joined by commas;
 * the cookies have their own member. */
static void
add_headers(struct buf *b, const struct apigw_req *rq)
{
	int first = 1;

	buf_adds(b, ",\"headers\":{");
	for (size_t i = 0; i < rq->nheaders; i++) {
		const char *name = rq->headers[i * 2];
		if (strcasecmp(name, "cookie") == 0 || seen_before(rq, i))
			continue;
		struct buf k = { 0 }, v = { 0 };
		buf_add(&k, "", 0);
		buf_add(&v, "", 0);
		for (const char *c = name; *c != '\0'; c++)
			buf_addc(&k, (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c));
		for (size_t j = i; j < rq->nheaders; j++) {
			if (strcasecmp(rq->headers[j * 2], name) != 0)
				continue;
			if (j > i)
				buf_addc(&v, ',');
			buf_adds(&v, rq->headers[j * 2 + 1]);
		}
		buf_adds(b, first ? "" : ",");
		json_add_string(b, k.p, k.n);
		buf_addc(b, ':');
		json_add_string(b, v.p, v.n);
		buf_free(&k);
		buf_free(&v);
		first = 0;
	}
	buf_addc(b, '}');
}

/* "cookies": every Cookie header's pairs, in order; none: no member. */
static void
add_cookies(struct buf *b, const struct apigw_req *rq)
{
	int n = 0;

	for (size_t i = 0; i < rq->nheaders; i++) {
		if (strcasecmp(rq->headers[i * 2], "cookie") != 0)
			continue;
		const char *s = rq->headers[i * 2 + 1];
		while (*s != '\0') {
			s += strspn(s, " \t;");
			size_t k = strcspn(s, ";");
			size_t e = k;
			while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t'))
				e--;
			if (e > 0) {
				buf_adds(b, n++ == 0 ? ",\"cookies\":[" : ",");
				json_add_string(b, s, e);
			}
			s += k;
		}
	}
	if (n > 0)
		buf_addc(b, ']');
}

/* "queryStringParameters": decoded, repeats joined by commas, in the
 * order of first appearance; no query: no member. */
static void
add_query(struct buf *b, const char *q)
{
	size_t n = strlen(q);
	int first = 1;

	if (n == 0)
		return;
	buf_adds(b, ",\"queryStringParameters\":{");
	for (size_t i = 0; i < n;) {
		size_t pl = strcspn(q + i, "&");
		size_t kl = strcspn(q + i, "=&");
		int dup = 0;
		/* a key seen before was written with all its values */
		for (size_t j = 0; j < i && !dup;) {
			size_t pj = strcspn(q + j, "&"), kj = strcspn(q + j, "=&");
			dup = kj == kl && kl > 0 && memcmp(q + j, q + i, kl) == 0;
			j += pj + (q[j + pj] == '&');
		}
		if (kl > 0 && !dup) {
			struct buf v = { 0 };
			buf_add(&v, "", 0);
			for (size_t j = i; j < n;) {
				size_t pj = strcspn(q + j, "&"), kj = strcspn(q + j, "=&");
				if (kj == kl && memcmp(q + j, q + i, kl) == 0) {
					if (j > i)
						buf_addc(&v, ',');
					if (kj < pj)
						buf_add(&v, q + j + kj + 1, pj - kj - 1);
				}
				j += pj + (q[j + pj] == '&');
			}
			buf_adds(b, first ? "" : ",");
			add_decoded(b, q + i, kl);
			buf_addc(b, ':');
			add_decoded(b, v.p, v.n);
			buf_free(&v);
			first = 0;
		}
		i += pl + (q[i + pl] == '&');
	}
	buf_addc(b, '}');
}

/* Whether a Content-Type names text: API Gateway passes those as is. */
static int
text_type(const char *ct)
{
	static const char *const kinds[] = {
		"json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "graphql", "csv", NULL,
	};

	if (ct == NULL || *ct == '\0' || strncasecmp(ct, "text/", 5) == 0)
		return 1;
	size_t n = strcspn(ct, ";");
	for (int i = 0; kinds[i] != NULL; i++) {
		size_t k = strlen(kinds[i]);
		for (size_t j = 0; j + k <= n; j++)
			if (strncasecmp(ct + j, kinds[i], k) == 0)
				return 1;
	}
	return 0;
}

static void
add_context(struct buf *b, const struct apigw_req *rq)
{
	const char *host = header(rq, "host"), *ua = header(rq, "user-agent");
	char when[64];
	time_t t = (time_t)(rq->time_ms / 1000);
	struct tm tm;

	host = host != NULL && *host != '\0' ? host : "localhost";
	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	/* the host without its port, as API Gateway's domain names have none */
	size_t hn = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
	if (hn > strlen(host))
		hn = strlen(host);
	buf_adds(b, ",\"requestContext\":{\"accountId\":\"123456789012\",\"apiId\":\"local\","
	    "\"domainName\":");
	json_add_string(b, host, hn);
	buf_adds(b, ",\"domainPrefix\":");
	json_add_string(b, host, host[0] == '[' ? hn : strcspn(host, ".:"));
	buf_adds(b, ",\"http\":{\"method\":");
	add_str(b, rq->method);
	buf_adds(b, ",\"path\":");
	add_str(b, rq->path);
	buf_adds(b, ",\"protocol\":");
	add_str(b, rq->protocol);
	buf_adds(b, ",\"sourceIp\":");
	add_str(b, rq->source_ip);
	buf_adds(b, ",\"userAgent\":");
	add_str(b, ua != NULL ? ua : "");
	buf_adds(b, "},\"requestId\":");
	add_str(b, rq->request_id);
	buf_adds(b, ",\"routeKey\":\"$default\",\"stage\":\"$default\",\"time\":");
	add_str(b, when);
	buf_printf(b, ",\"timeEpoch\":%lld}", (long long)rq->time_ms);
}

void
apigw_event(const struct apigw_req *rq, struct buf *b)
{
	buf_adds(b, "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":");
	add_str(b, rq->path);
	buf_adds(b, ",\"rawQueryString\":");
	add_str(b, rq->query);
	add_cookies(b, rq);
	add_headers(b, rq);
	add_query(b, rq->query);
	add_context(b, rq);
	if (rq->body != NULL) {
		int text = text_type(header(rq, "content-type")) &&
		    utf8_check(rq->body, rq->body_n, 0) == 0;
		buf_adds(b, ",\"body\":");
		if (text) {
			json_add_string(b, rq->body, rq->body_n);
		} else {
			buf_addc(b, '"');
			b64_encode(b, (const unsigned char *)rq->body, rq->body_n);
			buf_addc(b, '"');
		}
		buf_adds(b, text ? ",\"isBase64Encoded\":false" : ",\"isBase64Encoded\":true");
	} else {
		buf_adds(b, ",\"isBase64Encoded\":false");
	}
	buf_addc(b, '}');
}
