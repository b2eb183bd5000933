/* json — a fast, allocation-free JSON validator and a JSON string writer.
 * Validation is what evkit needs on the hot path (is this line one JSON
 * value, in valid UTF-8?); building values is left to libjq's jv. */
#ifndef EVKIT_JSON_H
#define EVKIT_JSON_H

#include <stddef.h>

#include "buf.h"

enum {
	JSON_MAX_DEPTH = 10000,
	JSON_SQS_CHARS = 1,	/* also reject U+FFFE and U+FFFF, as SQS does */
};

struct json_err {
	size_t col;		/* 1-based byte column of the fault */
	const char *what;	/* static text */
};

/* Checks that p[0..n) is exactly one JSON value, surrounded by optional
 * white space.  Returns the kind's first byte ('{', '[', '"', 'n', 't',
 * 'f', or '0' for a number) or 0 with *err filled in. */
int json_validate(const char *p, size_t n, int flags, struct json_err *err);
/* The same, and *spaced says whether the valid text has white space
 * between its tokens (compact JSON has none). */
int json_validate_spaced(const char *p, size_t n, int flags, struct json_err *err, int *spaced);

/* Checks UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
 * With JSON_SQS_CHARS, also the SQS body alphabet: no control characters
 * but TAB, LF and CR, no U+FFFE or U+FFFF.  0 if valid, else 1-based col. */
size_t utf8_check(const char *p, size_t n, int flags);

/* Appends s as a JSON string literal; invalid UTF-8 becomes U+FFFD. */
void json_add_string(struct buf *b, const char *s, size_t n);

/* Walking JSON text in place, without building values (json_walk.c). */

/* Steps through the members of an object: start with *at at its '{'.
 * Each call gives the next member's key (quotes included) in
 * p[*k..*kend) and its value in p[*v..*vend), and returns 1; 0 at the
 * end, or where the text is not JSON. */
int json_member(const char *p, size_t n, size_t *at, size_t *k, size_t *kend, size_t *v,
    size_t *vend);

/* The index just past the JSON value starting at p[i] (after white
 * space), or (size_t)-1 if there is none.  Structure only: strings,
 * brackets and scalars are skipped, not fully validated. */
size_t json_skip(const char *p, size_t n, size_t i);

/* The index of the first byte at or after i that is not JSON white space. */
size_t json_ws(const char *p, size_t n, size_t i);

/* Appends the characters a JSON string body (the bytes between its quotes)
 * stands for: escapes decoded, \u surrogate pairs joined into UTF-8.
 * Returns 1 if a lone surrogate (which has no UTF-8 form) was written as
 * U+FFFD, so the result is not exact; else 0. */
int json_unescape(struct buf *out, const char *s, size_t n);

/* Whether the raw key body k[0..kn) (between the quotes) stands for the
 * characters name[0..len). */
int json_key_is(const char *k, size_t kn, const char *name, size_t len);

/* The value of the member name[0..len) of the object at p[i] (its '{'):
 * the index of its start, or (size_t)-1 if there is none.  Duplicate
 * names: the last one wins, as in jq and the pattern matcher. */
size_t json_find_member(const char *p, size_t n, size_t i, const char *name, size_t len);
/* Element idx of the array at p[i] (its '['): its start, or (size_t)-1. */
size_t json_find_index(const char *p, size_t n, size_t i, size_t idx);
/* The characters of the JSON string at p[v] into out (reset first, then
 * NUL-terminated beyond out->n): 1; 0 when v is (size_t)-1 or no string
 * starts there. */
int json_string_at(const char *p, size_t n, size_t v, struct buf *out);

/* Appends the valid JSON text p[0..n) without the white space between its
 * tokens: the same value, byte for byte otherwise (numbers as written). */
void json_compact(struct buf *out, const char *p, size_t n);

#endif
