/* Fuzzes the JSON validator and string writer: no crash, no read past
 * the input, and whatever json_add_string() writes validates as a string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	struct json_err e;
	struct buf b = { 0 };

	memcpy(copy, data, size);
	int kind = json_validate(copy, size, 0, &e);
	if (kind == 0 && (e.col < 1 || e.col > size + 1))
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
