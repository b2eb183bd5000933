/* bus_pipe — rules mode from input lines to deliveries: each event is
 * matched once, appended to the --archive log (when asked) and routed
 * only once the log has it, or explained (--explain).  The command reads
 * the lines and reports; see bus.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_int.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/out.h"
#include "evlog/evlog.h"

/* Events held for the archive are committed in batches of this many. */
enum { ARCHIVE_BATCH = 1024 };

struct bus_pipe {
	struct rules *rs;
	struct bus *bus;		/* NULL with explain */
	struct elog *archive;		/* NULL without --archive */
	struct elog_batch *ab;
	struct buf held;		/* the held events, each followed by '\0' */
	int64_t held_ms[ARCHIVE_BATCH];
	size_t nheld;
	struct buf line;		/* explain's output */
	const struct rule **matched;
};

int
bus_pipe_open(struct rules *rs, const struct bus_pipe_opts *o, struct bus_pipe **out,
    struct ev_err *e)
{
	struct bus_pipe *p = xcalloc(1, sizeof *p);
	int rc = 0;

	*out = NULL;
	p->rs = rs;
	p->matched = xcalloc(pat_count(rs->set) + 1, sizeof *p->matched);
	if (o->archive != NULL && (rc = bus_open_log(o->archive, &p->archive, &p->ab, e)) != 0)
		err_wrap(e, "--archive");
	if (rc == 0 && !o->explain)
		rc = bus_open(rs, o->hooks, &p->bus, e);
	if (rc != 0) {
		elog_close(p->archive);
		elog_batch_free(p->ab);
		free(p->matched);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void
explain(struct bus_pipe *p, const char *ev, size_t n, size_t nhits)
{
	struct buf *b = &p->line;

	buf_reset(b);
	buf_adds(b, "{\"event\":");
	buf_add(b, ev, n);
	buf_adds(b, ",\"rules\":[");
	bus_matched(p->rs, nhits, p->matched);
	for (size_t i = 0; i < nhits; i++)
		buf_printf(b, "%s\"%s\"", i > 0 ? "," : "", p->matched[i]->name);
	buf_adds(b, "]}");
	out_line(b->p, b->n);
}

/* Explains or routes one event for which pat_match() returned m. */
static void
dispatch(struct bus_pipe *p, const char *ev, size_t n, int m, int64_t ms)
{
	if (p->bus == NULL)
		explain(p, ev, n, (size_t)m);
	else if (m > 0)
		bus_route(p->bus, p->rs, (size_t)m, ev, n, ms);
}

/* Commits the held events to the archive, then routes them. */
static int
flush_archive(struct bus_pipe *p, struct ev_err *e)
{
	struct elog_result res = { 0 };
	const char *why;
	size_t off = 0;

	if (p->nheld == 0)
		return 0;
	elog_batch_clear(p->ab);
	for (size_t i = 0; i < p->nheld; i++, off += strlen(p->held.p + off) + 1)
		if (elog_batch_add(p->ab, "default", 7, p->held.p + off,
		    strlen(p->held.p + off), &why) != 0)
			return err_set(e, EV_SOFTWARE, "--archive: %s", why);
	int rc = elog_append(p->archive, p->ab, ELOG_EXPECT_ANY, &res);
	elog_result_free(&res);
	if (rc != EV_OK)
		return err_set(e, rc, "--archive: %s", elog_error(p->archive));
	off = 0;
	for (size_t i = 0; i < p->nheld; i++) {
		size_t n = strlen(p->held.p + off);
		struct pat_err err;
		/* Matched again: the hits of a held event are long gone. */
		int m = pat_match(p->rs->set, p->held.p + off, n, 1, &err);
		if (m >= 0)
			dispatch(p, p->held.p + off, n, m, p->held_ms[i]);
		off += n + 1;
	}
	buf_reset(&p->held);
	p->nheld = 0;
	return 0;
}

int
bus_pipe_line(struct bus_pipe *p, const char *ev, size_t n, struct ev_err *e)
{
	int64_t ms = clock_now_ms();
	struct pat_err err;
	int m = pat_match(p->rs->set, ev, n, 1, &err);

	if (m < 0)
		return err_set(e, EV_DATAERR, "%s at column %zu", err.what, err.col);
	if (p->archive == NULL) {
		dispatch(p, ev, n, m, ms);
		return 0;
	}
	buf_add(&p->held, ev, n);
	buf_addc(&p->held, '\0');
	p->held_ms[p->nheld++] = ms;
	return p->nheld == ARCHIVE_BATCH ? flush_archive(p, e) : 0;
}

int
bus_pipe_idle(struct bus_pipe *p, struct ev_err *e)
{
	int rc = flush_archive(p, e);

	if (p->bus != NULL)
		bus_flush(p->bus);
	return rc;
}

int
bus_pipe_close(struct bus_pipe *p, struct ev_err *e)
{
	struct ev_err e2 = { 0 };
	int rc = flush_archive(p, e);
	int st = p->bus != NULL ? bus_close(p->bus, rc != 0 ? &e2 : e) : 0;

	if (p->archive != NULL) {
		elog_batch_free(p->ab);
		elog_close(p->archive);
	}
	buf_free(&p->held);
	buf_free(&p->line);
	free(p->matched);
	free(p);
	return rc != 0 ? rc : st;
}
