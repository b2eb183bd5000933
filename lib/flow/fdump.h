/* fdump — compact JSON text of a value, byte for byte what
 * jv_dump_string(v, 0) writes, without its cost (libjq puts every
 * character of a string through its own call and every number through
 * dtoa). */
#ifndef EVKIT_FDUMP_H
#define EVKIT_FDUMP_H

#include <jv.h>

#include "core/buf.h"

/* Appends v's text (v borrowed) to b. */
void fdump(jv v, struct buf *b);

/* The same as a jv string (v consumed), as jv_dump_string(v, 0). */
jv fdump_string(jv v);

#endif
