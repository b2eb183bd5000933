/* Fuzzes evkit-serve's EventBridge service (lib/serve/svc_events*)
 * without HTTP: the input is "Operation\nbody", run through
 * serve_local_call against rules files in a scratch $EVKIT_HOME.  Every
 * answer is a JSON object with a status EventBridge gives (200, 400,
 * 500); every error has a __type and a message; nothing crashes or leaks.
 * Inputs that could name a target outside the scratch home (exec:,
 * file:, log:, stdout:, http(s):, events:, a path) are passed over: a
 * PutEvents would deliver to them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "serve/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct serve *srv;

static void
start(void)
{
	static const struct serve_svc *const svcs[] = { &serve_events };
	struct serve_opts o = { .svcs = svcs, .nsvcs = 1 };
	struct buf out = { 0 };
	struct ev_err e;
	char home[64];
	static const char rule[] = "{\"Name\":\"r\",\"EventPattern\":\"{\\\"source\\\":[\\\"a\\\"]}\"}";
	static const char tgt[] = "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"q\","
	    "\"Arn\":\"arn:aws:sqs:us-east-1:000000000000:fq\"}]}";

	snprintf(home, sizeof home, "/tmp/fuzz-serve-events-%ld", (long)getpid());
	setenv("EVKIT_HOME", home, 1);
	serve_events_setup(NULL, NULL);
	if (serve_local_new(&o, &srv, &e) != 0)
		abort();
	serve_local_call(srv, "AWSEvents.PutRule", rule, sizeof rule - 1, &out);
	serve_local_call(srv, "AWSEvents.PutTargets", tgt, sizeof tgt - 1, &out);
	buf_free(&out);
}

/* Whether the input may name a target outside the scratch home. */
static int
unsafe(const uint8_t *data, size_t size)
{
	static const char *const bad[] = { "exec:", "file:", "log:", "stdout:", "http", "events:",
	    "/", "\\u", ".." };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (memmem(data, size, bad[i], strlen(bad[i])) != NULL)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char target[128];
	struct buf out = { 0 };
	struct json_err je;

	if (srv == NULL)
		start();
	if (nl == NULL || (size_t)(nl - (const char *)data) > 100 || unsafe(data, size))
		return 0;
	size_t tn = (size_t)(nl - (const char *)data);
	snprintf(target, sizeof target, "AWSEvents.%.*s", (int)tn, (const char *)data);
	if (strlen(target) != tn + 10)
		return 0;	/* a NUL in the operation: no header holds one */
	const char *body = nl + 1;
	size_t bn = size - tn - 1;
	int status = serve_local_call(srv, target, body, bn, &out);
	if (status != 200 && status != 400 && status != 500)
		abort();
	if (json_validate(out.p != NULL ? out.p : "", out.n, 0, &je) != '{')
		abort();
	if (status != 200 && (json_find_member(out.p, out.n, 0, "__type", 6) == (size_t)-1 ||
	    json_find_member(out.p, out.n, 0, "message", 7) == (size_t)-1))
		abort();
	buf_free(&out);
	return 0;
}
