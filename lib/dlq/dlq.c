/* dlq — dead letters to a file or a queue (see dlq.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "dlq.h"
#include "queue/queue.h"

struct dlq {
	char *uri;
	int fd;			/* file:, or -1 */
	struct queue *q;	/* queue:, or NULL */
};

const char *
dlq_uri_check(const char *uri)
{
	if (strncmp(uri, "file:", 5) == 0 && uri[5] != '\0')
		return NULL;
	if (strncmp(uri, "queue:", 6) == 0 && uri[6] != '\0') {
		size_t n = strlen(uri);
		if (n > 11 && strcmp(uri + n - 5, ".fifo") == 0)
			return "a dead letter must be a standard queue, not FIFO";
		return NULL;
	}
	return "a dead letter is file:PATH or queue:QUEUE";
}

int
dlq_open(const char *uri, struct dlq **out, struct ev_err *e)
{
	struct dlq *d = xcalloc(1, sizeof *d);

	*out = NULL;
	d->fd = -1;
	d->uri = xstrdup(uri);
	if (strncmp(uri, "file:", 5) == 0) {
		d->fd = open(uri + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (d->fd < 0) {
			err_sys(e, EV_IOERR, "dead letter '%s'", uri + 5);
			free(d->uri);
			free(d);
			return EV_IOERR;
		}
	} else {
		int rc = q_open(uri + 6, Q_CREATE, NULL, &d->q, e);
		if (rc != 0) {
			err_wrap(e, "dead letter queue '%s'", uri + 6);
			free(d->uri);
			free(d);
			return rc;
		}
	}
	*out = d;
	return 0;
}

int
dlq_close(struct dlq *d, struct ev_err *e)
{
	int rc = 0;

	if (d == NULL)
		return 0;
	if (d->fd >= 0 && close(d->fd) != 0)
		rc = err_sys(e, EV_IOERR, "dead letter '%s'", d->uri + 5);
	if (d->q != NULL)
		q_close(d->q);
	free(d->uri);
	free(d);
	return rc;
}

const char *
dlq_uri(const struct dlq *d)
{
	return d->uri;
}

/* file: — one line, written at once (O_APPEND keeps letters whole). */
static int
to_file(struct dlq *d, const char *body, size_t n, const struct dlq_attr *a, int na,
    struct ev_err *e)
{
	struct buf b = { 0 };
	char ts[25];

	if (na > 0) {
		clock_rfc3339(clock_now_ms(), ts);
		buf_printf(&b, "{\"time\":\"%s\"", ts);
		for (int i = 0; i < na; i++) {
			buf_printf(&b, ",\"%s\":", a[i].name);
			if (a[i].number)
				buf_adds(&b, a[i].value);
			else
				json_add_string(&b, a[i].value, strlen(a[i].value));
		}
		buf_adds(&b, ",\"event\":");
	}
	buf_add(&b, body, n);
	buf_adds(&b, na > 0 ? "}\n" : "\n");
	int rc = buf_write_fd(&b, d->fd);
	buf_free(&b);
	if (rc == 0)
		return 0;
	errno = rc;
	return err_sys(e, EV_IOERR, "dead letter '%s'", d->uri + 5);
}

/* queue: — the body as the message, the rest as message attributes (an
 * empty value is "-": SQS refuses empty attributes). */
static int
to_queue(struct dlq *d, const char *body, size_t n, const struct dlq_attr *a, int na,
    struct ev_err *e)
{
	struct buf *spec = xcalloc((size_t)na + 1, sizeof *spec);
	char **specs = xcalloc((size_t)na + 1, sizeof *specs), *json = NULL, md5[33];
	int rc = 0;

	for (int i = 0; i < na; i++) {
		buf_printf(&spec[i], "%s%s=%s", a[i].name, a[i].number ? ":Number" : "",
		    a[i].value[0] != '\0' ? a[i].value : "-");
		specs[i] = spec[i].p;
	}
	long size;
	if (na > 0)
		rc = q_attrs_render(specs, na, &json, md5, &size, e);
	if (rc == 0) {
		struct q_out m = { .body = body, .len = n, .delay_ms = -1,
		    .attrs = json, .attrs_md5 = na > 0 ? md5 : NULL };
		struct q_sent sent;
		rc = q_send_begin(d->q, e);
		if (rc == 0)
			rc = q_send_add(d->q, &m, &sent, e);
		if (rc == 0 && sent.refused != NULL) {
			q_send_rollback(d->q);
			rc = err_set(e, EV_DATAERR, "%s", sent.refused);
		} else if (rc == 0) {
			rc = q_send_commit(d->q, e);
		}
	}
	if (rc != 0)
		err_wrap(e, "dead letter queue '%s'", q_name(d->q));
	free(json);
	for (int i = 0; i < na; i++)
		buf_free(&spec[i]);
	free(spec);
	free(specs);
	return rc;
}

int
dlq_put(struct dlq *d, const char *body, size_t n, const struct dlq_attr *a, int na,
    struct ev_err *e)
{
	return d->fd >= 0 ? to_file(d, body, n, a, na, e) : to_queue(d, body, n, a, na, e);
}
