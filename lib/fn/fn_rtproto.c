/* fn_rtproto — the Runtime API's routes and state rules; see fn_rtproto.h.
 * Statuses and error types as the Runtime Interface Emulator answers
 * (ref/lambda.md section 1). */
#include <string.h>

#include <jv.h>

#include "core/json.h"
#include "core/jx.h"
#include "fn_rtproto.h"

#define RT_BASE "/2018-06-01/runtime/"

/* "invocation/ID/response" or "invocation/ID/error": the call, the id. */
static enum fn_rt_call
route_invocation(const char *p, char id[FN_RT_ID_MAX + 1])
{
	const char *slash = strchr(p, '/');

	if (slash == NULL || slash == p || (size_t)(slash - p) > FN_RT_ID_MAX)
		return FN_RT_NOT_FOUND;
	memcpy(id, p, (size_t)(slash - p));
	id[slash - p] = '\0';
	if (strcmp(slash + 1, "response") == 0)
		return FN_RT_RESPONSE;
	if (strcmp(slash + 1, "error") == 0)
		return FN_RT_ERROR;
	return FN_RT_NOT_FOUND;
}

enum fn_rt_call
fn_rt_route(const char *method, const char *url, char id[FN_RT_ID_MAX + 1])
{
	enum fn_rt_call c = FN_RT_NOT_FOUND;
	const char *want = "POST";

	id[0] = '\0';
	if (strncmp(url, RT_BASE, sizeof RT_BASE - 1) != 0)
		return FN_RT_NOT_FOUND;
	url += sizeof RT_BASE - 1;
	if (strcmp(url, "invocation/next") == 0) {
		c = FN_RT_NEXT;
		want = "GET";
	} else if (strcmp(url, "init/error") == 0) {
		c = FN_RT_INIT_ERROR;
	} else if (strncmp(url, "invocation/", 11) == 0) {
		c = route_invocation(url + 11, id);
	}
	if (c != FN_RT_NOT_FOUND && strcmp(method, want) != 0)
		return FN_RT_BAD_METHOD;
	return c;
}

static void
refuse(struct fn_rt_decision *d, int status, const char *type, const char *msg)
{
	d->status = status;
	d->act = FN_RT_DO_ANSWER;
	d->type = type;
	d->msg = msg;
}

void
fn_rt_decide(enum fn_rt_phase phase, int assigned, const char *cur_id, enum fn_rt_call call,
    const char *id, int too_large, struct fn_rt_decision *d)
{
	static const char state[] = "State transition is not allowed";

	*d = (struct fn_rt_decision){ 202, FN_RT_DO_ANSWER, NULL, NULL };
	switch (call) {
	case FN_RT_NEXT:
		if (phase == FN_RT_BUSY)
			refuse(d, 403, "InvalidStateTransition", state);
		else if (assigned)
			*d = (struct fn_rt_decision){ 200, FN_RT_DO_DELIVER, NULL, NULL };
		else
			*d = (struct fn_rt_decision){ 200, FN_RT_DO_WAIT, NULL, NULL };
		return;
	case FN_RT_RESPONSE:
	case FN_RT_ERROR:
		if (phase != FN_RT_BUSY)
			refuse(d, 403, "InvalidStateTransition", state);
		else if (cur_id == NULL || strcmp(id, cur_id) != 0)
			refuse(d, 400, "InvalidRequestID", "Invalid request ID");
		else if (call == FN_RT_RESPONSE && too_large)
			refuse(d, 413, "RequestEntityTooLarge",
			    "Exceeded maximum allowed payload size (6291556 bytes).");
		d->act = d->status == 413 ? FN_RT_DO_TOO_LARGE : d->status != 202 ? FN_RT_DO_ANSWER :
		    call == FN_RT_RESPONSE ? FN_RT_DO_RESULT : FN_RT_DO_FN_ERROR;
		return;
	case FN_RT_INIT_ERROR:
		if (phase != FN_RT_INIT)
			refuse(d, 403, "InvalidStateTransition", state);
		else
			d->act = FN_RT_DO_INIT_ERROR;
		return;
	case FN_RT_BAD_METHOD:
		refuse(d, 405, "MethodNotAllowed", "Method not allowed");
		return;
	case FN_RT_NOT_FOUND:
		break;
	}
	refuse(d, 404, "NotFound", "Not found");
}

/* A string member of o, or NULL (jv o is borrowed). */
static const char *
member(jv o, const char *key, jv *keep)
{
	*keep = jv_object_get(jv_copy(o), jv_string(key));
	return jv_get_kind(*keep) == JV_KIND_STRING ? jv_string_value(*keep) : NULL;
}

void
fn_rt_error_obj(struct buf *b, const char *type_hdr, const char *fallback, const char *body,
    size_t n)
{
	struct ev_err e;
	jv o = jv_invalid(), mj = jv_invalid(), tj = jv_invalid(), st = jv_invalid();
	const char *msg = NULL, *type = NULL;
	size_t mlen = 0;

	if (n > 0 && jx_parse(body, n, &o, &e) == 0 && jv_get_kind(o) == JV_KIND_OBJECT) {
		msg = member(o, "errorMessage", &mj);
		type = member(o, "errorType", &tj);
		st = jv_object_get(jv_copy(o), jv_string("stackTrace"));
		if (jv_get_kind(st) != JV_KIND_ARRAY) {
			jv_free(st);
			st = jv_object_get(jv_copy(o), jv_string("trace"));
		}
		mlen = msg != NULL ? strlen(msg) : 0;
	} else if (n > 0) {
		msg = body;	/* not an object: the text says it */
		mlen = n < 4096 ? n : 4096;
	}
	if (type == NULL || *type == '\0')
		type = type_hdr != NULL && *type_hdr != '\0' ? type_hdr : fallback;
	buf_reset(b);
	buf_adds(b, "{\"errorMessage\":");
	json_add_string(b, msg != NULL ? msg : "", mlen);
	buf_adds(b, ",\"errorType\":");
	json_add_string(b, type, strlen(type));
	if (jv_get_kind(st) == JV_KIND_ARRAY) {
		jv s = jv_dump_string(jv_copy(st), 0);
		buf_adds(b, ",\"stackTrace\":");
		buf_adds(b, jv_string_value(s));
		jv_free(s);
	}
	buf_addc(b, '}');
	jv_free(st);
	jv_free(mj);
	jv_free(tj);
	jv_free(o);
}
