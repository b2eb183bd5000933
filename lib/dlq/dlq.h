/* dlq — the one dead-letter sink of evkit (bus targets' dead_letter,
 * fnrun's --dlq): "file:PATH" (appended, one JSON line a letter) or
 * "queue:QUEUE" (one message a letter).  Uses core and queue.
 *
 * A letter is a body (JSON text: the event, or a whole record) and
 * optional attributes.  A queue gets the body as the message and the
 * attributes as message attributes; a file gets
 * {"time":T,"NAME":value,…,"event":body} when there are attributes, else
 * the body alone. */
#ifndef EVKIT_DLQ_H
#define EVKIT_DLQ_H

#include <stddef.h>

#include "core/err.h"

struct dlq;

struct dlq_attr {
	const char *name, *value;
	int number;		/* a Number attribute: a bare JSON number in files */
};

/* Whether uri is file:PATH or queue:QUEUE (a standard queue): NULL, or
 * why not (static text). */
const char *dlq_uri_check(const char *uri);

/* Opens uri, creating the file or queue if missing: 0 and *out, or the
 * status with e. */
int dlq_open(const char *uri, struct dlq **out, struct ev_err *e);
/* Closes d (NULL is fine): 0, or EV_IOERR with e when a file's close
 * failed (what was written may be lost). */
int dlq_close(struct dlq *d, struct ev_err *e);
/* "file:PATH" or "queue:QUEUE", as opened. */
const char *dlq_uri(const struct dlq *d);

/* Writes one letter, whole or not at all: 0, or the status with e. */
int dlq_put(struct dlq *d, const char *body, size_t n, const struct dlq_attr *a, int na,
    struct ev_err *e);

#endif
