/* pattern — EventBridge event patterns, compiled into one matcher.
 *
 * Any number of patterns are added to one pat_set; each becomes one
 * pattern index (0, 1, 2 … in the order added).  An event line is then
 * scanned once, in place: only the members some pattern names are looked
 * at, every other subtree is skipped (but still validated), and numbers are
 * parsed only where a numeric matcher needs them.  Matching follows
 * aws/event-ruler, the engine behind EventBridge (see
 * ../shared/ref/patterns.md): array consistency, numbers by value,
 * exists:false on missing fields, duplicate keys last wins, and the rest. */
#ifndef EVKIT_PATTERN_H
#define EVKIT_PATTERN_H

#include <stddef.h>
#include <stdint.h>

struct pat_set;

/* Why an event line was refused: 1-based byte column and a static text. */
struct pat_err {
	size_t col;
	const char *what;
};

/* An empty set; never NULL (dies with 70 when out of memory). */
struct pat_set *pat_new(void);
void pat_free(struct pat_set *s);

/* Compiles the pattern p[0..n) (JSON text) into s.  Returns its index, or
 * -1 with *why set to a malloc'd message that names the JSON path at
 * fault and the reason, as EventBridge's InvalidEventPatternException
 * does ("at .detail.state[0]: prefix match pattern must be a string").
 * A failed pattern leaves s as it was. */
int pat_add(struct pat_set *s, const char *p, size_t n, char **why);

/* Number of patterns added. */
size_t pat_count(const struct pat_set *s);

/* Matches one event line p[0..n) (one JSON object, no line end).
 * Returns -1 if it is not valid JSON or not an object (*err says why),
 * else the number of patterns it matched.  With all == 0 the scan stops
 * looking for matches after the first one (the line is still validated
 * to its end) and the result is 0 or 1.  The matched indices, in no
 * particular order, are in pat_hits() until the next call.  Nothing is
 * allocated per event once the set's scratch space has grown to the
 * largest line seen. */
int pat_match(struct pat_set *s, const char *p, size_t n, int all, struct pat_err *err);
const uint32_t *pat_hits(const struct pat_set *s);

#endif
