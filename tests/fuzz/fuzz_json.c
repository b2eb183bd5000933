/* Fuzzes the JSON validator and string writer: no crash, no read past
 * the input, json_validate_spaced() says exactly whether valid text has
 * white space outside its strings, and whatever json_add_string() writes
 * validates as a string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* White space between tokens, inside the value (leading and trailing
 * white space around it counts too). */
static int
has_space(const char *p, size_t n)
{
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_str = 0;
		} else if (p[i] == '"') {
			in_str = 1;
		} else if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
			return 1;
		}
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	struct json_err e;
	struct buf b = { 0 };

	memcpy(copy, data, size);
	int kind = json_validate(copy, size, 0, &e), spaced = -1;
	if (kind == 0 && (e.col < 1 || e.col > size + 1))
		abort();
	if (json_validate_spaced(copy, size, 0, &e, &spaced) != kind ||
	    (kind != 0 && spaced != has_space(copy, size)))
		abort();
	if (json_validate(copy, size, JSON_SQS_CHARS, &e) != 0 && kind == 0)
		abort();	/* the SQS alphabet only narrows */
	(void)utf8_check(copy, size, JSON_SQS_CHARS);
	json_add_string(&b, copy, size);
	if (json_validate(b.p, b.n, 0, &e) != '"')
		abort();
	buf_free(&b);
	free(copy);
	return 0;
}
