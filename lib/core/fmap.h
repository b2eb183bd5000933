/* fmap — a regular file read through a read-only map instead of read(),
 * which saves copying every byte into a buffer.
 *
 * A file cut short while it is mapped would kill the process with SIGBUS
 * at the first access past its new end.  fmap's handler puts zero pages
 * where the lost part was and sets a flag instead, so the reader can say
 * what happened (fmap_shrunk()) rather than die of a signal. */
#ifndef EVKIT_FMAP_H
#define EVKIT_FMAP_H

#include <stddef.h>

struct fmap {
	const char *p;
	size_t n;
};

/* Maps the first n bytes of fd (n > 0): 0, or -1 with errno set. */
int fmap_open(int fd, size_t n, struct fmap *m);
void fmap_close(struct fmap *m);

/* Whether some mapped file shrank under us: what was read from the lost
 * part was zeros, not the file.  fmap_shrunk() only knows of the pages
 * lost; fmap_shrunk_now() also asks whether a live map's file is shorter
 * than its map (the bytes after the new end of its last page read as
 * zeros with no signal), for when a line turns out bad. */
int fmap_shrunk(void);
int fmap_shrunk_now(void);

#endif
