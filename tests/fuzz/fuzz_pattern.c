/* Fuzzes the pattern compiler of lib/pattern: any input is either refused
 * with a message naming a JSON path, or compiled and then matched against
 * a few events without crashing; invalid JSON is always refused. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const events[] = {
	"{\"a\":\"x\",\"b\":[1,2.5e3,\"10.1.2.3\"],\"c\":{\"d\":null}}",
	"{\"a\":[{\"b\":\"x\",\"c\":[true,false]},{\"b\":-0.0,\"d\":{}}],\"$or\":\"y\"}",
	"{\"detail\":{\"state\":\"running\",\"ip\":\"2001:db8::1\",\"n\":123456789012345678}}",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pat_set *s = pat_new();
	struct pat_err err;
	struct json_err je;
	char *why = NULL;
	char *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	int r = pat_add(s, copy, size, &why);
	if (r < 0) {
		if (why == NULL || strncmp(why, "at ", 3) != 0)
			abort();
		free(why);
	} else {
		if (json_validate(copy, size, 0, &je) != '{' || r != 0)
			abort();
		for (size_t i = 0; i < sizeof events / sizeof *events; i++)
			if (pat_match(s, events[i], strlen(events[i]), 1, &err) < 0)
				abort();
	}
	pat_free(s);
	free(copy);
	return 0;
}
