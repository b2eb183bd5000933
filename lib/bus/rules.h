/* rules — an evbus-route rules file (SPEC.md 3, evbus-route(1)), loaded
 * and validated whole before any event is read.  Every problem is a
 * usage error (exit 2) naming the file and the JSON path at fault. */
#ifndef EVKIT_RULES_H
#define EVKIT_RULES_H

#include <stdint.h>

#include "core/err.h"
#include "http/http.h"
#include "pattern/pattern.h"

enum { RULES_MAX_TARGETS = 5 };		/* AWS's limit per rule */

enum tgt_kind { TGT_STDOUT, TGT_FILE, TGT_QUEUE, TGT_LOG, TGT_EXEC, TGT_EVENTS, TGT_HTTP };

struct shape;
struct jpath;

struct target {
	char *id, *uri;		/* the uri is the TARGET_ARN of dead letters */
	enum tgt_kind kind;
	char *arg;		/* PATH, QUEUE, LOG or events:// URI ("" for stdout:) */
	char **argv;		/* exec: the command's words, NULL-terminated */
	char *input;		/* "input": constant JSON (compact), or NULL */
	struct shape *shape;	/* input_path, input_transformer, jq; or NULL */
	int attempts;		/* retry.attempts: retries after the first try */
	int64_t max_age_ms;	/* retry.max_age */
	char *dead_letter;	/* "file:PATH" or "queue:QUEUE", or NULL */
	int concurrency;	/* exec: children at once */
	char **env;		/* exec: "env" entries, NAME or NAME=VALUE; NULL-terminated */
	int64_t timeout_ms;	/* exec: a child's time limit, 0 for none */
	char *stream;		/* log: "stream", or NULL */
	struct jpath *stream_path;	/* log: "stream_path", or NULL */
	char *stream_path_text;
	/* http: its endpoint, the secret already read from the environment;
	 * every string in it is the target's (malloc'd), NULL otherwise. */
	struct http_conf *http;
	int http_rate;		/* http: rate_per_second, for --explain */
	size_t slot;		/* its place in the bus (bus_open sets it) */
	const struct rule *rule;
};

struct rule {
	char *name, *arn;
	int enabled;
	int ntargets;
	struct target targets[RULES_MAX_TARGETS];
};

struct rules {
	int nrules;
	struct rule *rules;
	/* The enabled rules in the order of their patterns in set:
	 * pattern index i is rule byidx[i]. */
	struct pat_set *set;
	struct rule **byidx;
	/* Set by the command (--inherit-env): exec targets get our whole
	 * environment instead of the allow-list of core/proc. */
	int inherit_env;
	/* The text of the rule being loaded (its pattern is compiled from
	 * its own text in the file); NULL after. */
	const char *text;
	size_t text_n;
};

/* Local defaults for retry (AWS's 185 / 24 h would stall a pipeline for a
 * day): two retries, and events up to a day old. */
enum { RULES_DEFAULT_ATTEMPTS = 2, RULES_DEFAULT_MAX_AGE = 86400 };

/* Reads and checks the rules file at path: 0 and *out, or 66 when it
 * cannot be read and 2 when it is invalid, with e saying
 * "PATH: .rules[1].targets[0].uri: why". */
int rules_load(const char *path, struct rules **out, struct ev_err *e);
void rules_free(struct rules *rs);

/* What --explain says of an http target, into b (NUL-terminated): its
 * method, URL, auth kind (never the secret), rate limit, and the
 * insecure and cloudevents settings.  0 for other targets. */
struct buf;
int rules_describe(const struct target *t, struct buf *b);

#endif
