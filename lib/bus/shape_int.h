/* shape internals: the input_template engine shared by shape.c. */
#ifndef EVKIT_SHAPE_INT_H
#define EVKIT_SHAPE_INT_H

#include <stddef.h>

#include "core/buf.h"
#include "jpath.h"
#include "shape.h"

/* One name -> JSONPath of input_paths_map. */
struct var {
	char *name;
	struct jpath path;
};

/* A template cut into literal text and placeholders. */
struct piece {
	int kind;	/* P_TEXT, P_VAR or one of the reserved P_* */
	int ctx;	/* where it stands: C_VALUE, C_STRING or C_PLAIN */
	size_t off, len;	/* P_TEXT: its bytes in tmpl.text */
	size_t var;	/* P_VAR: index into the variables */
};

enum { P_TEXT, P_VAR, P_RULE_NAME, P_RULE_ARN, P_INGESTED, P_EVENT, P_EVENT_JSON };
enum {
	C_VALUE,	/* a JSON value in a JSON template: strings keep quotes */
	C_STRING,	/* inside a JSON string of a JSON template */
	C_PLAIN		/* a template that is not JSON: values as plain text */
};

struct tmpl {
	struct buf text;
	struct piece *pc;
	size_t n, cap;
	int json;	/* the template is JSON; else plain text */
};

/* Compiles t against the variables; -1 with *why (malloc'd) if invalid. */
int tmpl_compile(struct tmpl *tp, const char *t, const struct var *vars, size_t nvars, char **why);
void tmpl_free(struct tmpl *tp);
void tmpl_render(const struct tmpl *tp, const struct var *vars, const char *ev, size_t n,
    const struct shape_ctx *ctx, struct buf *out);

#endif
