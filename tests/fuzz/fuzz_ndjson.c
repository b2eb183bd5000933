/* Fuzzes the NDJSON reader (line splitting, the length cap, CRLF, blank
 * lines, gzip detection) over a memfd standing in for stdin. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/ndjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Gzip input that is corrupt makes the reader die(65) by design;
	 * keep gzip magic out of the first bytes and fuzz the splitter. */
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return 0;
	int fd = memfd_create("fuzz", 0);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	int saved = dup(0);
	dup2(fd, 0);
	close(fd);

	size_t cap = size > 0 ? data[0] % 64 + 1 : 8;
	struct ndj_reader *r = ndj_open(NULL, 0, cap);
	struct ndj_line l;
	size_t total = 0;
	int kind;
	while ((kind = ndj_next(r, &l)) != NDJ_EOF) {
		if (l.n > cap || l.lineno == 0)
			abort();
		if (kind == NDJ_LINE && (l.n == 0 || memchr(l.p, '\n', l.n) != NULL))
			abort();
		total += l.n;
	}
	if (total > size)
		abort();
	ndj_close(r);
	dup2(saved, 0);
	close(saved);
	return 0;
}
