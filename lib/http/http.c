/* http — one target's curl multi handle, its slots (one easy handle each,
 * reused so their connections stay alive), the rate's token bucket and
 * the outcome of each request sorted into SPEC 6a's retry classes. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/sig.h"
#include "http.h"
#include "http_int.h"

enum { EXCERPT = 120 };		/* body bytes kept for ERROR_MESSAGE */

struct slot {
	CURL *easy;
	struct http_req *rq;
	struct curl_slist *hdr;
	struct buf resp;	/* the start of the response body */
	int busy;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The excerpt for messages, and the whole body when the request wants it. */
static size_t
keep_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	struct buf *b = &s->resp, *all = s->rq->resp;
	size_t n = size * nmemb;

	if (b->n < EXCERPT)
		buf_add(b, p, n < EXCERPT - b->n ? n : EXCERPT - b->n);
	if (all != NULL) {
		if (all->n < s->rq->resp_max)
			buf_add(all, p, n < s->rq->resp_max - all->n ? n : s->rq->resp_max - all->n);
		s->rq->resp_total += n;
	}
	return n;
}

int
http_open(const struct http_conf *c, struct http **out, struct ev_err *e)
{
	struct http *h = xcalloc(1, sizeof *h);

	pthread_once(&curl_once, curl_init);
	h->c = *c;
	h->nslots = c->concurrency > 0 ? c->concurrency : HTTP_DEFAULT_CONCURRENCY;
	h->slots = xcalloc((size_t)h->nslots, sizeof *h->slots);
	h->interval_us = 1000000.0 / (c->rate > 0 ? c->rate : HTTP_DEFAULT_RATE);
	if ((h->multi = curl_multi_init()) == NULL) {
		free(h->slots);
		free(h);
		return err_set(e, EV_SOFTWARE, "%s: cannot start libcurl", c->url);
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->nslots);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, (long)h->nslots);
	for (int i = 0; i < h->nslots; i++) {
		CURL *ez = curl_easy_init();
		if (ez == NULL) {
			http_close(h);
			return err_set(e, EV_SOFTWARE, "%s: cannot start libcurl", c->url);
		}
		h->slots[i].easy = ez;
		http_easy_common(h, ez);
		curl_easy_setopt(ez, CURLOPT_URL, c->url);
		if (strcmp(c->method, "HEAD") == 0)
			curl_easy_setopt(ez, CURLOPT_NOBODY, 1L);
		else if (strcmp(c->method, "GET") == 0)
			curl_easy_setopt(ez, CURLOPT_HTTPGET, 1L);
		else
			curl_easy_setopt(ez, CURLOPT_CUSTOMREQUEST, c->method);
		curl_easy_setopt(ez, CURLOPT_WRITEFUNCTION, keep_body);
		curl_easy_setopt(ez, CURLOPT_WRITEDATA, &h->slots[i]);
		curl_easy_setopt(ez, CURLOPT_PRIVATE, &h->slots[i]);
		if (c->auth == HTTP_AUTH_BASIC) {
			curl_easy_setopt(ez, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(ez, CURLOPT_USERNAME, c->user);
			curl_easy_setopt(ez, CURLOPT_PASSWORD, c->secret);
		}
	}
	*out = h;
	return 0;
}

/* Settings every easy handle of h shares, the token fetch's included. */
void
http_easy_common(const struct http *h, CURL *ez)
{
	curl_easy_setopt(ez, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ez, CURLOPT_TIMEOUT_MS, (long)(h->c.timeout_ms > 0 ?
	    h->c.timeout_ms : HTTP_DEFAULT_TIMEOUT_MS));
	curl_easy_setopt(ez, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(ez, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(ez, CURLOPT_USERAGENT, "evkit/" EVKIT_VERSION);
	curl_easy_setopt(ez, CURLOPT_PROTOCOLS_STR, "http,https");
	/* libcurl's default CA bundle is the system's; these two variables
	 * name another, as curl(1) honours them. */
	const char *ca = getenv("CURL_CA_BUNDLE");
	if (ca == NULL || ca[0] == '\0')
		ca = getenv("SSL_CERT_FILE");
	if (ca != NULL && ca[0] != '\0')
		curl_easy_setopt(ez, CURLOPT_CAINFO, ca);
	if (h->c.insecure) {
		curl_easy_setopt(ez, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(ez, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* The headers of one request: the target's, auth, trace and CloudEvents. */
static struct curl_slist *
headers(struct http *h, const struct http_req *rq)
{
	struct curl_slist *l = NULL;
	struct buf b = { 0 };
	int structured = h->c.cloudevents == HTTP_CE_STRUCTURED;

	l = curl_slist_append(l, structured ? "Content-Type: application/cloudevents+json; "
	    "charset=utf-8" : "Content-Type: application/json");
	l = curl_slist_append(l, "Expect:");
	for (const char *const *p = h->c.headers; p != NULL && *p != NULL; p++)
		l = curl_slist_append(l, *p);
	if (h->c.auth == HTTP_AUTH_API_KEY || (h->c.auth == HTTP_AUTH_OAUTH && h->token != NULL)) {
		if (h->c.auth == HTTP_AUTH_API_KEY)
			buf_printf(&b, "%s: %s", h->c.user, h->c.secret);
		else
			buf_printf(&b, "Authorization: Bearer %s", h->token);
		buf_addc(&b, '\0');
		l = curl_slist_append(l, b.p);
		buf_reset(&b);
	}
	if (rq->trace != NULL) {
		char tp[64];
		buf_printf(&b, "X-Amzn-Trace-Id: %s", rq->trace);
		buf_addc(&b, '\0');
		l = curl_slist_append(l, b.p);
		buf_reset(&b);
		if (http_traceparent(rq->trace, tp)) {
			buf_printf(&b, "traceparent: %s", tp);
			buf_addc(&b, '\0');
			l = curl_slist_append(l, b.p);
			buf_reset(&b);
		}
	}
	if (h->c.cloudevents == HTTP_CE_BINARY)
		l = http_ce_headers(l, rq);
	buf_free(&b);
	return l;
}

static void
start(struct http *h, struct slot *s, struct http_req *rq)
{
	s->rq = rq;
	s->busy = 1;
	rq->done = 0;
	rq->resp_total = 0;
	if (rq->resp != NULL)
		buf_reset(rq->resp);
	buf_reset(&s->resp);
	curl_slist_free_all(s->hdr);
	s->hdr = headers(h, rq);
	buf_reset(&h->body[s - h->slots]);
	/* GET and HEAD carry no body: the event is in its headers only. */
	if (strcmp(h->c.method, "GET") == 0 || strcmp(h->c.method, "HEAD") == 0) {
	} else if (h->c.cloudevents == HTTP_CE_STRUCTURED) {
		http_ce_structured(&h->body[s - h->slots], rq);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, h->body[s - h->slots].p);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)h->body[s - h->slots].n);
	} else {
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->n);
	}
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdr);
	curl_multi_add_handle(h->multi, s->easy);
	h->inflight++;
}

/* The bytes of p[0..n) fit for a one-line message. */
static void
excerpt(char *out, size_t cap, const struct buf *b)
{
	size_t k = 0;

	for (size_t i = 0; i < b->n && k + 1 < cap; i++) {
		unsigned char c = (unsigned char)b->p[i];
		out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	out[k] = '\0';
}

static void
classify(struct http *h, struct slot *s, CURLcode cc)
{
	struct http_req *rq = s->rq;
	long st = 0, nc = 0;
	char ex[EXCERPT + 1];

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_getinfo(s->easy, CURLINFO_NUM_CONNECTS, &nc);
	h->connects += nc;
	rq->status = st;
	rq->code = NULL;
	rq->why[0] = '\0';
	rq->done = 1;
	if (cc != CURLE_OK) {
		rq->outcome = HTTP_RETRY;
		rq->code = cc == CURLE_OPERATION_TIMEDOUT ? "TIMEOUT" : "CONNECTION_ERROR";
		snprintf(rq->why, sizeof rq->why, "%s %s: %s", h->c.method, h->c.url,
		    curl_easy_strerror(cc));
		return;
	}
	excerpt(ex, sizeof ex, &s->resp);
	if (st >= 200 && st < 300) {
		rq->outcome = HTTP_OK;
		return;
	}
	if (st >= 300 && st < 400) {
		char *loc = NULL;
		curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &loc);
		rq->outcome = HTTP_FINAL;
		rq->code = "HTTP_REDIRECT";
		snprintf(rq->why, sizeof rq->why, "%s %s: HTTP %ld redirect to %s (not followed)",
		    h->c.method, h->c.url, st, loc != NULL ? loc : "(no Location)");
		return;
	}
	rq->outcome = st == 429 || st >= 500 ? HTTP_RETRY : HTTP_FINAL;
	rq->code = st == 429 ? "THROTTLING" : st >= 500 ? "SERVICE_UNAVAILABLE" :
	    st == 401 || st == 403 ? "NO_PERMISSIONS" : st == 404 ? "NO_RESOURCE" :
	    "INVALID_PARAMETER";
	snprintf(rq->why, sizeof rq->why, "%s %s: HTTP %ld: %s", h->c.method, h->c.url, st, ex);
}

/* Waits for the bucket's next token while driving what is in flight. */
static void
take_token(struct http *h)
{
	for (;;) {
		int64_t now = clock_mono_us();
		if (h->next_us <= (double)now) {
			if (h->next_us < (double)now - h->interval_us)
				h->next_us = (double)now - h->interval_us;
			h->next_us += h->interval_us;
			return;
		}
		int running;
		int wait = (int)((h->next_us - (double)now) / 1000) + 1;
		if (sig_stop)
			return;
		if (wait > 100)
			wait = 100;	/* to see a stop soon */
		curl_multi_poll(h->multi, NULL, 0, wait, NULL);
		curl_multi_perform(h->multi, &running);
		http_reap(h);
	}
}

/* Settles the transfers that ended; a 401 under OAuth drops the token
 * and sends that request again once with a fresh one. */
void
http_reap(struct http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct slot *s;
		CURL *ez = m->easy_handle;
		CURLcode cc = m->data.result;
		curl_easy_getinfo(ez, CURLINFO_PRIVATE, (char **)&s);
		curl_multi_remove_handle(h->multi, ez);
		h->inflight--;
		classify(h, s, cc);
		s->busy = 0;
		if (h->c.auth == HTTP_AUTH_OAUTH && s->rq->status == 401 && !s->rq->reauth) {
			s->rq->reauth = 1;
			http_oauth_drop(h);
			if (http_oauth_token(h, s->rq) == 0)
				start(h, s, s->rq);
		}
	}
}

static struct slot *
free_slot(struct http *h)
{
	for (int i = 0; i < h->nslots; i++)
		if (!h->slots[i].busy)
			return &h->slots[i];
	return NULL;
}

void
http_send(struct http *h, struct http_req *rq, size_t n)
{
	int running;
	size_t next = 0;

	if (h->body == NULL)
		h->body = xcalloc((size_t)h->nslots, sizeof *h->body);
	for (size_t i = 0; i < n; i++)
		rq[i].reauth = 0;
	while (next < n || h->inflight > 0) {
		struct slot *s;
		/* Told to stop: what is in flight ends, nothing more starts
		 * (a low rate would otherwise hold the stop for minutes). */
		for (; sig_stop && next < n; next++) {
			rq[next].outcome = HTTP_FINAL;
			rq[next].code = "TARGET_ERROR";
			snprintf(rq[next].why, sizeof rq[next].why, "not sent: interrupted by "
			    "signal %d", (int)sig_stop);
		}
		while (next < n && (s = free_slot(h)) != NULL) {
			if (h->c.auth == HTTP_AUTH_OAUTH && http_oauth_token(h, &rq[next]) != 0) {
				/* No token: the rest of the attempt fails alike,
				 * rather than asking the endpoint once for each. */
				for (size_t j = next + 1; j < n; j++) {
					rq[j].outcome = rq[next].outcome;
					rq[j].status = rq[next].status;
					rq[j].code = rq[next].code;
					memcpy(rq[j].why, rq[next].why, sizeof rq[j].why);
				}
				next = n;
				continue;
			}
			take_token(h);
			if (sig_stop || (s = free_slot(h)) == NULL)
				break;
			start(h, s, &rq[next++]);
		}
		curl_multi_perform(h->multi, &running);
		http_reap(h);
		if (h->inflight > 0 && (next >= n || free_slot(h) == NULL))
			curl_multi_poll(h->multi, NULL, 0, 100, NULL);
	}
}

int
http_start(struct http *h, struct http_req *rq)
{
	struct slot *s = free_slot(h);

	if (s == NULL)
		return 0;
	if (h->body == NULL)
		h->body = xcalloc((size_t)h->nslots, sizeof *h->body);
	rq->reauth = 1;		/* no OAuth here: a 401 is the answer */
	start(h, s, rq);
	return 1;
}

void
http_cancel(struct http *h, struct http_req *rq)
{
	for (int i = 0; i < h->nslots; i++) {
		struct slot *s = &h->slots[i];
		if (!s->busy || s->rq != rq)
			continue;
		curl_multi_remove_handle(h->multi, s->easy);
		h->inflight--;
		s->busy = 0;
		rq->outcome = HTTP_RETRY;
		rq->code = "TIMEOUT";
		snprintf(rq->why, sizeof rq->why, "cancelled: its caller's deadline passed");
		rq->done = 1;
	}
}

int
http_wait(struct http *h, struct pollfd *fds, nfds_t n, int wait_ms)
{
	int running, ready = 0;

	XGROW(&h->wfd, &h->nwfd, n > 0 ? n : 1);
	for (nfds_t i = 0; i < n; i++) {
		h->wfd[i].fd = fds[i].fd;
		h->wfd[i].events = (short)((fds[i].events & POLLIN ? CURL_WAIT_POLLIN : 0) |
		    (fds[i].events & POLLOUT ? CURL_WAIT_POLLOUT : 0));
		h->wfd[i].revents = 0;
		fds[i].revents = 0;
	}
	int any = 0;
	curl_multi_poll(h->multi, h->wfd, (unsigned)n, wait_ms, &any);
	/* libcurl passes on POLLIN and POLLOUT only: a hang-up or an error
	 * (a closed pipe's only news) is asked of poll itself. */
	if (any > 0 && n > 0 && (ready = poll(fds, n, 0)) < 0)
		ready = 0;
	curl_multi_perform(h->multi, &running);
	http_reap(h);
	return ready;
}

/* Whether url's authority ends in ':' (libcurl takes "host:" for the
 * scheme's default port, which is never what was meant). */
static int
empty_port(const char *url)
{
	const char *a = strstr(url, "://"), *end;

	if (a == NULL)
		return 0;
	a += 3;
	end = a + strcspn(a, "/?#");
	return end > a && end[-1] == ':';
}

char *
http_url_join(const char *url, const char *const *kv, size_t n, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *out = NULL;

	pthread_once(&curl_once, curl_init);
	*why = NULL;
	if (u == NULL) {
		*why = "cannot start libcurl";
		return NULL;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0')
		*why = "not a valid URL";
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		*why = "not an http:// or https:// URL";
	else if (empty_port(url))
		*why = "the URL has a ':' and no port";
	for (size_t i = 0; *why == NULL && i < n; i++) {
		char *k = curl_easy_escape(NULL, kv[2 * i], 0), *v = curl_easy_escape(NULL, kv[2 * i + 1], 0);
		struct buf q = { 0 };
		buf_printf(&q, "%s=%s", k, v);
		buf_addc(&q, '\0');
		curl_url_set(u, CURLUPART_QUERY, q.p, CURLU_APPENDQUERY);
		buf_free(&q);
		curl_free(k);
		curl_free(v);
	}
	if (*why == NULL && curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
		*why = "not a valid URL";
	char *copy = *why == NULL ? xstrdup(out) : NULL;
	curl_free(out);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return copy;
}

const char *
http_url_check(const char *url)
{
	const char *why;

	free(http_url_join(url, NULL, 0, &why));
	return why;
}

long
http_connections(const struct http *h)
{
	return h->connects;
}

void
http_close(struct http *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < h->nslots; i++) {
		if (h->slots[i].easy != NULL) {
			if (h->slots[i].busy)
				curl_multi_remove_handle(h->multi, h->slots[i].easy);
			curl_easy_cleanup(h->slots[i].easy);
		}
		curl_slist_free_all(h->slots[i].hdr);
		buf_free(&h->slots[i].resp);
		if (h->body != NULL)
			buf_free(&h->body[i]);
	}
	curl_multi_cleanup(h->multi);
	http_oauth_drop(h);
	free(h->body);
	free(h->wfd);
	free(h->slots);
	free(h);
}
