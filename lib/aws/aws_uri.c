/* aws_uri — queue URIs: sqs://REGION/ACCOUNT/NAME and
 * http(s)://HOST[:PORT]/ACCOUNT/NAME (SPEC 6).  Anything else is not
 * ours and is refused, never read as a local path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/msg.h"

#include "aws_int.h"

static const char lower_digits[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
static const char name_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

int
aws_is_uri(const char *arg)
{
	return strncmp(arg, "sqs://", 6) == 0 || strncmp(arg, "http://", 7) == 0 ||
	    strncmp(arg, "https://", 8) == 0;
}

/* A queue name: 1-80 of [A-Za-z0-9_-], a FIFO one ending in .fifo. */
static int
good_name(const char *s, size_t n)
{
	size_t core = n >= 5 && memcmp(s + n - 5, ".fifo", 5) == 0 ? n - 5 : n;

	return n >= 1 && n <= 80 && core >= 1 && strspn(s, name_chars) >= core;
}

/* The region in an AWS-shaped host: sqs.REGION.amazonaws.com[.cn],
 * sqs.REGION.localhost (fauxqs), REGION.queue.amazonaws.com. */
static char *
host_region(const char *host, size_t n)
{
	const char *dot;

	if (n > 4 && memcmp(host, "sqs.", 4) == 0 && (dot = memchr(host + 4, '.', n - 4)) != NULL)
		return xstrndup(host + 4, (size_t)(dot - host - 4));
	if ((dot = memchr(host, '.', n)) != NULL && (size_t)(host + n - dot) > 6 &&
	    memcmp(dot, ".queue.", 7) == 0)
		return xstrndup(host, (size_t)(dot - host));
	return xstrdup("");
}

/* "ACCOUNT/NAME" or "ACCOUNT[/]" after the authority. */
static int
path_parts(const char *p, struct aws_uri *u, const char *uri, struct ev_err *e)
{
	const char *slash = strchr(p, '/');
	size_t an = slash != NULL ? (size_t)(slash - p) : strlen(p);
	const char *name = slash != NULL ? slash + 1 : "";

	if (an == 0 || an > 64 || strspn(p, name_chars) < an)
		return err_set(e, EV_USAGE, "queue URI '%s': no account in its path "
		    "(want .../ACCOUNT/NAME)", uri);
	if (*name != '\0' && !good_name(name, strlen(name)))
		return err_set(e, EV_USAGE, "queue URI '%s': '%s' is not a queue name (1-80 of "
		    "A-Z a-z 0-9 _ -, FIFO ending in .fifo)", uri, name);
	u->account = xstrndup(p, an);
	u->name = xstrdup(name);
	return 0;
}

static int
parse_sqs(const char *uri, struct aws_uri *u, struct ev_err *e)
{
	const char *r = uri + 6, *slash = strchr(r, '/');
	size_t rn = slash != NULL ? (size_t)(slash - r) : 0;

	if (rn == 0 || strspn(r, lower_digits) < rn)
		return err_set(e, EV_USAGE, "queue URI '%s': want sqs://REGION/ACCOUNT/NAME", uri);
	u->region = xstrndup(r, rn);
	int rc = path_parts(slash + 1, u, uri, e);
	if (rc != 0)
		return rc;
	size_t cap = strlen(u->region) + 64;
	u->endpoint = xmalloc(cap);
	snprintf(u->endpoint, cap, "https://sqs.%s.amazonaws.com", u->region);
	u->queue_url = xstrdup("");
	return 0;
}

static int
parse_http(const char *uri, struct aws_uri *u, struct ev_err *e)
{
	const char *h = strstr(uri, "://") + 3;
	size_t hn = strcspn(h, "/?#");

	if (memchr(h, '@', hn) != NULL)	/* not echoed: it may hold a password */
		return err_set(e, EV_USAGE, "a queue URL with a user or password in it is not "
		    "used: give credentials as AWS_ACCESS_KEY_ID or a profile");
	if (hn == 0 || strpbrk(uri, "?#") != NULL)
		return err_set(e, EV_USAGE, "queue URL '%s': want http(s)://HOST[:PORT]/ACCOUNT/NAME "
		    "(no query or fragment)", uri);
	if (h[hn] != '/')
		return err_set(e, EV_USAGE, "queue URL '%s': no account in its path "
		    "(want .../ACCOUNT/NAME)", uri);
	int rc = path_parts(h + hn + 1, u, uri, e);
	if (rc != 0)
		return rc;
	u->endpoint = xstrndup(uri, (size_t)(h + hn - uri));
	const char *colon = memchr(h, ':', hn);
	u->region = host_region(h, colon != NULL ? (size_t)(colon - h) : hn);
	u->queue_url = xstrdup(*u->name != '\0' ? uri : "");
	return 0;
}

int
aws_uri_parse(const char *uri, struct aws_uri *u, struct ev_err *e)
{
	int rc;

	memset(u, 0, sizeof *u);
	if (strncmp(uri, "sqs://", 6) == 0)
		rc = parse_sqs(uri, u, e);
	else if (aws_is_uri(uri))
		rc = parse_http(uri, u, e);
	else
		rc = err_set(e, EV_USAGE, "'%s' is not a queue URI (sqs://, http://, https://)", uri);
	if (rc != 0)
		aws_uri_free(u);
	return rc;
}

void
aws_uri_free(struct aws_uri *u)
{
	free(u->endpoint);
	free(u->region);
	free(u->account);
	free(u->name);
	free(u->queue_url);
	memset(u, 0, sizeof *u);
}
