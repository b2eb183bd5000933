/* fpath_cache — parsed paths kept per thread by their text, so a path a
 * definition reads on every execution is parsed once, not per read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "fpath_int.h"

/* A definition has far fewer paths than this; past it (texts not from a
 * definition) the table starts afresh rather than grow without bound. */
enum { SLOTS = 1024, MAX_USED = SLOTS / 2 };

struct slot {
	char *text;
	uint32_t hash;
	struct fpq q;
};

struct cache {
	struct slot *s;
	size_t used;
};

static _Thread_local struct cache cache;

static uint32_t
hash_of(const char *t)
{
	uint32_t h = 2166136261u;

	for (; *t != '\0'; t++)
		h = (h ^ (unsigned char)*t) * 16777619u;
	return h;
}

static void
flush(struct cache *c)
{
	for (size_t i = 0; i < SLOTS; i++) {
		if (c->s[i].text != NULL) {
			free(c->s[i].text);
			fpq_free(&c->s[i].q);
			c->s[i].text = NULL;
		}
	}
	c->used = 0;
}

void
fpath_cache_clear(void)
{
	if (cache.s != NULL) {
		flush(&cache);
		free(cache.s);
		cache.s = NULL;
	}
	ftmpl_cache_clear();
}

const struct fpq *
fpq_cached(const char *path, const char **why)
{
	struct cache *c = &cache;
	uint32_t h = hash_of(path);

	if (c->s == NULL)
		c->s = xcalloc(SLOTS, sizeof *c->s);
	size_t i = h % SLOTS;
	for (; c->s[i].text != NULL; i = (i + 1) % SLOTS)
		if (c->s[i].hash == h && strcmp(c->s[i].text, path) == 0)
			return &c->s[i].q;
	struct fpq q;
	if (fpq_parse(path, &q, why) != 0)
		return NULL;
	if (c->used >= MAX_USED) {
		flush(c);
		for (i = h % SLOTS; c->s[i].text != NULL; i = (i + 1) % SLOTS)
			;
	}
	c->s[i].text = xstrdup(path);
	c->s[i].hash = h;
	c->s[i].q = q;
	c->used++;
	return &c->s[i].q;
}
