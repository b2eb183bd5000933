/* serve — evkit-serve's loop.  libmicrohttpd in the caller's thread
 * (its epoll descriptor in ours, beside a wake-up eventfd and the
 * services' descriptors): each turn runs the server, the services' due
 * ticks, and writes the turn's access log and report lines at once. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "apigw/apigw.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/sig.h"
#include "serve_int.h"

/* The longest the loop sleeps: a stop request is seen within it even
 * when it came just before the wait. */
enum { MAX_NAP_MS = 100 };

void
serve_log_call(struct serve_call *c, const char *method)
{
	struct serve *s = c->s;
	const struct serve_svc *v = c->svc >= 0 ? s->o->svcs[c->svc] : NULL;
	int64_t us = clock_mono_us() - c->t_us;
	char ip[64], when[25];

	if (s->o->access_log != NULL && c->conn != NULL) {
		struct buf *b = &s->logged;
		apigw_source_ip(c->conn, ip, sizeof ip);
		clock_rfc3339(c->t_ms, when);
		buf_printf(b, "{\"requestId\":\"%s\",\"ip\":", c->id);
		json_add_string(b, ip, strlen(ip));
		buf_printf(b, ",\"time\":\"%s\",\"method\":", when);
		json_add_string(b, method, strlen(method));
		buf_adds(b, ",\"path\":");
		json_add_string(b, c->uri, strcspn(c->uri, "?"));
		buf_printf(b, ",\"service\":\"%s\",\"operation\":", v != NULL ? v->name : "-");
		json_add_string(b, c->op, strlen(c->op));
		buf_printf(b, ",\"status\":%d,\"requestLength\":%zu,\"responseLength\":%zu,"
		    "\"durationMs\":%lld", c->status, c->body.n, c->out.n, (long long)(us / 1000));
		if (c->note[0] != '\0') {
			buf_adds(b, ",\"note\":");
			json_add_string(b, c->note, strlen(c->note));
		}
		buf_adds(b, "}\n");
	}
	if (s->o->report != NULL) {
		struct buf *b = &s->reported;
		buf_printf(b, "{\"requestId\":\"%s\",\"startMs\":%lld,\"service\":\"%s\","
		    "\"operation\":", c->id, (long long)c->t_ms, v != NULL ? v->name : "-");
		json_add_string(b, c->op, strlen(c->op));
		buf_printf(b, ",\"status\":%d,\"us\":%lld}\n", c->status, (long long)us);
	}
}

static void
flush_logs(struct serve *s)
{
	if (s->logged.n > 0) {
		fwrite(s->logged.p, 1, s->logged.n, s->o->access_log);
		fflush(s->o->access_log);
		buf_reset(&s->logged);
	}
	if (s->reported.n > 0) {
		fwrite(s->reported.p, 1, s->reported.n, s->o->report);
		fflush(s->o->report);
		buf_reset(&s->reported);
	}
}

/* A waiting call was answered: libmicrohttpd takes a resumed connection
 * up at its next MHD_run and says nothing, so the loop is woken. */
void
serve_ready_call(struct serve_call *c)
{
	struct serve *s = c->s;
	uint64_t one = 1;

	if (c->conn == NULL)
		return;		/* serve_local_call's */
	MHD_resume_connection(c->conn);
	if (!s->woken && write(s->wake, &one, sizeof one) < 0) {
		/* EAGAIN: the counter is full, so the loop is woken anyway */
	}
	s->woken = 1;
}

void
serve_kick(struct serve *s, const struct serve_svc *svc)
{
	for (size_t i = 0; i < s->o->nsvcs; i++)
		if (s->o->svcs[i] == svc)
			s->kicked[i] = 1;
	s->any_kicked = 1;
}

int
serve_watch(struct serve *s, int fd, unsigned ev, void (*fn)(void *ctx, int fd,
    unsigned revents), void *ctx, struct ev_err *e)
{
	struct serve_watch *w = xcalloc(1, sizeof *w);
	struct epoll_event ee = { .events = ev, .data.ptr = w };

	w->fd = fd;
	w->fn = fn;
	w->ctx = ctx;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ee) != 0) {
		free(w);
		return err_sys(e, EV_SOFTWARE, "serve: epoll");
	}
	w->next = s->watches;
	s->watches = w;
	return 0;
}

/* The watch is freed at the end of the turn: an event of this turn may
 * still name it. */
void
serve_unwatch(struct serve *s, int fd)
{
	for (struct serve_watch **p = &s->watches; *p != NULL; p = &(*p)->next) {
		struct serve_watch *w = *p;
		if (w->fd != fd)
			continue;
		epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
		*p = w->next;
		w->fd = -1;
		w->next = s->dead;
		s->dead = w;
		return;
	}
}

const char *
serve_url(const struct serve *s)
{
	return s->url;
}

int
serve_stopping(const struct serve *s)
{
	return s->stopping;
}

/* Lets libmicrohttpd do all it can now (a connection may hold a whole
 * request in its buffer, which no readiness announces: its timeout is 0
 * then).  1 when it has more to do at once. */
static int
run_mhd(struct serve *s)
{
	MHD_UNSIGNED_LONG_LONG t;
	uint64_t n;
	int more = 1;

	if (s->woken && read(s->wake, &n, sizeof n) < 0) {
		/* EAGAIN: nothing resumed */
	}
	s->woken = 0;
	for (int i = 0; i < 64 && more; i++) {
		MHD_run(s->d);
		if (MHD_get_timeout(s->d, &t) != MHD_YES || t > 0)
			more = 0;
	}
	return more;
}

/* The services' due ticks; the time to the next one (ms, capped). */
static int
run_ticks(struct serve *s)
{
	int64_t now = clock_mono_ms(), nap = MAX_NAP_MS;
	int kicked = s->any_kicked;

	s->any_kicked = 0;
	for (size_t i = 0; i < s->o->nsvcs; i++) {
		const struct serve_svc *v = s->o->svcs[i];
		if (v->tick == NULL)
			continue;
		if ((kicked && s->kicked[i]) || (s->deadline[i] >= 0 && now >= s->deadline[i])) {
			s->kicked[i] = 0;
			s->deadline[i] = v->tick(s->state[i], now);
		}
		if (s->deadline[i] >= 0 && s->deadline[i] - now < nap)
			nap = s->deadline[i] > now ? s->deadline[i] - now : 0;
	}
	return s->any_kicked ? 0 : (int)nap;
}

static void
free_dead(struct serve *s)
{
	while (s->dead != NULL) {
		struct serve_watch *w = s->dead;
		s->dead = w->next;
		free(w);
	}
}

/* One turn: serve, tick, log, then wait for the next thing to do. */
static void
turn(struct serve *s)
{
	struct epoll_event ev[16];
	int more = run_mhd(s);
	int nap = run_ticks(s);

	flush_logs(s);
	if (more || s->woken)
		nap = 0;
	int k = epoll_wait(s->ep, ev, 16, nap);
	for (int i = 0; i < k; i++) {
		struct serve_watch *w = ev[i].data.ptr;
		if (w != NULL && w->fd >= 0)
			w->fn(w->ctx, w->fd, ev[i].events);
	}
	free_dead(s);
}

/* A stop: no new connection; the services answer what waits, the server
 * 503 the rest; the answers are let out (a client that does not read
 * is not waited for long). */
static void
stop(struct serve *s)
{
	run_mhd(s);
	s->stopping = 1;
	int lfd = (int)MHD_quiesce_daemon(s->d);
	if (lfd >= 0)
		close(lfd);
	for (size_t i = 0; i < s->o->nsvcs; i++)
		if (s->o->svcs[i]->stop != NULL)
			s->o->svcs[i]->stop(s->state[i]);
	while (s->waiting != NULL)
		serve_error(s->waiting, 503, "ServiceUnavailable", NULL, "the server is stopping");
	for (int64_t until = clock_mono_ms() + 10000; s->active > 0 && clock_mono_ms() < until;) {
		run_mhd(s);
		flush_logs(s);
		poll(&(struct pollfd){ s->ep, POLLIN, 0 }, 1, 10);
	}
	flush_logs(s);
}

static int
start(struct serve *s, int fd, struct ev_err *e)
{
	s->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC, 0, NULL,
	    NULL, serve_on_request, s,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_URI_LOG_CALLBACK, serve_on_begin, s,
	    MHD_OPTION_NOTIFY_COMPLETED, serve_on_completed, s,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	    MHD_OPTION_END);
	const union MHD_DaemonInfo *di = s->d != NULL ? MHD_get_daemon_info(s->d,
	    MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (di == NULL) {
		close(fd);
		return err_set(e, EV_UNAVAILABLE, "--listen '%s': cannot start the HTTP server",
		    s->o->listen);
	}
	s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (s->wake < 0 || s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &ev) != 0 ||
	    epoll_ctl(s->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev) != 0)
		return err_sys(e, EV_SOFTWARE, "serve: epoll");
	return 0;
}

static int
init_svcs(struct serve *s, struct ev_err *e)
{
	size_t n = s->o->nsvcs;

	s->state = xcalloc(n + 1, sizeof *s->state);
	s->deadline = xcalloc(n + 1, sizeof *s->deadline);
	s->kicked = xcalloc(n + 1, 1);
	for (size_t i = 0; i < n; i++) {
		int rc;
		s->deadline[i] = -1;
		if (s->o->svcs[i]->init != NULL && (rc = s->o->svcs[i]->init(s, &s->state[i], e)))
			return rc;
	}
	return 0;
}

static void
fini(struct serve *s)
{
	for (size_t i = 0; i < s->o->nsvcs; i++)
		if (s->o->svcs[i]->fini != NULL && s->state != NULL && s->state[i] != NULL)
			s->o->svcs[i]->fini(s->state[i]);
	if (s->d != NULL)
		MHD_stop_daemon(s->d);
	while (s->watches != NULL)
		serve_unwatch(s, s->watches->fd);
	free_dead(s);
	if (s->wake >= 0)
		close(s->wake);
	if (s->ep >= 0)
		close(s->ep);
	free(s->state);
	free(s->deadline);
	free(s->kicked);
	buf_free(&s->logged);
	buf_free(&s->reported);
}

int
serve_run(const struct serve_opts *o, struct ev_err *e)
{
	struct serve_opts oo = *o;
	struct serve s = { .o = &oo, .wake = -1, .ep = -1 };
	int fd, rc;

	if (oo.listen == NULL)
		oo.listen = SERVE_DEFAULT_LISTEN;
	if (oo.check_signatures) {
		s.akid = getenv("AWS_ACCESS_KEY_ID");
		s.secret = getenv("AWS_SECRET_ACCESS_KEY");
		if (s.akid == NULL || *s.akid == '\0' || s.secret == NULL || *s.secret == '\0')
			return err_set(e, EV_NOPERM, "--check-signatures: AWS_ACCESS_KEY_ID and "
			    "AWS_SECRET_ACCESS_KEY must be set");
	}
	if ((rc = apigw_listen(oo.listen, &fd, s.url, sizeof s.url, e)) != 0)
		return rc;
	if ((rc = start(&s, fd, e)) == 0 && (rc = init_svcs(&s, e)) == 0) {
		if (oo.on_listen != NULL)
			oo.on_listen(oo.ctx, s.url);
		while (!sig_stop)
			turn(&s);
		stop(&s);
	}
	fini(&s);
	return rc;
}

/* ---- without HTTP ---- */

struct local {
	struct serve s;
	struct serve_opts o;
};

int
serve_local_new(const struct serve_opts *o, struct serve **sp, struct ev_err *e)
{
	struct local *l = xcalloc(1, sizeof *l);
	int rc;

	l->o = *o;
	l->o.access_log = NULL;
	l->o.report = NULL;
	l->s.o = &l->o;
	l->s.wake = l->s.ep = -1;
	snprintf(l->s.url, sizeof l->s.url, "http://127.0.0.1:4566");
	if ((rc = init_svcs(&l->s, e)) != 0) {
		fini(&l->s);
		free(l);
		return rc;
	}
	*sp = &l->s;
	return 0;
}

void
serve_local_stop(struct serve *s)
{
	s->stopping = 1;
	for (size_t i = 0; i < s->o->nsvcs; i++)
		if (s->o->svcs[i]->stop != NULL)
			s->o->svcs[i]->stop(s->state[i]);
	while (s->waiting != NULL)
		serve_error(s->waiting, 503, "ServiceUnavailable", NULL, "the server is stopping");
	s->stopping = 0;
}

void
serve_local_free(struct serve *s)
{
	fini(s);
	free(s);	/* the struct local it begins */
}
