/* Fuzzes the NDJSON reader (line splitting, the length cap, CRLF, blank
 * lines, gzip detection and inflating, corrupt gzip as NDJ_ERROR) over a
 * memfd standing in for stdin. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/msg.h"
#include "core/ndjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	int saved = dup(0);
	dup2(fd, 0);
	close(fd);

	struct ndj_conf conf = { .max_line = size > 2 ? data[size - 1] % 64 + 1 : 8 };
	struct ndj_reader *r = ndj_open(NULL, 0, &conf);
	struct ndj_line l;
	size_t total = 0;
	int kind, errors = 0;
	while ((kind = ndj_next(r, &l)) != NDJ_EOF) {
		if (l.n > conf.max_line || l.lineno == 0)
			abort();
		if (kind == NDJ_LINE && (l.n == 0 || memchr(l.p, '\n', l.n) != NULL))
			abort();
		/* only gzip data can be bad, and stdin is read once */
		if (kind == NDJ_ERROR && (!gz || ndj_error(r)->code != EV_DATAERR || errors++ > 0))
			abort();
		total += l.n;
	}
	if (!gz && total > size)
		abort();
	ndj_close(r);
	dup2(saved, 0);
	close(saved);
	return 0;
}
