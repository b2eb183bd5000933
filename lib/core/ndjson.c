#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "cli.h"
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
ndj_open(char *const *files, int nfiles, size_t max_line)
{
	struct ndj_reader *r = calloc(1, sizeof *r);

	if (r == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	static char *const dash[] = { "-" };
	r->files = nfiles > 0 ? files : dash;
	r->nfiles = nfiles > 0 ? nfiles : 1;
	r->max_line = max_line;
	r->fd = -1;
	r->cap = max_line + CHUNK;
	r->buf = malloc(r->cap);
	if (r->buf == NULL)
		msg_die(EV_SOFTWARE, "out of memory");
	return r;
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

static noreturn void
shrunk(const char *name)
{
	msg_die(EV_IOERR, "%s: the file shrank while it was being read", name);
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
		msg_die_sys(EV_IOERR, "%s: seek error", r->name);
}

static int
open_next(struct ndj_reader *r)
{
	while (r->next_file < r->nfiles) {
		const char *path = r->files[r->next_file++];
		if (strcmp(path, "-") == 0) {
			r->fd = STDIN_FILENO;
			r->name = "<stdin>";
		} else {
			r->fd = open(path, O_RDONLY | O_CLOEXEC);
			if (r->fd < 0) {
				msg_warn_sys("cannot open '%s'", path);
				r->status = EV_NOINPUT;
				continue;
			}
			r->name = path;
		}
		r->lineno = 0;
		r->eof = 0;
		r->zmid = 0;
		r->gz = -1;	/* undecided until the first bytes arrive */
		try_map(r);
		return 1;
	}
	return 0;
}

/* Appends decoded bytes to r->buf; 0 at the end of the source. */
static size_t
fill(struct ndj_reader *r)
{
	size_t room = r->cap - r->len;
	ssize_t got;

	if (r->gz == 1) {
		for (;;) {
			if (r->z.avail_in == 0 && !r->eof) {
				got = raw_read(r, r->zin, CHUNK);
				if (got < 0)
					msg_die_sys(EV_IOERR, "%s: read error", r->name);
				if (got == 0)
					r->eof = 1;
				r->z.next_in = r->zin;
				r->z.avail_in = (uInt)got;
			}
			if (r->z.avail_in == 0 && r->eof) {
				if (r->zmid)
					msg_die(EV_DATAERR, "%s: truncated gzip data", r->name);
				return 0;
			}
			r->z.next_out = (unsigned char *)r->buf + r->len;
			r->z.avail_out = (uInt)room;
			int zr = inflate(&r->z, Z_NO_FLUSH);
			size_t made = room - r->z.avail_out;
			r->zmid = zr != Z_STREAM_END;
			if (zr == Z_STREAM_END)
				inflateReset(&r->z);	/* concatenated gzip members */
			else if (zr != Z_OK && zr != Z_BUF_ERROR)
				msg_die(EV_DATAERR, "%s: corrupt gzip data", r->name);
			if (made > 0) {
				r->len += made;
				return made;
			}
		}
	}
	if (r->eof)
		return 0;
	if (r->gz == -1 && room > CHUNK - r->len)
		room = CHUNK - r->len;	/* if it is gzip, these bytes move to zin */
	got = raw_read(r, r->buf + r->len, room);
	if (got < 0)
		msg_die_sys(EV_IOERR, "%s: read error", r->name);
	if (got == 0)
		r->eof = 1;
	if (got > 0 && r->gz == -1) {
		/* A gzip stream starts 1f 8b.  The source's first bytes are
		 * buf[0..have): a lone 1f waits for the next read to decide. */
		size_t have = r->len + (size_t)got;
		const unsigned char *b = (const unsigned char *)r->buf;
		if (have == 1 && b[0] == 0x1f) {
			r->len = have;
			return (size_t)got;
		}
		r->gz = 0;
		if (b[0] == 0x1f && b[1] == 0x8b) {
			r->gz = 1;
			if (r->zin == NULL && (r->zin = malloc(CHUNK)) == NULL)
				msg_die(EV_SOFTWARE, "out of memory");
			memcpy(r->zin, r->buf, have);
			memset(&r->z, 0, sizeof r->z);
			if (inflateInit2(&r->z, 15 + 32) != Z_OK)
				msg_die(EV_SOFTWARE, "zlib init failed");
			r->z.next_in = r->zin;
			r->z.avail_in = (uInt)have;
			r->len = 0;
			return fill(r);
		}
	}
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
	if (n > max_line) {
		l->n = max_line;
		return NDJ_TOOLONG;
	}
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (n == 0 || is_blank(start, n))
		return 0;
	l->n = n;
	return NDJ_LINE;
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
		if (fmap_shrunk())
			shrunk(r->name);
		if (nl == NULL) {
			if (have <= r->max_line) {
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
			if (!open_next(r))
				return NDJ_EOF;
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
			if (!r->skipping && have > r->max_line) {
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

static int errors_fd = -1;
static unsigned long rejected;

int
ndj_reject(const struct ndj_line *l, const char *why)
{
	if (fmap_shrunk_now())	/* the line read as zeros: say why */
		shrunk(l->file);
	if (cli.errors_path == NULL) {
		msg_error("%s:%lu: %s", l->file, l->lineno, why);
		return 1;
	}
	if (errors_fd < 0) {
		errors_fd = open(cli.errors_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (errors_fd < 0)
			msg_die_sys(EV_IOERR, "cannot open '%s'", cli.errors_path);
	}
	struct buf b = { 0 };
	buf_adds(&b, "{\"error\":");
	json_add_string(&b, why, strlen(why));
	buf_adds(&b, ",\"file\":");
	json_add_string(&b, l->file, strlen(l->file));
	buf_printf(&b, ",\"line\":%lu,\"input\":", l->lineno);
	json_add_string(&b, l->p, l->n);
	buf_adds(&b, "}\n");
	/* One write per record, so concurrent writers never interleave. */
	size_t off = 0;
	while (off < b.n) {
		ssize_t w = write(errors_fd, b.p + off, b.n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			msg_die_sys(EV_IOERR, "%s: write error", cli.errors_path);
		off += (size_t)w;
	}
	buf_free(&b);
	rejected++;
	return 0;
}

unsigned long
ndj_rejected(void)
{
	return rejected;
}
