#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmap.h"
#include "sigact.h"

/* The live maps, for the SIGBUS handler.  Maps are made and dropped by the
 * thread that reads input, before any scanning thread starts or after
 * they have all finished. */
enum { MAX_MAPS = 8 };
static struct { uintptr_t lo, hi; int fd; size_t n; } maps[MAX_MAPS];
/* Set before the zero pages are put in, so a thread that reads a zero of
 * ours sees the flag when it looks afterwards; atomic, since the scanning
 * threads look too. */
static atomic_int shrunk;
static int handler_set;

static uintptr_t page;	/* set before the handler is */

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)uc;
	/* past the end of the file; an I/O or memory error is no shrink */
	for (int i = 0; i < MAX_MAPS && si->si_code == BUS_ADRERR; i++) {
		if (a < maps[i].lo || a >= maps[i].hi)
			continue;
		uintptr_t from = a & ~(page - 1);
		atomic_store(&shrunk, 1);
		/* mmap is a plain system call on Linux, safe here in practice */
		if (mmap((void *)from, maps[i].hi - from, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED)
			return;	/* the faulting read runs again, on zeros */
	}
	/* Not a map of ours: die of it as if there were no handler. */
	sigact_die(sig);
}

static void
set_handler(void)
{
	sigact_set_info(SIGBUS, on_sigbus, 0);
	handler_set = 1;
}

int
fmap_open(int fd, size_t n, struct fmap *m)
{
	int slot = -1;

	for (int i = 0; i < MAX_MAPS && slot < 0; i++)
		if (maps[i].hi == 0)
			slot = i;
	if (slot < 0 || n == 0) {
		errno = ENOMEM;
		return -1;
	}
	if (!handler_set) {
		page = (uintptr_t)sysconf(_SC_PAGESIZE);
		set_handler();
	}
	void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	/* read once, front to back: read ahead, drop behind */
	(void)madvise(p, n, MADV_SEQUENTIAL);
	maps[slot].lo = (uintptr_t)p;
	maps[slot].hi = ((uintptr_t)p + n + page - 1) & ~(page - 1);
	maps[slot].fd = fd;
	maps[slot].n = n;
	m->p = p;
	m->n = n;
	return 0;
}

void
fmap_close(struct fmap *m)
{
	if (m->p == NULL)
		return;
	for (int i = 0; i < MAX_MAPS; i++)
		if (maps[i].lo == (uintptr_t)m->p)
			maps[i].lo = maps[i].hi = 0;
	munmap((void *)(uintptr_t)m->p, m->n);
	m->p = NULL;
	m->n = 0;
}

int
fmap_shrunk(void)
{
	return atomic_load(&shrunk) != 0;
}

int
fmap_shrunk_now(void)
{
	struct stat st;

	for (int i = 0; i < MAX_MAPS && !atomic_load(&shrunk); i++)
		if (maps[i].hi != 0 && fstat(maps[i].fd, &st) == 0 &&
		    (uintmax_t)st.st_size < maps[i].n)
			atomic_store(&shrunk, 1);
	return atomic_load(&shrunk) != 0;
}
