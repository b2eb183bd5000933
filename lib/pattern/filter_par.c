/* filter_par.c — the rest of a mapped file scanned by several threads.
 * The reading thread cuts it into pieces of about PIECE bytes at line
 * ends; each scanning thread takes the next piece, scans it with its own
 * copy of the patterns and keeps what it selects; the reading thread
 * writes the pieces in order as they are done.  At most WINDOW pieces per
 * thread are cut ahead of the one being written, which bounds the memory
 * their output holds. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/fmap.h"
#include "core/msg.h"
#include "core/out.h"
#include "filter.h"
#include "filter_int.h"

/* With --errors a piece keeps at most BAD_MAX bad lines: past them the
 * reading thread scans the rest of the file alone, in constant memory. */
enum { WINDOW = 4, BAD_MAX = 1024 };

struct bad {
	struct ndj_line l;	/* lineno counted from the piece's start */
	char why[WHY];
};

struct piece {
	struct ndj_cursor c;
	struct buf out;		/* the selected lines, unless counting */
	struct bad *bad;
	size_t nbad, cap;
	unsigned long selected;
	int done;
	int cut_short;		/* stopped at BAD_MAX bad lines */
	int shrank;		/* the file shrank by the end of the scan */
};

struct par {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct ndj_cursor rest;	/* not yet cut into pieces */
	unsigned long cut, next, written;	/* pieces cut, taken, written */
	struct piece *ring;
	unsigned long nring;
	const struct filter_cfg *cfg;
	int stop;
	int werrno;		/* of a failed write to stdout */
};

struct worker {
	struct par *par;
	struct pat_set *set;
	pthread_t tid;
};

static void
add_bad(struct piece *pc, const struct ndj_line *l, const char *why)
{
	XGROW(&pc->bad, &pc->cap, pc->nbad + 1);
	pc->bad[pc->nbad].l = *l;
	memcpy(pc->bad[pc->nbad++].why, why, WHY);
}

/* Scans one piece; without --errors it stops at its first bad line, since
 * nothing after that line is to be written. */
static void
scan_piece(struct par *par, struct pat_set *set, struct piece *pc)
{
	struct ndj_line l;
	char why[WHY];
	int r;

	while ((r = ndj_cursor_next(&pc->c, &l)) != NDJ_EOF) {
		int k = filter_judge(set, &l, r, par->cfg, why);
		if (k < 0) {
			add_bad(pc, &l, why);
			if (!par->cfg->keep_going)
				return;
			if (pc->nbad == BAD_MAX) {
				pc->cut_short = 1;
				return;
			}
		} else if (k > 0) {
			pc->selected++;
			if (!par->cfg->count) {
				buf_add(&pc->out, l.p, l.n);
				buf_addc(&pc->out, '\n');
			}
		}
	}
}

/* Under the lock: cuts pieces, each ending at the first line end after
 * PIECE bytes, while the window has room. */
static void
cut_pieces(struct par *par)
{
	while (par->rest.p < par->rest.end && par->cut < par->written + par->nring) {
		const char *from = par->rest.p, *to = par->rest.end;
		if ((size_t)(to - from) > PIECE) {
			const char *nl = memchr(from + PIECE - 1, '\n',
			    (size_t)(to - from) - PIECE + 1);
			to = nl != NULL ? nl + 1 : to;
		}
		struct piece *pc = &par->ring[par->cut++ % par->nring];
		pc->c = par->rest;
		pc->c.end = to;
		pc->c.lineno = 0;
		par->rest.p = to;
		pthread_cond_signal(&par->work);
	}
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct par *par = w->par;

	pthread_mutex_lock(&par->mu);
	for (;;) {
		while (!par->stop && par->next == par->cut && par->rest.p < par->rest.end)
			pthread_cond_wait(&par->work, &par->mu);
		if (par->stop || par->next == par->cut)
			break;
		struct piece *pc = &par->ring[par->next++ % par->nring];
		pthread_mutex_unlock(&par->mu);
		scan_piece(par, w->set, pc);
		/* A line judged before its pages were lost may have been
		 * copied after, as zeros: the whole piece is suspect. */
		pc->shrank = fmap_shrunk_now();
		pthread_mutex_lock(&par->mu);
		pc->done = 1;
		pthread_cond_broadcast(&par->done);
	}
	pthread_mutex_unlock(&par->mu);
	return NULL;
}

/* Stops and joins the *n threads of w; *n is 0 after, so a second call
 * joins nothing. */
static void
stop_workers(struct par *par, struct worker *w, int *n)
{
	pthread_mutex_lock(&par->mu);
	par->stop = 1;
	pthread_cond_broadcast(&par->work);
	pthread_mutex_unlock(&par->mu);
	for (int i = 0; i < *n; i++)
		pthread_join(w[i].tid, NULL);
	*n = 0;
}

/* Writes what one done piece selected and reports its bad lines, whose
 * numbers start after *line.  0, or the status that ends the run. */
static int
write_piece(struct par *par, struct piece *pc, unsigned long *line, struct ev_err *e)
{
	if (pc->shrank)
		return err_set(e, EV_IOERR, "%s: the file shrank while it was being read",
		    pc->c.file);
	if (pc->out.n > 0) {
		out_write(pc->out.p, pc->out.n);
		/* whole lines: a reader gone is seen now */
		if (out_flush() < 0) {
			par->werrno = errno;
			return err_sys(e, EV_IOERR, "write error");
		}
	}
	for (size_t i = 0; i < pc->nbad; i++) {
		pc->bad[i].l.lineno += *line;
		int rc = filter_reject(par->cfg, &pc->bad[i].l, pc->bad[i].why, e);
		if (rc != 0)
			return rc;
	}
	*line += pc->c.lineno;
	buf_reset(&pc->out);
	pc->nbad = 0;
	return 0;
}

/* The rest of the file from where piece pc was cut short, in this thread
 * once the others have stopped. */
static int
finish_alone(struct par *par, struct worker *w, int *nw, const struct piece *pc,
    const struct ndj_cursor *c, unsigned long *line, unsigned long *sel, struct ev_err *e)
{
	stop_workers(par, w, nw);
	struct ndj_cursor r = pc->c;
	r.end = c->end;
	r.lineno = *line;
	int rc = filter_run_cursor(w[0].set, &r, par->cfg, sel, e);
	*line = r.lineno;
	return rc;
}

/* Writes the pieces in order as the threads finish them. */
static int
write_pieces(struct par *par, struct worker *w, int *nw, const struct ndj_cursor *c,
    unsigned long *line, unsigned long *sel, struct ev_err *e)
{
	for (;;) {
		pthread_mutex_lock(&par->mu);
		if (par->written == par->cut) {
			pthread_mutex_unlock(&par->mu);
			return 0;
		}
		struct piece *pc = &par->ring[par->written % par->nring];
		while (!pc->done)
			pthread_cond_wait(&par->done, &par->mu);
		pthread_mutex_unlock(&par->mu);
		int rc = write_piece(par, pc, line, e);
		*sel += pc->selected;
		pc->selected = 0;
		if (rc != 0)
			return rc;
		if (pc->cut_short) {
			pc->cut_short = 0;
			return finish_alone(par, w, nw, pc, c, line, sel, e);
		}
		pthread_mutex_lock(&par->mu);
		pc->done = 0;
		par->written++;
		cut_pieces(par);
		pthread_mutex_unlock(&par->mu);
	}
}

int
filter_par(struct pat_set **sets, int nsets, struct pat_set *(*copy)(void),
    const struct ndj_cursor *c, const struct filter_cfg *cfg, unsigned long *line,
    unsigned long *sel, struct ev_err *e)
{
	struct par par = { .rest = *c, .cfg = cfg };
	struct worker w[FILTER_MAX_JOBS];
	int nw = 0, rc;

	pthread_mutex_init(&par.mu, NULL);
	pthread_cond_init(&par.work, NULL);
	pthread_cond_init(&par.done, NULL);
	par.nring = (unsigned long)nsets * WINDOW;
	par.ring = xcalloc(par.nring, sizeof *par.ring);
	pthread_mutex_lock(&par.mu);
	cut_pieces(&par);
	pthread_mutex_unlock(&par.mu);
	for (; nw < nsets && nw < FILTER_MAX_JOBS; nw++) {
		if (sets[nw] == NULL)
			sets[nw] = copy();
		w[nw] = (struct worker){ &par, sets[nw], 0 };
		if (pthread_create(&w[nw].tid, NULL, work, &w[nw]) != 0)
			break;
	}
	if (nw == 0) {		/* no thread to be had: this one scans it all */
		struct ndj_cursor r = *c;
		r.lineno = *line;
		rc = filter_run_cursor(sets[0], &r, cfg, sel, e);
		*line = r.lineno;
	} else {
		rc = write_pieces(&par, w, &nw, c, line, sel, e);
	}
	stop_workers(&par, w, &nw);
	for (unsigned long i = 0; i < par.nring; i++) {
		buf_free(&par.ring[i].out);
		free(par.ring[i].bad);
	}
	free(par.ring);
	pthread_cond_destroy(&par.done);
	pthread_cond_destroy(&par.work);
	pthread_mutex_destroy(&par.mu);
	if (rc == EV_IOERR)
		errno = par.werrno;	/* as filter_run() promises */
	return rc;
}
