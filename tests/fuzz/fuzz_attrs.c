/* Fuzzes the --attr spec parser (names, types, base64, MD5 rendering) and
 * the receipt-handle parser: no crash, and what renders is valid JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "queue/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *specs[12];
	int n = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	/* Newlines split the input into up to 12 --attr specs. */
	for (char *p = text; n < 12; ) {
		specs[n++] = p;
		char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	char *json = NULL, md5[33];
	long sz;
	struct ev_err err = { 0 };
	if (q_attrs_render(specs, n, &json, md5, &sz, &err) == 0) {
		struct json_err e;
		if (json == NULL || json_validate(json, strlen(json), 0, &e) != '{' || strlen(md5) != 32 ||
		    sz < 0)
			abort();
	} else if (err.msg[0] == '\0') {
		abort();	/* a refusal always says why */
	}
	free(json);
	int64_t rowid, receipt;
	if (q_parse_handle(specs[0], &rowid, &receipt) == 0 && (rowid <= 0 || receipt == 0))
		abort();
	free(text);
	return 0;
}
