/* Unit tests of the aws module: configuration as the AWS CLI finds it
 * (temporary HOME and files, credential_process), URIs, error mapping,
 * the retry schedule with an injected random source, MD5OfMessage-
 * Attributes, response parsing; then the SQS operations against a fauxqs
 * started by tests/lib/aws-unit.sh (skipped, saying so, without node). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/aws.h"
#include "aws/aws_int.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/msg.h"
#include "core/proc.h"
#include "core/sig.h"
#include "core/words.h"
#include "queue/queue.h"
#include "unit.h"

static char home[64];

/* A handle the rest of a test needs: without it, say why and stop. */
#define OPENED(call) do { \
	int ok_ = (call) == 0; \
	CHECK(ok_ && #call); \
	if (!ok_) { \
		printf("# %s\n", e.msg); \
		return; \
	} \
} while (0)

static void
put_file(const char *name, const char *text)
{
	char path[256];

	snprintf(path, sizeof path, "%s/.aws/%s", home, name);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static void
clear_env(void)
{
	static const char *const vars[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_REGION",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS",
		"AWS_ENDPOINT_URL_EVENTS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_MAX_ATTEMPTS", "EVKIT_AWS_BACKOFF_MS", NULL
	};
	for (const char *const *v = vars; *v != NULL; v++)
		unsetenv(*v);
	setenv("HOME", home, 1);
}

static void
test_uri(void)
{
	struct aws_uri u;
	struct ev_err e;

	CHECK(aws_is_uri("sqs://r/1/q") && aws_is_uri("https://x/1/q") && !aws_is_uri("jobs") &&
	    !aws_is_uri("./sqs:/x"));
	CHECK(aws_uri_parse("sqs://eu-west-1/123456789012/jobs", &u, &e) == 0);
	CHECK_STR(u.endpoint, "https://sqs.eu-west-1.amazonaws.com");
	CHECK_STR(u.region, "eu-west-1");
	CHECK_STR(u.account, "123456789012");
	CHECK_STR(u.name, "jobs");
	CHECK_STR(u.queue_url, "");
	aws_uri_free(&u);
	CHECK(aws_uri_parse("http://sqs.us-east-1.localhost:4566/000000000000/q.fifo", &u, &e) == 0);
	CHECK_STR(u.endpoint, "http://sqs.us-east-1.localhost:4566");
	CHECK_STR(u.region, "us-east-1");
	CHECK_STR(u.name, "q.fifo");
	CHECK_STR(u.queue_url, "http://sqs.us-east-1.localhost:4566/000000000000/q.fifo");
	aws_uri_free(&u);
	CHECK(aws_uri_parse("https://127.0.0.1:9/1/q", &u, &e) == 0);
	CHECK_STR(u.region, "");
	aws_uri_free(&u);
	CHECK(aws_uri_parse("sqs://us-east-1/1/", &u, &e) == 0);
	CHECK_STR(u.name, "");
	aws_uri_free(&u);
	CHECK(aws_uri_parse("jobs", &u, &e) == EV_USAGE);
	CHECK_STR(e.msg, "'jobs' is not a queue URI (sqs://, http://, https://)");
	CHECK(aws_uri_parse("sqs://US/1/q", &u, &e) == EV_USAGE);
	CHECK(aws_uri_parse("sqs://us-east-1", &u, &e) == EV_USAGE);
	CHECK(aws_uri_parse("https://user:pw@h/1/q", &u, &e) == EV_USAGE);
	CHECK(strstr(e.msg, "pw") == NULL);
	CHECK(aws_uri_parse("https://h/1/q?x=1", &u, &e) == EV_USAGE);
	CHECK(aws_uri_parse("https://h", &u, &e) == EV_USAGE);
	CHECK(aws_uri_parse("https://h/1/bad.name", &u, &e) == EV_USAGE);
	CHECK(aws_uri_parse("https://h/1/a/b", &u, &e) == EV_USAGE);
	CHECK(aws_uri_parse("sqs://us-east-1/1/.fifo", &u, &e) == EV_USAGE);
}

static void
test_words(void)
{
	const char *why = NULL;
	char **v = words_split("a 'b c'  \"d \\\"e\\\"\" f\\ g 'x'\"y\" '' z\\", &why);

	CHECK(v != NULL);
	CHECK_STR(v[0], "a");
	CHECK_STR(v[1], "b c");
	CHECK_STR(v[2], "d \"e\"");
	CHECK_STR(v[3], "f g");
	CHECK_STR(v[4], "xy");
	CHECK_STR(v[5], "");
	CHECK_STR(v[6], "z\\");
	CHECK(v[7] == NULL);
	words_free(v);
	CHECK(words_split("a 'b", &why) == NULL && strcmp(why, "unbalanced quote in the command") == 0);
	CHECK(words_split("a \"b", &why) == NULL);
	CHECK(words_split("   ", &why) == NULL && strcmp(why, "no command") == 0);
}

/* Loads a configuration with the given fallbacks; the status. */
static int
load(enum aws_svc svc, const char *explicit, const char *region, const char *ep,
    struct aws_conf **c, struct ev_err *e)
{
	*c = NULL;
	return aws_conf_load(svc, explicit, region, ep, c, e);
}

static void
test_conf_env_files(void)
{
	struct aws_conf *c;
	struct ev_err e;

	clear_env();
	put_file("credentials", "# comment\n[default]\naws_access_key_id = AKFILE\n"
	    "aws_secret_access_key=SECRETFILE\n\n[p2]\naws_access_key_id = AKP2\n"
	    "aws_secret_access_key = SP2\naws_session_token = TOKP2\n");
	put_file("config", "[default]\nregion = eu-central-1\ns3 =\n  region = nope\n"
	    "[profile p2]\nregion=ap-south-1\nendpoint_url = http://127.0.0.1:1\n");
	CHECK(load(AWS_SQS, NULL, "us-west-2", NULL, &c, &e) == 0);
	CHECK_STR(c->akid, "AKFILE");
	CHECK_STR(c->secret, "SECRETFILE");
	CHECK(c->token == NULL);
	CHECK_STR(aws_conf_region(c), "eu-central-1");
	CHECK_STR(aws_conf_endpoint(c), "https://sqs.eu-central-1.amazonaws.com");
	aws_conf_free(c);
	setenv("AWS_PROFILE", "p2", 1);
	CHECK(load(AWS_SQS, NULL, NULL, "http://h:1", &c, &e) == 0);
	CHECK_STR(c->akid, "AKP2");
	CHECK_STR(c->token, "TOKP2");
	CHECK_STR(aws_conf_region(c), "ap-south-1");
	CHECK_STR(aws_conf_endpoint(c), "http://127.0.0.1:1");
	aws_conf_free(c);
	setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SKENV", 1);
	setenv("AWS_SESSION_TOKEN", "TKENV", 1);
	setenv("AWS_REGION", "us-east-2", 1);
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	CHECK(load(AWS_SQS, NULL, "eu-west-1", NULL, &c, &e) == 0);
	CHECK_STR(c->akid, "AKENV");
	CHECK_STR(c->secret, "SKENV");
	CHECK_STR(c->token, "TKENV");
	CHECK_STR(aws_conf_region(c), "us-east-2");
	aws_conf_free(c);
	unsetenv("AWS_REGION");
	CHECK(load(AWS_SQS, NULL, "eu-west-1", NULL, &c, &e) == 0);
	CHECK_STR(aws_conf_region(c), "us-west-1");
	aws_conf_free(c);
}

static void
test_conf_region_endpoint(void)
{
	struct aws_conf *c;
	struct ev_err e;

	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AK", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SK", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_USAGE);
	CHECK(strncmp(e.msg, "no AWS region", 13) == 0);
	CHECK(load(AWS_SQS, NULL, "sa-east-1", "http://u:2", &c, &e) == 0);
	CHECK_STR(aws_conf_region(c), "sa-east-1");
	CHECK_STR(aws_conf_endpoint(c), "http://u:2");
	aws_conf_free(c);
	setenv("AWS_ENDPOINT_URL", "http://all:3", 1);
	CHECK(load(AWS_SQS, NULL, "sa-east-1", "http://u:2", &c, &e) == 0);
	CHECK_STR(aws_conf_endpoint(c), "http://all:3");
	aws_conf_free(c);
	setenv("AWS_ENDPOINT_URL_SQS", "http://sqs:4", 1);
	setenv("AWS_ENDPOINT_URL_EVENTS", "http://events:5", 1);
	CHECK(load(AWS_SQS, NULL, "sa-east-1", "http://u:2", &c, &e) == 0);
	CHECK_STR(aws_conf_endpoint(c), "http://sqs:4");
	aws_conf_free(c);
	CHECK(load(AWS_EVENTS, NULL, "sa-east-1", NULL, &c, &e) == 0);
	CHECK_STR(aws_conf_endpoint(c), "http://events:5");
	aws_conf_free(c);
	CHECK(load(AWS_SQS, "http://flag:6", "sa-east-1", "http://u:2", &c, &e) == 0);
	CHECK_STR(aws_conf_endpoint(c), "http://flag:6");
	aws_conf_free(c);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	CHECK(load(AWS_SQS, NULL, "sa-east-1", "http://u:2", &c, &e) == 0);
	CHECK_STR(aws_conf_endpoint(c), "http://u:2");
	aws_conf_free(c);
	unsetenv("AWS_ENDPOINT_URL_EVENTS");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	unsetenv("AWS_ENDPOINT_URL");
	CHECK(load(AWS_EVENTS, NULL, "sa-east-1", NULL, &c, &e) == 0);
	CHECK_STR(aws_conf_endpoint(c), "https://events.sa-east-1.amazonaws.com");
	aws_conf_free(c);
	CHECK(load(AWS_SQS, "ftp://x", "sa-east-1", NULL, &c, &e) == EV_USAGE);
	CHECK(load(AWS_SQS, "http://u:pw@x:1", "sa-east-1", NULL, &c, &e) == EV_USAGE);
	CHECK(strstr(e.msg, "pw") == NULL);
	CHECK(load(AWS_SQS, "http://x:1/p@q", "sa-east-1", NULL, &c, &e) == 0);
	aws_conf_free(c);
}

static void
test_conf_missing(void)
{
	struct aws_conf *c;
	struct ev_err e;
	char want[512];

	clear_env();
	setenv("AWS_REGION", "us-east-1", 1);
	put_file("credentials", "[other]\naws_access_key_id = X\n");
	put_file("config", "[default]\nregion = us-east-1\n");
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_NOPERM && c == NULL);
	snprintf(want, sizeof want, "no AWS credentials: looked in AWS_ACCESS_KEY_ID and "
	    "AWS_SECRET_ACCESS_KEY (unset), profile 'default' of %s/.aws/credentials (no such "
	    "profile), and its credential_process and keys in %s/.aws/config (no keys)", home, home);
	CHECK_STR(e.msg, want);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/creds", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKONLY", 1);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_NOPERM);
	CHECK(strstr(e.msg, "(one of them unset)") != NULL);
	CHECK(strstr(e.msg, "/nonexistent/creds (no such file)") != NULL);
}

static void
test_conf_process(void)
{
	struct aws_conf *c;
	struct ev_err e;
	char cfg[1024];

	clear_env();
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_PROFILE", "proc", 1);
	put_file("credentials", "");
	/* Quoted words reach the program as the AWS CLI would split them;
	 * its stdin is not ours (/dev/null: the read sees end of file). */
	snprintf(cfg, sizeof cfg, "[profile proc]\ncredential_process = sh -c 'read x; "
	    "printf \"{\\\"Version\\\": 1, \\\"AccessKeyId\\\": \\\"%%s\\\", "
	    "\\\"SecretAccessKey\\\": \\\"SPROC\\\", \\\"SessionToken\\\": \\\"TPROC\\\", "
	    "\\\"Expiration\\\": \\\"2999-01-01T00:00:00Z\\\"}\" \"$1\"' sh \"AK PROC\"\n"
	    "[profile fail]\ncredential_process = sh -c 'echo {\\\"SecretAccessKey\\\":"
	    "\\\"LEAKME\\\"}; exit 3'\n"
	    "[profile old]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"A\","
	    "\"SecretAccessKey\":\"S\",\"Expiration\":\"2001-01-01T00:00:00Z\"}'\n"
	    "[profile v2]\ncredential_process = printf '{\"Version\":2}'\n"
	    "[profile nosuch]\ncredential_process = /nonexistent/helper --x\n");
	put_file("config", cfg);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == 0);
	if (c != NULL) {
		CHECK_STR(c->akid, "AK PROC");
		CHECK_STR(c->secret, "SPROC");
		CHECK_STR(c->token, "TPROC");
		CHECK(c->expires_ms > clock_now_ms());
		aws_conf_free(c);
	}
	setenv("AWS_PROFILE", "fail", 1);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_NOPERM);
	CHECK_STR(e.msg, "credential_process of profile 'fail': 'sh' exited 3");
	CHECK(strstr(e.msg, "LEAKME") == NULL);
	setenv("AWS_PROFILE", "old", 1);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_NOPERM);
	CHECK(strstr(e.msg, "expired") != NULL);
	setenv("AWS_PROFILE", "v2", 1);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_NOPERM);
	CHECK(strstr(e.msg, "Version 1") != NULL);
	setenv("AWS_PROFILE", "nosuch", 1);
	CHECK(load(AWS_SQS, NULL, NULL, NULL, &c, &e) == EV_NOPERM);
	/* "cannot run" or, where the spawn cannot tell (TSan's fork), the
	 * shell's 127 after it. */
	CHECK(strstr(e.msg, "'/nonexistent/helper'") != NULL);
	printf("# %s\n", e.msg);
}

static void
test_errors(void)
{
	struct aws_error ae;
	struct ev_err e;
	const char *nq = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
	    "\"message\":\"The specified queue does not exist.\"}";

	aws_err_parse(400, "AWS.SimpleQueueService.NonExistentQueue;Sender", nq, strlen(nq), &ae);
	CHECK_STR(ae.code, "QueueDoesNotExist");
	CHECK_STR(ae.query, "AWS.SimpleQueueService.NonExistentQueue");
	CHECK(ae.sender == 1);
	CHECK(aws_err_set(&e, "SendMessageBatch", &ae) == EV_NOINPUT);
	CHECK_STR(e.msg, "SendMessageBatch: QueueDoesNotExist: The specified queue does not exist.");
	aws_err_parse(400, "AWS.SimpleQueueService.NonExistentQueue;Sender", "", 0, &ae);
	CHECK(aws_err_status(&ae) == EV_NOINPUT);
	const char *th = "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}";
	aws_err_parse(400, NULL, th, strlen(th), &ae);
	CHECK(aws_err_kind(&ae) == AWS_R_THROTTLE && aws_err_status(&ae) == EV_TEMPFAIL);
	CHECK_STR(ae.msg, "Rate exceeded");
	aws_err_parse(503, NULL, "<html>", 6, &ae);
	CHECK_STR(ae.code, "HTTP 503");
	CHECK(aws_err_kind(&ae) == AWS_R_TRANSIENT && aws_err_status(&ae) == EV_UNAVAILABLE);
	aws_err_parse(429, NULL, "", 0, &ae);
	CHECK(aws_err_kind(&ae) == AWS_R_THROTTLE);
	static const char *const auth[] = { "UnrecognizedClientException", "InvalidClientTokenId",
		"InvalidSignatureException", "SignatureDoesNotMatch", "ExpiredToken",
		"ExpiredTokenException", "AccessDenied", "AccessDeniedException",
		"MissingAuthenticationToken", "IncompleteSignature", NULL };
	for (const char *const *a = auth; *a != NULL; a++) {
		char body[200];
		snprintf(body, sizeof body, "{\"__type\":\"com.amazon.coral.service#%s\"}", *a);
		aws_err_parse(400, NULL, body, strlen(body), &ae);
		CHECK(aws_err_status(&ae) == EV_NOPERM && aws_err_kind(&ae) == AWS_R_NO);
	}
	aws_err_parse(403, NULL, "", 0, &ae);
	CHECK(aws_err_status(&ae) == EV_NOPERM);
	const char *iv = "{\"__type\":\"com.amazonaws.sqs#InvalidParameterValue\",\"message\":\"x\"}";
	aws_err_parse(400, "InvalidParameterValue;Sender", iv, strlen(iv), &ae);
	CHECK(aws_err_status(&ae) == EV_DATAERR && aws_err_kind(&ae) == AWS_R_NO);
	const char *ie = "{\"__type\":\"InternalError\"}";
	aws_err_parse(500, NULL, ie, strlen(ie), &ae);
	CHECK(aws_err_kind(&ae) == AWS_R_TRANSIENT && aws_err_status(&ae) == EV_UNAVAILABLE);
	memset(&ae, 0, sizeof ae);
	snprintf(ae.code, sizeof ae.code, "ConnectionError");
	CHECK(aws_err_kind(&ae) == AWS_R_TIMEOUT && aws_err_status(&ae) == EV_UNAVAILABLE);
	aws_err_parse(400, NULL, "{\"__type\":", 10, &ae);
	CHECK_STR(ae.code, "HTTP 400");
	CHECK(aws_err_status(&ae) == EV_DATAERR);
	aws_err_parse(301, NULL, "", 0, &ae);
	CHECK(aws_err_status(&ae) == EV_SOFTWARE);
}

static uint64_t rnd_value;
static uint64_t
fixed_rnd(void)
{
	return rnd_value;
}

static void
test_retry(void)
{
	struct aws_retry r;

	clear_env();
	aws_retry_init(&r);
	CHECK(r.max_attempts == 3 && r.base_ms == 100 && r.cap_ms == 20000 && r.tokens == 500);
	r.rnd = fixed_rnd;
	/* The random value maps onto [0, top], top = min(100 ms * 2^(i-1), 20 s). */
	for (int i = 1; i <= 30; i++) {
		int64_t top = 100LL << (i - 1 < 20 ? i - 1 : 20);
		if (top > 20000)
			top = 20000;
		rnd_value = (uint64_t)top;
		CHECK(aws_retry_delay(&r, AWS_R_TRANSIENT, i) == top);
		rnd_value = (uint64_t)top + 1;
		CHECK(aws_retry_delay(&r, AWS_R_TRANSIENT, i) == 0);
	}
	rnd_value = UINT64_MAX;
	CHECK(aws_retry_delay(&r, AWS_R_TRANSIENT, 40) <= 20000);
	CHECK(aws_retry_delay(&r, AWS_R_THROTTLE, 1) <= 500);
	CHECK(aws_retry_delay(&r, AWS_R_THROTTLE, 2) <= 1000);
	rnd_value = 0;
	CHECK(aws_retry_delay(&r, AWS_R_THROTTLE, 3) == 0);
	rnd_value = 12345;	/* in range: value mod (top + 1) */
	CHECK(aws_retry_delay(&r, AWS_R_TRANSIENT, 1) == 12345 % 101);
	/* The quota: 100 retries of 5, a timeout costs 10, success refunds. */
	int n = 0;
	while (aws_retry_take(&r, AWS_R_THROTTLE) == 5)
		n++;
	CHECK(n == 100 && r.tokens == 0);
	aws_retry_ok(&r, 0);
	CHECK(r.tokens == 1);
	aws_retry_ok(&r, 10);
	CHECK(r.tokens == 11);
	CHECK(aws_retry_take(&r, AWS_R_TIMEOUT) == 10 && r.tokens == 1);
	CHECK(aws_retry_take(&r, AWS_R_NO) == 0);
	for (int i = 0; i < 600; i++)
		aws_retry_ok(&r, 5);
	CHECK(r.tokens == 500);
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	setenv("EVKIT_AWS_BACKOFF_MS", "7", 1);
	aws_retry_init(&r);
	CHECK(r.max_attempts == 5 && r.base_ms == 7 && r.throttle_base_ms == 35);
	setenv("AWS_MAX_ATTEMPTS", "zero", 1);
	aws_retry_init(&r);
	CHECK(r.max_attempts == 3);
	clear_env();
}

static void
test_md5_attrs(void)
{
	char md5[33];
	struct ev_err e;
	size_t sz;
	const char *a1 = "{\"attribName1\":{\"DataType\":\"String\",\"StringValue\":\"attribValue 1\"}}";
	const char *a2 = "{\"customNumberTypeAttrib\":{\"DataType\":\"Number.float\","
	    "\"StringValue\":\"4563442423554324324264524243.32543234\"}}";
	const char *a3 = "{\"binaryAttribute\":{\"DataType\":\"Binary\","
	    "\"BinaryValue\":\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"}}";
	const char *all = "{\"customNumberTypeAttrib\":{\"DataType\":\"Number.float\","
	    "\"StringValue\":\"4563442423554324324264524243.32543234\"},"
	    "\"binaryAttribute\":{\"DataType\":\"Binary\",\"BinaryValue\":\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"},"
	    "\"attribName1\":{\"DataType\":\"String\",\"StringValue\":\"attribValue 1\"}}";

	CHECK(aws_sqs_attrs_md5(a1, strlen(a1), md5, &e) == 0);
	CHECK_STR(md5, "19e27d4e946b072f3f58da80d94fd778");
	CHECK(aws_sqs_attrs_md5(a2, strlen(a2), md5, &e) == 0);
	CHECK_STR(md5, "9fe1b90bbd9965bdf77bac517c7d2495");
	CHECK(aws_sqs_attrs_md5(a3, strlen(a3), md5, &e) == 0);
	CHECK_STR(md5, "31a92b15d92f8db860eda32aceb656c3");
	CHECK(aws_sqs_attrs_md5(all, strlen(all), md5, &e) == 0);
	CHECK_STR(md5, "c932db14a896c663f83c260297d594ff");
	const char *kv = "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}";
	CHECK(aws_sqs_attrs_md5(kv, strlen(kv), md5, &e) == 0);
	CHECK_STR(md5, "0a77b0642718c3d9dd47090567d11e0d");
	CHECK(aws_sqs_attrs_size(kv, strlen(kv), &sz, &e) == 0 && sz == 1 + 6 + 1);
	CHECK(aws_sqs_attrs_size(a3, strlen(a3), &sz, &e) == 0 && sz == 15 + 6 + 19);
	const char *bad = "{\"k\":{\"DataType\":\"Blob\",\"StringValue\":\"v\"}}";
	CHECK(aws_sqs_attrs_md5(bad, strlen(bad), md5, &e) == EV_DATAERR);
	CHECK(aws_sqs_attrs_md5("[1]", 3, md5, &e) == EV_DATAERR);
	const char *b64 = "{\"k\":{\"DataType\":\"Binary\",\"BinaryValue\":\"***\"}}";
	CHECK(aws_sqs_attrs_md5(b64, strlen(b64), md5, &e) == EV_DATAERR);
}

/* queue/'s --attr rendering, to SQS's shape and back, with one MD5. */
static void
test_attr_shapes(void)
{
	char *specs[] = { "k=v", "n:Number.float=1.5", "b:Binary=SGVsbG8=" };
	char *lambda = NULL, md5[33], md5b[33];
	long size;
	struct buf sqs = { 0 }, back = { 0 };
	struct ev_err e;

	CHECK(q_attrs_render(specs, 3, &lambda, md5, &size, &e) == 0);
	CHECK(aws_sqs_attrs_from_lambda(lambda, &sqs, &e) == 0);
	CHECK(strstr(sqs.p, "\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"SGVsbG8=\"}"));
	CHECK(strstr(sqs.p, "\"k\":{\"DataType\":\"String\",\"StringValue\":\"v\"}"));
	CHECK(aws_sqs_attrs_md5(sqs.p, sqs.n, md5b, &e) == 0);
	CHECK_STR(md5b, md5);
	size_t sz;
	CHECK(aws_sqs_attrs_size(sqs.p, sqs.n, &sz, &e) == 0 && (long)sz == size);
	CHECK(aws_sqs_attrs_to_lambda(sqs.p, &back, &e) == 0);
	CHECK_STR(back.p, lambda);
	CHECK(aws_sqs_attrs_from_lambda("{\"k\":{}}", &sqs, &e) == EV_DATAERR);
	CHECK(aws_sqs_attrs_from_lambda("{}", &sqs, &e) == 0);
	CHECK_STR(sqs.p, "{}");
	free(lambda);
	buf_free(&sqs);
	buf_free(&back);
}

static void
test_parse_recv(void)
{
	struct aws_sqs_msg *m;
	size_t n;
	struct ev_err e;
	/* md5("{\"a\":1}") and the {k: String v} attribute vector. */
	const char *good = "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"r1\","
	    "\"MD5OfBody\":\"bb6cb5c68df4652941caf652a366f2d8\",\"Body\":\"{\\\"a\\\":1}\","
	    "\"Attributes\":{\"ApproximateReceiveCount\":\"1\"},"
	    "\"MD5OfMessageAttributes\":\"0a77b0642718c3d9dd47090567d11e0d\","
	    "\"MessageAttributes\":{\"k\":{\"DataType\":\"String\",\"StringValue\":\"v\"}}}]}";

	CHECK(aws_sqs_parse_recv(good, strlen(good), &m, &n, &e) == 0 && n == 1);
	if (n == 1) {
		CHECK_STR(m[0].id, "m1");
		CHECK_STR(m[0].receipt, "r1");
		CHECK_STR(m[0].body, "{\"a\":1}");
		CHECK(m[0].len == 7);
		CHECK_STR(m[0].attrs, "{\"ApproximateReceiveCount\":\"1\"}");
		CHECK(m[0].msg_attrs != NULL);
	}
	aws_sqs_msgs_free(m, n);
	CHECK(aws_sqs_parse_recv("{}", 2, &m, &n, &e) == 0 && n == 0 && m == NULL);
	char *bad = strdup(good);
	memcpy(strstr(bad, "bb6c"), "cc6c", 4);
	CHECK(aws_sqs_parse_recv(bad, strlen(bad), &m, &n, &e) == EV_SOFTWARE && n == 0);
	CHECK(strstr(e.msg, "MD5OfBody of message m1") != NULL);
	strcpy(bad, good);
	memcpy(strstr(bad, "0a77"), "1a77", 4);
	CHECK(aws_sqs_parse_recv(bad, strlen(bad), &m, &n, &e) == EV_SOFTWARE);
	CHECK(strstr(e.msg, "MD5OfMessageAttributes") != NULL);
	free(bad);
	CHECK(aws_sqs_parse_recv("{\"Messages\":[1]}", 16, &m, &n, &e) == EV_SOFTWARE);
	CHECK(aws_sqs_parse_recv("nope", 4, &m, &n, &e) == EV_SOFTWARE);
}


/* Asks the stop (core/sig) in 300 ms. */
static void *
stop_soon(void *arg)
{
	(void)arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 300000000L };
	nanosleep(&ts, NULL);
	sig_stop = SIGTERM;
	return NULL;
}

/* ---- a scripted server: retries, per-entry failures, what is sent ---- */

struct fake {
	int lfd, port;
	const char *const *script;	/* "STATUS BODY" per request; the last repeats */
	int served;
	char req[8][4096];		/* the first requests' head and body */
	pthread_t t;
};

/* Reads one request (head and Content-Length body): 0, or -1 at EOF. */
static int
read_request(int fd, char *dst, size_t cap)
{
	char buf[65536];
	size_t n = 0;
	char *end;

	while ((end = memmem(buf, n, "\r\n\r\n", 4)) == NULL) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
	buf[n] = '\0';
	const char *cl = strcasestr(buf, "\r\nContent-Length:");
	size_t want = (size_t)(end + 4 - buf) + (cl != NULL ? strtoul(cl + 17, NULL, 10) : 0);
	while (n < want && n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
	snprintf(dst, cap, "%.*s", (int)n, buf);
	return 0;
}

static void *
fake_serve(void *arg)
{
	struct fake *f = arg;
	int fd;
	char scratch[4096];

	while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
		for (;;) {
			char *dst = f->served < 8 ? f->req[f->served] : scratch;
			if (read_request(fd, dst, sizeof scratch) != 0)
				break;
			const char *line = f->script[f->served];
			if (f->script[f->served + 1] != NULL)
				f->served++;
			else
				f->served++, f->script--;	/* the last line repeats */
			char head[256];
			const char *body = strchr(line, ' ') + 1;
			int n = snprintf(head, sizeof head, "HTTP/1.1 %.3s X\r\nContent-Type: "
			    "application/x-amz-json-1.0\r\nContent-Length: %zu\r\n\r\n", line,
			    strlen(body));
			if (write(fd, head, (size_t)n) != n ||
			    write(fd, body, strlen(body)) != (ssize_t)strlen(body))
				break;
		}
		close(fd);
	}
	return NULL;
}

static void
fake_start(struct fake *f, const char *const *script)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;

	memset(f, 0, sizeof *f);
	f->script = script;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(f->lfd, 8) != 0 || getsockname(f->lfd, (struct sockaddr *)&sa, &sl) != 0)
		abort();
	f->port = ntohs(sa.sin_port);
	pthread_create(&f->t, NULL, fake_serve, f);
}

static void
fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->t, NULL);
}

/* Sends o[0..n) through a fake server playing script: the status. */
static int
fake_send(struct fake *f, const char *const *script, struct aws_sqs_out *o, size_t n,
    struct ev_err *e)
{
	char url[96];
	struct aws_sqs *q;

	fake_start(f, script);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/000000000000/q", f->port);
	int rc = aws_sqs_open(url, NULL, &q, e);
	if (rc == 0) {
		rc = aws_sqs_send(q, o, n, e);
		aws_sqs_close(q);
	}
	fake_stop(f);
	return rc;
}

/* Every header the signature covers is in the request, with a value: a
 * server recomputes the signature from what it receives. */
static int
signed_headers_sent(const char *req)
{
	const char *sh = strstr(req, "SignedHeaders="), *end = req + strcspn(req, "\0");
	char name[64], line[80];

	if (sh == NULL)
		return 0;
	const char *head_end = strstr(req, "\r\n\r\n");
	for (sh += 14; *sh != ',' && sh < end;) {
		size_t n = strcspn(sh, ";,");
		if (n == 0 || n >= sizeof name)
			return 0;
		memcpy(name, sh, n);
		name[n] = '\0';
		snprintf(line, sizeof line, "\r\n%s:", name);
		const char *at = strcasestr(req, line);
		if (at == NULL || at > head_end)
			return 0;
		at += strlen(line);
		while (*at == ' ')
			at++;
		if (*at == '\r')
			return 0;	/* signed with an empty value */
		sh += n + (sh[n] == ';');
	}
	return 1;
}

#define OK_X "{\"Successful\":[{\"Id\":\"0\",\"MessageId\":\"m0\"," \
	"\"MD5OfMessageBody\":\"9dd4e461268c8034f5c8564e155c67a6\"}],\"Failed\":[]}"
#define OK_Y "{\"Successful\":[{\"Id\":\"1\",\"MessageId\":\"m1\"," \
	"\"MD5OfMessageBody\":\"415290769594460e2e485922904f345d\"}],\"Failed\":[]}"
#define THROTTLED "400 {\"__type\":\"com.amazonaws.sqs#ThrottlingException\"," \
	"\"message\":\"Rate exceeded\"}"

static void
test_retries(void)
{
	struct fake f;
	struct ev_err e;
	struct aws_sqs_out o[2] = { { .body = "x", .len = 1, .delay_s = -1 },
		{ .body = "y", .len = 1, .delay_s = -1 } };

	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "never-printed-secret", 1);
	setenv("AWS_SESSION_TOKEN", "session-token-1", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("EVKIT_AWS_BACKOFF_MS", "10", 1);
	/* Throttled every time: 3 attempts, then 75. */
	static const char *const always[] = { THROTTLED, NULL };
	CHECK(fake_send(&f, always, o, 1, &e) == EV_TEMPFAIL && f.served == 3);
	CHECK_STR(e.msg, "SendMessageBatch: ThrottlingException: Rate exceeded");
	CHECK(o[0].status == EV_TEMPFAIL);
	/* What went out: JSON 1.0, signed by curl, with the token header,
	 * the QueueUrl in the body, and no secret anywhere. */
	CHECK(strstr(f.req[0], "POST / HTTP/1.1\r\n") == f.req[0]);
	CHECK(strcasestr(f.req[0], "\r\nContent-Type: application/x-amz-json-1.0\r\n") != NULL);
	CHECK(strcasestr(f.req[0], "\r\nX-Amz-Target: AmazonSQS.SendMessageBatch\r\n") != NULL);
	CHECK(strcasestr(f.req[0], "\r\nX-Amz-Security-Token: session-token-1\r\n") != NULL);
	CHECK(strstr(f.req[0], "Authorization: AWS4-HMAC-SHA256 Credential=AKIDUNIT/") != NULL);
	CHECK(strstr(f.req[0], "/us-east-1/sqs/aws4_request") != NULL);
	CHECK(strstr(f.req[0], "x-amz-security-token") != NULL);	/* signed */
	CHECK(signed_headers_sent(f.req[0]));
	CHECK(strstr(f.req[0], "{\"QueueUrl\":\"http://127.0.0.1:") != NULL);
	CHECK(strstr(f.req[0], "never-printed-secret") == NULL);
	CHECK(strstr(e.msg, "never-printed-secret") == NULL);
	/* AWS_MAX_ATTEMPTS. */
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	CHECK(fake_send(&f, always, o, 1, &e) == EV_TEMPFAIL && f.served == 5);
	unsetenv("AWS_MAX_ATTEMPTS");
	clear_env();
}

/* Per-entry failures, bad MD5s, refused credentials, junk answers. */
static void
test_entry_retries(void)
{
	struct fake f;
	struct ev_err e;
	struct aws_sqs_out o[2] = { { .body = "x", .len = 1, .delay_s = -1 },
		{ .body = "y", .len = 1, .delay_s = -1 } };
	static const char *const always[] = { THROTTLED, NULL };

	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "never-printed-secret", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("EVKIT_AWS_BACKOFF_MS", "10", 1);
	/* 503 twice, then an answer: sent. */
	static const char *const flaky[] = { "503 {}", "503 {}", "200 " OK_X, NULL };
	CHECK(fake_send(&f, flaky, o, 1, &e) == 0 && f.served == 3);
	CHECK(o[0].status == 0);
	CHECK_STR(o[0].id, "m0");
	/* Entry 1 failed by the server (SenderFault false): only it again. */
	static const char *const entry[] = {
		"200 {\"Successful\":[{\"Id\":\"0\",\"MessageId\":\"m0\",\"MD5OfMessageBody\":"
		"\"9dd4e461268c8034f5c8564e155c67a6\"}],\"Failed\":[{\"Id\":\"1\","
		"\"SenderFault\":false,\"Code\":\"InternalError\",\"Message\":\"try again\"}]}",
		"200 " OK_Y, NULL };
	CHECK(fake_send(&f, entry, o, 2, &e) == 0 && f.served == 2);
	CHECK(o[0].status == 0 && o[1].status == 0);
	CHECK_STR(o[1].id, "m1");
	CHECK(strstr(f.req[1], "\"Id\":\"1\"") != NULL && strstr(f.req[1], "\"Id\":\"0\"") == NULL);
	/* The sender's fault is not retried: 65 for that entry. */
	static const char *const sender[] = {
		"200 {\"Successful\":[],\"Failed\":[{\"Id\":\"0\",\"SenderFault\":true,"
		"\"Code\":\"InvalidParameterValue\",\"Message\":\"bad\"}]}", NULL };
	CHECK(fake_send(&f, sender, o, 1, &e) == EV_DATAERR && f.served == 1);
	CHECK_STR(e.msg, "SendMessageBatch: entry 1: InvalidParameterValue: bad");
	/* Throttled entries, every time: 75 after the attempts. */
	static const char *const tentry[] = {
		"200 {\"Successful\":[],\"Failed\":[{\"Id\":\"0\",\"SenderFault\":true,"
		"\"Code\":\"ThrottlingException\",\"Message\":\"slow\"}]}", NULL };
	CHECK(fake_send(&f, tentry, o, 1, &e) == EV_TEMPFAIL && f.served == 3);
	/* A wrong MD5 of what the server stored: 70, never "sent". */
	static const char *const md5[] = { "200 {\"Successful\":[{\"Id\":\"0\",\"MessageId\":"
		"\"m0\",\"MD5OfMessageBody\":\"415290769594460e2e485922904f345d\"}]}", NULL };
	CHECK(fake_send(&f, md5, o, 1, &e) == EV_SOFTWARE && o[0].status == EV_SOFTWARE);
	CHECK(strstr(e.msg, "MD5OfMessageBody is '415290769594460e2e485922904f345d'") != NULL);
	/* Refused credentials: 77 at once. */
	static const char *const denied[] = { "403 {\"__type\":\"InvalidSignatureException\","
		"\"message\":\"The request signature we calculated does not match\"}", NULL };
	CHECK(fake_send(&f, denied, o, 1, &e) == EV_NOPERM && f.served == 1);
	CHECK(strstr(e.msg, "never-printed-secret") == NULL);
	/* A stop request ends a backoff (here up to 25 s) at once. */
	setenv("EVKIT_AWS_BACKOFF_MS", "5000", 1);
	pthread_t t;
	int64_t t0 = clock_mono_ms();
	pthread_create(&t, NULL, stop_soon, NULL);
	CHECK(fake_send(&f, always, o, 1, &e) == EV_TEMPFAIL);
	CHECK(clock_mono_ms() - t0 < 10000);
	pthread_join(t, NULL);
	sig_stop = 0;
	setenv("EVKIT_AWS_BACKOFF_MS", "10", 1);
	/* An answer that is not JSON. */
	static const char *const junk[] = { "200 <xml/>", NULL };
	CHECK(fake_send(&f, junk, o, 1, &e) == EV_SOFTWARE);
	clear_env();
}

/* PutEvents: JSON 1.1 to the events service, 10 entries a request,
 * answers in order, a throttled entry sent again alone. */
static void
test_events(void)
{
	struct fake f;
	struct ev_err e;
	struct aws_events *b;
	struct aws_events_entry en[12];
	char url[64];
	struct buf r1 = { 0 };

	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
	setenv("EVKIT_AWS_BACKOFF_MS", "10", 1);
	buf_adds(&r1, "200 {\"FailedEntryCount\":2,\"Entries\":[");
	for (int i = 0; i < 10; i++)
		buf_printf(&r1, "%s%s", i ? "," : "", i == 3 ? "{\"ErrorCode\":\"ThrottlingException\"}" :
		    i == 5 ? "{\"ErrorCode\":\"MalformedDetail\",\"ErrorMessage\":\"bad\"}" :
		    "{\"EventId\":\"ev\"}");
	buf_adds(&r1, "]}");
	const char *script[] = { r1.p,
		"200 {\"FailedEntryCount\":0,\"Entries\":[{\"EventId\":\"e10\"},{\"EventId\":\"e11\"}]}",
		"200 {\"FailedEntryCount\":0,\"Entries\":[{\"EventId\":\"e3\"}]}", NULL };
	memset(en, 0, sizeof en);
	for (int i = 0; i < 12; i++) {
		en[i].source = "com.example";
		en[i].detail_type = "Order";
		en[i].detail = "{\"a\":1}";
		en[i].detail_len = 7;
		en[i].time_ms = 1700000000123;
	}
	en[0].resources = "[\"arn:aws:sqs:us-east-1:1:q\"]";
	en[0].trace = "Root=1-abc";
	fake_start(&f, script);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
	OPENED(aws_events_open("events://eu-west-1/orders", url, &b, &e));
	CHECK(aws_events_put(b, en, 12, &e) == EV_DATAERR);
	CHECK_STR(e.msg, "PutEvents: entry 6: MalformedDetail: bad");
	aws_events_close(b);
	fake_stop(&f);
	CHECK(f.served == 3);
	int ok = 0;
	for (int i = 0; i < 12; i++)
		ok += en[i].status == 0;
	CHECK(ok == 11 && en[5].status == EV_DATAERR);
	CHECK_STR(en[3].id, "e3");
	CHECK_STR(en[11].id, "e11");
	CHECK(strcasestr(f.req[0], "\r\nX-Amz-Target: AWSEvents.PutEvents\r\n") != NULL);
	CHECK(strcasestr(f.req[0], "\r\nContent-Type: application/x-amz-json-1.1\r\n") != NULL);
	CHECK(strstr(f.req[0], "/eu-west-1/events/aws4_request") != NULL);
	CHECK(strstr(f.req[0], "{\"Entries\":[{\"Source\":\"com.example\",\"DetailType\":\"Order\","
	    "\"Detail\":\"{\\\"a\\\":1}\",\"Resources\":[\"arn:aws:sqs:us-east-1:1:q\"],"
	    "\"Time\":1700000000,\"EventBusName\":\"orders\",\"TraceHeader\":\"Root=1-abc\"}") != NULL);
	CHECK(strstr(f.req[0], "QueueUrl") == NULL);
	const char *one = strstr(f.req[2], "\"Source\"");
	CHECK(one != NULL && strstr(one + 1, "\"Source\"") == NULL);
	/* No such bus: 66; a bad URI: 2; a bad Detail: 65, not sent. */
	static const char *const nobus[] = { "400 {\"__type\":\"ResourceNotFoundException\","
		"\"message\":\"Event bus nosuch does not exist.\"}", NULL };
	fake_start(&f, nobus);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
	OPENED(aws_events_open("events://eu-west-1/nosuch", url, &b, &e));
	CHECK(aws_events_put(b, en, 1, &e) == EV_NOINPUT);
	CHECK_STR(e.msg, "PutEvents: ResourceNotFoundException: Event bus nosuch does not exist.");
	en[1].detail = "[1]";
	en[1].detail_len = 3;
	CHECK(aws_events_put(b, en + 1, 1, &e) == EV_DATAERR && f.served == 1);
	aws_events_close(b);
	fake_stop(&f);
	/* An answer that speaks of fewer entries than were sent: the others
	 * are no success. */
	static const char *const shortans[] = {
		"200 {\"FailedEntryCount\":0,\"Entries\":[{\"EventId\":\"a\"}]}", NULL };
	fake_start(&f, shortans);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
	OPENED(aws_events_open("events://eu-west-1/orders", url, &b, &e));
	en[1].detail = "{\"a\":1}";
	en[1].detail_len = 7;
	CHECK(aws_events_put(b, en, 2, &e) == EV_SOFTWARE);
	CHECK(en[0].status == 0 && en[1].status == EV_SOFTWARE);
	CHECK_STR(e.msg, "PutEvents: entry 2: not in the server's answer");
	aws_events_close(b);
	fake_stop(&f);
	CHECK(aws_events_open("events://EU/x", NULL, &b, &e) == EV_USAGE);
	CHECK(aws_events_open("events://eu-west-1/", NULL, &b, &e) == EV_USAGE);
	CHECK(aws_events_open("sqs://eu-west-1/1/q", NULL, &b, &e) == EV_USAGE);
	buf_free(&r1);
	clear_env();
}

/* credential_process credentials that expire soon are fetched again
 * before a request, and the connection signs with the new ones. */
static void
test_refresh(void)
{
	struct fake f;
	struct ev_err e;
	struct aws_sqs *q;
	struct aws_sqs_out o = { .body = "x", .len = 1, .delay_s = -1 };
	char cfg[512], url[96], script[128];
	static const char *const ok[] = { "200 " OK_X, NULL };

	clear_env();
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_PROFILE", "soon", 1);
	snprintf(script, sizeof script, "%s/.aws/cred.sh", home);
	put_file("cred.sh", "n=$(($(cat \"$0.n\" 2>/dev/null || echo 0) + 1)); echo $n > \"$0.n\"\n"
	    "printf '{\"Version\":1,\"AccessKeyId\":\"AK%d\",\"SecretAccessKey\":\"S\","
	    "\"Expiration\":\"%s\"}' $n \"$(date -u -d \"+$1 sec\" +%Y-%m-%dT%H:%M:%SZ)\"\n");
	snprintf(cfg, sizeof cfg, "[profile soon]\ncredential_process = sh %s 60\n"
	    "[profile later]\ncredential_process = sh %s 3600\n", script, script);
	put_file("config", cfg);
	put_file("credentials", "");
	fake_start(&f, ok);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/000000000000/q", f.port);
	OPENED(aws_sqs_open(url, NULL, &q, &e));
	CHECK(aws_sqs_send(q, &o, 1, &e) == 0 && aws_sqs_send(q, &o, 1, &e) == 0);
	aws_sqs_close(q);
	fake_stop(&f);
	CHECK(strstr(f.req[0], "Credential=AK2/") != NULL);
	CHECK(strstr(f.req[1], "Credential=AK3/") != NULL);
	setenv("AWS_PROFILE", "later", 1);
	fake_start(&f, ok);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/000000000000/q", f.port);
	OPENED(aws_sqs_open(url, NULL, &q, &e));
	CHECK(aws_sqs_send(q, &o, 1, &e) == 0 && aws_sqs_send(q, &o, 1, &e) == 0);
	aws_sqs_close(q);
	fake_stop(&f);
	CHECK(strstr(f.req[0], "Credential=AK4/") != NULL);
	CHECK(strstr(f.req[1], "Credential=AK4/") != NULL);
	clear_env();
}

/* ---- against fauxqs ---- */

static pid_t server_pid = -1;
static int server_stdin = -1;

/* Starts fauxqs: its port, or with why 0 (no node: skip) or -1 (fail). */
static int
start_fauxqs(char *why, size_t cap)
{
	char *const argv[] = { "sh", "tests/lib/aws-unit.sh", NULL };
	int in[2], out[2];
	char line[32] = { 0 };
	size_t got = 0;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
		abort();
	if (proc_spawn(argv, in[0], out[1], &server_pid) != 0)
		abort();
	close(in[0]);
	close(out[1]);
	server_stdin = in[1];
	/* npm may install fauxqs first: minutes on a slow network. */
	struct pollfd p = { .fd = out[0], .events = POLLIN };
	while (got < sizeof line - 1 && strchr(line, '\n') == NULL && poll(&p, 1, 300000) == 1) {
		ssize_t r = read(out[0], line + got, sizeof line - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(out[0]);
	int port = atoi(line);
	if (port <= 0) {
		int st;
		kill(server_pid, SIGTERM);
		waitpid(server_pid, &st, 0);
		server_pid = -1;
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		snprintf(why, cap, code == 3 ? "node or npm is not installed" :
		    "tests/lib/aws-unit.sh could not start fauxqs (exit %d)", code);
		return code == 3 ? 0 : -1;
	}
	return port;
}

static void
stop_fauxqs(void)
{
	if (server_pid > 0) {
		close(server_stdin);
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
}

static char endpoint[64];

static struct aws_sqs *
open_q(const char *uri)
{
	struct aws_sqs *q = NULL;
	struct ev_err e;

	if (aws_sqs_open(uri, endpoint, &q, &e) != 0)
		printf("# open %s: %s\n", uri, e.msg);
	return q;
}

/* Receives until n messages came or a receive returns none. */
static size_t
drain(struct aws_sqs *q, struct aws_sqs_msg **all, size_t want)
{
	struct aws_sqs_recv r = { .max = 10, .visibility_s = 30, .wait_s = 1 };
	struct aws_sqs_msg *m;
	size_t n, total = 0;
	struct ev_err e;

	*all = xcalloc(want + 10, sizeof **all);
	while (total < want) {
		if (aws_sqs_receive(q, &r, &m, &n, &e) != 0) {
			printf("# receive: %s\n", e.msg);
			break;
		}
		if (n == 0)
			break;
		for (size_t i = 0; i < n && total < want + 10; i++)
			(*all)[total++] = m[i];
		free(m);
	}
	return total;
}

static void
test_send_receive(void)
{
	struct aws_sqs *q = open_q("sqs://us-east-1/000000000000/unit1");
	struct ev_err e;
	enum { N = 25 };
	struct aws_sqs_out o[N];
	char bodies[N][32];
	const char *attrs = "{\"k\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
	    "\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"}}";
	char amd5[33];

	CHECK(q != NULL);
	if (q == NULL)
		return;
	CHECK(aws_sqs_create(q, "{\"VisibilityTimeout\":\"40\"}", &e) == 0);
	const char *url = NULL;
	CHECK(aws_sqs_url(q, &url, &e) == 0 && url != NULL && strstr(url, "/000000000000/unit1"));
	CHECK(aws_sqs_attrs_md5(attrs, strlen(attrs), amd5, &e) == 0);
	memset(o, 0, sizeof o);
	for (int i = 0; i < N; i++) {
		snprintf(bodies[i], sizeof bodies[i], "{\"n\":%d,\"s\":\"\\u00e9\"}", i);
		o[i].body = bodies[i];
		o[i].len = strlen(bodies[i]);
		o[i].delay_s = -1;
		if (i % 2 == 0) {
			o[i].attrs = attrs;
			o[i].attrs_md5 = amd5;
		}
		if (i == 3)
			o[i].trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
	}
	CHECK(aws_sqs_send(q, o, N, &e) == 0);
	int sent = 0;
	for (int i = 0; i < N; i++)
		sent += o[i].status == 0 && o[i].id[0] != '\0';
	CHECK(sent == N);
	struct aws_sqs_msg *m;
	size_t n = drain(q, &m, N);
	CHECK(n == N);
	int matched = 0, with_attrs = 0, traced = 0;
	struct aws_sqs_ack a[N + 10];
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < N; j++)
			matched += strcmp(m[i].id, o[j].id) == 0 && strcmp(m[i].body, bodies[j]) == 0;
		with_attrs += m[i].msg_attrs != NULL && strstr(m[i].msg_attrs, "\"k\"") != NULL;
		traced += m[i].attrs != NULL && strstr(m[i].attrs, "AWSTraceHeader") != NULL;
		a[i].receipt = m[i].receipt;
	}
	CHECK(matched == N);
	CHECK(with_attrs == (N + 1) / 2);
	/* fauxqs 1.9.2 drops MessageSystemAttributes (AWSTraceHeader) on
	 * send: a server gap; AWS returns it. */
	CHECK(traced <= 1);
	if (traced == 0)
		printf("# the server dropped AWSTraceHeader (fauxqs 1.9.2 does)\n");
	CHECK(aws_sqs_delete(q, a, n, &e) == 0);
	int deleted = 0;
	for (size_t i = 0; i < n; i++)
		deleted += a[i].status == 0;
	CHECK(deleted == N);
	aws_sqs_msgs_free(m, n);
	struct aws_sqs_recv r = { .max = 10, .visibility_s = -1, .wait_s = 0 };
	CHECK(aws_sqs_receive(q, &r, &m, &n, &e) == 0 && n == 0 && m == NULL);
	aws_sqs_close(q);
}

/* A release: visibility 0, and the message is there again. */
static void
test_release(void)
{
	struct aws_sqs *q = open_q("sqs://us-east-1/000000000000/unit1");
	struct aws_sqs_recv r = { .max = 10, .visibility_s = -1, .wait_s = 0 };
	struct aws_sqs_out o[1] = { { .body = "again", .len = 5, .delay_s = -1 } };
	struct aws_sqs_ack a[1];
	struct aws_sqs_msg *m;
	struct ev_err e;
	size_t n;

	CHECK(q != NULL);
	if (q == NULL)
		return;
	CHECK(aws_sqs_send(q, o, 1, &e) == 0);
	CHECK(aws_sqs_receive(q, &r, &m, &n, &e) == 0 && n == 1);
	a[0].receipt = n == 1 ? m[0].receipt : "x";
	a[0].visibility_s = 0;
	CHECK(aws_sqs_change_visibility(q, a, 1, &e) == 0 && a[0].status == 0);
	aws_sqs_msgs_free(m, n);
	CHECK(aws_sqs_receive(q, &r, &m, &n, &e) == 0 && n == 1);
	if (n == 1)
		CHECK(strstr(m[0].attrs, "\"ApproximateReceiveCount\":\"2\"") != NULL);
	aws_sqs_msgs_free(m, n);
	aws_sqs_close(q);
}

/* Messages whose total passes 1 MiB go in several requests; one over
 * 1 MiB alone is refused before anything is sent. */
static void
test_sizes(void)
{
	struct aws_sqs *q = open_q("sqs://us-east-1/000000000000/unit-big");
	struct ev_err e;
	struct aws_sqs_out o[4];
	size_t big = 400 * 1024;
	char *body = xmalloc(AWS_SQS_MAX_BYTES + 2);

	if (q == NULL || aws_sqs_create(q, NULL, &e) != 0) {
		CHECK(!"create unit-big");
		free(body);
		aws_sqs_close(q);
		return;
	}
	memset(body, 'x', AWS_SQS_MAX_BYTES + 1);
	memset(o, 0, sizeof o);
	for (int i = 0; i < 4; i++) {
		o[i].body = body;
		o[i].len = i == 3 ? AWS_SQS_MAX_BYTES + 1 : big;
		o[i].delay_s = -1;
	}
	CHECK(aws_sqs_send(q, o, 4, &e) == EV_DATAERR);
	CHECK(o[0].status == 0 && o[1].status == 0 && o[2].status == 0 && o[3].status == EV_DATAERR);
	CHECK(strstr(e.msg, "SendMessageBatch: entry 4: a message of 1048577 bytes") == e.msg);
	struct buf attrs = { 0 };
	CHECK(aws_sqs_get_attrs(q, &attrs, &e) == 0);
	CHECK(strstr(attrs.p, "\"ApproximateNumberOfMessages\":\"3\"") != NULL);
	buf_free(&attrs);
	/* What SQS would refuse or json would change is not sent. */
	struct aws_sqs_out bad[2] = { { .body = "a\xff" "b", .len = 3, .delay_s = -1 },
		{ .body = "a\x01", .len = 2, .delay_s = -1 } };
	CHECK(aws_sqs_send(q, bad, 2, &e) == EV_DATAERR);
	CHECK(bad[0].status == EV_DATAERR && bad[1].status == EV_DATAERR);
	CHECK_STR(e.msg, "SendMessageBatch: entry 1: byte 2 of the message body is not UTF-8 or "
	    "is a character SQS refuses");
	/* Exactly 1 MiB is allowed. */
	o[0].len = AWS_SQS_MAX_BYTES;
	CHECK(aws_sqs_send(q, o, 1, &e) == 0 && o[0].status == 0);
	free(body);
	aws_sqs_close(q);
}

static void
test_admin(void)
{
	struct aws_sqs *q = open_q("sqs://us-east-1/000000000000/unit-adm.fifo");
	struct ev_err e;
	struct buf b = { 0 };
	size_t n;

	CHECK(q != NULL);
	if (q == NULL)
		return;
	CHECK(aws_sqs_create(q, "{\"FifoQueue\":\"true\",\"ContentBasedDeduplication\":\"true\"}",
	    &e) == 0);
	CHECK(aws_sqs_set_attrs(q, "{\"VisibilityTimeout\":\"7\"}", &e) == 0);
	CHECK(aws_sqs_get_attrs(q, &b, &e) == 0 && strstr(b.p, "\"VisibilityTimeout\":\"7\""));
	CHECK(strstr(b.p, "\"FifoQueue\":\"true\"") != NULL);
	CHECK(aws_sqs_list(q, "unit-adm", &b, &n, &e) == 0 && n == 1);
	CHECK(n == 1 && strstr(b.p, "/000000000000/unit-adm.fifo") != NULL);
	struct aws_sqs_out o[2];
	memset(o, 0, sizeof o);
	o[0].body = o[1].body = "same";
	o[0].len = o[1].len = 4;
	o[0].group = o[1].group = "g";
	o[0].delay_s = o[1].delay_s = -1;
	CHECK(aws_sqs_send(q, o, 1, &e) == 0 && o[0].seq[0] != '\0');
	CHECK(aws_sqs_send(q, o + 1, 1, &e) == 0);
	CHECK_STR(o[1].id, o[0].id);	/* content-based dedup: the original's id */
	o[0].group = NULL;
	CHECK(aws_sqs_send(q, o, 1, &e) == EV_DATAERR && o[0].status == EV_DATAERR);
	printf("# no group: %s\n", e.msg);
	CHECK(aws_sqs_purge(q, &e) == 0);
	CHECK(aws_sqs_move(q, NULL, 0, &b, &e) != 0);	/* fauxqs lacks it */
	printf("# StartMessageMoveTask: %s\n", e.msg);
	CHECK(strstr(e.msg, "StartMessageMoveTask: ") == e.msg);
	CHECK(aws_sqs_delete_queue(q, &e) == 0);
	struct aws_sqs_recv r = { .max = 1, .visibility_s = -1, .wait_s = 0 };
	struct aws_sqs_msg *m;
	CHECK(aws_sqs_receive(q, &r, &m, &n, &e) == EV_NOINPUT);
	CHECK(strstr(e.msg, "ReceiveMessage: QueueDoesNotExist: ") == e.msg);
	buf_free(&b);
	aws_sqs_close(q);
}

/* A stop request cuts a 20 s long poll short: nothing received. */
static void
test_stop_poll(void)
{
	struct aws_sqs *q = open_q("sqs://us-east-1/000000000000/unit-stop");
	struct aws_sqs_recv r = { .max = 10, .visibility_s = -1, .wait_s = 20 };
	struct aws_sqs_msg *m;
	struct ev_err e;
	size_t n = 9;
	pthread_t t;

	if (q == NULL || aws_sqs_create(q, NULL, &e) != 0) {
		CHECK(!"create unit-stop");
		aws_sqs_close(q);
		return;
	}
	int64_t t0 = clock_mono_ms();
	pthread_create(&t, NULL, stop_soon, NULL);
	CHECK(aws_sqs_receive(q, &r, &m, &n, &e) == 0 && n == 0);
	CHECK(clock_mono_ms() - t0 < 10000);
	pthread_join(t, NULL);
	sig_stop = 0;
	aws_sqs_close(q);
}

struct sender {
	struct aws_sqs *q;
	int rc;
	pthread_t t;
};

static void *
send_some(void *arg)
{
	struct sender *s = arg;
	struct aws_sqs_out o[40];
	struct ev_err e;

	memset(o, 0, sizeof o);
	for (int i = 0; i < 40; i++) {
		o[i].body = "from a thread";
		o[i].len = 13;
		o[i].delay_s = -1;
	}
	s->rc = aws_sqs_send(s->q, o, 40, &e);
	return NULL;
}

/* One handle (one connection) per thread, one configuration. */
static void
test_threads(void)
{
	struct aws_sqs *q = open_q("sqs://us-east-1/000000000000/unit-threads");
	struct sender s[3];
	struct ev_err e;
	struct buf attrs = { 0 };

	if (q == NULL || aws_sqs_create(q, NULL, &e) != 0) {
		CHECK(!"create unit-threads");
		aws_sqs_close(q);
		return;
	}
	for (int i = 0; i < 3; i++) {
		CHECK(aws_sqs_dup(q, &s[i].q, &e) == 0);
		pthread_create(&s[i].t, NULL, send_some, &s[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(s[i].t, NULL);
		CHECK(s[i].rc == 0);
		aws_sqs_close(s[i].q);
	}
	CHECK(aws_sqs_get_attrs(q, &attrs, &e) == 0);
	CHECK(strstr(attrs.p, "\"ApproximateNumberOfMessages\":\"120\"") != NULL);
	buf_free(&attrs);
	aws_sqs_close(q);
}

static void
test_failures(int port)
{
	struct ev_err e;
	struct aws_sqs *q;
	struct aws_sqs_out o = { .body = "x", .len = 1, .delay_s = -1 };
	char url[128];

	/* No such queue, by its URL: 66 and the server's words. */
	snprintf(url, sizeof url, "http://sqs.us-east-1.localhost:%d/000000000000/nosuch", port);
	OPENED(aws_sqs_open(url, NULL, &q, &e));
	CHECK(aws_sqs_send(q, &o, 1, &e) == EV_NOINPUT);
	CHECK(strstr(e.msg, "SendMessageBatch: QueueDoesNotExist: ") == e.msg);
	CHECK(o.status == EV_NOINPUT);
	aws_sqs_close(q);
	/* By sqs:// on a foreign endpoint, GetQueueUrl says it. */
	q = open_q("sqs://us-east-1/000000000000/nosuch");
	CHECK(q != NULL && aws_sqs_send(q, &o, 1, &e) == EV_NOINPUT);
	CHECK(strstr(e.msg, "GetQueueUrl: ") == e.msg);
	aws_sqs_close(q);
	/* Nothing listens: 69, quickly (3 attempts, short backoffs). */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	bind(s, (struct sockaddr *)&sa, sizeof sa);
	getsockname(s, (struct sockaddr *)&sa, &sl);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/000000000000/q", ntohs(sa.sin_port));
	close(s);	/* a port just free: connections are refused */
	OPENED(aws_sqs_open(url, NULL, &q, &e));
	int64_t t0 = clock_mono_ms();
	CHECK(aws_sqs_send(q, &o, 1, &e) == EV_UNAVAILABLE);
	CHECK(clock_mono_ms() - t0 < 10000);
	CHECK(strstr(e.msg, "SendMessageBatch: ConnectionError: http://127.0.0.1:") == e.msg);
	CHECK(o.status == EV_UNAVAILABLE);
	aws_sqs_close(q);
}

int
main(void)
{
	char dir[] = "/tmp/evkit-unit-aws-XXXXXX", sub[96], why[200];

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 70;
	snprintf(home, sizeof home, "%s", dir);
	snprintf(sub, sizeof sub, "%s/.aws", dir);
	mkdir(sub, 0700);
	test_uri();
	test_words();
	test_conf_env_files();
	test_conf_region_endpoint();
	test_conf_missing();
	test_conf_process();
	test_errors();
	test_retry();
	test_md5_attrs();
	test_parse_recv();
	test_attr_shapes();
	test_retries();
	test_entry_retries();
	test_refresh();
	test_events();
	int port = start_fauxqs(why, sizeof why);
	if (port > 0) {
		clear_env();
		setenv("AWS_ACCESS_KEY_ID", "AKIDUNIT", 1);
		setenv("AWS_SECRET_ACCESS_KEY", "unit-secret", 1);
		setenv("AWS_SESSION_TOKEN", "unit-token", 1);
		setenv("AWS_REGION", "us-east-1", 1);
		setenv("EVKIT_AWS_BACKOFF_MS", "20", 1);
		snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
		test_send_receive();
		test_release();
		test_sizes();
		test_admin();
		test_threads();
		test_stop_poll();
		test_failures(port);
		stop_fauxqs();
	} else if (port == 0) {
		printf("ok %d # skip SQS operations against fauxqs: %s\n", ++unit_n, why);
	} else {
		printf("not ok %d - SQS operations against fauxqs: %s\n", ++unit_n, why);
		unit_failed++;
	}
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 70;
	return UNIT_DONE();
}
