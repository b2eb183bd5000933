/* proc_env — the environment handed to handlers and targets: an
 * allow-list of ours (a handler should not see every secret of the
 * shell that started the pipeline), then what the command sets.  See
 * proc.h. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "proc.h"

extern char **environ;

/* What a process needs to run at all and to speak the user's language. */
static const char *const allowed[] = {
	"PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER", "LOGNAME", "SHELL", "TERM",
	/* where evkit's own named queues and logs are: a handler that runs
	 * evq-send or evlog-append finds what its caller does */
	"EVKIT_HOME", "XDG_DATA_HOME", NULL,
};

static int
is_allowed(const char *kv)
{
	size_t k = strcspn(kv, "=");

	if (strncmp(kv, "LC_", 3) == 0)
		return 1;
	for (int i = 0; allowed[i] != NULL; i++)
		if (strlen(allowed[i]) == k && strncmp(kv, allowed[i], k) == 0)
			return 1;
	return 0;
}

/* The index of NAME (k bytes) in pe, or pe->n. */
static size_t
find(const struct proc_env *pe, const char *name, size_t k)
{
	size_t i;

	for (i = 0; i < pe->n; i++)
		if (strncmp(pe->v[i], name, k) == 0 && pe->v[i][k] == '=')
			break;
	return i;
}

/* Puts "NAME=VALUE" (taken) in place of NAME's entry, or at the end. */
static void
put(struct proc_env *pe, char *kv)
{
	size_t i = find(pe, kv, strcspn(kv, "="));

	if (i < pe->n) {
		free(pe->v[i]);
		pe->v[i] = kv;
		return;
	}
	XGROW(&pe->v, &pe->cap, pe->n + 2);
	pe->v[pe->n++] = kv;
	pe->v[pe->n] = NULL;
}

void
proc_env_init(struct proc_env *pe, int inherit)
{
	memset(pe, 0, sizeof *pe);
	XGROW(&pe->v, &pe->cap, 1);
	pe->v[0] = NULL;
	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (strchr(*e, '=') != NULL && (inherit || is_allowed(*e)))
			put(pe, xstrdup(*e));
}

void
proc_env_set(struct proc_env *pe, const char *name, const char *value)
{
	size_t k = strlen(name), n = strlen(value);
	char *kv = xmalloc(k + n + 2);

	memcpy(kv, name, k);
	kv[k] = '=';
	memcpy(kv + k + 1, value, n + 1);
	put(pe, kv);
}

void
proc_env_put(struct proc_env *pe, const char *spec)
{
	const char *v;

	if (strchr(spec, '=') != NULL)
		put(pe, xstrdup(spec));
	else if ((v = getenv(spec)) != NULL)
		proc_env_set(pe, spec, v);
}

const char *
proc_env_get(const struct proc_env *pe, const char *name)
{
	size_t k = strlen(name), i = find(pe, name, k);

	return i < pe->n ? pe->v[i] + k + 1 : NULL;
}

void
proc_env_free(struct proc_env *pe)
{
	for (size_t i = 0; i < pe->n; i++)
		free(pe->v[i]);
	free(pe->v);
	memset(pe, 0, sizeof *pe);
}
