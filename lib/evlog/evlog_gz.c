/* evlog_gz.c — reading a sealed segment: gzip inflated by a thread of
 * its own, a few blocks ahead of the reader.
 *
 * Two things make it faster than gzread() in the reader's thread:
 * - the inflating runs on the other core, so a fold or a scan costs
 *   about its own parsing only;
 * - the deflate data is inflated raw and gzip's CRC-32 of it is the fast
 *   one of evlog_crc.c, not zlib's (a tenth of the reading time).
 * It is exactly as strict as gzread(): the same header checks (method,
 * flags, header CRC), every member's CRC and length, a truncated member
 * an error, further members read on, bytes after the last member that do
 * not start a member ignored.  A file that does not start with gzip's
 * magic is not ours to read (elog_gz_open() says so; gzread() reads it
 * as plain text).
 *
 * Each block handed over ends with a newline (but the last), so that the
 * reader's lines point into the block itself: nothing is copied. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "evlog_int.h"
#include "core/alloc.h"
#include "core/msg.h"

enum { NBLK = 8, BLOCK = 1 << 20, INBUF = 1 << 17 };

struct blk {
	char *p;
	size_t len, cap;
};

struct elog_gz {
	int fd;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct blk blk[NBLK];
	size_t rd, filled;	/* the reader's block; blocks handed over, not given back */
	int held;		/* the reader holds blk[rd] */
	int done;		/* 1: no more blocks; -1: and the data is bad */
	int stop;		/* the reader is closing */
	/* The inflating thread's own. */
	z_stream z;
	unsigned char *in;
	int eof;		/* of the file */
	uint32_t crc, isize;	/* of the member so far */
	struct blk carry;	/* a line begun in the last block */
};

/* More compressed bytes behind the unread ones; 0 at the end of the
 * file, -1 on a read error. */
static int
more_in(struct elog_gz *g)
{
	if (g->eof)
		return 0;
	memmove(g->in, g->z.next_in, g->z.avail_in);
	ssize_t got;
	do
		got = read(g->fd, g->in + g->z.avail_in, INBUF - g->z.avail_in);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	g->z.next_in = g->in;
	g->z.avail_in += (uInt)got;
	g->eof = got == 0;
	return got > 0;
}

/* The next compressed byte, or -1 at the end of the file (or an error). */
static int
byte(struct elog_gz *g)
{
	if (g->z.avail_in == 0 && more_in(g) <= 0)
		return -1;
	g->z.avail_in--;
	return *g->z.next_in++;
}

/* The next byte of a member's header, counted in its CRC. */
static int
hbyte(struct elog_gz *g, uint32_t *hcrc)
{
	int c = byte(g);
	unsigned char ch = (unsigned char)c;

	if (c >= 0)
		*hcrc = (uint32_t)crc32(*hcrc, &ch, 1);
	return c;
}

/* Skips a zero-terminated header field; -1 if the file ends first. */
static int
hstring(struct elog_gz *g, uint32_t *hcrc)
{
	int c;

	while ((c = hbyte(g, hcrc)) > 0)
		;
	return c;
}

/* A member's header after its magic, checked as inflate() checks it:
 * 0, or -1 (bad or cut short). */
static int
header(struct elog_gz *g)
{
	uint32_t hcrc = (uint32_t)crc32(0, (const unsigned char *)"\037\213", 2);
	int cm = hbyte(g, &hcrc), flg = hbyte(g, &hcrc);

	if (cm != Z_DEFLATED || flg < 0 || (flg & 0xe0) != 0)
		return -1;
	for (int i = 0; i < 6; i++)	/* mtime, xfl, os */
		if (hbyte(g, &hcrc) < 0)
			return -1;
	if (flg & 4) {			/* FEXTRA */
		int lo = hbyte(g, &hcrc), hi = hbyte(g, &hcrc);
		if (hi < 0)
			return -1;
		for (int n = lo | hi << 8; n > 0; n--)
			if (hbyte(g, &hcrc) < 0)
				return -1;
	}
	if (((flg & 8) && hstring(g, &hcrc) < 0) || ((flg & 16) && hstring(g, &hcrc) < 0))
		return -1;
	if (flg & 2) {			/* FHCRC: the low 16 bits of the CRC so far */
		uint32_t want = hcrc & 0xffff;
		int lo = byte(g), hi = byte(g);
		if (hi < 0 || (uint32_t)(lo | hi << 8) != want)
			return -1;
	}
	g->crc = g->isize = 0;
	return inflateReset(&g->z) == Z_OK ? 0 : -1;
}

/* A member's trailer, then the next member's header if one follows:
 * 0 (another member), 1 (the end), -1 (bad or cut short). */
static int
trailer(struct elog_gz *g)
{
	uint32_t v[2] = { 0, 0 };

	for (int i = 0; i < 8; i++) {
		int c = byte(g);
		if (c < 0)
			return -1;
		v[i / 4] |= (uint32_t)c << (8 * (i % 4));
	}
	if (v[0] != g->crc || v[1] != g->isize)
		return -1;
	int k = 1;
	while (g->z.avail_in < 2 && (k = more_in(g)) > 0)
		;
	if (k < 0)
		return -1;
	if (g->z.avail_in < 2 || g->z.next_in[0] != 037 || g->z.next_in[1] != 0213)
		return 1;	/* trailing bytes that are not a member: ignored, as gzread */
	g->z.next_in += 2;
	g->z.avail_in -= 2;
	return header(g);
}

/* Inflates into b until it is full or the data ends: 0 (full), 1 (the
 * end), -1 (bad data, a truncated member or a read error). */
static int
inflate_into(struct elog_gz *g, struct blk *b)
{
	while (b->len < b->cap) {
		if (g->z.avail_in == 0 && more_in(g) <= 0)
			return -1;	/* a read error, or cut short inside a member */
		uInt had = g->z.avail_in;
		g->z.next_out = (unsigned char *)b->p + b->len;
		g->z.avail_out = (uInt)(b->cap - b->len);
		int zr = inflate(&g->z, Z_NO_FLUSH);
		size_t got = (size_t)((char *)g->z.next_out - (b->p + b->len));
		g->crc = elog_crc32_update(g->crc, b->p + b->len, got);
		g->isize += (uint32_t)got;
		b->len += got;
		if (zr == Z_STREAM_END) {
			int k = trailer(g);
			if (k != 0)
				return k;
		} else if (zr != Z_OK && !(zr == Z_BUF_ERROR && (got > 0 || g->z.avail_in < had))) {
			return -1;
		}
	}
	return 0;
}

static void
grow(struct blk *b, size_t want)
{
	if (want <= b->cap)
		return;
	while (b->cap < want)
		b->cap = b->cap ? 2 * b->cap : BLOCK;
	b->p = xrealloc(b->p, b->cap);
}

/* Fills b: the line carried over, then whole lines (a line longer than
 * the block grows it); the rest of the last line goes to the carry. */
static int
fill(struct elog_gz *g, struct blk *b)
{
	grow(b, g->carry.len + BLOCK / 2);
	if (g->carry.len > 0)
		memcpy(b->p, g->carry.p, g->carry.len);
	b->len = g->carry.len;
	g->carry.len = 0;
	for (;;) {
		int k = inflate_into(g, b);
		if (k != 0)
			return k;
		char *nl = memrchr(b->p, '\n', b->len);
		if (nl != NULL) {
			size_t keep = (size_t)(nl + 1 - b->p);
			g->carry.len = b->len - keep;
			b->len = keep;
			if (g->carry.len > 0) {
				grow(&g->carry, g->carry.len);
				memcpy(g->carry.p, nl + 1, g->carry.len);
			}
			return 0;
		}
		grow(b, 2 * b->cap);
	}
}

static void *
inflater(void *arg)
{
	struct elog_gz *g = arg;
	size_t wr = 0;
	int k = 0;

	pthread_mutex_lock(&g->mu);
	while (k == 0) {
		while (g->filled == NBLK && !g->stop)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->mu);
		k = fill(g, &g->blk[wr]);	/* a block the reader is not using */
		pthread_mutex_lock(&g->mu);
		wr = (wr + 1) % NBLK;
		g->filled++;
		g->done = k;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct elog_gz *
elog_gz_open(int fd)
{
	unsigned char magic[2];
	struct elog_gz *g;

	if (pread(fd, magic, 2, 0) != 2 || magic[0] != 037 || magic[1] != 0213)
		return NULL;
	g = xcalloc(1, sizeof *g);
	g->in = xmalloc(INBUF);
	g->fd = fd;
	if (inflateInit2(&g->z, -15) != Z_OK)
		die_oom();
	g->z.next_in = g->in;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if (lseek(fd, 2, SEEK_SET) != 2 || header(g) != 0 ||
	    pthread_create(&g->th, NULL, inflater, g) != 0) {
		/* gzread() then, with its own report of a bad header */
		lseek(fd, 0, SEEK_SET);
		g->fd = -1;
		elog_gz_close(g);
		return NULL;
	}
	return g;
}

int
elog_gz_next(struct elog_gz *g, const char **p, size_t *n)
{
	int rc;

	pthread_mutex_lock(&g->mu);
	while (g->filled == (size_t)g->held && g->done == 0)
		pthread_cond_wait(&g->cv, &g->mu);
	if (g->filled > (size_t)g->held) {
		if (g->held) {
			g->rd = (g->rd + 1) % NBLK;
			g->filled--;
			pthread_cond_broadcast(&g->cv);
		}
		g->held = 1;
		*p = g->blk[g->rd].p;
		*n = g->blk[g->rd].len;
		rc = 1;
	} else {
		rc = g->done < 0 ? -1 : 0;
	}
	pthread_mutex_unlock(&g->mu);
	return rc;
}

void
elog_gz_close(struct elog_gz *g)
{
	if (g == NULL)
		return;
	if (g->fd >= 0) {
		pthread_mutex_lock(&g->mu);
		g->stop = 1;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->th, NULL);
	}
	inflateEnd(&g->z);
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	for (int i = 0; i < NBLK; i++)
		free(g->blk[i].p);
	free(g->carry.p);
	free(g->in);
	free(g);
}
