/* Fuzzes the AWS response and error parsers: an error body (with an HTTP
 * status and an x-amzn-query-error header from the first bytes), a
 * ReceiveMessage answer, a SendMessageBatch answer, a PutEvents answer,
 * message attributes' MD5 and their shapes, and a credential_process
 * output.  No crash, no read past the
 * input, and what they return is whole: an error has a code, a parsed
 * message has its fields, a status is a SPEC status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws.h"
#include "aws/aws_int.h"
#include "core/json.h"
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

static void
fuzz_events(const char *p, size_t n)
{
	struct aws_events_entry en[3];
	struct ev_err e;

	memset(en, 0, sizeof en);
	for (int i = 0; i < 3; i++) {
		en[i].source = "s";
		en[i].detail_type = "t";
		en[i].detail = "{}";
		en[i].detail_len = 2;
		en[i].time_ms = -1;
	}
	check_status(aws_events_parse_put(p, n, en, 3, &e));
	for (int i = 0; i < 3; i++)
		if (en[i].status == 0 && en[i].id[0] == '\0')
			abort();
}

/* Both conversions of a NUL-terminated copy: what comes out is JSON. */
static void
fuzz_shapes(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	struct buf out = { 0 };
	struct json_err je;
	struct ev_err e;

	memcpy(s, p, n);
	s[n] = '\0';
	if (aws_sqs_attrs_from_lambda(s, &out, &e) == 0 && json_validate(out.p, out.n, 0, &je) != '{')
		abort();
	if (aws_sqs_attrs_to_lambda(s, &out, &e) == 0 && json_validate(out.p, out.n, 0, &je) != '{')
		abort();
	buf_free(&out);
	free(s);
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
	switch (sel % 7) {
	case 0:
		fuzz_error(p, n, sel / 7);
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
	case 5:
		fuzz_events(p, n);
		break;
	case 6:
		fuzz_shapes(p, n);
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
