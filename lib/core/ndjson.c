#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc.h"
#include "buf.h"
#include "fmap.h"
#include "json.h"
#include "msg.h"
#include "ndjson.h"

/* Regular files of MAP_MIN bytes or more are read through a map: no copy
 * into the buffer, lines handed out where they lie. */
enum { CHUNK = 1 << 18, MAP_MIN = 1 << 20 };

struct ndj_reader {
	char *const *files;
	int nfiles, next_file, status;
	size_t max_line;
	struct ndj_conf *conf;
	struct ev_err err;	/* of the last NDJ_ERROR */
	/* the source cannot be read on: said once its whole lines are out */
	int failed, fail_code, fail_errno;
	const char *fail_what;
	/* the current source */
	int fd;			/* -1: none open */
	const char *name;
	unsigned long lineno;
	int gz, eof, zmid;	/* zmid: inside a gzip member */
	z_stream z;
	unsigned char *zin;
	/* decoded bytes: buf[pos..len) not yet returned */
	char *buf;
	size_t pos, len, cap;
	struct fmap map;	/* map.p != NULL: the file's first map.n bytes */
	size_t mpos;		/* next line in the map; map.n: read() from here */
	int skipping;		/* inside an over-long line */
	void (*idle)(void *);
	void *idle_ctx;
};

struct ndj_reader *
ndj_open(char *const *files, int nfiles, struct ndj_conf *conf)
{
	static struct ndj_conf defaults;
	struct ndj_reader *r = xcalloc(1, sizeof *r);

	static char *const dash[] = { "-" };
	r->files = nfiles > 0 ? files : dash;
	r->nfiles = nfiles > 0 ? nfiles : 1;
	r->conf = conf != NULL ? conf : &defaults;
	r->max_line = r->conf->max_line > 0 ? r->conf->max_line : NDJ_MAX_LINE;
	r->fd = -1;
	/* a line of max_line bytes, its CR, and a chunk read after them */
	r->cap = r->max_line + 1 + CHUNK;
	r->buf = xmalloc(r->cap);
	return r;
}

struct ndj_conf *
ndj_conf(const struct ndj_reader *r)
{
	return r->conf;
}

const struct ev_err *
ndj_error(const struct ndj_reader *r)
{
	return &r->err;
}

void
ndj_set_idle(struct ndj_reader *r, void (*fn)(void *), void *ctx)
{
	r->idle = fn;
	r->idle_ctx = ctx;
}

int
ndj_status(const struct ndj_reader *r)
{
	return r->status;
}

static void
close_source(struct ndj_reader *r)
{
	if (r->fd > STDIN_FILENO)
		close(r->fd);
	if (r->gz == 1)
		inflateEnd(&r->z);
	fmap_close(&r->map);
	r->fd = -1;
	r->gz = 0;
}

void
ndj_close(struct ndj_reader *r)
{
	if (r == NULL)
		return;
	close_source(r);
	free(r->zin);
	free(r->buf);
	free(r);
}

/* The source cannot be read on (errno appended if sys): ndj_next() says
 * so once the whole lines before are out.  Returns 0, for fill(). */
static size_t
fail(struct ndj_reader *r, int code, int sys, const char *what)
{
	r->failed = 1;
	r->fail_code = code;
	r->fail_errno = sys ? errno : 0;
	r->fail_what = what;
	r->eof = 1;
	return 0;
}

/* The NDJ_ERROR for fail(), at the first line not read whole; the reader
 * goes on with the next FILE. */
static int
source_failed(struct ndj_reader *r, struct ndj_line *l)
{
	*l = (struct ndj_line){ "", 0, r->name, r->lineno + 1 };
	if (r->fail_code == EV_IOERR && r->fail_errno == 0) {	/* shrank: the file's fault */
		l->lineno = 0;
		err_set(&r->err, EV_IOERR, "%s: %s", r->name, r->fail_what);
	} else if (r->fail_errno != 0) {
		err_set(&r->err, r->fail_code, "%s: %s", r->fail_what, strerror(r->fail_errno));
	} else {
		err_set(&r->err, r->fail_code, "%s", r->fail_what);
	}
	r->failed = 0;
	close_source(r);
	return NDJ_ERROR;
}

/* Reads up to n raw bytes from the source, calling the idle hook first
 * when the read would block. */
static ssize_t
raw_read(struct ndj_reader *r, void *dst, size_t n)
{
	if (r->idle != NULL) {
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		if (poll(&pfd, 1, 0) == 0)
			r->idle(r->idle_ctx);
	}
	for (;;) {
		ssize_t got = read(r->fd, dst, n);
		if (got >= 0 || errno != EINTR)
			return got;
	}
}

/* Maps a large regular file that is not gzip; on any failure read()
 * does the work as for a pipe. */
static void
try_map(struct ndj_reader *r)
{
	struct stat st;
	unsigned char magic[2];

	if (fstat(r->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < MAP_MIN ||
	    (uintmax_t)st.st_size > SIZE_MAX)
		return;
	/* a stdin already read into (or named twice) goes on where it is */
	if (lseek(r->fd, 0, SEEK_CUR) != 0)
		return;
	if (pread(r->fd, magic, 2, 0) != 2 || (magic[0] == 0x1f && magic[1] == 0x8b))
		return;
	if (fmap_open(r->fd, (size_t)st.st_size, &r->map) != 0)
		return;
	r->mpos = 0;
	r->gz = 0;
}

/* The map is used up: read() goes on from its end, for whatever was
 * appended since the file was opened, with the map's last, unfinished
 * line (have bytes at rest) already in the buffer. */
static void
leave_map(struct ndj_reader *r, const char *rest, size_t have)
{
	if (have > 0)
		memcpy(r->buf, rest, have);
	r->pos = 0;
	r->len = have;
	r->mpos = r->map.n;
	if (lseek(r->fd, (off_t)r->map.n, SEEK_SET) < 0)
		fail(r, EV_IOERR, 1, "seek error");
}

/* Opens the next FILE: 1, or 0 when there is none, or NDJ_ERROR when it
 * cannot be read (r->err says why, l->file names it). */
static int
open_next(struct ndj_reader *r, struct ndj_line *l)
{
	struct stat st;

	if (r->next_file >= r->nfiles)
		return 0;
	const char *path = r->files[r->next_file++];
	if (strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
		r->name = "<stdin>";
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		r->name = path;
	}
	if (r->fd >= 0 && fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode))
		errno = EISDIR;
	else if (r->fd >= 0)
		errno = 0;
	if (errno != 0) {
		err_sys(&r->err, EV_NOINPUT, r->fd < 0 ? "cannot open '%s'" : "cannot read '%s'",
		    r->name);
		if (r->fd > STDIN_FILENO)
			close(r->fd);
		r->fd = -1;
		r->status = EV_NOINPUT;
		*l = (struct ndj_line){ "", 0, r->name, 0 };
		return NDJ_ERROR;
	}
	r->lineno = 0;
	r->eof = 0;
	r->zmid = 0;
	r->gz = -1;	/* undecided until the first bytes arrive */
	try_map(r);
	return 1;
}

/* At a boundary between gzip members: skips the zeros that pad a gzip
 * file to a block size (gzip and zcat accept them). */
static void
skip_zero_padding(struct ndj_reader *r)
{
	while (r->z.avail_in > 0 && *r->z.next_in == 0) {
		r->z.next_in++;
		r->z.avail_in--;
	}
}

/* Appends bytes inflated from the gzip source to r->buf; 0 at its end or
 * on an error (fail()). */
static size_t
fill_gz(struct ndj_reader *r)
{
	size_t room = r->cap - r->len;

	for (;;) {
		if (!r->zmid)
			skip_zero_padding(r);
		if (r->z.avail_in == 0 && !r->eof) {
			ssize_t got = raw_read(r, r->zin, CHUNK);
			if (got < 0)
				return fail(r, EV_IOERR, 1, "read error");
			if (got == 0)
				r->eof = 1;
			r->z.next_in = r->zin;
			r->z.avail_in = (uInt)got;
			continue;
		}
		if (r->z.avail_in == 0 && r->eof)
			return r->zmid ? fail(r, EV_DATAERR, 0, "truncated gzip data") : 0;
		r->z.next_out = (unsigned char *)r->buf + r->len;
		r->z.avail_out = (uInt)room;
		int zr = inflate(&r->z, Z_NO_FLUSH);
		size_t made = room - r->z.avail_out;
		r->zmid = zr != Z_STREAM_END;
		if (zr == Z_STREAM_END)
			inflateReset(&r->z);	/* concatenated gzip members */
		else if (zr == Z_MEM_ERROR)
			die_oom();
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			fail(r, EV_DATAERR, 0, "corrupt gzip data");
		/* the lines inflated before an error are still handed out */
		r->len += made;
		if (made > 0 || r->failed)
			return made;
	}
}

/* The source's first bytes are buf[0..have): a gzip stream starts 1f 8b
 * (a lone 1f waits for the next read to decide).  Returns what fill()
 * returns, after moving gzip bytes to the inflater. */
static size_t
start_source(struct ndj_reader *r, size_t got)
{
	size_t have = r->len + got;
	const unsigned char *b = (const unsigned char *)r->buf;

	if (have == 1 && b[0] == 0x1f) {
		r->len = have;
		return got;
	}
	r->gz = 0;
	if (b[0] != 0x1f || b[1] != 0x8b) {
		r->len = have;
		return got;
	}
	r->gz = 1;
	if (r->zin == NULL)
		r->zin = xmalloc(CHUNK);
	memcpy(r->zin, r->buf, have);
	memset(&r->z, 0, sizeof r->z);
	int zr = inflateInit2(&r->z, 15 + 32);
	if (zr == Z_MEM_ERROR)
		die_oom();
	if (zr != Z_OK) {
		r->gz = 0;
		return fail(r, EV_SOFTWARE, 0, "cannot start zlib");
	}
	r->z.next_in = r->zin;
	r->z.avail_in = (uInt)have;
	r->len = 0;
	return fill_gz(r);
}

/* Appends decoded bytes to r->buf; 0 at the end of the source, or when
 * it cannot be read on (r->failed). */
static size_t
fill(struct ndj_reader *r)
{
	size_t room = r->cap - r->len;

	if (r->failed)
		return 0;
	if (r->gz == 1)
		return fill_gz(r);
	if (r->eof)
		return 0;
	if (r->gz == -1 && room > CHUNK - r->len)
		room = CHUNK - r->len;	/* if it is gzip, these bytes move to zin */
	ssize_t got = raw_read(r, r->buf + r->len, room);
	if (got < 0)
		return fail(r, EV_IOERR, 1, "read error");
	if (got == 0)
		r->eof = 1;
	if (got > 0 && r->gz == -1)
		return start_source(r, (size_t)got);
	r->len += (size_t)got;
	return (size_t)got;
}

static int
is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* A whole line [start, start + n) found, numbered ++*lineno: NDJ_LINE or
 * NDJ_TOOLONG, or 0 for a blank one. */
static int
cut_line(const char *name, unsigned long *lineno, size_t max_line, const char *start,
    size_t n, struct ndj_line *l)
{
	++*lineno;
	l->p = start;
	l->file = name;
	l->lineno = *lineno;
	if (n > 0 && start[n - 1] == '\r')
		n--;	/* before the length check: CRLF is a line end */
	if (n > max_line) {
		l->n = max_line;
		return NDJ_TOOLONG;
	}
	if (n == 0 || is_blank(start, n))
		return 0;
	l->n = n;
	return NDJ_LINE;
}

/* Whether the have bytes at start, not yet ended by a newline, already
 * make a line too long: more than max_line bytes, a CR not counted. */
static int
too_long(const char *start, size_t have, size_t max_line)
{
	return have > max_line + 1 || (have == max_line + 1 && start[max_line] != '\r');
}

static int
take_line(struct ndj_reader *r, const char *start, size_t n, struct ndj_line *l)
{
	return cut_line(r->name, &r->lineno, r->max_line, start, n, l);
}

/* The next line from the map, as ndj_next(); -1 when read() is to take
 * over. */
static int
next_mapped(struct ndj_reader *r, struct ndj_line *l)
{
	while (r->mpos < r->map.n) {
		const char *start = r->map.p + r->mpos;
		size_t have = r->map.n - r->mpos;
		const char *nl = memchr(start, '\n', have);
		if (fmap_shrunk()) {
			r->mpos = r->map.n;
			r->pos = r->len = 0;
			fail(r, EV_IOERR, 0, "the file shrank while it was being read");
			return -1;
		}
		if (nl == NULL) {
			if (!too_long(start, have, r->max_line)) {
				leave_map(r, start, have);
				return -1;
			}
			/* over-long: reported now, its rest skipped by read() */
			leave_map(r, start, 0);
			r->skipping = 1;
			return take_line(r, start, have, l);
		}
		size_t n = (size_t)(nl - start);
		r->mpos += n + 1;
		if (r->mpos == r->map.n)
			leave_map(r, NULL, 0);
		int k = take_line(r, start, n, l);
		if (k != 0)
			return k;
	}
	leave_map(r, NULL, 0);
	return -1;
}

int
ndj_next(struct ndj_reader *r, struct ndj_line *l)
{
	for (;;) {
		if (r->fd < 0) {
			r->pos = r->len = 0;
			r->skipping = 0;
			int k = open_next(r, l);
			if (k != 1)
				return k;
		}
		if (r->map.p != NULL && r->mpos < r->map.n) {
			int k = next_mapped(r, l);
			if (k >= 0)
				return k;
		}
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->len - r->pos);
		if (nl == NULL) {
			size_t have = r->len - r->pos;
			if (!r->skipping && too_long(start, have, r->max_line)) {
				/* Report the over-long line once, then skip its rest. */
				r->skipping = 1;
				r->pos = r->len = 0;
				return take_line(r, start, have, l);
			}
			if (r->skipping) {
				r->pos = r->len = 0;
			} else if (r->pos > 0) {
				memmove(r->buf, start, have);
				r->pos = 0;
				r->len = have;
			}
			if (fill(r) > 0)
				continue;
			if (r->failed)
				return source_failed(r, l);
			/* End of this source: a last line may lack its newline. */
			if (r->len > r->pos && !r->skipping) {
				start = r->buf + r->pos;	/* moved above */
				nl = r->buf + r->len;
				r->len++;	/* pretend the newline is there */
			} else {
				close_source(r);
				continue;
			}
		}
		size_t n = (size_t)(nl - start);
		r->pos = (size_t)(nl - r->buf) + 1;
		if (r->skipping) {
			r->skipping = 0;
			continue;	/* the tail of an over-long line */
		}
		int k = take_line(r, start, n, l);
		if (k != 0)
			return k;
	}
}

int
ndj_take_mapped(struct ndj_reader *r, struct ndj_cursor *c)
{
	if (r->fd < 0 || r->map.p == NULL || r->mpos >= r->map.n || r->skipping)
		return 0;
	const char *from = r->map.p + r->mpos;
	const char *last = memrchr(from, '\n', r->map.n - r->mpos);
	if (last == NULL)
		return 0;
	c->p = from;
	c->end = last + 1;
	c->file = r->name;
	c->lineno = r->lineno;
	c->max_line = r->max_line;
	c->conf = r->conf;
	r->mpos = (size_t)(c->end - r->map.p);
	if (r->mpos == r->map.n)
		leave_map(r, NULL, 0);
	return 1;
}

void
ndj_taken(struct ndj_reader *r, unsigned long lineno)
{
	r->lineno = lineno;
}

int
ndj_cursor_next(struct ndj_cursor *c, struct ndj_line *l)
{
	while (c->p < c->end) {
		const char *start = c->p, *nl = memchr(start, '\n', (size_t)(c->end - start));
		if (nl == NULL)
			nl = c->end;
		c->p = nl + 1;
		int k = cut_line(c->file, &c->lineno, c->max_line, start, (size_t)(nl - start), l);
		if (k != 0)
			return k;
	}
	return NDJ_EOF;
}

/* The record of a bad line for --errors, one line of JSON. */
static void
error_record(struct buf *b, const struct ndj_line *l, const char *why)
{
	buf_adds(b, "{\"error\":");
	json_add_string(b, why, strlen(why));
	buf_adds(b, ",\"file\":");
	json_add_string(b, l->file, strlen(l->file));
	buf_printf(b, ",\"line\":%lu,\"input\":", l->lineno);
	json_add_string(b, l->p, l->n);
	buf_adds(b, "}\n");
}

int
ndj_reject(struct ndj_conf *conf, const struct ndj_line *l, const char *why,
    struct ev_err *e)
{
	if (fmap_shrunk_now())	/* the line read as zeros: say why */
		return err_set(e, EV_IOERR, "%s: the file shrank while it was being read", l->file);
	if (conf->errors == NULL)
		return err_set(e, EV_DATAERR, "%s:%lu: %s", l->file, l->lineno, why);
	if (conf->errors_fd == 0) {
		int fd = strcmp(conf->errors, "-") == 0 ? STDERR_FILENO :
		    open(conf->errors, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(e, EV_IOERR, "cannot open '%s'", conf->errors);
		conf->errors_fd = fd + 1;
	}
	struct buf b = { 0 };
	error_record(&b, l, why);
	/* One write per record, so concurrent writers never interleave. */
	int rc = buf_write_fd(&b, conf->errors_fd - 1);
	buf_free(&b);
	errno = rc;
	if (rc != 0)
		return err_sys(e, EV_IOERR, "%s: write error",
		    strcmp(conf->errors, "-") == 0 ? "<stderr>" : conf->errors);
	conf->rejected++;
	return 0;
}
