/* http_aux — what a request carries besides its payload: the trace
 * context, the CloudEvents HTTP binding (SPEC 6a) and the OAuth client
 * credentials token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "http_int.h"

static int
hexes(const char *p, size_t n)
{
	return strspn(p, "0123456789abcdef") >= n;
}

int
http_traceparent(const char *xray, char out[64])
{
	const char *root = strstr(xray, "Root=1-"), *par = strstr(xray, "Parent=");
	const char *smp = strstr(xray, "Sampled=1");
	char parent[17];

	if (root == NULL || !hexes(root + 7, 8) || root[15] != '-' || !hexes(root + 16, 24))
		return 0;
	if (par != NULL && hexes(par + 7, 16))
		memcpy(parent, par + 7, 16);
	else	/* no parent span: one derived from the trace, never all zero */
		memcpy(parent, root + 24, 16), parent[15] = parent[15] == '0' ? '1' : parent[15];
	parent[16] = '\0';
	snprintf(out, 64, "00-%.8s%.24s-%s-%s", root + 7, root + 16, parent,
	    smp != NULL ? "01" : "00");
	return 1;
}

static struct curl_slist *
add(struct curl_slist *l, const char *name, const char *v)
{
	struct buf b = { 0 };

	if (v == NULL)
		return l;
	/* A header value is one line: CR and LF would start another. */
	buf_printf(&b, "%s: ", name);
	for (; *v != '\0'; v++)
		buf_addc(&b, *v == '\r' || *v == '\n' ? ' ' : *v);
	buf_addc(&b, '\0');
	l = curl_slist_append(l, b.p);
	buf_free(&b);
	return l;
}

struct curl_slist *
http_ce_headers(struct curl_slist *l, const struct http_req *rq)
{
	l = add(l, "ce-specversion", "1.0");
	l = add(l, "ce-id", rq->ce_id);
	l = add(l, "ce-source", rq->ce_source);
	l = add(l, "ce-type", rq->ce_type);
	l = add(l, "ce-time", rq->ce_time);
	const char *a = rq->ce_ext;
	for (size_t i = 0; i < rq->nce; i++) {
		const char *v = a + strlen(a) + 1;
		char name[128];
		snprintf(name, sizeof name, "ce-%s", a);
		l = add(l, name, v);
		a = v + strlen(v) + 1;
	}
	return l;
}

static void
attr(struct buf *b, const char *k, const char *v)
{
	if (v == NULL)
		return;
	buf_printf(b, ",\"%s\":", k);
	json_add_string(b, v, strlen(v));
}

void
http_ce_structured(struct buf *b, const struct http_req *rq)
{
	buf_adds(b, "{\"specversion\":\"1.0\"");
	attr(b, "id", rq->ce_id);
	attr(b, "source", rq->ce_source);
	attr(b, "type", rq->ce_type);
	attr(b, "time", rq->ce_time);
	const char *a = rq->ce_ext;
	for (size_t i = 0; i < rq->nce; i++) {
		const char *v = a + strlen(a) + 1;
		attr(b, a, v);
		a = v + strlen(v) + 1;
	}
	buf_adds(b, ",\"datacontenttype\":\"application/json\",\"data\":");
	buf_add(b, rq->body, rq->n);
	buf_adds(b, "}");
	buf_addc(b, '\0');
	b->n--;
}

void
http_oauth_drop(struct http *h)
{
	if (h->token != NULL) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
		h->token = NULL;
	}
}

static size_t
collect(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	if (b->n < 65536)
		buf_add(b, p, size * nmemb);
	return size * nmemb;
}

static void
form(struct buf *b, CURL *ez, const char *k, const char *v)
{
	char *esc;

	if (v == NULL)
		return;
	esc = curl_easy_escape(ez, v, 0);
	buf_printf(b, "%s%s=%s", b->n > 0 ? "&" : "", k, esc != NULL ? esc : "");
	curl_free(esc);
}

/* The token out of a token endpoint's answer: 0, or why not. */
static const char *
parse_token(struct http *h, const struct buf *r)
{
	struct buf t = { 0 };
	size_t o, v;
	int64_t life = 3600;

	if (r->n == 0 || (o = json_ws(r->p, r->n, 0)) >= r->n || r->p[o] != '{')
		return "the answer is not a JSON object";
	if (!json_string_at(r->p, r->n, json_find_member(r->p, r->n, o, "access_token", 12), &t))
		return "the answer has no access_token";
	v = json_find_member(r->p, r->n, o, "expires_in", 10);
	if (v != (size_t)-1 && r->p[v] >= '0' && r->p[v] <= '9')
		life = strtoll(r->p + v, NULL, 10);
	buf_addc(&t, '\0');
	h->token = buf_detach(&t);
	/* Refreshed a little before it runs out, as the clocks differ. */
	h->token_until = clock_mono_ms() + (life > 60 ? life - 30 : life) * 1000;
	return NULL;
}

int
http_oauth_token(struct http *h, struct http_req *rq)
{
	struct buf body = { 0 }, resp = { 0 };
	const char *why = NULL;
	long st = 0;
	CURLcode cc;
	CURL *ez;

	if (h->token != NULL && clock_mono_ms() < h->token_until)
		return 0;
	http_oauth_drop(h);
	if ((ez = curl_easy_init()) == NULL)
		why = "cannot start libcurl";
	else {
		http_easy_common(h, ez);
		form(&body, ez, "grant_type", "client_credentials");
		form(&body, ez, "client_id", h->c.user);
		form(&body, ez, "client_secret", h->c.secret);
		form(&body, ez, "scope", h->c.scope);
		curl_easy_setopt(ez, CURLOPT_URL, h->c.token_url);
		curl_easy_setopt(ez, CURLOPT_POSTFIELDS, body.p);
		curl_easy_setopt(ez, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.n);
		curl_easy_setopt(ez, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(ez, CURLOPT_WRITEDATA, &resp);
		cc = curl_easy_perform(ez);
		curl_easy_getinfo(ez, CURLINFO_RESPONSE_CODE, &st);
		if (cc != CURLE_OK)
			why = curl_easy_strerror(cc);
		else if (st < 200 || st > 299)
			why = "the token endpoint refused";
		else
			why = parse_token(h, &resp);
		curl_easy_cleanup(ez);
	}
	if (body.p != NULL)
		explicit_bzero(body.p, body.n);
	buf_free(&body);
	buf_free(&resp);
	if (why == NULL)
		return 0;
	rq->outcome = st == 400 || st == 401 || st == 403 ? HTTP_FINAL : HTTP_RETRY;
	rq->status = st;
	rq->code = rq->outcome == HTTP_FINAL ? "NO_PERMISSIONS" : "SERVICE_UNAVAILABLE";
	snprintf(rq->why, sizeof rq->why, "oauth token %s: %s%s%ld", h->c.token_url, why,
	    st != 0 ? ": HTTP " : "", st);
	return -1;
}
