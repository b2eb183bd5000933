/* jx — the one libjq wrapper: jq programs compiled once and run per
 * event, with every value handed to libjq checked first.
 *
 * libjq 1.6 aborts the process (an assert) on inputs evkit's own
 * validator accepts: a lone surrogate ("\ud800") or nesting deeper than
 * 256 make jv_parse fail, and jq_start on that failure asserts; so does
 * jq_next called again after an error, and a program with `import` when
 * no library path is set.  Nothing outside this file calls jq_start,
 * jq_next or jq_compile; a value libjq cannot take is refused here with
 * EV_DATAERR and the reason, which a command reports as
 * "cmd: FILE:LINE: reason" (exit 65), a bus target as a failed delivery,
 * fnrun as the invocation's error. */
#ifndef EVKIT_JX_H
#define EVKIT_JX_H

#include <stddef.h>

#include <jv.h>

#include "buf.h"
#include "err.h"
#include "msg.h"

struct jx;

/* Compiles prog.  0 and *out, or EV_USAGE with e saying why (libjq's
 * compile errors, joined by "; "). */
int jx_compile(const char *prog, struct jx **out, struct ev_err *e);
void jx_free(struct jx *x);

/* Parses the JSON text json[0..n) into *v for libjq.  0, or EV_DATAERR
 * with e when libjq cannot take it (not JSON, a lone surrogate, nesting
 * deeper than 256, over 2 GiB). */
int jx_parse(const char *json, size_t n, jv *v, struct ev_err *e);

enum { JX_FIRST, JX_LAST };

/* Runs x on in (consumed: a valid value, from jx_parse or built of such
 * values) and sets *out to its first output (JX_FIRST: the program is not
 * run further) or its last (JX_LAST).  Returns 0 with *out; EV_NONE with
 * *out = jv_null() when it yields nothing (or stops by `halt`); EV_DATAERR
 * with e = the error's message (`error`, `halt_error`, a runtime error),
 * *out = jv_null(). */
int jx_run(struct jx *x, jv in, int which, jv *out, struct ev_err *e);

/* jx_parse, then jx_run. */
int jx_eval(struct jx *x, const char *json, size_t n, int which, jv *out, struct ev_err *e);

/* The value x selects in the JSON text json[0..n), as a key (a stream
 * name, a FIFO group or dedup id): a string's characters, or a number's
 * or boolean's exact JSON text, appended to key.  A simple path (.a.b,
 * .a["b"], ."a", .a[0]) is resolved on the text itself, so a number is
 * never rounded through a double; any other program runs in libjq, where
 * only integers below 2^53 come out exact (others are refused).  0, or
 * EV_DATAERR with e when the path fails on this value, or yields
 * nothing, null, an array or an object. */
int jx_key(struct jx *x, const char *json, size_t n, struct buf *key, struct ev_err *e);

/* Appends v's compact JSON text (v borrowed) to b: byte for byte what
 * jv_dump_string(v, 0) writes, without its cost (libjq puts every
 * character of a string through its own call, every number through
 * dtoa, and grows a jv string piece by piece). */
void jx_dump(jv v, struct buf *b);

/* The same as a jv string (v consumed), as jv_dump_string(v, 0). */
jv jx_dump_string(jv v);

#endif
