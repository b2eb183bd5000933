/* aws_attrs — SQS message attributes in JSON's shape
 * ({"k":{"DataType":"String","StringValue":"v"}}): their size toward the
 * 1 MiB limit (every name, type and value byte) and
 * MD5OfMessageAttributes (ref/sqs.md 2: names sorted by bytes, each
 * field length-prefixed big-endian, a transport byte 1 for String and
 * Number, 2 for Binary, Binary values decoded from base64). */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/b64.h"
#include "core/digest.h"
#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

struct attr {
	struct buf name, type, value;
};

static int
attr_read(const char *p, size_t n, size_t k, size_t kend, size_t v, struct attr *a,
    struct ev_err *e)
{
	struct buf raw = { 0 };
	int rc = 0;

	json_unescape(&a->name, p + k + 1, kend - k - 2);
	buf_add(&a->name, "", 0);
	if (p[v] != '{' || aws_json_str(p, n, v, "DataType", &a->type) <= 0 || a->type.n == 0)
		rc = err_set(e, EV_DATAERR, "message attribute '%s': no DataType", a->name.p);
	else if (strncmp(a->type.p, "Binary", 6) == 0) {
		if (aws_json_str(p, n, v, "BinaryValue", &raw) <= 0 ||
		    b64_decode(&a->value, raw.p, raw.n) != 0)
			rc = err_set(e, EV_DATAERR, "message attribute '%s': no base64 BinaryValue",
			    a->name.p);
	} else if (strncmp(a->type.p, "String", 6) == 0 || strncmp(a->type.p, "Number", 6) == 0) {
		if (aws_json_str(p, n, v, "StringValue", &a->value) <= 0)
			rc = err_set(e, EV_DATAERR, "message attribute '%s': no StringValue", a->name.p);
	} else {
		rc = err_set(e, EV_DATAERR, "message attribute '%s': DataType '%s' is not String, "
		    "Number or Binary", a->name.p, a->type.p);
	}
	buf_free(&raw);
	return rc;
}

static int
by_name(const void *x, const void *y)
{
	const struct attr *a = x, *b = y;
	size_t n = a->name.n < b->name.n ? a->name.n : b->name.n;
	int c = memcmp(a->name.p, b->name.p, n);

	return c != 0 ? c : (a->name.n > b->name.n) - (a->name.n < b->name.n);
}

static int
attrs_walk(const char *p, size_t n, char md5[33], size_t *size, struct ev_err *e)
{
	struct attr *a = NULL;
	size_t na = 0, cap = 0, at = json_ws(p, n, 0), k, kend, v, vend;
	struct json_err je;
	int rc = 0;

	if (json_validate(p, n, 0, &je) != '{')
		return err_set(e, EV_DATAERR, "message attributes are not a JSON object");
	while (rc == 0 && json_member(p, n, &at, &k, &kend, &v, &vend)) {
		XGROW(&a, &cap, na + 1);
		memset(&a[na], 0, sizeof a[na]);
		rc = attr_read(p, n, k, kend, v, &a[na++], e);
	}
	if (rc == 0) {
		struct digest m;
		digest_init(&m, DIGEST_MD5);
		*size = 0;
		if (na > 1)
			qsort(a, na, sizeof *a, by_name);
		for (size_t i = 0; i < na; i++) {
			digest_sqs_attr(&m, a[i].name.p, a[i].name.n, a[i].type.p, a[i].type.n,
			    strncmp(a[i].type.p, "Binary", 6) == 0, a[i].value.p, a[i].value.n);
			*size += a[i].name.n + a[i].type.n + a[i].value.n;
		}
		digest_hex(&m, md5);
	}
	for (size_t i = 0; i < na; i++) {
		buf_free(&a[i].name);
		buf_free(&a[i].type);
		buf_free(&a[i].value);
	}
	free(a);
	return rc;
}

int
aws_sqs_attrs_md5(const char *json, size_t n, char out[33], struct ev_err *e)
{
	size_t size;

	return attrs_walk(json, n, out, &size, e);
}

int
aws_sqs_attrs_size(const char *json, size_t n, size_t *size, struct ev_err *e)
{
	char md5[33];

	return attrs_walk(json, n, md5, size, e);
}

/* ---- the Lambda shape (queue/, envelopes) and SQS's JSON shape ---- */

/* One attribute in either shape into *out in the other's (to_sqs). */
static int
convert_one(const char *p, size_t n, size_t k, size_t kend, size_t v, int to_sqs,
    struct buf *out, struct ev_err *e)
{
	struct buf type = { 0 }, val = { 0 };
	int bin = 0, rc = 0;

	if (p[v] != '{' || (aws_json_str(p, n, v, to_sqs ? "dataType" : "DataType", &type) <= 0))
		rc = err_set(e, EV_DATAERR, "message attribute without a data type");
	else if (aws_json_str(p, n, v, to_sqs ? "stringValue" : "StringValue", &val) <= 0 &&
	    !(bin = aws_json_str(p, n, v, to_sqs ? "binaryValue" : "BinaryValue", &val) > 0))
		rc = err_set(e, EV_DATAERR, "message attribute without a value");
	if (rc == 0) {
		if (out->n > 1)
			buf_addc(out, ',');
		buf_add(out, p + k, kend - k);
		if (to_sqs)
			buf_printf(out, ":{\"DataType\":");
		else
			buf_adds(out, bin ? ":{\"binaryValue\":" : ":{\"stringValue\":");
		json_add_string(out, to_sqs ? type.p : val.p, to_sqs ? type.n : val.n);
		if (to_sqs)
			buf_adds(out, bin ? ",\"BinaryValue\":" : ",\"StringValue\":");
		else
			buf_adds(out, ",\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":");
		json_add_string(out, to_sqs ? val.p : type.p, to_sqs ? val.n : type.n);
		buf_addc(out, '}');
	}
	buf_free(&type);
	buf_free(&val);
	return rc;
}

static int
convert(const char *p, size_t n, int to_sqs, struct buf *out, struct ev_err *e)
{
	struct json_err je;
	size_t at = json_ws(p, n, 0), k, kend, v, vend;
	int rc = 0;

	buf_reset(out);
	if (json_validate(p, n, 0, &je) != '{')
		return err_set(e, EV_DATAERR, "message attributes are not a JSON object");
	buf_addc(out, '{');
	while (rc == 0 && json_member(p, n, &at, &k, &kend, &v, &vend))
		rc = convert_one(p, n, k, kend, v, to_sqs, out, e);
	buf_addc(out, '}');
	return rc;
}

int
aws_sqs_attrs_from_lambda(const char *json, struct buf *out, struct ev_err *e)
{
	return convert(json, strlen(json), 1, out, e);
}

int
aws_sqs_attrs_to_lambda(const char *json, struct buf *out, struct ev_err *e)
{
	return convert(json, strlen(json), 0, out, e);
}
