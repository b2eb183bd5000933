/* evlog_verify.c — evlog-read --verify: every segment, every record. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"

struct vstate {
	struct elog *l;
	void (*report)(void *, const char *);
	void *ctx;
	long damages;
	uint64_t prev, records;		/* prev: last good seq; 0 at the start */
	int lost;			/* a damaged record may explain the next seq gap */
	struct { uint64_t key, val; } *heads;
	uint64_t mask, nheads;
};

static void damage(struct vstate *v, const char *seg, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
damage(struct vstate *v, const char *seg, unsigned long line, const char *fmt, ...)
{
	char what[256], msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "%s:%lu: %s", seg, line, what);
	v->report(v->ctx, msg);
	v->damages++;
	v->lost = 1;
}

/* The stream's slot in the heads table (grown at half full). */
static uint64_t *
head(struct vstate *v, uint64_t key)
{
	if (2 * (v->nheads + 1) > v->mask + 1) {
		uint64_t ocap = v->heads != NULL ? v->mask + 1 : 0;
		uint64_t ncap = ocap ? 2 * ocap : 1024;
		__typeof__(v->heads) old = v->heads;
		v->heads = xcalloc(ncap, sizeof *v->heads);
		v->mask = ncap - 1;
		for (uint64_t i = 0; i < ocap; i++) {
			if (old[i].key == 0)
				continue;
			uint64_t j = old[i].key & v->mask;
			while (v->heads[j].key != 0)
				j = (j + 1) & v->mask;
			v->heads[j] = old[i];
		}
		free(old);
	}
	uint64_t j = key & v->mask;
	while (v->heads[j].key != 0 && v->heads[j].key != key)
		j = (j + 1) & v->mask;
	if (v->heads[j].key == 0) {
		v->heads[j].key = key;
		v->nheads++;
	}
	return &v->heads[j].val;
}

static void
check_record(struct vstate *v, const struct elog_src *s, const struct elog_rec *r, int first)
{
	struct json_err je;
	int lost = v->lost;

	v->lost = 0;
	if (json_validate(r->event, r->event_n, 0, &je) != '{')
		damage(v, s->name, s->lineno, "event is not a JSON object");
	if (first && r->seq != strtoull(s->name, NULL, 10))
		damage(v, s->name, s->lineno, "segment name does not match seq %llu",
		    (unsigned long long)r->seq);
	if (v->prev != 0 && r->seq > v->prev + 1 && !lost)
		damage(v, s->name, s->lineno, "seq %llu follows %llu (records %llu-%llu are "
		    "missing)", (unsigned long long)r->seq, (unsigned long long)v->prev,
		    (unsigned long long)v->prev + 1, (unsigned long long)r->seq - 1);
	else if (v->prev != 0 && r->seq != v->prev + 1 && !lost)
		damage(v, s->name, s->lineno, "seq %llu follows %llu",
		    (unsigned long long)r->seq, (unsigned long long)v->prev);
	else if (v->prev == 0 && v->records == 0 && r->seq > 1 && !lost)
		damage(v, s->name, s->lineno, "records 1-%llu are missing",
		    (unsigned long long)r->seq - 1);
	uint64_t *h = head(v, elog_key_head(r->stream, r->stream_n));
	/* After damage a version gap may be the damaged record's: not counted. */
	if (r->version != *h + 1 && v->damages == 0)
		damage(v, s->name, s->lineno, "stream %.*s: version %llu follows %llu",
		    (int)r->stream_n, r->stream, (unsigned long long)r->version,
		    (unsigned long long)*h);
	*h = r->version;
	v->prev = r->seq;
	v->records++;
}

static int
verify_seg(struct vstate *v, const struct elog_seg *seg, uint64_t limit, int last,
    struct ev_err *e)
{
	struct elog_src s;
	struct elog_rec r;
	const char *p, *why;
	size_t n;
	int k, rc = elog_src_open(v->l, &s, seg, 0, e);

	if (rc != 0)
		return rc;
	s.limit = limit;
	while ((k = elog_src_line(&s, &p, &n)) == 1) {
		if (elog_decode(p, n, &r, &why) != 0)
			damage(v, s.name, s.lineno, "%s", why);
		else
			check_record(v, &s, &r, s.lineno == 1);
	}
	if (k < 0)
		damage(v, s.name, s.lineno + 1, "corrupt gzip data");
	else if (k == 2 && last && !s.sealed)
		elog_warn(v->l, "%s/%s:%lu: torn tail of %zu bytes (the next append cuts it)",
		    v->l->dir, s.name, s.lineno + 1, n);
	else if (k == 2)
		damage(v, s.name, s.lineno + 1, "unterminated record");
	elog_src_close(&s);
	return 0;
}

long
elog_dir_verify(struct elog *l, void (*report)(void *, const char *), void *ctx,
    uint64_t *records, struct ev_err *e)
{
	struct vstate v = { l, report, ctx, 0, 0, 0, 0, NULL, 0, 0 };
	struct elog_seg *segs;
	struct stat st;
	char name[40];
	size_t n;
	uint64_t limit = UINT64_MAX;

	/* The committed end of the active segment, as a reader sees it. */
	if (elog_lock(l, LOCK_SH, e) != 0)
		return -1;
	int rc = elog_list(l, &segs, &n, 0, e);
	if (rc == 0 && n > 0 && !segs[n - 1].gz) {
		elog_seg_name(name, segs[n - 1].first, 0);
		if (fstatat(l->dirfd, name, &st, 0) == 0)
			limit = (uint64_t)st.st_size;
	}
	elog_unlock(l);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = verify_seg(&v, &segs[i], i + 1 == n ? limit : UINT64_MAX, i + 1 == n, e);
	free(segs);
	free(v.heads);
	*records = v.records;
	return rc != 0 ? -1 : v.damages;
}
