/* aws_err — AWS JSON 1.0/1.1 errors: the code from __type (without its
 * "namespace#"), the message from message or Message, the legacy code of
 * x-amzn-query-error ("AWS.SimpleQueueService.NonExistentQueue;Sender"),
 * and their SPEC exit statuses (aws.h says which and why). */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"

#include "aws_int.h"

static const char *const throttles[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"KmsThrottled", "KMS.ThrottlingException", NULL
};
static const char *const transients[] = {
	"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
	"ServiceUnavailable", NULL
};
static const char *const missing[] = {
	"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
	"ResourceNotFoundException", NULL
};
static const char *const denied[] = {
	"UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException",
	"SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException", "AccessDenied",
	"AccessDeniedException", "MissingAuthenticationToken", "IncompleteSignature",
	"InvalidSecurity", "AuthFailure", "CredentialsError", "NotAuthorizedForSourceException",
	"NotAuthorizedForDetailTypeException", NULL
};

static int
in(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

void
aws_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void
parse_query(const char *h, struct aws_error *ae)
{
	const char *semi = strchr(h, ';');
	size_t n = semi != NULL ? (size_t)(semi - h) : strlen(h);

	aws_copy(ae->query, sizeof ae->query, h, n);
	ae->sender = semi != NULL && strncmp(semi + 1, "Sender", 6) == 0;
}

static void
parse_body(const char *p, size_t n, struct aws_error *ae)
{
	struct json_err je;
	struct buf b = { 0 };

	if (json_validate(p, n, 0, &je) != '{')
		return;
	size_t obj = json_ws(p, n, 0);
	if (aws_json_str(p, n, obj, "__type", &b) > 0 ||
	    aws_json_str(p, n, obj, "code", &b) > 0 || aws_json_str(p, n, obj, "Code", &b) > 0) {
		const char *hash = memchr(b.p, '#', b.n);
		const char *c = hash != NULL ? hash + 1 : b.p;
		/* REST-JSON style "Code:http://internal..." carries a suffix. */
		aws_copy(ae->code, sizeof ae->code, c, strcspn(c, ":"));
	}
	if (aws_json_str(p, n, obj, "message", &b) > 0 ||
	    aws_json_str(p, n, obj, "Message", &b) > 0)
		aws_copy(ae->msg, sizeof ae->msg, b.p, b.n);
	buf_free(&b);
}

void
aws_err_parse(long http, const char *query_hdr, const char *p, size_t n, struct aws_error *ae)
{
	memset(ae, 0, sizeof *ae);
	ae->http = http;
	if (query_hdr != NULL && *query_hdr != '\0')
		parse_query(query_hdr, ae);
	if (p != NULL)
		parse_body(p, n, ae);
	if (ae->code[0] == '\0' && ae->query[0] != '\0')
		snprintf(ae->code, sizeof ae->code, "%s", ae->query);
	if (ae->code[0] == '\0')
		snprintf(ae->code, sizeof ae->code, "HTTP %ld", http);
}

int
aws_code_kind(const char *code)
{
	if (in(code, throttles))
		return AWS_R_THROTTLE;
	if (in(code, transients))
		return AWS_R_TRANSIENT;
	return AWS_R_NO;
}

int
aws_err_kind(const struct aws_error *ae)
{
	if (ae->http == 0)
		return strcmp(ae->code, "TLSError") == 0 ? AWS_R_NO : AWS_R_TIMEOUT;
	int k = aws_code_kind(ae->code);
	if (k == AWS_R_NO && ae->query[0] != '\0')
		k = aws_code_kind(ae->query);
	if (k == AWS_R_NO && ae->http == 429)
		k = AWS_R_THROTTLE;
	if (k == AWS_R_NO && (ae->http == 500 || ae->http == 502 || ae->http == 503 ||
	    ae->http == 504))
		k = AWS_R_TRANSIENT;
	return k;
}

int
aws_err_status(const struct aws_error *ae)
{
	if (in(ae->code, missing) || in(ae->query, missing))
		return EV_NOINPUT;
	if (in(ae->code, denied) || in(ae->query, denied) || ae->http == 401 ||
	    ae->http == 403)
		return EV_NOPERM;
	switch (aws_err_kind(ae)) {
	case AWS_R_THROTTLE:
		return EV_TEMPFAIL;
	case AWS_R_TRANSIENT:
	case AWS_R_TIMEOUT:
		return EV_UNAVAILABLE;
	}
	if (ae->http == 0)
		return EV_UNAVAILABLE;
	if (ae->http >= 500)
		return EV_UNAVAILABLE;
	if (ae->http >= 400)
		return EV_DATAERR;
	return EV_SOFTWARE;
}

int
aws_err_set(struct ev_err *e, const char *op, const struct aws_error *ae)
{
	int st = aws_err_status(ae);

	if (ae->msg[0] != '\0')
		return err_set(e, st, "%s: %s: %s", op, ae->code, ae->msg);
	return err_set(e, st, "%s: %s", op, ae->code);
}
