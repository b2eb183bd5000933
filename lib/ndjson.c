#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "cli.h"
#include "json.h"
#include "msg.h"
#include "ndjson.h"

enum { CHUNK = 1 << 18 };

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
	if (r->gz)
		inflateEnd(&r->z);
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
	got = raw_read(r, r->buf + r->len, room);
	if (got < 0)
		msg_die_sys(EV_IOERR, "%s: read error", r->name);
	if (got == 0)
		r->eof = 1;
	if (got > 0 && r->gz == -1) {
		/* A gzip stream starts 1f 8b; the first read usually has both. */
		r->gz = 0;
		if ((unsigned char)r->buf[r->len] == 0x1f && got >= 2 &&
		    (unsigned char)r->buf[r->len + 1] == 0x8b) {
			r->gz = 1;
			if (r->zin == NULL && (r->zin = malloc(CHUNK)) == NULL)
				msg_die(EV_SOFTWARE, "out of memory");
			memcpy(r->zin, r->buf + r->len, (size_t)got);
			memset(&r->z, 0, sizeof r->z);
			if (inflateInit2(&r->z, 15 + 32) != Z_OK)
				msg_die(EV_SOFTWARE, "zlib init failed");
			r->z.next_in = r->zin;
			r->z.avail_in = (uInt)got;
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

int
ndj_next(struct ndj_reader *r, struct ndj_line *l)
{
	for (;;) {
		if (r->fd < 0) {
			if (!open_next(r))
				return NDJ_EOF;
			r->pos = r->len = 0;
			r->skipping = 0;
		}
		char *start = r->buf + r->pos;
		char *nl = memchr(start, '\n', r->len - r->pos);
		if (nl == NULL) {
			size_t have = r->len - r->pos;
			if (!r->skipping && have > r->max_line) {
				/* Report the over-long line once, then skip its rest. */
				r->skipping = 1;
				l->p = start;
				l->n = r->max_line;
				l->file = r->name;
				l->lineno = ++r->lineno;
				r->pos = r->len = 0;
				return NDJ_TOOLONG;
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
		r->lineno++;
		if (n > r->max_line) {
			l->p = start;
			l->n = r->max_line;
			l->file = r->name;
			l->lineno = r->lineno;
			return NDJ_TOOLONG;
		}
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n == 0 || is_blank(start, n))
			continue;
		l->p = start;
		l->n = n;
		l->file = r->name;
		l->lineno = r->lineno;
		return NDJ_LINE;
	}
}

static int errors_fd = -1;
static unsigned long rejected;

int
ndj_reject(const struct ndj_line *l, const char *why)
{
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
