/* fpath — ASL's JSONPath query language, on libjq values (jv): paths and
 * reference paths, payload templates (Parameters, ResultSelector,
 * ItemSelector, Assign), ResultPath, and Choice rules.
 *
 * Ownership: jv arguments are borrowed (the caller keeps its reference;
 * what a function keeps it jv_copy()s); a jv *out is a new reference the
 * caller owns, set only on success.  Runtime failures are -1 with f set to
 * the error and cause AWS gives; definition checks return NULL or why. */
#ifndef EVKIT_FPATH_H
#define EVKIT_FPATH_H

#include <stddef.h>

#include <jv.h>

#include "ferr.h"

/* What a path may read: "$..." the state's input (or the result, for
 * ResultSelector), "$$..." the context object, "$name..." a variable. */
struct fscope {
	jv input;
	jv ctx;		/* the context object; jv_null() if none */
	jv vars;	/* an object: variable name -> value; jv_null() if none */
};

enum fpath_kind {
	FPATH_PATH,		/* any JSONPath: InputPath, OutputPath, ItemsPath, ".$" values */
	FPATH_REFERENCE		/* $ (or $$, $name), then .name, ['name'], [n] only:
				 * ResultPath (under $ alone: fpath_set), ItemsPath,
				 * the ...Path fields */
};

/* Definition time: NULL, or why path is not a valid path of kind. */
const char *fpath_check(const char *path, enum fpath_kind kind);

/* The value path selects in s.  field names the ASL field for the cause
 * ("InputPath", "Parameters", ...).  A path with a wildcard, a filter,
 * a slice, a union or ".." yields an array of its matches.  0 and *out,
 * or -1 with f: States.Runtime (a path with no match). */
int fpath_get(const char *path, const struct fscope *s, const char *field, jv *out,
    struct ferr *f);

/* ResultPath: input with value put at the reference path refpath ("$":
 * value replaces it), objects made on the way.  0 and *out, or -1 with f:
 * States.ReferencePathConflict, "Unable to apply ReferencePath $.a to
 * input ..." as AWS says, when the path runs into a value that is not an
 * object (or an index past an array's end); States.Runtime for a path
 * that is not a reference path under "$". */
int fpath_set(jv input, const char *refpath, jv value, jv *out, struct ferr *f);

/* A payload template: members whose name ends in ".$" take the value of
 * their path or intrinsic function call (through fintr_eval), under the
 * name without ".$"; nested objects and arrays are templates too.
 * Check: NULL, or why, with the JSON path of the bad member from field
 * (e.g. "/States/A/Parameters/x.$") written to where[0..n). */
const char *ftmpl_check(jv tmpl, const char *field, char *where, size_t n);
int ftmpl_apply(jv tmpl, const struct fscope *s, const char *field, jv *out,
    struct ferr *f);

/* One Choice rule (a member of Choices, without its Next, or a nested
 * rule of And, Or, Not): every comparison operator (StringEquals ...
 * TimestampLessThanEqualsPath, IsNull, IsPresent, IsNumeric, IsString,
 * IsBoolean, IsTimestamp, StringMatches), And, Or, Not.  Check as
 * ftmpl_check; eval: 0 and *match, or -1 with f (States.Runtime: a
 * Variable with no value, other than for IsPresent). */
const char *fchoice_check(jv rule, const char *field, char *where, size_t n);
int fchoice_eval(jv rule, const struct fscope *s, int *match, struct ferr *f);

/* Paths and templates are parsed on first use and kept per thread, by
 * text and by value: this drops what the thread keeps (a definition's
 * end calls it). */
void fpath_cache_clear(void);

#endif
