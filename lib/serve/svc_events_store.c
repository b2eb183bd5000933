/* svc_events_store — event buses as rules files, and EventBridge's
 * targets as a rules file's (see svc_events.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"
#include "core/alloc.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/names.h"
#include "serve.h"
#include "svc_events.h"

/* serve_events_setup's: --rules FILE, the default bus's file; where
 * failed deliveries are told. */
static const char *default_rules;
static FILE *fail_log;

void
serve_events_setup(const char *rules, FILE *log)
{
	default_rules = rules;
	fail_log = log;
}

static char *
bus_path(const struct evs *s, const char *name)
{
	struct buf b = { 0 };

	if (strcmp(name, "default") == 0 && default_rules != NULL)
		buf_adds(&b, default_rules);
	else
		buf_printf(&b, "%s/buses/%s.json", s->home, name);
	return buf_detach(&b);
}

/* name of an EventBusName: a name, or what follows "event-bus/" in an ARN. */
static const char *
bus_name(const char *name)
{
	const char *a;

	if (name == NULL || *name == '\0')
		return "default";
	if (strncmp(name, "arn:", 4) == 0 && (a = strstr(name, ":event-bus/")) != NULL)
		return a + 11;
	return name;
}

static struct ebus *
find_bus(struct evs *s, const char *name)
{
	for (struct ebus *b = s->buses; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

static struct ebus *
add_bus(struct evs *s, const char *name)
{
	struct ebus *b = xcalloc(1, sizeof *b);

	b->name = xstrdup(name);
	b->path = bus_path(s, name);
	b->next = s->buses;
	s->buses = b;
	return b;
}

/* A bus name evkit can keep as a file: 0, or -1 with c answered. */
static int
check_name(struct serve_call *c, const char *name)
{
	const char *why = name_check(name, 0);

	if (why == NULL)
		return 0;
	if (c != NULL)
		serve_error(c, 400, "ValidationException", NULL, "1 validation error detected: Value "
	    "'%.100s' at 'name' failed to satisfy constraint: %s", name, why);
	return -1;
}

struct ebus *
evs_bus(struct evs *s, struct serve_call *c, const char *name)
{
	struct ebus *b;
	struct stat st;

	name = bus_name(name);
	if ((b = find_bus(s, name)) != NULL)
		return b;
	if (check_name(c, name) != 0)
		return NULL;
	char *path = bus_path(s, name);
	int there = strcmp(name, "default") == 0 || stat(path, &st) == 0;
	free(path);
	if (!there) {
		if (c != NULL)
			serve_error(c, 400, "ResourceNotFoundException", NULL,
			    "Event bus %.256s does not exist.", name);
		return NULL;
	}
	return add_bus(s, name);
}

int
evs_bus_create(struct evs *s, struct serve_call *c, const char *name)
{
	struct stat st;

	if (name == NULL) {
		serve_error(c, 400, "ValidationException", NULL, "Parameter Name is required.");
		return -1;
	}
	if (check_name(c, name) != 0)
		return -1;
	char *path = bus_path(s, name);
	int there = strcmp(name, "default") == 0 || stat(path, &st) == 0;
	free(path);
	if (there) {
		serve_error(c, 400, "ResourceAlreadyExistsException", NULL,
		    "Event bus %s already exists.", name);
		return -1;
	}
	struct ebus *b = find_bus(s, name);
	if (b == NULL)
		b = add_bus(s, name);
	return evs_save(s, c, b, jv_parse("{\"rules\":[]}"));
}

jv
evs_load(const struct ebus *b)
{
	struct buf t = { 0 };
	int rc = buf_read_file(&t, b->path);
	jv v;

	if (rc == ENOENT)
		v = jv_parse("{\"rules\":[]}");
	else if (rc != 0)
		v = jv_invalid_with_msg(jv_string(strerror(rc)));
	else
		v = jv_parse_sized(t.p != NULL ? t.p : "", (int)t.n);
	buf_free(&t);
	if (jv_is_valid(v) && (jv_get_kind(v) != JV_KIND_OBJECT ||
	    jv_get_kind(jv_object_get(jv_copy(v), jv_string("rules"))) != JV_KIND_ARRAY)) {
		jv_free(v);
		v = jv_invalid_with_msg(jv_string("not a rules file"));
	}
	return v;
}

/* Writes text to path through a temporary in the same directory,
 * checked by rules_load first: 0, or -1 with why (a rules_load reason,
 * kept in e). */
static int
write_checked(const char *path, const char *text, struct ev_err *e)
{
	struct buf tmp = { 0 };
	struct rules *rs;
	int fd, rc = -1;

	if (name_mkparent(path) != 0) {
		err_sys(e, EV_IOERR, "cannot make the directory of '%s'", path);
		return -1;
	}
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write_fully(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		err_sys(e, EV_IOERR, "cannot write '%s'", tmp.p);
	} else if (rules_load(tmp.p, &rs, e) == 0) {
		rules_free(rs);
		if (rename(tmp.p, path) == 0)
			rc = 0;
		else
			err_sys(e, EV_IOERR, "cannot rename to '%s'", path);
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp.p);
	buf_free(&tmp);
	return rc;
}

int
evs_save(struct evs *s, struct serve_call *c, const struct ebus *b, jv top)
{
	jv text = jv_dump_string(top, JV_PRINT_PRETTY | JV_PRINT_INDENT_FLAGS(2));
	struct buf t = { 0 };
	struct ev_err e;

	(void)s;
	buf_adds(&t, jv_string_value(text));
	buf_addc(&t, '\n');
	jv_free(text);
	int rc = write_checked(b->path, t.p, &e);
	buf_free(&t);
	if (rc != 0) {
		/* rules_load names the temporary: say the JSON path only. */
		const char *m = strstr(e.msg, ": .");
		serve_error(c, 400, "ValidationException", NULL, "%s",
		    m != NULL && e.code == EV_USAGE ? m + 2 : e.msg);
	}
	return rc;
}

void
evs_rule_arn(const struct evs *s, const struct ebus *b, const char *rule, struct buf *out)
{
	buf_printf(out, "arn:aws:events:%s:000000000000:rule/", s->region);
	if (strcmp(b->name, "default") != 0)
		buf_printf(out, "%s/", b->name);
	buf_adds(out, rule);
}

void
evs_bus_arn(const struct evs *s, const char *bus, struct buf *out)
{
	buf_printf(out, "arn:aws:events:%s:000000000000:event-bus/%s", s->region, bus);
}

char **
evs_bus_names(struct evs *s)
{
	struct buf d = { 0 };
	char **v = xcalloc(2, sizeof *v);
	size_t n = 1;
	struct dirent *de;

	v[0] = xstrdup("default");
	buf_printf(&d, "%s/buses", s->home);
	DIR *dir = opendir(d.p);
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		size_t k = strlen(de->d_name);
		if (k <= 5 || strcmp(de->d_name + k - 5, ".json") != 0)
			continue;
		char *name = xstrdup(de->d_name);
		name[k - 5] = '\0';
		if (name_check(name, 0) != NULL || strcmp(name, "default") == 0) {
			free(name);
			continue;
		}
		v = xreallocarray(v, n + 2, sizeof *v);
		v[n++] = name;
		v[n] = NULL;
	}
	if (dir != NULL)
		closedir(dir);
	buf_free(&d);
	/* readdir's order is the file system's: sort for a stable listing. */
	for (size_t i = 2; i < n; i++)
		for (size_t j = i; j > 1 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v;
}

/* ---- targets ---- */

static const char lambda_path[] = "/2015-03-31/functions/";

/* "arn:aws:SERVICE:REGION:ACCOUNT:REST": REST, or NULL. */
static const char *
arn_rest(const char *arn, const char *service)
{
	size_t k = strlen(service);
	const char *p = arn + 8;

	if (strncmp(arn, "arn:aws:", 8) != 0 || strncmp(p, service, k) != 0 || p[k] != ':')
		return NULL;
	p += k + 1;
	for (int i = 0; i < 2 && p != NULL; i++)
		if ((p = strchr(p, ':')) != NULL)
			p++;
	return p;
}

/* An SQS queue ARN as "queue:NAME" into out: 0, or -1. */
static int
queue_uri(const char *arn, struct buf *out)
{
	const char *q = arn_rest(arn, "sqs");

	if (q == NULL || name_check(q, 1) != NULL)
		return -1;
	buf_printf(out, "queue:%s", q);
	return 0;
}

/* The rules-file target of an ARN or URI into t: 0, or -1. */
static int
target_uri(const struct serve_req *rq, const char *arn, jv *t)
{
	struct buf u = { 0 };
	const char *f;

	if (queue_uri(arn, &u) == 0) {
		*t = jv_object_set(*t, jv_string("uri"), jv_string(u.p));
	} else if ((f = arn_rest(arn, "lambda")) != NULL && strncmp(f, "function:", 9) == 0 &&
	    f[9] != '\0') {
		/* Delivered as an asynchronous Invoke of this server's Lambda
		 * service: an HTTP target evbus-route can deliver as well. */
		size_t k = strcspn(f + 9, ":");
		buf_printf(&u, "%s%s%.*s/invocations", rq->base_url, lambda_path, (int)k, f + 9);
		*t = jv_object_set(*t, jv_string("uri"), jv_string(u.p));
		*t = jv_object_set(*t, jv_string("http_parameters"), jv_parse(
		    "{\"header_parameters\":{\"X-Amz-Invocation-Type\":\"Event\"}}"));
	} else if (strncmp(arn, "arn:", 4) == 0) {
		buf_free(&u);
		return -1;
	} else {
		*t = jv_object_set(*t, jv_string("uri"), jv_string(arn));	/* a URI */
	}
	buf_free(&u);
	return 0;
}

/* The shaping members of t (Input, InputPath, InputTransformer): 0, or
 * -1 with why. */
static int
target_shape(jv in, jv *t, const char **why)
{
	const char *s;

	if ((s = evs_str(in, "Input")) != NULL) {
		jv v = jv_parse(s);
		if (!jv_is_valid(v)) {
			jv_free(v);
			*why = "Input is not valid JSON text.";
			return -1;
		}
		*t = jv_object_set(*t, jv_string("input"), v);
	}
	if ((s = evs_str(in, "InputPath")) != NULL)
		*t = jv_object_set(*t, jv_string("input_path"), jv_string(s));
	jv it = jv_object_get(jv_copy(in), jv_string("InputTransformer"));
	if (jv_get_kind(it) == JV_KIND_OBJECT) {
		jv o = jv_object();
		jv m = jv_object_get(jv_copy(it), jv_string("InputPathsMap"));
		if (jv_get_kind(m) == JV_KIND_OBJECT)
			o = jv_object_set(o, jv_string("input_paths_map"), m);
		else
			jv_free(m);
		if ((s = evs_str(it, "InputTemplate")) != NULL)
			o = jv_object_set(o, jv_string("input_template"), jv_string(s));
		*t = jv_object_set(*t, jv_string("input_transformer"), o);
	}
	jv_free(it);
	return 0;
}

/* RetryPolicy and DeadLetterConfig: 0, or -1 with why. */
static int
target_retry(jv in, jv *t, const char **why)
{
	jv rp = jv_object_get(jv_copy(in), jv_string("RetryPolicy"));
	jv dl = jv_object_get(jv_copy(in), jv_string("DeadLetterConfig"));
	int rc = 0;

	if (jv_get_kind(rp) == JV_KIND_OBJECT) {
		jv r = jv_object();
		jv a = jv_object_get(jv_copy(rp), jv_string("MaximumRetryAttempts"));
		jv g = jv_object_get(jv_copy(rp), jv_string("MaximumEventAgeInSeconds"));
		if (jv_get_kind(a) == JV_KIND_NUMBER)
			r = jv_object_set(r, jv_string("attempts"), a);
		else
			jv_free(a);
		if (jv_get_kind(g) == JV_KIND_NUMBER)
			r = jv_object_set(r, jv_string("max_age"), g);
		else
			jv_free(g);
		*t = jv_object_set(*t, jv_string("retry"), r);
	}
	const char *arn = jv_get_kind(dl) == JV_KIND_OBJECT ? evs_str(dl, "Arn") : NULL;
	if (arn != NULL) {
		struct buf u = { 0 };
		if (queue_uri(arn, &u) == 0) {
			*t = jv_object_set(*t, jv_string("dead_letter"), jv_string(u.p));
		} else {
			*why = "DeadLetterConfig's Arn is not an SQS queue's ARN.";
			rc = -1;
		}
		buf_free(&u);
	}
	jv_free(rp);
	jv_free(dl);
	return rc;
}

jv
evs_target_in(const struct serve_req *rq, jv in, const char **why)
{
	const char *id = evs_str(in, "Id"), *arn = evs_str(in, "Arn");
	jv t = jv_object();

	*why = NULL;
	if (id == NULL || arn == NULL)
		*why = "A target has an Id and an Arn.";
	else if (t = jv_object_set(t, jv_string("id"), jv_string(id)),
	    target_uri(rq, arn, &t) != 0)
		*why = "The target's Arn is not supported here: an SQS queue or a Lambda "
		    "function ARN, or an evbus-route target URI.";
	else if (target_shape(in, &t, why) == 0)
		target_retry(in, &t, why);
	if (*why != NULL) {
		jv_free(t);
		return jv_invalid();
	}
	return t;
}

/* The ARN a rules-file uri stands for, into out. */
static void
uri_arn(const struct evs *s, const char *uri, struct buf *out)
{
	const char *f = strstr(uri, lambda_path);
	size_t k;

	if (strncmp(uri, "queue:", 6) == 0 && name_check(uri + 6, 1) == NULL) {
		buf_printf(out, "arn:aws:sqs:%s:000000000000:%s", s->region, uri + 6);
	} else if (strncmp(uri, "http://", 7) == 0 && f != NULL &&
	    (k = strcspn(f + sizeof lambda_path - 1, "/")) > 0 &&
	    strcmp(f + sizeof lambda_path - 1 + k, "/invocations") == 0) {
		buf_printf(out, "arn:aws:lambda:%s:000000000000:function:%.*s", s->region, (int)k,
		    f + sizeof lambda_path - 1);
	} else {
		buf_adds(out, uri);
	}
}

static void
add_member(struct buf *out, const char *key, const char *s)
{
	buf_printf(out, ",\"%s\":", key);
	json_add_string(out, s, strlen(s));
}

void
evs_target_out(const struct evs *s, jv t, struct buf *out)
{
	const char *id = evs_str(t, "id"), *uri = evs_str(t, "uri"), *v;
	struct buf a = { 0 };

	uri_arn(s, uri != NULL ? uri : "", &a);
	buf_adds(out, "{\"Id\":");
	json_add_string(out, id != NULL ? id : "", id != NULL ? strlen(id) : 0);
	add_member(out, "Arn", a.p);
	jv in = jv_object_get(jv_copy(t), jv_string("input"));
	if (jv_is_valid(in)) {
		jv d = jv_dump_string(in, 0);
		add_member(out, "Input", jv_string_value(d));
		jv_free(d);
	} else {
		jv_free(in);
	}
	if ((v = evs_str(t, "input_path")) != NULL)
		add_member(out, "InputPath", v);
	jv it = jv_object_get(jv_copy(t), jv_string("input_transformer"));
	if (jv_get_kind(it) == JV_KIND_OBJECT) {
		jv m = jv_object_get(jv_copy(it), jv_string("input_paths_map"));
		buf_adds(out, ",\"InputTransformer\":{");
		if (jv_get_kind(m) == JV_KIND_OBJECT) {
			jv d = jv_dump_string(jv_copy(m), 0);
			buf_printf(out, "\"InputPathsMap\":%s,", jv_string_value(d));
			jv_free(d);
		}
		jv_free(m);
		v = evs_str(it, "input_template");
		buf_adds(out, "\"InputTemplate\":");
		json_add_string(out, v != NULL ? v : "", v != NULL ? strlen(v) : 0);
		buf_addc(out, '}');
	}
	jv_free(it);
	jv r = jv_object_get(jv_copy(t), jv_string("retry"));
	if (jv_get_kind(r) == JV_KIND_OBJECT) {
		jv at = jv_object_get(jv_copy(r), jv_string("attempts"));
		jv ag = jv_object_get(jv_copy(r), jv_string("max_age"));
		buf_printf(out, ",\"RetryPolicy\":{\"MaximumRetryAttempts\":%d,"
		    "\"MaximumEventAgeInSeconds\":%d}",
		    jv_get_kind(at) == JV_KIND_NUMBER ? (int)jv_number_value(at) : 2,
		    jv_get_kind(ag) == JV_KIND_NUMBER ? (int)jv_number_value(ag) : 86400);
		jv_free(at);
		jv_free(ag);
	}
	jv_free(r);
	if ((v = evs_str(t, "dead_letter")) != NULL) {
		buf_reset(&a);
		uri_arn(s, v, &a);
		buf_adds(out, ",\"DeadLetterConfig\":{\"Arn\":");
		json_add_string(out, a.p, a.n);
		buf_addc(out, '}');
	}
	buf_addc(out, '}');
	buf_free(&a);
}

/* ---- routing state ---- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

/* The bus's fail hook (a target's thread): one JSON line on the
 * server's log. */
static void
on_fail(void *ctx, const struct bus_fail *f)
{
	struct buf b = { 0 };

	(void)ctx;
	if (fail_log == NULL)
		return;
	buf_adds(&b, "{\"service\":\"events\",\"rule\":");
	json_add_string(&b, f->t->rule->name, strlen(f->t->rule->name));
	add_member(&b, "target", f->t->id);
	add_member(&b, "error", f->why != NULL ? f->why : "");
	add_member(&b, "deadLetter", f->dead_letter != NULL ? f->dead_letter : "");
	buf_adds(&b, "}\n");
	pthread_mutex_lock(&log_mu);
	fwrite(b.p, 1, b.n, fail_log);
	fflush(fail_log);
	pthread_mutex_unlock(&log_mu);
	buf_free(&b);
}

static const struct bus_hooks hooks = { .fail = on_fail };

struct closing {
	struct bus *bus;
	struct rules *rs;
};

/* Replaced buses deliver what they hold in threads of their own (so that
 * no request waits for their targets), detached; the server waits for
 * them all before it ends. */
static pthread_mutex_t closers_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t closers_cv = PTHREAD_COND_INITIALIZER;
static int nclosers;

static void *
close_bus(void *arg)
{
	struct closing *cl = arg;
	struct ev_err e;

	if (cl->bus != NULL)
		bus_close(cl->bus, &e);
	rules_free(cl->rs);
	free(cl);
	return NULL;
}

static void *
close_detached(void *arg)
{
	close_bus(arg);
	pthread_mutex_lock(&closers_mu);
	nclosers--;
	pthread_cond_broadcast(&closers_cv);
	pthread_mutex_unlock(&closers_mu);
	return NULL;
}

static void
retire(struct ebus *b, int wait)
{
	struct closing *cl = xmalloc(sizeof *cl);
	pthread_attr_t at;
	pthread_t th;

	cl->bus = b->bus;
	cl->rs = b->rs;
	b->bus = NULL;
	b->rs = NULL;
	if (cl->bus == NULL && cl->rs == NULL) {
		free(cl);
		return;
	}
	pthread_mutex_lock(&closers_mu);
	nclosers++;
	pthread_mutex_unlock(&closers_mu);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (wait || pthread_create(&th, &at, close_detached, cl) != 0)
		close_detached(cl);
	pthread_attr_destroy(&at);
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int
evs_bus_ready(struct evs *s, struct ebus *b, const char **why)
{
	struct stat st;
	struct ev_err e;

	(void)s;
	if (stat(b->path, &st) != 0) {
		retire(b, 0);
		memset(&b->st, 0, sizeof b->st);
		return 0;	/* no file: no rules */
	}
	if (b->rs != NULL && same_file(&st, &b->st))
		return 0;
	retire(b, 0);
	b->st = st;
	if (rules_load(b->path, &b->rs, &e) != 0) {
		*why = "the bus's rules file cannot be loaded";
		memset(&b->st, 0, sizeof b->st);
		return -1;
	}
	if (bus_open(b->rs, &hooks, &b->bus, &e) != 0) {
		*why = "a target of the bus's rules cannot be opened";
		rules_free(b->rs);
		b->rs = NULL;
		memset(&b->st, 0, sizeof b->st);
		return -1;
	}
	return 0;
}

void
evs_bus_free(struct ebus *b)
{
	retire(b, 1);
	free(b->name);
	free(b->path);
	free(b);
	/* Replaced buses finish their deliveries before the server ends. */
	pthread_mutex_lock(&closers_mu);
	while (nclosers > 0)
		pthread_cond_wait(&closers_cv, &closers_mu);
	pthread_mutex_unlock(&closers_mu);
}
