/* evlog_ops.c — the public calls of evlog.h, through the log's backend
 * (struct elog_ops): a directory of segments, or a JetStream stream for a
 * nats:// LOG. */
#include <stdio.h>
#include <stdlib.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "nats/nats.h"

const struct elog_ops elog_dir_ops = {
	elog_dir_close, elog_dir_append_start, elog_dir_append_finish, elog_dir_verify,
	elog_dir_reader_open, elog_dir_reader_next, elog_dir_reader_wait,
	elog_dir_reader_segment, elog_dir_reader_line, elog_dir_reader_close,
};

struct elog_reader {
	const struct elog_ops *ops;
	void *impl;
	char where[128];
};

int
elog_open(const char *dir, const struct elog_opts *o, struct elog **out, struct ev_err *e)
{
	if (nats_is_uri(dir))
		return elog_nats_open(dir, o, out, e);
	return elog_dir_open(dir, o, out, e);
}

void
elog_close(struct elog *l)
{
	if (l != NULL)
		l->ops->close(l);
}

const char *
elog_dir(const struct elog *l)
{
	return l->dir;
}

int
elog_append_start(struct elog *l, struct elog_batch *b, long long expect,
    struct elog_result *res, struct ev_err *e)
{
	return l->ops->append_start(l, b, expect, res, e);
}

int
elog_append_finish(struct elog *l, struct ev_err *e)
{
	return l->ops->append_finish(l, e);
}

int
elog_append(struct elog *l, struct elog_batch *b, long long expect, struct elog_result *res,
    struct ev_err *e)
{
	int rc = elog_append_start(l, b, expect, res, e);

	return rc != 0 ? rc : elog_append_finish(l, e);
}

void
elog_result_free(struct elog_result *res)
{
	buf_free(&res->records);
}

long
elog_verify(struct elog *l, void (*report)(void *, const char *), void *ctx,
    uint64_t *records, struct ev_err *e)
{
	return l->ops->verify(l, report, ctx, records, e);
}

int
elog_reader_open(struct elog *l, uint64_t from, struct elog_reader **out, struct ev_err *e)
{
	struct elog_reader *rd = xcalloc(1, sizeof *rd);
	int rc = l->ops->reader_open(l, from, &rd->impl, e);

	rd->ops = l->ops;
	if (rc != 0) {
		free(rd);
		rd = NULL;
	}
	*out = rd;
	return rc;
}

int
elog_reader_next(struct elog_reader *rd, struct elog_rec *r, struct ev_err *e)
{
	return rd->ops->reader_next(rd->impl, r, e);
}

void
elog_reader_wait(struct elog_reader *rd, int timeout_ms)
{
	rd->ops->reader_wait(rd->impl, timeout_ms);
}

const char *
elog_reader_segment(const struct elog_reader *rd)
{
	return rd->ops->reader_segment(rd->impl);
}

unsigned long
elog_reader_line(const struct elog_reader *rd)
{
	return rd->ops->reader_line(rd->impl);
}

const char *
elog_reader_where(struct elog_reader *rd)
{
	snprintf(rd->where, sizeof rd->where, "%s:%lu", elog_reader_segment(rd),
	    elog_reader_line(rd));
	return rd->where;
}

void
elog_reader_close(struct elog_reader *rd)
{
	if (rd == NULL)
		return;
	rd->ops->reader_close(rd->impl);
	free(rd);
}
