/* serve_call — one request's life: read whole (a body over
 * SERVE_MAX_BODY is read and dropped, answered 413), matched to a
 * service by X-Amz-Target or path, called, answered at once or resumed
 * once answered later. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "serve_int.h"

void *
serve_on_begin(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct serve *s = cls;
	struct serve_call *c = xcalloc(1, sizeof *c);

	c->s = s;
	c->conn = conn;
	c->svc = -1;
	c->uri = xstrdup(uri);
	c->t_ms = clock_now_ms();
	c->t_us = clock_mono_us();
	uuid_v4(c->id);
	s->active++;
	return c;
}

static void
unlink_waiting(struct serve_call *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (c->s->waiting == c)
		c->s->waiting = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

void
serve_on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_RequestTerminationCode why)
{
	struct serve *s = cls;
	struct serve_call *c = *ctx;

	(void)conn;
	(void)why;
	if (c == NULL)
		return;
	if (c->state == C_WAITING) {
		unlink_waiting(c);
		if (c->gone != NULL)
			c->gone(c->gone_ctx, c);
	}
	free(c->uri);
	buf_free(&c->body);
	buf_free(&c->rhdrs);
	buf_free(&c->out);
	free(c);
	*ctx = NULL;
	s->active--;
}

/* Queues the answer on the connection and logs it. */
static enum MHD_Result
respond(struct serve_call *c, const char *method)
{
	struct MHD_Response *rs = MHD_create_response_from_buffer(c->out.n,
	    c->out.p != NULL ? c->out.p : (char *)"", MHD_RESPMEM_MUST_COPY);
	const char *h = c->rhdrs.p;

	if (rs == NULL)
		return MHD_NO;
	for (size_t i = 0; i < c->nrhdrs; i++) {
		const char *v = h + strlen(h) + 1;
		MHD_add_response_header(rs, h, v);
		h = v + strlen(v) + 1;
	}
	if (c->ctype != NULL)
		MHD_add_response_header(rs, "Content-Type", c->ctype);
	MHD_add_response_header(rs, "x-amzn-RequestId", c->id);
	enum MHD_Result ok = MHD_queue_response(c->conn, (unsigned)c->status, rs);
	MHD_destroy_response(rs);
	c->state = C_ANSWERED;
	serve_log_call(c, method);
	return ok;
}

static const struct serve_svc *
svc_of(const struct serve_call *c)
{
	return c->svc >= 0 ? c->s->o->svcs[c->svc] : NULL;
}

/* The service for the request, and its op; -1 when none matches. */
static int
match(struct serve *s, const char *target, const char *path, const char **op)
{
	for (size_t i = 0; i < s->o->nsvcs; i++) {
		const struct serve_svc *v = s->o->svcs[i];
		size_t n;
		if (v->target_prefix != NULL && *target != '\0' &&
		    strncmp(target, v->target_prefix, n = strlen(v->target_prefix)) == 0) {
			*op = target + n;
			return (int)i;
		}
		if (v->path_prefix != NULL &&
		    strncmp(path, v->path_prefix, n = strlen(v->path_prefix)) == 0) {
			*op = path + n;
			return (int)i;
		}
	}
	return -1;
}

static const char *
hdr(struct MHD_Connection *conn, const char *name)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	return v != NULL ? v : "";
}

/* --check-signatures: 1 when the request is answered 403, as AWS
 * answers an unsigned, unknown or badly signed one. */
static int
refused(struct serve *s, struct serve_call *c, const char *method)
{
	switch (serve_sig_check(c, method, s->akid, s->secret)) {
	case 0:
		return 0;
	case 1:
		serve_error(c, 403, "com.amazon.coral.service#MissingAuthenticationTokenException",
		    "MissingAuthenticationToken", "Request is missing Authentication Token");
		return 1;
	case 2:
		serve_error(c, 403, "com.amazon.coral.service#UnrecognizedClientException",
		    "InvalidClientTokenId", "The security token included in the request is invalid.");
		return 1;
	default:
		serve_error(c, 403, "com.amazon.coral.service#InvalidSignatureException",
		    "SignatureDoesNotMatch", "The request signature we calculated does not match "
		    "the signature you provided.");
		return 1;
	}
}

/* The whole request: to its service, or refused. */
static enum MHD_Result
dispatch(struct serve *s, struct serve_call *c, const char *url, const char *method)
{
	const char *target = hdr(c->conn, "X-Amz-Target"), *op = "";
	const char *host = hdr(c->conn, "Host"), *q = strchr(c->uri, '?');

	/* The Host goes into QueueUrls, in JSON: a host name's characters only. */
	size_t hn = strlen(host);
	if (hn > 0 && hn < sizeof c->base - 8 && strspn(host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == hn)
		snprintf(c->base, sizeof c->base, "http://%s", host);
	else
		snprintf(c->base, sizeof c->base, "%s", s->url);
	c->svc = match(s, target, url, &op);
	snprintf(c->op, sizeof c->op, "%s", c->svc >= 0 ? op : target);
	if (s->stopping) {
		serve_error(c, 503, "ServiceUnavailable", NULL, "the server is stopping");
		return respond(c, method);
	}
	if (s->akid != NULL && refused(s, c, method))
		return respond(c, method);
	if (c->svc < 0) {
		serve_error(c, 400, "UnknownOperationException", NULL,
		    "no service here answers X-Amz-Target '%s' at %s %s", target, method, url);
		return respond(c, method);
	}
	buf_addc(&c->body, '\0');
	c->body.n--;
	struct serve_req rq = {
		.method = method, .path = url, .query = q != NULL ? q + 1 : "",
		.target = target, .op = op, .content_type = hdr(c->conn, "Content-Type"),
		.body = c->body.p != NULL ? c->body.p : "", .body_n = c->body.n,
		.base_url = c->base, .request_id = c->id,
	};
	c->state = C_CALLING;
	svc_of(c)->call(s->state[c->svc], c, &rq);
	if (c->state == C_DONE)
		return respond(c, method);
	c->state = C_WAITING;
	c->next = s->waiting;
	if (c->next != NULL)
		c->next->prev = c;
	s->waiting = c;
	MHD_suspend_connection(c->conn);
	return MHD_YES;
}

static void
take_body(struct serve_call *c, const char *data, size_t n)
{
	if (c->state == C_TOOBIG)
		return;
	if (c->body.n + n > SERVE_MAX_BODY) {
		c->state = C_TOOBIG;
		buf_free(&c->body);
		return;
	}
	buf_add(&c->body, data, n);
}

static enum MHD_Result
too_big(struct serve_call *c, const char *method)
{
	serve_error(c, 413, "RequestEntityTooLarge", NULL,
	    "the request body is over %d bytes", SERVE_MAX_BODY);
	return respond(c, method);
}

/* libmicrohttpd's access handler: once the headers are in, once per body
 * chunk, once the body is whole, and again once resumed. */
enum MHD_Result
serve_on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *n, void **ctx)
{
	struct serve *s = cls;
	struct serve_call *c = *ctx;

	(void)version;
	if (c == NULL)
		return MHD_NO;
	if (c->calls++ == 0) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "content-length");
		if (cl != NULL && strtoull(cl, NULL, 10) > SERVE_MAX_BODY) {
			c->state = C_TOOBIG;
			return too_big(c, method);
		}
		return MHD_YES;
	}
	if (*n > 0) {
		if (c->state != C_ANSWERED)
			take_body(c, data, *n);
		*n = 0;
		return MHD_YES;
	}
	switch (c->state) {
	case C_READING:
		return dispatch(s, c, url, method);
	case C_TOOBIG:
		return too_big(c, method);
	case C_DONE:
		return respond(c, method);
	default:
		return MHD_YES;
	}
}

/* ---- the services' side (svc.h) ---- */

void
serve_header(struct serve_call *c, const char *name, const char *value)
{
	buf_add(&c->rhdrs, name, strlen(name) + 1);
	buf_add(&c->rhdrs, value, strlen(value) + 1);
	c->nrhdrs++;
}

void
serve_reply(struct serve_call *c, int status, const char *ctype, const char *body, size_t n)
{
	const struct serve_svc *v = svc_of(c);

	if (c->state == C_DONE || c->state == C_ANSWERED)
		return;
	c->status = status;
	c->ctype = ctype != NULL ? ctype : v != NULL && v->json_type != NULL ? v->json_type :
	    "application/x-amz-json-1.0";
	buf_reset(&c->out);
	buf_add(&c->out, body, n);
	int was_waiting = c->state == C_WAITING;
	c->state = C_DONE;
	if (was_waiting) {
		unlink_waiting(c);
		serve_ready_call(c);
	}
}

void
serve_json(struct serve_call *c, const struct buf *b)
{
	serve_reply(c, 200, NULL, b->p != NULL ? b->p : "{}", b->p != NULL ? b->n : 2);
}

void
serve_error(struct serve_call *c, int status, const char *type, const char *query_code,
    const char *fmt, ...)
{
	struct buf b = { 0 }, m = { 0 };
	va_list ap;
	char qe[256];

	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_grow(&m, (size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(m.p, (size_t)len + 1, fmt, ap);
	va_end(ap);
	m.n = (size_t)len;
	buf_adds(&b, "{\"__type\":");
	json_add_string(&b, type, strlen(type));
	buf_adds(&b, ",\"message\":");
	json_add_string(&b, m.p, m.n);
	buf_addc(&b, '}');
	if (query_code != NULL) {
		snprintf(qe, sizeof qe, "%s;%s", query_code, status >= 500 ? "Receiver" : "Sender");
		serve_header(c, "x-amzn-query-error", qe);
	}
	snprintf(c->note, sizeof c->note, "%s", strrchr(type, '#') ? strrchr(type, '#') + 1 : type);
	serve_reply(c, status, NULL, b.p, b.n);
	buf_free(&b);
	buf_free(&m);
}

const char *
serve_req_header(struct serve_call *c, const char *name)
{
	return c->conn != NULL ? MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name) :
	    NULL;
}

int
serve_answered(const struct serve_call *c)
{
	return c->state == C_DONE || c->state == C_ANSWERED;
}

void
serve_log_note(struct serve_call *c, const char *note)
{
	snprintf(c->note, sizeof c->note, "%s", note);
}

void
serve_on_gone(struct serve_call *c, void (*fn)(void *ctx, struct serve_call *c), void *ctx)
{
	c->gone = fn;
	c->gone_ctx = ctx;
}

/* ---- without HTTP (serve.h: serve_local_call) ---- */

int
serve_local_call(struct serve *s, const char *target, const char *body, size_t n,
    struct buf *out)
{
	struct serve_call *c = serve_on_begin(s, "/", NULL);
	const char *op = "";
	int status;

	buf_add(&c->body, body, n);
	buf_addc(&c->body, '\0');
	c->body.n--;
	c->svc = match(s, target, "/", &op);
	if (c->svc < 0) {
		serve_error(c, 400, "UnknownOperationException", NULL, "no service");
	} else {
		struct serve_req rq = {
			.method = "POST", .path = "/", .query = "", .target = target, .op = op,
			.content_type = "", .body = c->body.p, .body_n = n,
			.base_url = s->url, .request_id = c->id,
		};
		c->state = C_CALLING;
		svc_of(c)->call(s->state[c->svc], c, &rq);
		if (c->state != C_DONE) {
			c->state = C_WAITING;
			c->next = s->waiting;
			if (c->next != NULL)
				c->next->prev = c;
			s->waiting = c;
			serve_local_stop(s);
		}
	}
	buf_reset(out);
	buf_add(out, c->out.p, c->out.n);
	status = c->status;
	void *ctx = c;
	serve_on_completed(s, NULL, &ctx, MHD_REQUEST_TERMINATED_COMPLETED_OK);
	return status;
}
