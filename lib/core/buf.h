/* buf — a growable byte string.  Always NUL-terminated after the first add. */
#ifndef EVKIT_BUF_H
#define EVKIT_BUF_H

#include <stddef.h>

struct buf {
	char *p;
	size_t n, cap;
};

void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Takes the string out of b, which is left empty; the caller frees it. */
char *buf_detach(struct buf *b);

/* Appends the whole file at path (b->p is then never NULL).  0, or errno. */
int buf_read_file(struct buf *b, const char *path);
/* Writes all of b to fd, through short writes and EINTR.  0, or errno. */
int buf_write_fd(const struct buf *b, int fd);
/* Writes p[0..n) to fd, through short writes and EINTR: 0, or -1 with
 * errno set. */
int write_fully(int fd, const void *p, size_t n);

#endif
