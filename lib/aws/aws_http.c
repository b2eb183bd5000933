/* aws_http — one thread's connection: a kept-alive curl easy handle that
 * POSTs AWS JSON 1.0 (SQS) or 1.1 (EventBridge) to the endpoint, signed
 * by libcurl (CURLOPT_AWS_SIGV4).  The key and secret reach curl through
 * CURLOPT_USERNAME / CURLOPT_PASSWORD, never a formatted string; only a
 * session token must be a header (X-Amz-Security-Token, which curl then
 * signs), and that header is wiped when freed.  TLS verification stays
 * on.  aws_call adds the standard retry mode and the error mapping. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/sig.h"

#include "aws_int.h"

/* Fast failure when nothing listens; a long poll's own wait is added to
 * the request timeout. */
enum { CONNECT_MS = 5000, REQUEST_MS = 40000 };

struct aws_client {
	struct aws_conf *conf;
	unsigned gen;		/* the conf's credentials this handle has */
	CURL *h;
	struct curl_slist *token_hdr;
	struct aws_retry retry;
	char sigv4[128];
	char query_err[256];	/* x-amzn-query-error of the last response */
	struct buf *out;
	char cerr[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void
init_curl(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct aws_client *c = arg;

	buf_add(c->out, p, size * nmemb);
	return size * nmemb;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct aws_client *c = arg;
	size_t n = size * nmemb;
	static const char name[] = "x-amzn-query-error:";

	if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
		size_t i = sizeof name - 1;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t end = n;
		while (end > i && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' '))
			end--;
		if (end - i >= sizeof c->query_err)
			end = i + sizeof c->query_err - 1;
		memcpy(c->query_err, p + i, end - i);
		c->query_err[end - i] = '\0';
	}
	return n;
}

/* The credentials into the handle: key and secret as curl's user and
 * password, a session token as a header (wiped when replaced). */
static void
set_creds(struct aws_client *c)
{
	const struct aws_conf *f = c->conf;

	for (struct curl_slist *l = c->token_hdr; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(c->token_hdr);
	c->token_hdr = NULL;
	curl_easy_setopt(c->h, CURLOPT_USERNAME, f->akid);
	curl_easy_setopt(c->h, CURLOPT_PASSWORD, f->secret);
	if (f->token != NULL) {
		struct buf b = { 0 };
		buf_printf(&b, "X-Amz-Security-Token: %s", f->token);
		c->token_hdr = curl_slist_append(NULL, b.p);
		explicit_bzero(b.p, b.cap);
		buf_free(&b);
		if (c->token_hdr == NULL)
			die_oom();
	}
	c->gen = f->gen;
}

/* A long poll gives way to a stop request (core/sig): nothing was
 * received, as far as we know; what the server handed out comes back
 * after its visibility timeout. */
static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)arg, (void)dt, (void)dn, (void)ut, (void)un;
	return sig_stop != 0;
}

static int
setup(struct aws_client *c, struct ev_err *e)
{
	const struct aws_conf *f = c->conf;
	CURL *h = c->h;

	snprintf(c->sigv4, sizeof c->sigv4, "aws:amz:%s:%s", f->region,
	    f->svc == AWS_SQS ? "sqs" : "events");
	if (curl_easy_setopt(h, CURLOPT_URL, f->endpoint) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, c->sigv4) != CURLE_OK)
		return err_set(e, EV_USAGE, "endpoint '%s' is not usable by libcurl", f->endpoint);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->cerr);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	/* curl asks "Expect: 100-continue" for big bodies (unsigned, which is
	 * fine); do not wait a second for the 100 that some servers never send. */
	curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	pthread_mutex_lock(&c->conf->lock);
	set_creds(c);
	pthread_mutex_unlock(&c->conf->lock);
	return 0;
}

int
aws_client_new(struct aws_conf *conf, struct aws_client **cp, struct ev_err *e)
{
	pthread_once(&curl_once, init_curl);
	if (curl_init_rc != CURLE_OK)
		return err_set(e, EV_SOFTWARE, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	struct aws_client *c = xcalloc(1, sizeof *c);
	c->conf = conf;
	if ((c->h = curl_easy_init()) == NULL)
		die_oom();
	aws_retry_init(&c->retry);
	int rc = setup(c, e);
	if (rc == 0)
		*cp = c;
	else
		aws_client_free(c);
	return rc;
}

void
aws_client_free(struct aws_client *c)
{
	if (c == NULL)
		return;
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	for (struct curl_slist *l = c->token_hdr; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(c->token_hdr);
	free(c);
}

struct aws_retry *
aws_client_retry(struct aws_client *c)
{
	return &c->retry;
}

/* The request's headers: the token's (kept) then this call's. */
static struct curl_slist *
headers(struct aws_client *c, const char *op)
{
	char target[160], ctype[64];
	int sqs = c->conf->svc == AWS_SQS;
	struct curl_slist *l = NULL, *t;

	snprintf(target, sizeof target, "X-Amz-Target: %s.%s", sqs ? "AmazonSQS" : "AWSEvents",
	    op);
	snprintf(ctype, sizeof ctype, "Content-Type: application/x-amz-json-%s",
	    sqs ? "1.0" : "1.1");
	/* No "Expect:" or "Accept:" (curl's way to drop a header): curl 7.88
	 * would sign them (empty) while not sending them, a signature no
	 * server can check. */
	const char *h[] = { ctype, target, "Accept: application/json" };
	for (size_t i = 0; i < sizeof h / sizeof *h; i++) {
		if ((t = curl_slist_append(l, h[i])) == NULL)
			die_oom();
		l = t;
	}
	return l;
}

static void
transport_error(struct aws_client *c, CURLcode rc, struct aws_error *ae)
{
	memset(ae, 0, sizeof *ae);
	const char *code = "ConnectionError";
	if (rc == CURLE_OPERATION_TIMEDOUT)
		code = "Timeout";
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM)
		code = "TLSError";
	snprintf(ae->code, sizeof ae->code, "%s", code);
	snprintf(ae->msg, sizeof ae->msg, "%s: %s", c->conf->endpoint,
	    c->cerr[0] != '\0' ? c->cerr : curl_easy_strerror(rc));
}

int
aws_http_post(struct aws_client *c, const char *op, const char *body, size_t n, int wait_s,
    struct buf *out, struct aws_error *ae)
{
	struct curl_slist *l = headers(c, op), *last = l;
	long http = 0;

	while (last->next != NULL)
		last = last->next;
	last->next = c->token_hdr;	/* borrowed for this request */
	buf_reset(out);
	buf_add(out, "", 0);
	c->out = out;
	c->query_err[0] = c->cerr[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)REQUEST_MS + 1000L * wait_s);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, wait_s > 0 ? 0L : 1L);
	CURLcode rc = curl_easy_perform(c->h);
	last->next = NULL;
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(l);
	c->out = NULL;
	if (rc == CURLE_ABORTED_BY_CALLBACK) {
		buf_reset(out);
		buf_adds(out, "{}");
		return 0;
	}
	if (rc != CURLE_OK) {
		transport_error(c, rc, ae);
		return -1;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &http);
	if (http >= 200 && http < 300)
		return 0;
	aws_err_parse(http, c->query_err, out->p, out->n, ae);
	return -1;
}

int
aws_nap(int64_t ms)
{
	int64_t end = clock_mono_ms() + ms;

	/* In slices of 100 ms: a stop request ends the wait (core/sig). */
	for (int64_t left = ms; left > 0 && !sig_stop; left = end - clock_mono_ms()) {
		int64_t step = left < 100 ? left : 100;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)step * 1000000L };
		nanosleep(&ts, NULL);
	}
	return sig_stop ? -1 : 0;
}

int
aws_call(struct aws_client *c, const char *op, const char *body, size_t n, int wait_s,
    struct buf *out, struct ev_err *e)
{
	struct aws_error ae;
	int cost = 0, rc = aws_conf_refresh(c->conf, e);

	if (rc != 0)
		return err_wrap(e, "%s", op);
	if (c->gen != __atomic_load_n(&c->conf->gen, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&c->conf->lock);
		set_creds(c);
		pthread_mutex_unlock(&c->conf->lock);
	}
	for (int attempt = 1;; attempt++) {
		if (aws_http_post(c, op, body, n, wait_s, out, &ae) == 0) {
			aws_retry_ok(&c->retry, cost);
			return 0;
		}
		int kind = aws_err_kind(&ae);
		if (attempt >= c->retry.max_attempts || (cost = aws_retry_take(&c->retry, kind)) == 0)
			break;
		if (aws_nap(aws_retry_delay(&c->retry, kind, attempt)) != 0)
			break;
	}
	buf_reset(out);
	return aws_err_set(e, op, &ae);
}
