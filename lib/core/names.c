#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "buf.h"
#include "msg.h"
#include "names.h"

int
name_is_path(const char *arg)
{
	return strchr(arg, '/') != NULL || arg[0] == '.';
}

const char *
name_check(const char *name, int allow_fifo)
{
	size_t n = strlen(name), base = n;

	if (allow_fifo && n > 5 && strcmp(name + n - 5, ".fifo") == 0)
		base = n - 5;
	if (n == 0)
		return "empty name";
	if (n > 80)
		return "longer than 80 characters";
	for (size_t i = 0; i < base; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return allow_fifo ?
			    "only A-Z, a-z, 0-9, '_' and '-' are allowed, and a '.fifo' suffix" :
			    "only A-Z, a-z, 0-9, '_' and '-' are allowed";
	}
	return NULL;
}

int
name_home(char **home, struct ev_err *e)
{
	const char *env = getenv("EVKIT_HOME");
	struct buf b = { 0 };

	if (env != NULL && *env != '\0') {
		buf_adds(&b, env);
	} else if ((env = getenv("XDG_DATA_HOME")) != NULL && *env == '/') {
		buf_printf(&b, "%s/evkit", env);
	} else {
		const char *h = getenv("HOME");
		if (h == NULL || *h == '\0')
			return err_set(e, EV_USAGE, "neither EVKIT_HOME nor HOME is set");
		buf_printf(&b, "%s/.local/share/evkit", h);
	}
	*home = buf_detach(&b);
	return 0;
}

/* The schemes of the remote backends (SQS, NATS, EventBridge). */
static int
known_scheme(const char *s, size_t n)
{
	static const char *const known[] = { "sqs", "http", "https", "nats", "events" };

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strlen(known[i]) == n && strncmp(s, known[i], n) == 0)
			return 1;
	return 0;
}

int
name_resolve(const char *arg, const char *kind, const char *suffix, int allow_fifo,
    char **path, struct ev_err *e)
{
	char *home;

	size_t scheme = strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
	/* A URI of a scheme no backend takes: a typo, not a directory
	 * named "htps:" to be made.  The backends' own are passed on. */
	if (scheme > 0 && arg[0] != '.' && strncmp(arg + scheme, "://", 3) == 0 &&
	    !known_scheme(arg, scheme))
		return err_set(e, EV_USAGE, "'%s': unknown scheme '%.*s://' (write ./%s for a path)",
		    arg, (int)scheme, arg, arg);
	if (name_is_path(arg)) {
		*path = xstrdup(arg);
		return 0;
	}
	const char *why = name_check(arg, allow_fifo);
	if (why != NULL)
		return err_set(e, EV_USAGE, "invalid %s name '%s': %s", kind, arg, why);
	int rc = name_home(&home, e);
	if (rc != 0)
		return rc;
	struct buf b = { 0 };
	buf_printf(&b, "%s/%ss/%s%s", home, kind, arg, suffix);
	free(home);
	*path = buf_detach(&b);
	return 0;
}

int
name_mkdirs(const char *dir)
{
	char *p = strdup(dir);
	struct stat st;

	if (p == NULL)
		return -1;
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			errno = e;
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	int r = stat(p, &st);
	if (r == 0 && !S_ISDIR(st.st_mode)) {
		r = -1;
		errno = ENOTDIR;
	}
	free(p);
	return r;
}

int
name_mkparent(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return 0;
	char *dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	int r = name_mkdirs(dir);
	int e = errno;
	free(dir);
	errno = e;
	return r;
}
