/* shape — EventBridge input shaping for one rule target: input_path,
 * input_transformer (input_paths_map + input_template) or a jq program.
 * Compiled once when the rules file is loaded, applied to each event. */
#ifndef EVKIT_SHAPE_H
#define EVKIT_SHAPE_H

#include <stddef.h>

#include <jv.h>

#include "core/buf.h"

struct shape;

/* What shape_apply produced. */
enum {
	SHAPE_SKIP = 0,	/* nothing to deliver (a jq program yielded no output) */
	SHAPE_JSON = 1,	/* one JSON text on one line, no line end */
	SHAPE_TEXT = 2	/* plain text: a template that is not JSON (EventBridge
			 * sends it as a bare string); may hold newlines */
};

/* What the reserved placeholders stand for. */
struct shape_ctx {
	const char *rule_name;		/* <aws.events.rule-name> */
	const char *rule_arn;		/* <aws.events.rule-arn> */
	const char *ingestion_time;	/* <aws.events.event.ingestion-time>, RFC 3339 */
};

/* Each constructor returns NULL with *why (malloc'd, names the place
 * inside the target relative to it, e.g. "input_template: ...") when the
 * definition is invalid the way EventBridge's PutTargets would refuse it. */

/* input_path: "$", "$.a.b", "$.a[0].b" (dot notation; a name may hold
 * any character but '.', '[' and ']'). */
struct shape *shape_path(const char *path, char **why);

/* input_transformer: map is a jv object of name -> JSONPath (borrowed,
 * not consumed; may be jv_null() for none), template the input_template. */
struct shape *shape_transformer(jv map, const char *tmpl, char **why);

/* jq: a jq program run on the event; its first output is the payload. */
struct shape *shape_jq(const char *prog, char **why);

void shape_free(struct shape *sh);

/* Shapes the event ev[0..n) (one valid JSON object, as the pattern
 * matcher has checked) and appends the payload to out.  A NULL sh passes
 * the event through as it came.  Returns SHAPE_SKIP, SHAPE_JSON or
 * SHAPE_TEXT, or -1 with *why (malloc'd) when this event cannot be shaped
 * (a jq runtime error): a failed delivery, not a bad input line. */
int shape_apply(struct shape *sh, const char *ev, size_t n,
    const struct shape_ctx *ctx, struct buf *out, char **why);

#endif
