/* buf_io — a whole file into a buf, a buf out to a descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf.h"

int
buf_read_file(struct buf *b, const char *path)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			close(fd);
			return e;
		}
		if (got == 0)
			break;
		buf_add(b, chunk, (size_t)got);
	}
	close(fd);
	if (b->p == NULL)
		buf_add(b, "", 0);
	return 0;
}

int
buf_write_fd(const struct buf *b, int fd)
{
	return write_fully(fd, b->p, b->n) == 0 ? 0 : errno;
}

int
write_fully(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
