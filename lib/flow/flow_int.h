/* flow_int — the compiled definition and the interpreter's frames. */
#ifndef EVKIT_FLOW_INT_H
#define EVKIT_FLOW_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jv.h>

#include "ferr.h"
#include "fpath.h"
#include "fres.h"

/* A path field that is JSON null (InputPath: null and so on), apart from
 * an absent one (NULL, meaning "$"). */
extern const char fdef_null[];

/* Parts of the context object a state reads ($$.Map is made apart). */
enum { FCTX_EXECUTION = 1, FCTX_STATE = 2, FCTX_MACHINE = 4, FCTX_ALL = 7 };

enum fst_type { FS_PASS, FS_TASK, FS_CHOICE, FS_WAIT, FS_SUCCEED, FS_FAIL, FS_PARALLEL, FS_MAP };

struct fretrier {
	jv errors;		/* array of names */
	double interval, backoff, max_delay;	/* max_delay 0: none */
	int max_attempts, jitter_full;
};

struct fcatcher {
	jv errors;
	int next;
	const char *result_path;	/* NULL: "$" */
	jv assign;		/* jv_invalid(): none */
};

struct fbranch {		/* a Choice rule and where it leads */
	jv rule;
	int next;
	jv assign;
};

struct fmachine;

struct fstate {
	const char *name;
	enum fst_type type;
	int next;		/* -1: End (or none) */
	const char *input_path, *output_path, *result_path;
	jv parameters, result_selector, result, assign;	/* jv_invalid(): absent */
	struct fretrier *retry;
	int nretry;
	struct fcatcher *catch;
	int ncatch;
	const char *resource;			/* Task */
	double timeout_s;			/* Task: 0 none */
	const char *timeout_path;
	struct fbranch *choices;		/* Choice */
	int nchoices, deflt;
	double seconds;				/* Wait: -1 none */
	const char *timestamp, *seconds_path, *timestamp_path;
	const char *error, *cause, *error_path, *cause_path;	/* Fail */
	struct fmachine *branches;		/* Parallel */
	int nbranches;
	struct fmachine *iter;			/* Map */
	const char *items_path;
	jv item_selector;
	int max_conc;
	double tol_count, tol_pct;		/* -1: none */
	const char *max_conc_path, *tol_count_path, *tol_pct_path;
	int uses_ctx;		/* the parts of the context object it reads: FCTX_* */
};

struct fmachine {
	struct fstate *states;
	int nstates, start;
};

struct fdef {
	jv json;		/* the definition: every string above points into it */
	struct fmachine top;
	double timeout_s;	/* the machine's TimeoutSeconds, 0 none */
};

/* Loads and checks a definition; r (may be NULL) checks Task resources.
 * 0 and *out, or 2 with why = "CODE: what at /json/path". */
int fdef_load(jv def, const struct fres *r, struct fdef **out, char *why, size_t n);
void fdef_free(struct fdef *d);

/* Whether error name matches a retrier's or catcher's ErrorEquals. */
int fdef_matches(jv errors, const char *name);

#endif
