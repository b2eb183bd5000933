/* Fuzzes evkit-serve's request handling (lib/serve, the SQS service)
 * without HTTP: the input is "Operation\nbody", run through
 * serve_local_call against queues in a scratch $EVKIT_HOME.  Every answer
 * is a JSON object with a status SQS gives (200, 400, 403, 413, 500,
 * 503); every error has a __type and a message; nothing crashes or
 * leaks. */
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
	static const struct serve_svc *const svcs[] = { &serve_sqs };
	struct serve_opts o = { .svcs = svcs, .nsvcs = 1 };
	struct buf out = { 0 };
	struct ev_err e;
	char home[64];

	snprintf(home, sizeof home, "/tmp/fuzz-serve-%ld", (long)getpid());
	setenv("EVKIT_HOME", home, 1);
	if (serve_local_new(&o, &srv, &e) != 0)
		abort();
	serve_local_call(srv, "AmazonSQS.CreateQueue", "{\"QueueName\":\"f\"}", 17, &out);
	serve_local_call(srv, "AmazonSQS.CreateQueue", "{\"QueueName\":\"f.fifo\"}", 22, &out);
	buf_free(&out);
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
	if (nl == NULL || (size_t)(nl - (const char *)data) > 100)
		return 0;
	size_t tn = (size_t)(nl - (const char *)data);
	snprintf(target, sizeof target, "AmazonSQS.%.*s", (int)tn, (const char *)data);
	if (strlen(target) != tn + 10)
		return 0;	/* a NUL in the operation: no header holds one */
	const char *body = nl + 1;
	size_t bn = size - tn - 1;
	int status = serve_local_call(srv, target, body, bn, &out);
	if (status != 200 && status != 400 && status != 403 && status != 413 && status != 500 &&
	    status != 503)
		abort();
	if (json_validate(out.p != NULL ? out.p : "", out.n, 0, &je) != '{')
		abort();
	if (status != 200 && (json_find_member(out.p, out.n, 0, "__type", 6) == (size_t)-1 ||
	    json_find_member(out.p, out.n, 0, "message", 7) == (size_t)-1))
		abort();
	buf_free(&out);
	return 0;
}
