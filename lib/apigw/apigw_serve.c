/* apigw_serve — the HTTP side of fnrun --listen.  libmicrohttpd runs in
 * the caller's thread, driven by the runner's loop: its epoll descriptor
 * is the descriptor the runner watches (fn_idle), so one poll serves the
 * handlers' pipes and the connections, with no hop between threads.  A
 * complete request is suspended and queued as its 2.0 event; the loop
 * feeds the queue to the runner as slots free; the runner's on_done maps
 * the result and resumes the connection, which the next MHD_run answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "apigw.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/sig.h"

enum rstate { R_READING, R_TOOBIG, R_QUEUED, R_DONE, R_ANSWERED };

struct req {
	struct server *s;
	struct MHD_Connection *c;
	enum rstate state;
	int calls;		/* of the access handler */
	char *uri;		/* as sent */
	char id[37];
	int64_t t_ms, t_mono;
	struct buf body;
	int has_body;
	struct buf event;
	struct apigw_resp resp;
	struct req *next;	/* in the server's queue */
};

struct server {
	struct req *head, *tail;	/* complete, suspended, not yet submitted */
	int stopping;			/* answer 503 from now on */
	long active;			/* requests begun and not completed */
	int inflight, max_inflight;	/* submitted to the runner, not done */
	int wake;			/* eventfd: a connection was resumed */
	int ep;				/* epoll of the server's epoll and wake */
	int woken;			/* wake written, not yet read */
	FILE *log;
	struct buf logged;		/* access log lines, written once a turn */
};

/* MHD_OPTION_URI_LOG_CALLBACK: the first sight of a request, with its
 * URI as sent (the access handler gets it decoded, without the query). */
static void *
on_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct server *s = cls;
	struct req *q = xcalloc(1, sizeof *q);

	q->s = s;
	q->c = c;
	q->uri = xstrdup(uri);
	q->t_ms = clock_now_ms();
	q->t_mono = clock_mono_ms();
	uuid_v4(q->id);
	s->active++;
	return q;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode why)
{
	struct server *s = cls;
	struct req *q = *ctx;

	(void)c;
	(void)why;
	if (q == NULL)
		return;
	free(q->uri);
	buf_free(&q->body);
	buf_free(&q->event);
	apigw_resp_free(&q->resp);
	free(q);
	*ctx = NULL;
	s->active--;
}

/* The access log line, in the fields of API Gateway's default format. */
static void
log_access(const struct req *q, const char *method, const char *version, const char *ip)
{
	struct buf b = { 0 };
	char when[64];
	time_t t = (time_t)(q->t_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	buf_printf(&b, "{\"requestId\":\"%s\",\"ip\":", q->id);
	json_add_string(&b, ip, strlen(ip));
	buf_printf(&b, ",\"requestTime\":\"%s\",\"httpMethod\":", when);
	json_add_string(&b, method, strlen(method));
	buf_adds(&b, ",\"path\":");
	json_add_string(&b, q->uri, strcspn(q->uri, "?"));
	buf_printf(&b, ",\"routeKey\":\"$default\",\"status\":%d,\"protocol\":", q->resp.status);
	json_add_string(&b, version, strlen(version));
	buf_printf(&b, ",\"responseLength\":%zu,\"durationMs\":%lld}\n", q->resp.body.n,
	    (long long)(clock_mono_ms() - q->t_mono));
	buf_add(&q->s->logged, b.p, b.n);
	buf_free(&b);
}

void
apigw_source_ip(struct MHD_Connection *c, char *ip, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(ip, n, "-");
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip,
		    (socklen_t)n);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip,
		    (socklen_t)n);
}

/* Sends q->resp, and logs it. */
static enum MHD_Result
respond(struct req *q, const char *method, const char *version)
{
	struct apigw_resp *r = &q->resp;
	struct MHD_Response *rs = MHD_create_response_from_buffer(r->body.n,
	    r->body.p != NULL ? r->body.p : (char *)"", MHD_RESPMEM_MUST_COPY);
	const char *h = r->headers.p;
	char ip[INET6_ADDRSTRLEN + 1];

	if (rs == NULL)
		return MHD_NO;
	for (size_t i = 0; i < r->nheaders; i++) {
		const char *v = h + strlen(h) + 1;
		MHD_add_response_header(rs, h, v);
		h = v + strlen(v) + 1;
	}
	MHD_add_response_header(rs, "apigw-requestid", q->id);
	enum MHD_Result ok = MHD_queue_response(q->c, (unsigned)r->status, rs);
	q->state = R_ANSWERED;
	MHD_destroy_response(rs);
	apigw_source_ip(q->c, ip, sizeof ip);
	log_access(q, method, version, ip);
	return ok;
}

struct hdrs {
	const char **v;
	size_t n, cap;
};

static enum MHD_Result
each_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct hdrs *h = cls;

	(void)kind;
	if (h->n + 2 > h->cap) {
		h->cap = h->cap * 2 + 16;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	h->v[h->n++] = k;
	h->v[h->n++] = v != NULL ? v : "";
	return MHD_YES;
}

/* The request is whole: its event. */
static void
make_event(struct req *q, const char *method, const char *version)
{
	struct hdrs h = { 0 };
	char ip[INET6_ADDRSTRLEN + 1];
	char *path = xstrdup(q->uri), *query = strchr(path, '?');

	if (query != NULL)
		*query++ = '\0';
	MHD_get_connection_values(q->c, MHD_HEADER_KIND, each_header, &h);
	apigw_source_ip(q->c, ip, sizeof ip);
	struct apigw_req rq = {
		.method = method, .protocol = version, .path = path, .query = query ? query : "",
		.headers = h.v, .nheaders = h.n / 2, .source_ip = ip, .request_id = q->id,
		.time_ms = q->t_ms, .body = q->has_body ? (q->body.p ? q->body.p : "") : NULL,
		.body_n = q->body.n,
	};
	apigw_event(&rq, &q->event);
	buf_free(&q->body);
	free(path);
	free(h.v);
}

/* Takes a body chunk; past the limit the rest is read and dropped. */
static void
take_body(struct req *q, const char *data, size_t n)
{
	if (q->state == R_TOOBIG)
		return;
	if (q->body.n + n > APIGW_MAX_BODY) {
		q->state = R_TOOBIG;
		buf_free(&q->body);
		return;
	}
	buf_add(&q->body, data, n);
	q->has_body = 1;
}

/* Queues a whole request for the loop, suspended until its answer, or
 * answers 503 when stopping. */
static enum MHD_Result
hand_over(struct server *s, struct req *q, const char *method, const char *version)
{
	if (s->stopping) {
		apigw_resp_error(&q->resp, 503, "Service Unavailable");
		return respond(q, method, version);
	}
	make_event(q, method, version);
	q->state = R_QUEUED;
	MHD_suspend_connection(q->c);
	if (s->tail != NULL)
		s->tail->next = q;
	else
		s->head = q;
	s->tail = q;
	return MHD_YES;
}

/* libmicrohttpd's access handler: called once the headers are in, once
 * per body chunk, once the body is whole, and again once resumed. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *n, void **ctx)
{
	struct server *s = cls;
	struct req *q = *ctx;

	(void)url;
	if (q == NULL)
		return MHD_NO;
	if (q->calls++ == 0) {
		/* A declared oversize body is refused before it comes. */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "content-length");
		if (cl != NULL && strtoull(cl, NULL, 10) > APIGW_MAX_BODY) {
			q->state = R_TOOBIG;
			apigw_resp_error(&q->resp, 413, "Request Entity Too Large");
			return respond(q, method, version);
		}
		return MHD_YES;
	}
	if (*n > 0) {
		if (q->state != R_ANSWERED)
			take_body(q, data, *n);
		*n = 0;
		return MHD_YES;
	}
	switch (q->state) {
	case R_READING:
		return hand_over(s, q, method, version);
	case R_TOOBIG:
		apigw_resp_error(&q->resp, 413, "Request Entity Too Large");
		return respond(q, method, version);
	case R_DONE:
		return respond(q, method, version);
	case R_QUEUED:
	case R_ANSWERED:
		break;
	}
	return MHD_YES;
}

/* The runner's on_done: the result mapped (a failure is a 502, an event
 * over the invocation limit a 413, one a stop request dropped a 503) and the connection resumed; the next
 * MHD_run answers it and frees q. */
static int
on_done(void *ctx, void *tag, int failed, const char *res, size_t n)
{
	struct server *s = ctx;
	struct req *q = tag;
	struct MHD_Connection *c = q->c;

	if (res == NULL)
		apigw_resp_error(&q->resp, 503, "Service Unavailable");
	else if (failed && memmem(res, n, "\"RequestEntityTooLargeException\"", 32) != NULL)
		/* The body fit, but the event around it is over Lambda's 6 MB:
		 * still a request too large, not the function's failure. */
		apigw_resp_error(&q->resp, 413, "Request Entity Too Large");
	else if (failed || apigw_response(res, n, &q->resp) != 0)
		apigw_resp_error(&q->resp, 502, "Internal Server Error");
	q->state = R_DONE;
	s->inflight--;
	MHD_resume_connection(c);
	/* libmicrohttpd without a thread takes a resumed connection up at
	 * its next MHD_run, and says nothing: wake the loop for it. */
	uint64_t one = 1;
	if (!s->woken && write(s->wake, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is full, so the loop is woken anyway */
	}
	s->woken = 1;
	return 0;	/* answered: not a failure of the run */
}

const char *
apigw_addr_check(const char *spec)
{
	const char *colon = strrchr(spec, ':');
	const char *port = colon != NULL ? colon + 1 : spec;
	char *end;

	if (*port == '\0' || strspn(port, "0123456789") != strlen(port))
		return "expected [ADDR:]PORT, PORT a number";
	errno = 0;
	if (strtoul(port, &end, 10) > 65535 || errno != 0)
		return "PORT is 0 to 65535";
	if (colon != NULL && colon == spec)
		return "ADDR is empty";
	if (colon != NULL && spec[0] == '[' && colon[-1] != ']')
		return "an IPv6 ADDR is written [ADDR]";
	return NULL;
}

int
apigw_listen(const char *spec, int *fd, char *url, size_t urln, struct ev_err *e)
{
	const char *why = apigw_addr_check(spec), *colon = strrchr(spec, ':');
	char host[256] = "127.0.0.1";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int one = 1;

	if (why != NULL)
		return err_set(e, EV_USAGE, "--listen '%s': %s", spec, why);
	if (colon != NULL) {
		size_t hn = (size_t)(colon - spec);
		const char *h = spec;
		if (spec[0] == '[') {
			h++;
			hn -= 2;
		}
		if (hn >= sizeof host)
			return err_set(e, EV_USAGE, "--listen '%s': ADDR too long", spec);
		memcpy(host, h, hn);
		host[hn] = '\0';
	}
	int gai = getaddrinfo(host, colon != NULL ? colon + 1 : spec, &hints, &ai);
	if (gai != 0)
		return err_set(e, EV_USAGE, "--listen '%s': %s", spec, gai_strerror(gai));
	*fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0 || setsockopt(*fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(*fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(*fd, 128) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&ss, &sl) != 0) {
		int rc = err_sys(e, EV_UNAVAILABLE, "--listen '%s': cannot listen", spec);
		if (*fd >= 0)
			close(*fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	char ip[INET6_ADDRSTRLEN + 1];
	unsigned port;
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
		port = ntohs(a->sin6_port);
		snprintf(url, urln, "http://[%s]:%u", ip, port);
	} else {
		const struct sockaddr_in *a = (const void *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
		port = ntohs(a->sin_port);
		snprintf(url, urln, "http://%s:%u", ip, port);
	}
	return 0;
}

/* The server, without a thread of its own: MHD_run drives it. */
static struct MHD_Daemon *
start_daemon(struct server *s, int fd)
{
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC, 0, NULL,
	    NULL, on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_URI_LOG_CALLBACK, on_begin, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_END);
}

static struct req *
pop(struct server *s)
{
	struct req *q = s->head;

	if (q != NULL) {
		s->head = q->next;
		if (s->head == NULL)
			s->tail = NULL;
		q->next = NULL;
	}
	return q;
}

/* The access log lines of a turn, in one write. */
static void
flush_log(struct server *s)
{
	if (s->logged.n == 0)
		return;
	fwrite(s->logged.p, 1, s->logged.n, s->log);
	fflush(s->log);
	buf_reset(&s->logged);
}

/* Lets the server do all it can now: a connection may hold a whole
 * request in its buffer, which no new readiness announces, and then
 * MHD_get_timeout says 0.  Returns 1 when it has more to do at once
 * (its sockets will not say so again). */
static int
serve_ready(struct server *s, struct MHD_Daemon *d)
{
	MHD_UNSIGNED_LONG_LONG t;
	uint64_t n;

	if (s->woken && read(s->wake, &n, sizeof n) < 0) {
		/* EAGAIN: nothing resumed */
	}
	s->woken = 0;
	int more = 1;	/* more to do at once: a long upload */
	for (int i = 0; i < 64 && more; i++) {
		MHD_run(d);
		if (MHD_get_timeout(d, &t) != MHD_YES || t > 0)
			more = 0;
	}
	flush_log(s);
	return more;
}

/* Serves until a stop request or a run error: the server reads and
 * answers what is ready, its complete requests go to the runner, up to
 * twice its -j so that the next starts as soon as a handler is free,
 * within the room the runner has (4 x -j: fn_submit never waits here);
 * the rest wait their turn, in order.  The runner's loop waits for
 * handlers and connections alike. */
static void
feed(struct server *s, struct MHD_Daemon *d, struct fn_runner *r)
{
	for (;;) {
		int more = serve_ready(s, d);
		while (!sig_stop && s->head != NULL && s->inflight < s->max_inflight) {
			struct req *q = pop(s);
			s->inflight++;
			if (fn_submit(r, q->event.p, q->event.n, q) != 0)
				return;
		}
		if (more)
			fn_pump(r, 0);	/* the handlers' turn, without waiting */
		if (more ? sig_stop != 0 : fn_idle(r) != 0)
			return;
	}
}

/* A stop: no more requests taken, the queued ones answered 503, the
 * running ones let finish (fn_finish), then every answer let go out. */
static int
stop(struct server *s, struct MHD_Daemon *d, struct fn_runner *r, struct ev_err *e)
{
	struct req *q;

	serve_ready(s, d);	/* what has come is answered, if only 503 */
	s->stopping = 1;
	int lfd = (int)MHD_quiesce_daemon(d);
	if (lfd >= 0)
		close(lfd);
	while ((q = pop(s)) != NULL)
		on_done(s, q, 0, NULL, 0);
	int rc = fn_finish(r, e);
	/* Answers take a moment to be written; a client that does not read
	 * its own is not waited for long. */
	for (int64_t until = clock_mono_ms() + 10000; s->active > 0 && clock_mono_ms() < until;) {
		serve_ready(s, d);
		poll(&(struct pollfd){ s->ep, POLLIN, 0 }, 1, 10);
	}
	MHD_stop_daemon(d);
	return rc;
}

static void
close_fds(struct server *s)
{
	flush_log(s);
	buf_free(&s->logged);
	if (s->wake >= 0)
		close(s->wake);
	if (s->ep >= 0)
		close(s->ep);
}

int
apigw_serve(const struct apigw_opts *o, struct fn_opts *fo, struct ev_err *e)
{
	struct server s = { .log = o->access_log, .wake = -1, .ep = -1 };
	struct fn_runner *r;
	char url[300];
	int fd = -1, rc;

	if ((rc = apigw_listen(o->listen, &fd, url, sizeof url, e)) != 0)
		return rc;
	fo->on_done = on_done;
	fo->done_ctx = &s;
	fo->unordered = 1;
	fo->no_output = 1;
	s.max_inflight = 2 * fo->jobs;
	struct MHD_Daemon *d = start_daemon(&s, fd);
	const union MHD_DaemonInfo *di = d != NULL ? MHD_get_daemon_info(d,
	    MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (di == NULL) {
		if (d != NULL)
			MHD_stop_daemon(d);
		close(fd);
		return err_set(e, EV_UNAVAILABLE, "--listen '%s': cannot start the HTTP server",
		    o->listen);
	}
	s.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	if (s.wake < 0 || s.ep < 0 || epoll_ctl(s.ep, EPOLL_CTL_ADD, s.wake, &ev) != 0 ||
	    epoll_ctl(s.ep, EPOLL_CTL_ADD, di->epoll_fd, &ev) != 0) {
		rc = err_sys(e, EV_SOFTWARE, "--listen: epoll");
		MHD_stop_daemon(d);
		close_fds(&s);
		return rc;
	}
	fo->input_fd = s.ep;	/* fn_idle returns when the server has work */
	if ((rc = fn_open(fo, &r, e)) != 0) {
		MHD_stop_daemon(d);
		close_fds(&s);
		return rc;
	}
	if (o->on_listen != NULL)
		o->on_listen(o->ctx, url);
	feed(&s, d, r);	/* a run error ends it too: fn_finish reports it */
	rc = stop(&s, d, r, e);
	close_fds(&s);
	return rc;
}
