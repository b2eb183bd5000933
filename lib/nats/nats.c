/* nats — URIs, the connection and the error mapping (nats.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h"
#include "core/msg.h"
#include "nats.h"
#include "nats_int.h"

int
nats_is_uri(const char *s)
{
	return strncmp(s, "nats://", 7) == 0;
}

static int
hexval(int c)
{
	return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* Percent-decodes s[0..n) into a new string; NULL if an escape is bad. */
static char *
decode(const char *s, size_t n)
{
	char *out = xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 ||
		    hexval((unsigned char)s[i + 2]) < 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
		i += 2;
	}
	*o = '\0';
	return out;
}

/* HOST:PORT, HOST a name, an IPv4 address or [IPv6]; PORT 1-65535. */
static int
good_hostport(const char *s, size_t n)
{
	const char *colon = NULL;

	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (colon == NULL || colon == s || colon + 1 == s + n)
		return 0;
	long port = 0;
	for (const char *p = colon + 1; p < s + n; p++) {
		if (!isdigit((unsigned char)*p) || (port = port * 10 + (*p - '0')) > 65535)
			return 0;
	}
	if (port < 1)
		return 0;
	for (const char *p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-_[]:", *p) == NULL)
			return 0;
	return 1;
}

static int
parse_servers(const char *s, size_t n, struct nats_uri *u, const char *uri, struct ev_err *e)
{
	const char *p = s, *end = s + n;

	while (p <= end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((c != NULL ? c : end) - p);
		if (!good_hostport(p, len))
			return err_set(e, EV_USAGE, "'%s': '%.*s' is not HOST:PORT", uri, (int)len, p);
		u->servers = xreallocarray(u->servers, (size_t)u->nservers + 1, sizeof *u->servers);
		char *srv = xmalloc(len + 8);
		snprintf(srv, len + 8, "nats://%.*s", (int)len, p);
		u->servers[u->nservers++] = srv;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return 0;
}

static int
parse_query(const char *q, struct nats_uri *u, const char *uri, struct ev_err *e)
{
	if (strncmp(q, "replicas=", 9) != 0)
		return err_set(e, EV_USAGE, "'%s': unknown parameter '%s' (only replicas=N)", uri, q);
	char *endp;
	long r = strtol(q + 9, &endp, 10);
	if (*endp != '\0' || r < 1 || r > 5 || endp == q + 9)
		return err_set(e, EV_USAGE, "'%s': replicas must be 1 to 5", uri);
	u->replicas = (int)r;
	return 0;
}

/* The authority part [USER:PASS@]SERVERS into u. */
static int
parse_authority(const char *a, size_t n, struct nats_uri *u, const char *uri, struct ev_err *e)
{
	const char *at = NULL;

	for (size_t i = n; i > 0; i--)
		if (a[i - 1] == '@') {
			at = a + i - 1;
			break;
		}
	if (at != NULL) {
		const char *colon = memchr(a, ':', (size_t)(at - a));
		if (colon == NULL || colon == a)
			return err_set(e, EV_USAGE, "'%s': credentials must be USER:PASS@", u->shown);
		u->user = decode(a, (size_t)(colon - a));
		u->pass = decode(colon + 1, (size_t)(at - colon - 1));
		if (u->user == NULL || u->pass == NULL)
			return err_set(e, EV_USAGE, "'%s': a bad %%-escape in the credentials", u->shown);
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	if (n == 0)
		return err_set(e, EV_USAGE, "'%s': no HOST:PORT", u->shown);
	(void)uri;
	return parse_servers(a, n, u, u->shown, e);
}

/* The URI with any password replaced by "***", for messages. */
static char *
hide_password(const char *s)
{
	const char *auth = s + 7, *slash = strchr(auth, '/');
	const char *end = slash != NULL ? slash : auth + strlen(auth);
	const char *at = NULL;

	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return xstrdup(s);
	/* USER:***@, or ***@ for anything else before the @ (a token). */
	const char *colon = memchr(auth, ':', (size_t)(at - auth));
	const char *keep = colon != NULL ? colon + 1 : auth;
	size_t n = strlen(s) + 4;
	char *out = xmalloc(n);
	snprintf(out, n, "%.*s***%s", (int)(keep - s), s, at);
	return out;
}

int
nats_uri_parse(const char *s, int need_name, struct nats_uri *u, struct ev_err *e)
{
	memset(u, 0, sizeof *u);
	if (!nats_is_uri(s))
		return err_set(e, EV_USAGE, "'%s' is not a nats:// URI", s);
	u->shown = hide_password(s);
	const char *auth = s + 7, *slash = strchr(auth, '/');
	const char *end = slash != NULL ? slash : auth + strlen(auth);
	int rc = parse_authority(auth, (size_t)(end - auth), u, s, e);
	if (rc == 0 && slash != NULL) {
		const char *q = strchr(slash + 1, '?');
		size_t nlen = q != NULL ? (size_t)(q - slash - 1) : strlen(slash + 1);
		u->name = xstrndup(slash + 1, nlen);
		if (strspn(u->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_-.") != nlen || nlen > 80)
			rc = err_set(e, EV_USAGE, "'%s': '%s' is not a name (1-80 of A-Za-z0-9_- "
			    "and .fifo)", u->shown, u->name);
		else if (q != NULL)
			rc = parse_query(q + 1, u, u->shown, e);
	}
	if (rc == 0 && u->name == NULL)
		u->name = xstrdup("");
	if (rc == 0 && need_name && u->name[0] == '\0')
		rc = err_set(e, EV_USAGE, "'%s': no NAME after the servers (nats://HOST:PORT/NAME)",
		    u->shown);
	if (rc != 0)
		nats_uri_free(u);
	return rc;
}

void
nats_uri_free(struct nats_uri *u)
{
	for (int i = 0; i < u->nservers; i++)
		free(u->servers[i]);
	free(u->servers);
	free(u->user);
	if (u->pass != NULL)
		explicit_bzero(u->pass, strlen(u->pass));
	free(u->pass);
	free(u->name);
	free(u->shown);
	memset(u, 0, sizeof *u);
}

static int
status_code(natsStatus s, jsErrCode jerr)
{
	if (jerr == JSStreamNotFoundErr || jerr == JSConsumerNotFoundErr)
		return EV_NOINPUT;
	if (jerr == JSStreamMessageExceedsMaximumErr)
		return EV_DATAERR;
	switch (s) {
	case NATS_CONNECTION_AUTH_FAILED:
	case NATS_NOT_PERMITTED:
		return EV_NOPERM;
	case NATS_TIMEOUT:
	case NATS_NO_RESPONDERS:	/* JetStream between leaders */
		return EV_TEMPFAIL;
	case NATS_MAX_PAYLOAD:
		return EV_DATAERR;
	case NATS_NOT_FOUND:
		return EV_NOINPUT;
	case NATS_INVALID_ARG:
	case NATS_INVALID_SUBJECT:
		return EV_USAGE;
	default:
		return EV_UNAVAILABLE;
	}
}

int
nats_fail(struct ev_err *e, natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	const char *detail = nats_GetLastError(NULL), *text = natsStatus_GetText(s);
	int code = status_code(s, jerr);
	/* cnats's detail starts "(file.c:123): ": the user needs what follows. */
	if (detail != NULL && detail[0] == '(' && strstr(detail, "): ") != NULL)
		detail = strstr(detail, "): ") + 3;
	if (detail == NULL || *detail == '\0' || strstr(detail, text) != NULL)
		return err_set(e, code, "%s: %s", what, detail != NULL && *detail ? detail : text);
	return err_set(e, code, "%s: %s (%s)", what, text, detail);
}

/* Credentials: the URI's, else the environment's. */
static natsStatus
set_auth(natsOptions *o, const struct nats_uri *u)
{
	const char *user = getenv("NATS_USER"), *pass = getenv("NATS_PASSWORD");
	const char *token = getenv("NATS_TOKEN"), *creds = getenv("NATS_CREDS");

	if (u->user != NULL)
		return natsOptions_SetUserInfo(o, u->user, u->pass);
	if (user != NULL && *user != '\0')
		return natsOptions_SetUserInfo(o, user, pass != NULL ? pass : "");
	if (token != NULL && *token != '\0')
		return natsOptions_SetToken(o, token);
	if (creds != NULL && *creds != '\0')
		return natsOptions_SetUserCredentialsFromFiles(o, creds, NULL);
	return NATS_OK;
}

static natsStatus
set_options(natsOptions *o, const struct nats_uri *u, struct nats_conn *c)
{
	natsStatus s = natsOptions_SetServers(o, (const char **)u->servers, u->nservers);

	/* A down server fails the connect at once (69); an established
	 * connection rides out a server's death by reconnecting. */
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(o, false, NULL, NULL);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, 2000);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, 60);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 250);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(o, 64 * 1024 * 1024);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, msg_prog != NULL ? msg_prog : "evkit");
	if (s == NATS_OK)
		s = set_auth(o, u);
	(void)c;
	return s;
}

int
nats_connect(const struct nats_uri *u, struct nats_conn **cp, struct ev_err *e)
{
	struct nats_conn *c = xcalloc(1, sizeof *c);
	natsOptions *o = NULL;
	jsOptions jo;
	natsStatus s;

	*cp = NULL;
	c->shown = xstrdup(u->shown);
	char *q = strrchr(c->shown, '/');
	if (q != NULL && q > c->shown + 7)
		*q = '\0';
	pthread_mutex_init(&c->mu, NULL);
	c->slots = xcalloc(NATS_PUB_PENDING, sizeof *c->slots);
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = set_options(o, u, c);
	if (s == NATS_OK)
		s = natsConnection_Connect(&c->nc, o);
	natsOptions_Destroy(o);
	if (s != NATS_OK) {
		int rc = nats_fail(e, s, 0, "%s: cannot connect", c->shown);
		nats_close(c);
		return rc;
	}
	jsOptions_Init(&jo);
	jo.Wait = 10000;
	jo.PublishAsync.MaxPending = NATS_PUB_PENDING;
	jo.PublishAsync.AckHandler = natsp_ack_handler;
	jo.PublishAsync.AckHandlerClosure = c;
	s = natsConnection_JetStream(&c->js, c->nc, &jo);
	if (s != NATS_OK) {
		int rc = nats_fail(e, s, 0, "%s: JetStream", c->shown);
		nats_close(c);
		return rc;
	}
	*cp = c;
	return 0;
}

void
nats_close(struct nats_conn *c)
{
	if (c == NULL)
		return;
	nats_pub_drop(c);
	jsCtx_Destroy(c->js);
	natsConnection_Destroy(c->nc);
	pthread_mutex_destroy(&c->mu);
	free(c->slots);
	free(c->shown);
	free(c);
}

natsConnection *
nats_nc(struct nats_conn *c)
{
	return c->nc;
}

jsCtx *
nats_js(struct nats_conn *c)
{
	return c->js;
}

const char *
nats_shown(const struct nats_conn *c)
{
	return c->shown;
}
