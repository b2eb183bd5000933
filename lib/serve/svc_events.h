/* svc_events — evkit-serve's EventBridge service (AWS JSON 1.1,
 * X-Amz-Target AWSEvents.*), shared by its files: the calls
 * (svc_events.c), event buses as rules files under $EVKIT_HOME and the
 * mapping of EventBridge targets to rules-file targets
 * (svc_events_store.c), PutEvents and TestEventPattern
 * (svc_events_put.c).
 *
 * An event bus NAME is the rules file $EVKIT_HOME/buses/NAME.json (the
 * default bus: --rules FILE when given), in the format evbus-route -r
 * reads (SPEC 3), so that what an SDK puts, evbus-route routes, and the
 * other way round.  The file is read again whenever it changes. */
#ifndef EVKIT_SVC_EVENTS_H
#define EVKIT_SVC_EVENTS_H

#include <stdint.h>
#include <sys/stat.h>

#include <jv.h>

#include "core/buf.h"
#include "svc.h"

struct rules;
struct bus;

struct ebus {
	char *name, *path;
	struct rules *rs;	/* as loaded, NULL: none yet (or no file) */
	struct bus *bus;	/* rs's targets, open */
	struct stat st;		/* of the file rs came from */
	struct ebus *next;
};

struct evs {
	struct serve *srv;
	char *home;
	const char *region;
	struct ebus *buses;
};

/* The request's JSON object of c, or answers SerializationException and
 * returns an invalid jv. */
jv evs_request(struct serve_call *c, const struct serve_req *rq);
/* A string member of o (borrowed from o), or NULL. */
const char *evs_str(jv o, const char *key);

/* svc_events_store.c */
/* The bus named by an EventBusName (a name or an event-bus ARN; NULL:
 * "default") that exists: NULL when it does not (or is not a valid
 * name), with c answered (unless c is NULL). */
struct ebus *evs_bus(struct evs *s, struct serve_call *c, const char *name);
/* Creates bus name's empty rules file: 0, or -1 (c answered). */
int evs_bus_create(struct evs *s, struct serve_call *c, const char *name);
/* The bus's rules file as jv ({"rules":[]} when there is none). */
jv evs_load(const struct ebus *b);
/* Writes top as b's rules file, atomically, once rules_load accepts it:
 * 0, or -1 (c answered: ValidationException with the reason). */
int evs_save(struct evs *s, struct serve_call *c, const struct ebus *b, jv top);
/* The ARN of a rule of b, and of b. */
void evs_rule_arn(const struct evs *s, const struct ebus *b, const char *rule, struct buf *out);
void evs_bus_arn(const struct evs *s, const char *bus, struct buf *out);
/* An EventBridge Target (PutTargets' entry) as a rules-file target:
 * the jv, or an invalid one with *why (a static or c-owned text). */
jv evs_target_in(const struct serve_req *rq, jv t, const char **why);
/* A rules-file target as EventBridge's Target, appended to out. */
void evs_target_out(const struct evs *s, jv t, struct buf *out);
/* Every bus name, the default first, into the NULL-terminated *names
 * (free each and the array). */
char **evs_bus_names(struct evs *s);
/* The routing state of b for PutEvents: its rules loaded again when the
 * file changed and its targets opened.  0, or -1 with why (static). */
int evs_bus_ready(struct evs *s, struct ebus *b, const char **why);
void evs_bus_free(struct ebus *b);

/* svc_events_put.c */
void evs_put_events(struct evs *s, struct serve_call *c, jv req);
void evs_test_pattern(struct evs *s, struct serve_call *c, jv req);
/* For Lambda's destinations: the server's EventBridge state (set by its
 * init, NULL after fini), and a whole envelope ev routed through the bus
 * named (a name or an event-bus ARN); ev NULL only checks the bus exists.
 * 0, or -1 with why (static). */
extern struct evs *evs_current;
int evs_deliver(const char *bus, const char *ev, size_t n, const char **why);

#endif
