/* Growable arrays, slot lists and the byte-string hash map of pattern.c. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "pattern_int.h"

void *
pat_grow(void *v, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap = *cap ? *cap : 8;

	while (ncap < need)
		ncap *= 2;
	if (ncap == *cap)
		return v;
	v = xreallocarray(v, ncap, elem);
	*cap = ncap;
	return v;
}

uint32_t
pat_newlist(struct pat_set *s)
{
	struct plist l = { NULL, 0, 0 };

	PPUSH(s->lists, l);
	return s->lists.n - 1;
}

void
pat_listadd(struct pat_set *s, uint32_t *l, uint32_t slot)
{
	if (*l == PAT_NONE)
		*l = pat_newlist(s);
	PPUSH(s->lists.v[*l], slot);
}

/* Reads 8 bytes at a time: keys are short, and this runs per event key. */
static uint64_t
hash(const unsigned char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

static void
rehash(struct pmap *m)
{
	uint32_t size = m->mask ? (m->mask + 1) * 2 : 16;

	free(m->tab);
	m->tab = xcalloc(size, sizeof *m->tab);
	m->mask = size - 1;
	for (uint32_t i = 0; i < m->e.n; i++) {
		uint32_t j = (uint32_t)m->e.v[i].h & m->mask;
		while (m->tab[j] != 0)
			j = (j + 1) & m->mask;
		m->tab[j] = i + 1;
	}
}

static inline uint64_t
load8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

static inline uint32_t
load4(const unsigned char *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

/* memcmp() == 0 inline, for the short keys of event members. */
static inline int
same(const unsigned char *a, const unsigned char *b, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8)
			if (load8(a + i) != load8(b + i))
				return 0;
		return load8(a + n - 8) == load8(b + n - 8);
	}
	if (n >= 4)
		return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Maps this small are searched without hashing: most member-name maps
 * hold one to a few names. */
enum { PMAP_SCAN = 4 };

/* h: the key's hash, or 0 when hashed is 0 (then it is hashed here if
 * the map is big enough to need it). */
static inline uint32_t
get(const struct pmap *m, const void *k, size_t n, uint64_t h, int hashed)
{
	if (m->e.n == 0 || !(m->lens >> (n & 63) & 1))
		return PAT_NONE;
	const unsigned char *key = k, *keys = (const unsigned char *)m->keys.v;
	if (m->e.n <= PMAP_SCAN) {
		for (uint32_t i = 0; i < m->e.n; i++) {
			const struct pment *e = &m->e.v[i];
			/* an empty key may have no key bytes at all */
			if (e->len == n && (n == 0 || same(keys + e->off, key, n)))
				return e->val;
		}
		return PAT_NONE;
	}
	if (!hashed)
		h = hash(k, n);
	for (uint32_t j = (uint32_t)h & m->mask; m->tab[j] != 0; j = (j + 1) & m->mask) {
		const struct pment *e = &m->e.v[m->tab[j] - 1];
		if (e->h == h && e->len == n && (n == 0 || same(keys + e->off, key, n)))
			return e->val;
	}
	return PAT_NONE;
}

uint32_t
pmap_get(const struct pmap *m, const void *k, size_t n)
{
	return get(m, k, n, 0, 0);
}

uint32_t
pmap_get_h(const struct pmap *m, const void *k, size_t n, uint64_t h)
{
	return get(m, k, n, h, 1);
}

uint32_t *
pmap_put(struct pmap *m, const void *k, size_t n)
{
	return pmap_put_h(m, k, n, hash(k, n));
}

uint64_t
paffix_hash(const void *k, size_t n, int back)
{
	const unsigned char *p = k;
	uint64_t h = PAFFIX_SEED;

	for (size_t i = 0; i < n; i++)
		h = PAFFIX_STEP(h, p[back ? n - 1 - i : i]);
	return PAFFIX_FIN(h);
}

uint32_t *
pmap_put_h(struct pmap *m, const void *k, size_t n, uint64_t h)
{
	if (m->mask != 0 || m->tab != NULL) {
		for (uint32_t j = (uint32_t)h & m->mask; m->tab[j] != 0; j = (j + 1) & m->mask) {
			struct pment *e = &m->e.v[m->tab[j] - 1];
			if (e->h == h && e->len == n && (n == 0 || memcmp(m->keys.v + e->off, k, n) == 0))
				return &e->val;
		}
	}
	struct pment e = { h, m->keys.n, (uint32_t)n, PAT_NONE };
	for (size_t i = 0; i < n; i++)
		PPUSH(m->keys, ((const char *)k)[i]);
	PPUSH(m->e, e);
	m->lens |= 1ULL << (n & 63);
	if (m->tab == NULL || (m->e.n * 2) > m->mask) {
		rehash(m);
	} else {
		uint32_t j = (uint32_t)h & m->mask;
		while (m->tab[j] != 0)
			j = (j + 1) & m->mask;
		m->tab[j] = m->e.n;
	}
	return &m->e.v[m->e.n - 1].val;
}

void
pmap_free(struct pmap *m)
{
	free(m->tab);
	free(m->e.v);
	free(m->keys.v);
	memset(m, 0, sizeof *m);
}
