/* b64 — standard base64 (RFC 4648 section 4), for bodies and binary
 * message attributes. */
#ifndef EVKIT_B64_H
#define EVKIT_B64_H

#include <stddef.h>

#include "buf.h"

/* p[0..n) in base64, with padding, appended to out. */
void b64_encode(struct buf *out, const unsigned char *p, size_t n);
/* Decodes s[0..n) (padding optional, white space refused), appending the
 * bytes to out; -1 on a foreign byte. */
int b64_decode(struct buf *out, const char *s, size_t n);
/* As b64_decode, but only the strict form SQS takes: whole quads, with
 * at most two '=' of padding at the end; -1 otherwise (and for ""). */
int b64_decode_strict(struct buf *out, const char *s, size_t n);

#endif
