/* evlog_rec.c — the record line: encoder, decoder, and the batch of
 * events waiting to become records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "evlog_int.h"
#include "core/json.h"
#include "core/msg.h"

static const char hexd[] = "0123456789abcdef";

/* The record is written through one pointer into room reserved once:
 * a buf_add() per piece cost an eighth of an append. */
static char *
put(char *w, const void *p, size_t n)
{
	memcpy(w, p, n);
	return w + n;
}

static char *
put_u64(char *w, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof tmp;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return put(w, tmp + i, sizeof tmp - i);
}

void
elog_encode(struct buf *b, uint64_t seq, const char *stream, size_t stream_n,
    uint64_t version, const char time[24], const char *id, size_t id_n,
    const char *event, size_t event_n)
{
	/* 136 bytes with seq and version at 20 digits each */
	buf_grow(b, 160 + stream_n + id_n + event_n);

	char *start = b->p + b->n, *w = start;
	w = put(w, "{\"seq\":", 7);
	w = put_u64(w, seq);
	w = put(w, ",\"stream\":", 10);
	w = put(w, stream, stream_n);
	w = put(w, ",\"version\":", 11);
	w = put_u64(w, version);
	w = put(w, ",\"time\":\"", 9);
	w = put(w, time, 24);
	w = put(w, "\",\"id\":", 7);
	w = put(w, id, id_n);
	w = put(w, ",\"event\":", 9);
	w = put(w, event, event_n);
	uint32_t crc = elog_crc32(start, (size_t)(w - start));
	w = put(w, ",\"crc\":\"", 8);
	for (int i = 0; i < 8; i++)
		*w++ = hexd[(crc >> (28 - 4 * i)) & 0xf];
	w = put(w, "\"}\n", 3);
	b->n = (size_t)(w - b->p);
	b->p[b->n] = '\0';
}

/* Decoding: the record's keys come in one fixed order, so a strict
 * left-to-right match is both the fastest parse and the strictest check. */
struct cur {
	const char *p, *end;
};

static int
lit(struct cur *c, const char *s, size_t n)
{
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return -1;
	c->p += n;
	return 0;
}

static int
u64(struct cur *c, uint64_t *v)
{
	const char *s = c->p;
	uint64_t x = 0;

	/* Up to 19 digits cannot overflow: only a 20th needs the check. */
	while (c->p < c->end && c->p - s < 19 && (unsigned)(*c->p - '0') <= 9)
		x = x * 10 + (uint64_t)(*c->p++ - '0');
	if (c->p < c->end && (unsigned)(*c->p - '0') <= 9) {
		uint64_t d = (uint64_t)(*c->p++ - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		if (c->p < c->end && (unsigned)(*c->p - '0') <= 9)
			return -1;	/* 21 digits or more */
	}
	*v = x;
	return c->p == s || x == 0 || (*s == '0') ? -1 : 0;
}

/* A JSON string literal: *s, *n span it with its quotes. */
static int
str(struct cur *c, const char **s, size_t *n)
{
	const char *p = c->p;

	if (p >= c->end || *p != '"')
		return -1;
	for (p++; p < c->end; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if ((unsigned char)*p < 0x20)
			return -1;
		if (*p == '"') {
			*s = c->p;
			*n = (size_t)(p + 1 - c->p);
			c->p = p + 1;
			return 0;
		}
	}
	return -1;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

int
elog_decode(const char *line, size_t n, struct elog_rec *r, const char **why)
{
	return elog_decode_crc(line, n, r, why, 1);
}

int
elog_decode_crc(const char *line, size_t n, struct elog_rec *r, const char **why, int crc)
{
	struct cur c = { line, line + n };

	if (n < 80 || memcmp(line + n - ELOG_CRC_TAIL, ",\"crc\":\"", 8) != 0 ||
	    memcmp(line + n - 2, "\"}", 2) != 0) {
		*why = "not a record (no crc at the end)";
		return -1;
	}
	uint32_t want = 0;
	for (size_t i = n - 10; i < n - 2; i++) {
		int h = hexval(line[i]);
		if (h < 0) {
			*why = "bad crc field";
			return -1;
		}
		want = want << 4 | (uint32_t)h;
	}
	size_t body = n - ELOG_CRC_TAIL;
	if (crc && elog_crc32(line, body) != want) {
		*why = "crc mismatch";
		return -1;
	}
	c.end = line + body;
	*why = "malformed record";
	if (lit(&c, "{\"seq\":", 7) || u64(&c, &r->seq) ||
	    lit(&c, ",\"stream\":", 10) || str(&c, &r->stream, &r->stream_n) ||
	    lit(&c, ",\"version\":", 11) || u64(&c, &r->version) ||
	    lit(&c, ",\"time\":\"", 9) || c.end - c.p < 25 || c.p[23] != 'Z' ||
	    c.p[24] != '"')
		return -1;
	r->time = c.p;
	c.p += 25;
	if (lit(&c, ",\"id\":", 6) || str(&c, &r->id, &r->id_n) ||
	    lit(&c, ",\"event\":", 9) || c.p >= c.end)
		return -1;
	r->event = c.p;
	r->event_n = (size_t)(c.end - c.p);
	r->line = line;
	r->line_n = n;
	return 0;
}

/* Keys: FNV-1a over the parts, with a splitmix64 finish so that the low
 * bits (the hash table's slot) depend on every byte. */
static uint64_t
fnv(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z != 0 ? z : 1;	/* 0 marks an empty slot */
}

uint64_t
elog_key_head(const char *stream, size_t n)
{
	return mix(fnv(0xcbf29ce484222325ULL ^ 'h', stream, n));
}

uint64_t
elog_key_id(const char *stream, size_t sn, const char *id, size_t in)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL ^ 'i', stream, sn);
	h = fnv(h ^ 0xff, id, in);
	return mix(h);
}
