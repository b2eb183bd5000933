/* evlog_idx.c — the index: stream heads and event ids, so that an append
 * does not rescan the log.  It is a cache and nothing more: a mmap'd
 * open-addressing hash table of 64-bit keys with a header saying how far
 * into the log it reflects.  Only writers touch it, under the lock.
 *
 * Why it can be trusted: entries are added only after the records they
 * describe were written in full; re-adding a record is harmless (same
 * key, same value), so a writer killed half-way leaves the header behind
 * and the next one simply catches up.  What a crash of the whole machine
 * may leave (pages written out of order) is covered by the boot id in the
 * header: an index from another boot is rebuilt from the log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/fsx.h"
#include "core/msg.h"

struct ihdr {
	char magic[8];
	uint64_t cap;
	struct elog_pos pos;
	char boot[40];
	uint32_t crc;		/* of the bytes before it */
	uint32_t pad;
	uint64_t used;		/* exact at all times: kept out of the crc */
};

struct slot {
	uint64_t key, val;
};

struct elog_idx {
	int fd;
	size_t len;
	struct ihdr *h;
	struct slot *s;
	struct elog_pos pos;
	ino_t ino;
};

enum { HDR = 4096, MIN_CAP = 1 << 14 };
static const char MAGIC[8] = "EVLOGIX1";

static char boot_id_text[40];
static pthread_once_t boot_id_once = PTHREAD_ONCE_INIT;

static void
read_boot_id(void)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, boot_id_text, 39) < 0)
			boot_id_text[0] = '\0';
		close(fd);
	}
}

/* Read once per process, by whichever thread first needs it (bus log:
 * targets open their logs from their own threads). */
static void
boot_id(char out[40])
{
	pthread_once(&boot_id_once, read_boot_id);
	memcpy(out, boot_id_text, 40);
}

static uint32_t
hdr_crc(const struct ihdr *h)
{
	return (uint32_t)crc32(0, (const Bytef *)h, offsetof(struct ihdr, crc));
}

static void
unmap(struct elog_idx *x)
{
	if (x->h != NULL)
		munmap(x->h, x->len);
	if (x->fd >= 0)
		close(x->fd);
	x->h = NULL;
	x->s = NULL;
	x->fd = -1;
}

void
elog_idx_close(struct elog *l)
{
	if (l->idx == NULL)
		return;
	unmap(l->idx);
	free(l->idx);
	l->idx = NULL;
}

/* Maps fd; 0 if its header is sound and from this boot. */
static int
map(struct elog_idx *x, int fd)
{
	struct stat st;
	char boot[40];

	x->fd = fd;
	if (fstat(fd, &st) != 0 || st.st_size < HDR)
		return -1;
	x->ino = st.st_ino;
	x->len = (size_t)st.st_size;
	void *m = mmap(NULL, x->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		x->h = NULL;
		return -1;
	}
	x->h = m;
	x->s = (struct slot *)((char *)m + HDR);
	boot_id(boot);
	const struct ihdr *h = x->h;
	if (memcmp(h->magic, MAGIC, 8) != 0 || h->crc != hdr_crc(h) ||
	    memcmp(h->boot, boot, 40) != 0 || h->cap < MIN_CAP ||
	    (h->cap & (h->cap - 1)) != 0 || x->len != HDR + h->cap * sizeof(struct slot) ||
	    h->used >= h->cap)
		return -1;
	x->pos = h->pos;
	return 0;
}

/* Puts the entries of old, if any, into the empty table of cap slots at
 * mem (the header first). */
static void
table(const struct elog_idx *old, char *mem, uint64_t cap)
{
	struct ihdr *h = (struct ihdr *)mem;
	struct slot *s = (struct slot *)(mem + HDR);

	h->cap = cap;
	if (old == NULL || old->h == NULL)
		return;
	for (uint64_t i = 0; i < old->h->cap; i++) {
		const struct slot *o = &old->s[i];
		if (o->key == 0)
			continue;
		uint64_t j = o->key & (cap - 1);
		while (s[j].key != 0)
			j = (j + 1) & (cap - 1);
		s[j] = *o;
		h->used++;
	}
}

/* Writes a new index file with room for cap slots holding the entries of
 * old (if any), and renames it in place.  The header is written last. */
static int
rebuild(struct elog *l, uint64_t cap, const struct elog_pos *posp, struct ev_err *e)
{
	struct elog_pos pos0 = *posp, *pos = &pos0;	/* posp may point into l->idx */
	struct elog_idx nx = { .fd = -1 };
	struct elog_idx *old = l->idx;
	/* A fresh file: what a writer that died left there is not reused,
	 * nor is a symlink ever followed. */
	int fd = fsx_create_tmp(l->dirfd, "index.tmp", O_RDWR, 0600);

	if (fd < 0)
		return elog_fail_open(l, e, "create", "index.tmp");
	nx.fd = fd;
	nx.len = HDR + cap * sizeof(struct slot);
	/* The blocks are reserved first, so that a full disk fails here and
	 * not as SIGBUS on a later store; they read as zeros, and the mapping
	 * is populated in one go, not a page fault per 4 KiB.  (A table built
	 * in private huge pages and written out cost a copy more, and the
	 * huge pages compaction: up to 0.4 s more system time in the
	 * bench's 1M-event append on a busy machine.) */
	int fe = posix_fallocate(fd, 0, (off_t)nx.len);
	if (fe != 0) {
		errno = fe;
		int rc = err_sys(e, EV_IOERR, "%s/index.tmp", l->dir);
		close(fd);
		unlinkat(l->dirfd, "index.tmp", 0);	/* the log needs the room more */
		return rc;
	}
	void *m = mmap(NULL, nx.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return err_sys(e, EV_IOERR, "cannot map '%s/index.tmp'", l->dir);
	}
	table(old, m, cap);
	nx.h = m;
	nx.s = (struct slot *)((char *)m + HDR);
	nx.pos = *pos;
	if (renameat(l->dirfd, "index.tmp", l->dirfd, "index") != 0) {
		unmap(&nx);
		return err_sys(e, EV_IOERR, "cannot rename '%s/index.tmp'", l->dir);
	}
	struct stat st;
	fstat(fd, &st);
	nx.ino = st.st_ino;
	if (old != NULL)
		unmap(old);
	else
		old = l->idx = xmalloc(sizeof *old);
	*old = nx;
	elog_idx_set_pos(l, pos);
	return 0;
}

int
elog_idx_reset(struct elog *l, struct ev_err *e)
{
	struct elog_pos zero = { 0, 0, 0, 0 };

	elog_idx_close(l);
	return rebuild(l, MIN_CAP, &zero, e);
}

int
elog_idx_open(struct elog *l, struct ev_err *e)
{
	struct stat st;

	/* Another writer may have replaced the file since we mapped it. */
	if (l->idx != NULL && fstatat(l->dirfd, "index", &st, 0) == 0 &&
	    st.st_ino == l->idx->ino) {
		l->idx->pos = l->idx->h->pos;
		return 0;
	}
	elog_idx_close(l);
	int fd = fsx_openat(l->dirfd, "index", O_RDWR, 0);
	if (fd >= 0) {
		l->idx = xcalloc(1, sizeof *l->idx);
		if (map(l->idx, fd) == 0)
			return 0;
		elog_idx_close(l);
	} else if (errno != ENOENT) {
		return elog_fail_open(l, e, "open", "index");
	}
	return elog_idx_reset(l, e);
}

const struct elog_pos *
elog_idx_pos(struct elog *l)
{
	return &l->idx->pos;
}

uint64_t
elog_idx_get(struct elog *l, uint64_t key)
{
	struct elog_idx *x = l->idx;
	uint64_t mask = x->h->cap - 1;

	for (uint64_t j = key & mask; x->s[j].key != 0; j = (j + 1) & mask)
		if (x->s[j].key == key)
			return x->s[j].val;
	return 0;
}

void
elog_idx_prefetch(struct elog *l, uint64_t key)
{
	const struct elog_idx *x = l->idx;

	__builtin_prefetch(&x->s[key & (x->h->cap - 1)], 1);
}

int
elog_idx_reserve(struct elog *l, uint64_t n, struct ev_err *e)
{
	struct elog_idx *x = l->idx;
	uint64_t cap = x->h->cap;

	/* Grow at half full, so that linear probing stays short; by four
	 * at least, so that a growing log rebuilds seldom, and once for the
	 * whole of a batch. */
	while (x->h->used + n > cap / 2)
		cap *= 4;
	return cap == x->h->cap ? 0 : rebuild(l, cap, &x->pos, e);
}

int
elog_idx_put(struct elog *l, uint64_t key, uint64_t val, struct ev_err *e)
{
	int rc = elog_idx_reserve(l, 1, e);

	if (rc != 0)
		return rc;
	struct elog_idx *x = l->idx;
	uint64_t mask = x->h->cap - 1, j;
	for (j = key & mask; x->s[j].key != 0; j = (j + 1) & mask) {
		if (x->s[j].key == key) {
			x->s[j].val = val;
			return 0;
		}
	}
	x->s[j].val = val;
	x->s[j].key = key;
	x->h->used++;
	return 0;
}

int
elog_idx_add(struct elog *l, const struct elog_rec *r, struct ev_err *e)
{
	int rc = elog_idx_put(l, elog_key_id(r->stream, r->stream_n, r->id, r->id_n), r->seq, e);

	if (rc == 0)
		rc = elog_idx_put(l, elog_key_head(r->stream, r->stream_n), r->version, e);
	return rc;
}

/* Records pos in memory; the header on disk follows in elog_idx_set_pos. */
void
elog_idx_set_pos(struct elog *l, const struct elog_pos *p)
{
	struct ihdr *h = l->idx->h;

	l->idx->pos = *p;
	memcpy(h->magic, MAGIC, 8);
	h->pos = *p;
	boot_id(h->boot);
	h->crc = hdr_crc(h);
}
