/* Unit tests of bus/rules.h beyond what evbus-route's bats tests see:
 * loading a rules file again and again keeps no memory (evkit-serve
 * loads one at every rule change). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bus/rules.h"
#include "unit.h"

static const char text[] =
    "{\"rules\":[{\"name\":\"a\",\"pattern\":{\"source\":[\"x\"]},\"description\":\"d\","
    "\"targets\":[{\"id\":\"q\",\"uri\":\"queue:q\",\"input_path\":\"$.detail\"},"
    "{\"id\":\"f\",\"uri\":\"file:out\",\"retry\":{\"attempts\":1}}]},"
    "{\"name\":\"b\",\"pattern\":{\"n\":[{\"numeric\":[\">\",1]}]},\"state\":\"DISABLED\","
    "\"targets\":[]}]}";

static size_t
in_use(void)
{
	return mallinfo2().uordblks;
}

int
main(void)
{
	char path[] = "/tmp/test_rules.XXXXXX";
	int fd = mkstemp(path);
	struct rules *rs;
	struct ev_err e;

	CHECK(fd >= 0 && write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
	close(fd);
	CHECK(rules_load(path, &rs, &e) == 0);
	rules_free(rs);
	/* Under ASan mallinfo2 sees nothing: the check passes there, and
	 * bites in the plain build. */
	size_t before = in_use();
	int ok = 1;
	for (int i = 0; i < 500; i++) {
		ok &= rules_load(path, &rs, &e) == 0;
		rules_free(rs);
	}
	size_t after = in_use();
	CHECK(ok);
	printf("# in use: %zu before, %zu after 500 loads\n", before, after);
	CHECK(after < before + 64 * 1024);
	unlink(path);
	return UNIT_DONE();
}
