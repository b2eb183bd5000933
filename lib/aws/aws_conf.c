/* aws_conf — credentials, region and endpoint, found as the AWS CLI finds
 * them (aws.h, SPEC 6).  The secrets are copied into one anonymous
 * mapping of their own that core dumps leave out (MADV_DONTDUMP) and that
 * is wiped when freed; the buffers they pass through on the way (a file,
 * a credential_process's output) are wiped too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/proc.h"
#include "core/words.h"

#include "aws_int.h"

enum { SEC_CAP = 16384, PROC_OUT_MAX = 65536 };
/* Credentials are fetched again this long before they expire, as the
 * AWS CLI refreshes them. */
#define REFRESH_MS (5 * 60 * 1000)

static void
wipe(struct buf *b)
{
	if (b->p != NULL)
		explicit_bzero(b->p, b->cap);
	buf_free(b);
}

/* Copies s into the secret mapping; NULL when it does not fit. */
static const char *
sec_put(struct aws_conf *c, const char *s, size_t n)
{
	if (c->sec == NULL) {
		void *m = mmap(NULL, SEC_CAP, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			die_oom();
#ifdef MADV_DONTDUMP
		(void)madvise(m, SEC_CAP, MADV_DONTDUMP);
#endif
		c->sec = m;
		c->seccap = SEC_CAP;
		c->secused = 0;
	}
	if (n == 0 || c->secused + n + 1 > c->seccap || memchr(s, '\0', n) != NULL)
		return NULL;
	char *at = c->sec + c->secused;
	memcpy(at, s, n);
	at[n] = '\0';
	c->secused += n + 1;
	return at;
}

static void
sec_free(struct aws_conf *c)
{
	if (c->sec != NULL) {
		explicit_bzero(c->sec, c->seccap);
		munmap(c->sec, c->seccap);
	}
	c->sec = NULL;
	c->akid = c->secret = c->token = NULL;
}

/* ---- INI files ---- */

static char *
trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

/* The section a header line [..] names, with "profile " kept. */
static int
is_section(char *line, const char *section)
{
	char *close = strrchr(line, ']');

	if (line[0] != '[' || close == NULL)
		return 0;
	return strcmp(trim(line + 1, close), section) == 0;
}

int
aws_ini_get(const char *path, const char *section, const char *key, struct buf *out)
{
	struct buf f = { 0 };
	int found = -2, in = 0;

	buf_reset(out);
	if (buf_read_file(&f, path) != 0) {
		wipe(&f);
		return -1;
	}
	for (char *line = f.p; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n'), *end = nl != NULL ? nl : line + strlen(line);
		int indented = *line == ' ' || *line == '\t';
		char *l = trim(line, end);
		if (*l == '[') {
			in = is_section(l, section);
			if (in && found == -2)
				found = 0;
		} else if (in && !indented && *l != '#' && *l != ';' && strchr(l, '=') != NULL) {
			char *eq = strchr(l, '=');
			char *v = trim(eq + 1, l + strlen(l));
			if (strcmp(trim(l, eq), key) == 0) {
				buf_reset(out);
				buf_adds(out, v);
				found = 1;
			}
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	wipe(&f);
	return found;
}

/* ---- credential_process ---- */


int
aws_conf_process_json(struct aws_conf *c, const char *p, size_t n, struct ev_err *e)
{
	struct json_err je;
	struct buf b = { 0 };
	size_t v, vend;
	int st = 0;

	if (json_validate(p, n, 0, &je) != '{')
		return err_set(e, EV_NOPERM, "credential_process: output is not a JSON object");
	size_t obj = json_ws(p, n, 0);
	if (!aws_json_get(p, n, obj, "Version", &v, &vend) || vend - v != 1 || p[v] != '1')
		return err_set(e, EV_NOPERM, "credential_process: output is not Version 1");
	if (aws_json_str(p, n, obj, "AccessKeyId", &b) <= 0 ||
	    (c->akid = sec_put(c, b.p, b.n)) == NULL ||
	    aws_json_str(p, n, obj, "SecretAccessKey", &b) <= 0 ||
	    (c->secret = sec_put(c, b.p, b.n)) == NULL) {
		st = err_set(e, EV_NOPERM,
		    "credential_process: no AccessKeyId and SecretAccessKey in its output");
	} else if (aws_json_str(p, n, obj, "SessionToken", &b) > 0) {
		if ((c->token = sec_put(c, b.p, b.n)) == NULL)
			st = err_set(e, EV_NOPERM, "credential_process: SessionToken too long");
	}
	if (st == 0 && aws_json_str(p, n, obj, "Expiration", &b) > 0) {
		if (clock_parse_rfc3339(b.p, &c->expires_ms) != 0)
			st = err_set(e, EV_NOPERM, "credential_process: Expiration '%s' is not a time",
			    b.p);
		else if (c->expires_ms <= clock_now_ms())
			st = err_set(e, EV_NOPERM, "credential_process: its credentials expired at %s",
			    b.p);
	}
	wipe(&b);
	return st;
}

/* Reads the child's stdout to its end, at most PROC_OUT_MAX bytes. */
static int
read_all(int fd, struct buf *out)
{
	for (;;) {
		buf_grow(out, 4096);
		ssize_t r = read(fd, out->p + out->n, out->cap - out->n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		out->n += (size_t)r;
		out->p[out->n] = '\0';
		if (out->n > PROC_OUT_MAX)
			return -1;
	}
}

/* Runs the command without a shell, its stdin /dev/null (never the
 * command's input: our stdin carries events), its stderr ours. */
static int
run_process(struct aws_conf *c, const char *cmd, const char *profile, struct ev_err *e)
{
	char **argv;
	int p[2] = { -1, -1 }, st, rc = 0;
	pid_t pid;
	struct buf out = { 0 };

	const char *why;
	if ((argv = words_split(cmd, &why)) == NULL)
		return err_set(e, EV_NOPERM, "credential_process of profile '%s': %s", profile,
		    why);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || pipe2(p, O_CLOEXEC) != 0) {
		rc = err_sys(e, EV_SOFTWARE, "credential_process");
		goto out;
	}
	struct proc_spec s = { .argv = argv, .flags = PROC_SAME_GROUP, .fd = { null, p[1], -1 } };
	int err = proc_spawn_spec(&s, &pid);
	close(p[1]);
	p[1] = -1;
	if (err != 0) {
		rc = err_set(e, EV_NOPERM, "credential_process of profile '%s': cannot run '%s': %s",
		    profile, argv[0], strerror(err));
		goto out;
	}
	int rd = read_all(p[0], &out);
	close(p[0]);
	p[0] = -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		rc = err_set(e, EV_NOPERM, "credential_process of profile '%s': '%s' %s %d", profile,
		    argv[0], WIFEXITED(st) ? "exited" : "was killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	else if (rd != 0)
		rc = err_set(e, EV_NOPERM, "credential_process of profile '%s': its output could "
		    "not be read (over 64 KiB?)", profile);
	else if ((rc = aws_conf_process_json(c, out.p, out.n, e)) != 0)
		err_wrap(e, "profile '%s'", profile);
out:
	wipe(&out);
	if (null >= 0)
		close(null);
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
	words_free(argv);
	return rc;
}

/* ---- the places looked in ---- */

struct where {
	const char *profile;
	char *creds_path, *config_path;
	char *config_section;
};

static char *
home_path(const char *env, const char *dflt)
{
	const char *v = getenv(env), *home = getenv("HOME");
	struct buf b = { 0 };

	if (v == NULL || *v == '\0')
		v = dflt;
	if (v[0] == '~' && v[1] == '/' && home != NULL) {
		buf_adds(&b, home);
		buf_adds(&b, v + 1);
	} else {
		buf_adds(&b, v);
	}
	return buf_detach(&b);
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A key of the profile: the credentials file first, then the config. */
static int
profile_get(const struct where *w, int creds_too, const char *key, struct buf *out)
{
	if (creds_too && aws_ini_get(w->creds_path, w->profile, key, out) == 1)
		return 1;
	if (aws_ini_get(w->config_path, w->config_section, key, out) == 1)
		return 1;
	/* The CLI reads [profile default] as well as [default]. */
	if (strcmp(w->profile, "default") == 0 &&
	    aws_ini_get(w->config_path, "profile default", key, out) == 1)
		return 1;
	return 0;
}

static int
keys_from(struct aws_conf *c, const char *path, const char *section)
{
	struct buf k = { 0 }, s = { 0 }, t = { 0 };
	int ok = 0;

	if (aws_ini_get(path, section, "aws_access_key_id", &k) == 1 && k.n > 0 &&
	    aws_ini_get(path, section, "aws_secret_access_key", &s) == 1 && s.n > 0) {
		c->akid = sec_put(c, k.p, k.n);
		c->secret = sec_put(c, s.p, s.n);
		if (aws_ini_get(path, section, "aws_session_token", &t) == 1 && t.n > 0)
			c->token = sec_put(c, t.p, t.n);
		ok = c->akid != NULL && c->secret != NULL;
	}
	wipe(&k);
	wipe(&s);
	wipe(&t);
	return ok;
}

/* What a file said, for the message naming every place looked in. */
static const char *
how(const char *path, const char *section)
{
	struct buf b = { 0 };
	int r = aws_ini_get(path, section, "aws_access_key_id", &b);

	buf_free(&b);
	return r == -1 ? "no such file" : r == -2 ? "no such profile" : "no keys";
}

static int
find_creds(struct aws_conf *c, const struct where *w, struct ev_err *e)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
	struct buf b = { 0 };

	if (ak != NULL && sk != NULL) {
		c->akid = sec_put(c, ak, strlen(ak));
		c->secret = sec_put(c, sk, strlen(sk));
		if (env("AWS_SESSION_TOKEN") != NULL)
			c->token = sec_put(c, env("AWS_SESSION_TOKEN"),
			    strlen(env("AWS_SESSION_TOKEN")));
		if (c->akid == NULL || c->secret == NULL)
			return err_set(e, EV_NOPERM, "AWS credentials in the environment are too long");
		return 0;
	}
	if (keys_from(c, w->creds_path, w->profile))
		return 0;
	if (profile_get(w, 0, "credential_process", &b)) {
		int rc = run_process(c, b.p, w->profile, e);
		if (rc == 0 && c->expires_ms != 0) {
			c->process = buf_detach(&b);
			c->profile = xstrdup(w->profile);
		}
		buf_free(&b);
		return rc;
	}
	buf_free(&b);
	if (keys_from(c, w->config_path, w->config_section) ||
	    (strcmp(w->profile, "default") == 0 &&
	    keys_from(c, w->config_path, "profile default")))
		return 0;
	return err_set(e, EV_NOPERM, "no AWS credentials: looked in AWS_ACCESS_KEY_ID and "
	    "AWS_SECRET_ACCESS_KEY (%s), profile '%s' of %s (%s), and its credential_process "
	    "and keys in %s (%s)", ak == NULL && sk == NULL ? "unset" : "one of them unset",
	    w->profile, w->creds_path, how(w->creds_path, w->profile), w->config_path,
	    how(w->config_path, w->config_section));
}

/* A setting as the CLI looks for it: the environment variable var, then
 * var2, then key in the profile (its value into *b); NULL: none. */
static const char *
setting(const struct where *w, const char *var, const char *var2, const char *key,
    struct buf *b)
{
	const char *v = env(var);

	if (v == NULL)
		v = env(var2);
	if (v == NULL && profile_get(w, 0, key, b) && b->n > 0)
		v = b->p;
	return v;
}

static int
find_region(struct aws_conf *c, const struct where *w, const char *uri_region,
    struct ev_err *e)
{
	struct buf b = { 0 };
	const char *r = setting(w, "AWS_REGION", "AWS_DEFAULT_REGION", "region", &b);

	if (r == NULL && uri_region != NULL && *uri_region != '\0')
		r = uri_region;
	if (r == NULL) {
		buf_free(&b);
		return err_set(e, EV_USAGE, "no AWS region: set AWS_REGION, or region in profile "
		    "'%s' of %s, or name one in the URI", w->profile, w->config_path);
	}
	if (strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r)) {
		buf_free(&b);
		return err_set(e, EV_USAGE, "AWS region '%s' is not a region name", r);
	}
	c->region = xstrdup(r);
	buf_free(&b);
	return 0;
}

static int
ignore_configured(void)
{
	const char *v = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	return v != NULL && strcasecmp(v, "true") == 0;
}

static int
find_endpoint(struct aws_conf *c, const struct where *w, const char *explicit,
    const char *uri_endpoint, struct ev_err *e)
{
	const char *ep = explicit;
	struct buf b = { 0 };

	if (ep == NULL && !ignore_configured())
		ep = setting(w, c->svc == AWS_SQS ? "AWS_ENDPOINT_URL_SQS" :
		    "AWS_ENDPOINT_URL_EVENTS", "AWS_ENDPOINT_URL", "endpoint_url", &b);
	if (ep == NULL && uri_endpoint != NULL && *uri_endpoint != '\0')
		ep = uri_endpoint;
	if (ep == NULL) {
		buf_printf(&b, "https://%s.%s.amazonaws.com", c->svc == AWS_SQS ? "sqs" : "events",
		    c->region);
		ep = b.p;
	}
	if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
		err_set(e, EV_USAGE, "endpoint '%s' is not an http:// or https:// URL", ep);
		buf_free(&b);
		return EV_USAGE;
	}
	/* A user:password in it would be sent instead of our signature, and
	 * printed in messages: refused, without echoing it. */
	const char *host = strstr(ep, "://") + 3;
	if (memchr(host, '@', strcspn(host, "/?#")) != NULL) {
		buf_free(&b);
		return err_set(e, EV_USAGE, "an endpoint URL with a user or password in it is "
		    "not used: give credentials as AWS_ACCESS_KEY_ID or a profile");
	}
	c->endpoint = xstrdup(ep);
	buf_free(&b);
	return 0;
}

int
aws_conf_load(enum aws_svc svc, const char *endpoint_url, const char *uri_region,
    const char *uri_endpoint, struct aws_conf **cp, struct ev_err *e)
{
	struct aws_conf *c = xcalloc(1, sizeof *c);
	struct where w = { 0 };
	struct buf sect = { 0 };
	int rc;

	c->svc = svc;
	pthread_mutex_init(&c->lock, NULL);
	w.profile = env("AWS_PROFILE") != NULL ? env("AWS_PROFILE") : "default";
	w.creds_path = home_path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
	w.config_path = home_path("AWS_CONFIG_FILE", "~/.aws/config");
	if (strcmp(w.profile, "default") == 0)
		buf_adds(&sect, "default");
	else
		buf_printf(&sect, "profile %s", w.profile);
	w.config_section = sect.p;
	if ((rc = find_region(c, &w, uri_region, e)) == 0 &&
	    (rc = find_endpoint(c, &w, endpoint_url, uri_endpoint, e)) == 0)
		rc = find_creds(c, &w, e);
	free(w.creds_path);
	free(w.config_path);
	buf_free(&sect);
	if (rc == 0)
		*cp = c;
	else
		aws_conf_free(c);
	return rc;
}

void
aws_conf_free(struct aws_conf *c)
{
	if (c == NULL)
		return;
	sec_free(c);
	for (size_t i = 0; i < c->nretired; i++) {
		explicit_bzero(c->retired[i], SEC_CAP);
		munmap(c->retired[i], SEC_CAP);
	}
	free(c->retired);
	free(c->process);
	free(c->profile);
	free(c->region);
	free(c->endpoint);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *
aws_conf_region(const struct aws_conf *c)
{
	return c->region;
}

const char *
aws_conf_endpoint(const struct aws_conf *c)
{
	return c->endpoint;
}

/* Fetches anew, into a new mapping; the old one is retired (another
 * thread's curl handle may be copying from it right now) or, on a
 * failure, kept in use. */
static int
refetch(struct aws_conf *c, struct ev_err *e)
{
	struct aws_conf old = *c;

	c->sec = NULL;
	c->akid = c->secret = c->token = NULL;
	c->expires_ms = 0;
	int rc = run_process(c, c->process, c->profile, e);
	if (rc != 0) {
		sec_free(c);
		c->sec = old.sec;
		c->seccap = old.seccap;
		c->secused = old.secused;
		c->akid = old.akid;
		c->secret = old.secret;
		c->token = old.token;
		c->expires_ms = old.expires_ms;
		return rc;
	}
	XGROW(&c->retired, &c->capretired, c->nretired + 1);
	c->retired[c->nretired++] = old.sec;
	__atomic_add_fetch(&c->gen, 1, __ATOMIC_RELEASE);
	return 0;
}

int
aws_conf_refresh(struct aws_conf *c, struct ev_err *e)
{
	int rc = 0;

	if (c->process == NULL)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (c->expires_ms - clock_now_ms() < REFRESH_MS)
		rc = refetch(c, e);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
