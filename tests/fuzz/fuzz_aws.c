/* Fuzzes the AWS response and error parsers: an error body (with an HTTP
 * status and an x-amzn-query-error header from the first bytes), a
 * ReceiveMessage answer, a SendMessageBatch answer, message attributes'
 * MD5 and a credential_process output.  No crash, no read past the
 * input, and what they return is whole: an error has a code, a parsed
 * message has its fields, a status is a SPEC status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/aws_int.h"
#include "core/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_status(int st)
{
	if (st != 0 && st != EV_DATAERR && st != EV_NOINPUT && st != EV_UNAVAILABLE &&
	    st != EV_SOFTWARE && st != EV_TEMPFAIL && st != EV_NOPERM && st != EV_USAGE)
		abort();
}

static void
fuzz_error(const char *p, size_t n, unsigned sel)
{
	struct aws_error ae;
	struct ev_err e;
	const char *nl = memchr(p, '\n', n);
	char hdr[128] = "";

	if (nl != NULL && (size_t)(nl - p) < sizeof hdr) {
		memcpy(hdr, p, (size_t)(nl - p));
		hdr[nl - p] = '\0';
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	aws_err_parse(sel % 2 ? 400 : (long)(sel * 7 % 600), hdr, p, n, &ae);
	if (ae.code[0] == '\0' || strlen(ae.code) >= sizeof ae.code)
		abort();
	check_status(aws_err_set(&e, "Op", &ae));
	(void)aws_err_kind(&ae);
}

static void
fuzz_send(const char *p, size_t n)
{
	struct aws_sqs_out o[3] = {
		{ .body = "x", .len = 1, .delay_s = -1 },
		{ .body = "y", .len = 1, .delay_s = -1, .attrs_md5 = "0a77b0642718c3d9dd47090567d11e0d" },
		{ .body = "z", .len = 1, .delay_s = -1 },
	};
	struct ev_err e;

	check_status(aws_sqs_parse_send(p, n, o, 3, &e));
	for (int i = 0; i < 3; i++)
		if (o[i].status == 0 && o[i].id[0] == '\0')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned sel = data[0];
	size_t n = size - 1;
	char *p = malloc(n ? n : 1);	/* exact size: ASan sees overreads */
	struct ev_err e;
	struct aws_sqs_msg *m;
	size_t count;
	char md5[33];

	memcpy(p, data + 1, n);
	switch (sel % 5) {
	case 0:
		fuzz_error(p, n, sel / 5);
		break;
	case 1:
		check_status(aws_sqs_parse_recv(p, n, &m, &count, &e));
		for (size_t i = 0; i < count; i++)
			if (m[i].id == NULL || m[i].receipt == NULL || m[i].body == NULL)
				abort();
		aws_sqs_msgs_free(m, count);
		break;
	case 2:
		fuzz_send(p, n);
		break;
	case 3:
		check_status(aws_sqs_attrs_md5(p, n, md5, &e));
		break;
	default: {
		struct aws_conf *c = calloc(1, sizeof *c);
		check_status(aws_conf_process_json(c, p, n, &e));
		aws_conf_free(c);
	}
	}
	free(p);
	return 0;
}
