/* Unit tests of what lib/bus shares with the rest: the backoff, ARNs,
 * the JSON walker, and rules_load under the error contract (it returns,
 * it does not exit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/rules.h"
#include "core/arn.h"
#include "core/backoff.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/msg.h"
#include "unit.h"

static void
test_backoff(void)
{
	int ok = 1;

	for (int i = 0; i < 1000; i++) {
		int64_t w0 = backoff_ms(100, 30000, 0), w3 = backoff_ms(100, 30000, 3);
		int64_t w20 = backoff_ms(100, 30000, 20);
		ok &= w0 >= 0 && w0 <= 100 && w3 >= 0 && w3 <= 800 && w20 >= 0 && w20 <= 30000;
	}
	CHECK(ok);
	CHECK(backoff_ms(0, 60000, 5) == 0);
	setenv("EVKIT_TEST_BASE", "7", 1);
	CHECK(backoff_base("EVKIT_TEST_BASE", 1000) == 7);
	CHECK(backoff_base("EVKIT_TEST_NO_SUCH", 1000) == 1000);
	setenv("EVKIT_TEST_BASE", "-3", 1);
	CHECK(backoff_base("EVKIT_TEST_BASE", 1000) == 0);
}

static void
test_arn(void)
{
	char *a = arn_make("events", "local", "rule/", "r");

	CHECK_STR(a, "arn:aws:events:local:000000000000:rule/r");
	free(a);
	unsetenv("AWS_REGION");
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	a = arn_make("sqs", NULL, "", "q");
	CHECK_STR(a, "arn:aws:sqs:eu-west-3:000000000000:q");
	free(a);
	setenv("AWS_REGION", "us-west-2", 1);
	CHECK_STR(arn_region(), "us-west-2");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	CHECK_STR(arn_region(), "us-east-1");
}

/* json_skip over strings whose quotes and escapes fall on every offset
 * of the 16-byte steps of the string scan. */
static void
test_walk(void)
{
	char s[128];
	int ok = 1;

	for (int pad = 0; pad < 40; pad++) {
		int n = snprintf(s, sizeof s, "[\"%.*s\\\"\\\\x\",1]", pad,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		size_t end = json_skip(s, (size_t)n, 1);
		ok &= end == (size_t)n - 3 && s[end] == ',';
		ok &= json_skip(s, (size_t)n, 0) == (size_t)n;
	}
	CHECK(ok);
	CHECK(json_skip("\"abc\\", 5, 0) == (size_t)-1);
	CHECK(json_skip("\"abcdefghijklmnopqrstu\\", 23, 0) == (size_t)-1);
	CHECK(json_skip("  nul", 5, 0) == 5);

	const char *o = "{ \"a\" : 1 , \"b\":{\"c\":[1,\"}\"]},\"d\":\"x\"}";
	size_t at = 0, k, kend, v, vend, n = 0;
	while (json_member(o, strlen(o), &at, &k, &kend, &v, &vend))
		n++;
	CHECK(n == 3);
}

static int
load(const char *text, struct ev_err *e)
{
	char path[] = "/tmp/evkit-unit-rules-XXXXXX";
	int fd = mkstemp(path);
	struct rules *rs = NULL;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	int rc = rules_load(path, &rs, e);
	unlink(path);
	rules_free(rs);
	return rc;
}

static void
test_rules_load(void)
{
	struct ev_err e = { 0 };
	struct rules *rs = (struct rules *)1;

	CHECK(load("{\"rules\":[{\"name\":\"r\",\"pattern\":{\"a\":[1]},\"targets\":"
	    "[{\"id\":\"t\",\"uri\":\"log:l\",\"stream_path\":\"$.a\"}]}]}", &e) == 0);
	CHECK(load("{\"rules\":[{\"name\":\"r\",\"pattern\":{\"a\":[1]},\"targets\":"
	    "[{\"id\":\"t\",\"uri\":\"stdout:\"},{\"id\":\"t\",\"uri\":\"stdout:\"}]}]}", &e)
	    == EV_USAGE);
	CHECK(strstr(e.msg, ".rules[0].targets[1].id: 't': duplicate target id") != NULL);
	CHECK(e.code == EV_USAGE);
	/* No targets is a rule still (as PutRule leaves it): the fault is the next one's. */
	CHECK(load("{\"rules\":[{\"name\":\"r\",\"pattern\":{\"a\":[1]},\"targets\":[]},"
	    "{\"name\":\"s\"}]}", &e) == EV_USAGE);
	CHECK(strstr(e.msg, ".rules[1]: missing key \"pattern\"") != NULL);
	CHECK(load("{\"rules\":[{\"name\":\"r\",\"pattern\":{\"a\":[1]},\"targets\":"
	    "[{\"id\":\"t\",\"uri\":\"stdout:\"}]},{\"name\":\"r\",\"pattern\":{},"
	    "\"targets\":[{\"id\":\"t\",\"uri\":\"stdout:\"}]}]}", &e) == EV_USAGE);
	CHECK(strstr(e.msg, ".rules[1].name: 'r': duplicate rule name") != NULL);
	CHECK(load("[", &e) == EV_USAGE);
	CHECK(rules_load("/nonexistent/rules.json", &rs, &e) == EV_NOINPUT);
	CHECK(rs == NULL);
	CHECK(strstr(e.msg, "cannot read rules file '/nonexistent/rules.json'") != NULL);
}

int
main(void)
{
	test_backoff();
	test_arn();
	test_walk();
	test_rules_load();
	return UNIT_DONE();
}
