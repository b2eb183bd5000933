/* The event scanner: one pass over the raw line that validates all of it
 * and walks the trie of member names alongside.  Members no pattern names
 * are skipped by a tight, allocation-free validator; leaves on named paths
 * go to patleaf.c.  Then the sub-patterns that were hit are checked for
 * array consistency and exists:false. */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/json.h"
#include "core/msg.h"
#include "pattern_int.h"

struct sc {
	const unsigned char *p, *end, *start;
	struct pat_set *s;
	struct pat_err *err;
	int depth;
	const unsigned char *skimmed;	/* pat_skim() stopped here: not again before */
};

/* 1: white space; 2: a plain string byte (printable ASCII but " and \). */
static unsigned char cls[256];

static void
init_cls(void)
{
	cls[' '] = cls['\t'] = cls['\n'] = cls['\r'] = 1;
	for (int c = 0x20; c < 0x80; c++)
		if (c != '"' && c != '\\')
			cls[c] |= 2;
}

void
pat_scan_init(void)
{
	/* once, in pat_new(): before any scanning thread starts */
	if (cls[' '] == 0)
		init_cls();
	pat_skim_init();
	pat_eic_init();
}

static int
fail(struct sc *sc, const unsigned char *at, const char *what)
{
	sc->err->col = (size_t)(at - sc->start) + 1;
	sc->err->what = what;
	return -1;
}

#define WS(sc) while ((sc)->p < (sc)->end && (cls[*(sc)->p] & 1)) (sc)->p++

static int
is_hex(unsigned c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* sc->p at the opening quote; leaves it past the closing one.  The raw
 * contents are [*q, *q + *n); *esc says whether they hold escapes. */
static inline __attribute__((always_inline)) int
string(struct sc *sc, const unsigned char **q, size_t *n, int *esc)
{
	const unsigned char *p = sc->p + 1, *end = sc->end;

	*q = p;
	*esc = 0;
	for (;;) {
#ifdef __SSE2__
		const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
		const __m128i space = _mm_set1_epi8(0x20);
		while (end - p >= 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
			/* signed compare: < 0x20 catches controls and bytes >= 0x80 */
			int m = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
			    _mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bs)),
			    _mm_cmplt_epi8(x, space)));
			if (m != 0) {
				p += __builtin_ctz((unsigned)m);
				break;
			}
			p += 16;
		}
#endif
		while (p < end && (cls[*p] & 2))
			p++;
		if (p >= end)
			return fail(sc, p, "unterminated string");
		if (*p == '"') {
			*n = (size_t)(p - *q);
			sc->p = p + 1;
			return 0;
		}
		if (*p == '\\') {
			*esc = 1;
			if (end - p < 2)
				return fail(sc, p, "unterminated string");
			if (p[1] == 'u') {
				if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) ||
				    !is_hex(p[4]) || !is_hex(p[5]))
					return fail(sc, p, "invalid \\u escape");
				p += 6;
			} else if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0') {
				p += 2;
			} else {
				return fail(sc, p, "invalid escape in string");
			}
			continue;
		}
		if (*p < 0x20)
			return fail(sc, p, "control character in string");
		/* A run of bytes >= 0x80 holds whole UTF-8 sequences or is bad. */
		const unsigned char *run = p;
		while (p < end && *p >= 0x80)
			p++;
		size_t bad = utf8_check((const char *)run, (size_t)(p - run), 0);
		if (bad != 0)
			return fail(sc, run + bad - 1, "invalid UTF-8");
	}
}

static inline __attribute__((always_inline)) const unsigned char *
digits(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i bias = _mm_set1_epi8((char)0x50), lim = _mm_set1_epi8(-118);
	while (end - p >= 16) {
		__m128i x = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bias);
		/* '0'..'9' land on -128..-119 */
		int m = ~_mm_movemask_epi8(_mm_cmplt_epi8(x, lim)) & 0xffff;
		if (m != 0)
			return p + __builtin_ctz((unsigned)m);
		p += 16;
	}
#endif
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* A JSON number at sc->p: its text is [start, sc->p) afterwards.  The
 * common shape, -?digits(.digits)? within 32 bytes, is read from one
 * digit mask; anything else takes the byte-by-byte path. */
static inline __attribute__((always_inline)) int
number(struct sc *sc)
{
	const unsigned char *p = sc->p, *end = sc->end, *d;

	if (*p == '-')
		p++;
#ifdef __SSE2__
	if (end - p >= 32) {
		uint32_t m = pat_digits32(p);
		unsigned ni = m == 0xffffffffu ? 32 : (unsigned)__builtin_ctz(~m);
		if (ni > 0 && ni < 31 && (p[0] != '0' || ni == 1)) {
			if (p[ni] == '.') {
				uint32_t f = ~(m >> (ni + 1));
				unsigned nf = (unsigned)__builtin_ctz(f | 1u << (31 - ni));
				const unsigned char *q = p + ni + 1 + nf;
				if (nf > 0 && q < p + 31 && (*q | 0x20) != 'e') {
					sc->p = q;
					return 0;
				}
			} else if ((p[ni] | 0x20) != 'e') {
				sc->p = p + ni;
				return 0;
			}
		}
	}
#endif
	if (p < end && *p == '0') {
		p++;
	} else {
		d = digits(p, end);
		if (d == p)
			return fail(sc, p, "invalid number");
		p = d;
	}
	if (p < end && *p == '.') {
		d = digits(p + 1, end);
		if (d == p + 1)
			return fail(sc, d, "invalid number");
		p = d;
	}
	if (p < end && (*p | 0x20) == 'e') {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		d = digits(p, end);
		if (d == p)
			return fail(sc, d, "invalid number");
		p = d;
	}
	sc->p = p;
	return 0;
}

/* true, false or null at sc->p: 0, 1 or 2. */
static inline __attribute__((always_inline)) int
literal(struct sc *sc)
{
	static const struct { const char *s; size_t n; } lit[3] = {
		{ "true", 4 }, { "false", 5 }, { "null", 4 } };
	int k = *sc->p == 't' ? 0 : *sc->p == 'f' ? 1 : 2;

	if ((size_t)(sc->end - sc->p) < lit[k].n || memcmp(sc->p, lit[k].s, lit[k].n) != 0)
		return fail(sc, sc->p, "invalid literal");
	sc->p += lit[k].n;
	return k;
}

/* "name": with sc->p at the quote; leaves sc->p at the value. */
static inline __attribute__((always_inline)) int
member_name(struct sc *sc, const unsigned char **q, size_t *n, int *esc)
{
	if (sc->p >= sc->end || *sc->p != '"')
		return fail(sc, sc->p, "expected a member name");
	if (string(sc, q, n, esc) < 0)
		return -1;
	WS(sc);
	if (sc->p >= sc->end || *sc->p != ':')
		return fail(sc, sc->p, "expected ':'");
	sc->p++;
	WS(sc);
	return 0;
}

/* pat_skim() is tried when this much is left of the line, over at most
 * SKIM_OPEN open arrays; when it gains less than SKIM_GAIN bytes it rests
 * for SKIM_REST, so short or mixed arrays cost one try per SKIM_REST. */
enum { SKIM_MIN = 128, SKIM_OPEN = 64, SKIM_GAIN = 64, SKIM_REST = 4096 };

/* Runs pat_skim() at *p, inside the array on top of the stack, after a
 * value or (after == '[') its opening; 1 when it moved *p (just past a
 * comma) and the stack with it. */
static int
skim(struct sc *sc, const unsigned char **p, unsigned char *stack, int *top, int after)
{
	int open = 0, delta;
	size_t seen;

	/* once over any byte: where it stopped, it would stop again */
	if (*p < sc->skimmed)
		return 0;
	/* the arrays on top of the stack, a bounded look */
	while (open < *top && open < SKIM_OPEN && stack[*top - 1 - open] == '[')
		open++;
	size_t got = pat_skim(*p, (size_t)(sc->end - *p), open,
	    JSON_MAX_DEPTH - (sc->depth + *top), after, &delta, &seen);
	sc->skimmed = *p + seen;
	if (got < SKIM_GAIN && sc->end - *p > SKIM_REST)
		sc->skimmed = *p + SKIM_REST;	/* short arrays: leave them be a while */
	if (got == 0)
		return 0;
	*p += got;
	if (delta > 0)
		memset(stack + *top, '[', (size_t)delta);
	*top += delta;
	return 1;
}

/* Whether a number or '[' comes next in the array, after p and its comma:
 * worth a pat_skim(). */
static inline int
numbers_ahead(const unsigned char *p, const unsigned char *end)
{
	if (end - p > 64)
		end = p + 64;	/* a glance */
	while (p < end && (*p == ' ' || *p == ']'))
		p++;
	if (p >= end || *p++ != ',')
		return 0;
	while (p < end && *p == ' ')
		p++;
	return p < end && (*p == '[' || *p == '-' || (*p >= '0' && *p <= '9'));
}

/* Arrays of numbers and arrays of them (coordinates and the like) are
 * most of many events: a tight loop over , [ ] and numbers, inside the
 * array on top of skip_value()'s stack.  Returns -1 on bad JSON; 1 when
 * that array closed (go on after it), 2 at some other value (go parse
 * it), 0 at anything else (the general path takes it from sc->p). */
static inline __attribute__((always_inline)) int
skip_numbers(struct sc *sc, unsigned char *stack, int *top)
{
	const unsigned char *p = sc->p, *end = sc->end;
	int tried = 0;

	for (;;) {
		while (p < end && *p == ' ')
			p++;
		if (p >= end)
			break;
		if (*p == ']') {
			p++;
			if (--*top == 0 || stack[*top - 1] != '[') {
				sc->p = p;
				return 1;
			}
			continue;
		}
		if (*p != ',')
			break;
		p++;
value:
		while (p < end && (cls[*p] & 1))
			p++;
		int opened = 0;
		while (p < end && *p == '[') {
			if (sc->depth + *top >= JSON_MAX_DEPTH)
				return fail(sc, p, "nesting too deep");
			stack[(*top)++] = '[';
			opened = 1;
			p++;
			while (p < end && (cls[*p] & 1))
				p++;
		}
		if (opened && p < end && *p == ']')
			continue;	/* an empty array */
		sc->p = p;
		if (p >= end || ((*p < '0' || *p > '9') && *p != '-'))
			return 2;	/* also after "[" */
		if (number(sc) < 0)
			return -1;
		p = sc->p;
		if (!tried) {
			/* once per call: it stops only where it cannot go on */
			tried = 1;
			if (end - p >= SKIM_MIN && p >= sc->skimmed && numbers_ahead(p, end) &&
			    skim(sc, &p, stack, top, 0))
				goto value;
		}
	}
	sc->p = p;
	return 0;
}

/* Skips one value, validating it; iterative, so depth costs no stack.
 * With inarr, sc->p is just past an element of an array and the rest of
 * that array is skipped. */
static int
skip_in(struct sc *sc, int inarr)
{
	unsigned char stack[JSON_MAX_DEPTH];	/* '{' or '[' */
	int top = 0;
	const unsigned char *q;
	size_t n;
	int esc;

	if (inarr) {
		stack[top++] = '[';
		goto after;
	}
value:
	if (sc->p >= sc->end)
		return fail(sc, sc->p, "unexpected end of line");
	if ((*sc->p >= '0' && *sc->p <= '9') || *sc->p == '-') {
		if (number(sc) < 0)
			return -1;
		goto after;
	}
	switch (*sc->p) {
	case '{':
	case '[':
		if (sc->depth + top >= JSON_MAX_DEPTH)
			return fail(sc, sc->p, "nesting too deep");
		stack[top++] = *sc->p++;
		WS(sc);
		if (sc->p < sc->end && *sc->p == (stack[top - 1] == '{' ? '}' : ']')) {
			sc->p++;
			top--;
			goto after;
		}
		if (stack[top - 1] == '[' && sc->end - sc->p >= SKIM_MIN &&
		    sc->p >= sc->skimmed &&
		    (*sc->p == '[' || *sc->p == '-' || (*sc->p >= '0' && *sc->p <= '9')) &&
		    skim(sc, &sc->p, stack, &top, '[')) {
			WS(sc);
			goto value;
		}
		if (stack[top - 1] == '{' && member_name(sc, &q, &n, &esc) < 0)
			return -1;
		goto value;
	case '"':
		if (string(sc, &q, &n, &esc) < 0)
			return -1;
		break;
	case 't': case 'f': case 'n':
		if (literal(sc) < 0)
			return -1;
		break;
	default:
		if ((*sc->p < '0' || *sc->p > '9') && *sc->p != '-')
			return fail(sc, sc->p, "invalid value");
		if (number(sc) < 0)
			return -1;
		break;
	}
after:
	if (top == 0)
		return 0;
	if (stack[top - 1] == '[') {
		switch (skip_numbers(sc, stack, &top)) {
		case -1:
			return -1;
		case 1:
			goto after;
		case 2:
			goto value;
		}
	}
	WS(sc);
	if (sc->p >= sc->end)
		return fail(sc, sc->p, "unexpected end of line");
	if (*sc->p == ',') {
		sc->p++;
		WS(sc);
		if (stack[top - 1] == '{' && member_name(sc, &q, &n, &esc) < 0)
			return -1;
		goto value;
	}
	if (*sc->p != (stack[top - 1] == '{' ? '}' : ']'))
		return fail(sc, sc->p, stack[top - 1] == '{' ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	sc->p++;
	top--;
	goto after;
}

static int
skip_value(struct sc *sc)
{
	return skip_in(sc, 0);
}

static int
skip_rest(struct sc *sc)
{
	return skip_in(sc, 1);
}

static int scan_value(struct sc *sc, uint32_t node);

/* The raw bytes, or their decoded copy in the scratch space. */
static const char *
text(struct sc *sc, const unsigned char *q, size_t *n, int esc)
{
	if (!esc)
		return (const char *)q;
	*n = pat_unescape((const char *)q, *n, sc->s->scratch);
	return sc->s->scratch;
}

/* event-ruler flattens the event's member names into dotted paths too,
 * so a member "a.b" is member b of member a.  The trie's names hold no
 * dot (the compiler splits them): it is walked a segment at a time. */
static uint32_t
dotted_kid(const struct pat_set *s, uint32_t node, const char *k, size_t n)
{
	const char *end = k + n;

	for (;;) {
		const char *dot = memchr(k, '.', (size_t)(end - k));
		size_t len = dot != NULL ? (size_t)(dot - k) : (size_t)(end - k);
		node = pmap_get(&s->nodes.v[node].kids, k, len);
		if (node == PAT_NONE || dot == NULL)
			return node;
		k = dot + 1;
	}
}

/* Steps into the object or array at sc->p, or returns from the caller:
 * -1 when it nests too deep, 0 when it is empty (and now passed).  A
 * macro, so the scanner's two loops compile as they did when each had
 * its own copy. */
#define ENTER(sc, close) do { \
	if (++(sc)->depth >= JSON_MAX_DEPTH) \
		return fail((sc), (sc)->p, "nesting too deep"); \
	(sc)->p++; \
	WS(sc); \
	if ((sc)->p < (sc)->end && *(sc)->p == (close)) { \
		(sc)->p++; \
		(sc)->depth--; \
		return 0; \
	} \
} while (0)

static int
scan_object(struct sc *sc, uint32_t node)
{
	/* Set by member_name(); initialised for the compilers (gcc -O1 under
	 * TSan) that cannot see it. */
	const unsigned char *q = NULL;
	size_t n = 0;
	int esc = 0;

	ENTER(sc, '}');
	for (;;) {
		if (member_name(sc, &q, &n, &esc) < 0)
			return -1;
		const struct pnode *nd = &sc->s->nodes.v[node];
		uint32_t kid = PAT_NONE;
		int named = esc || (nd->kids.lens >> (n & 63) & 1);
		if (!sc->s->decided && (named || nd->deep)) {
			const char *k = text(sc, q, &n, esc);
			if (nd->deep && memchr(k, '.', n) != NULL)
				kid = dotted_kid(sc->s, node, k, n);
			else if (named)
				kid = pmap_get(&nd->kids, k, n);
		}
		if (kid != PAT_NONE) {
			if (scan_value(sc, kid) < 0)
				return -1;
		} else if (sc->p < sc->end && *sc->p == '"') {
			/* Scalars, most members, skipped without the call. */
			if (string(sc, &q, &n, &esc) < 0)
				return -1;
		} else if (sc->p < sc->end && ((*sc->p >= '0' && *sc->p <= '9') || *sc->p == '-')) {
			if (number(sc) < 0)
				return -1;
		} else if (skip_value(sc) < 0) {
			return -1;
		}
		WS(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			WS(sc);
			continue;
		}
		if (sc->p >= sc->end || *sc->p != '}')
			return fail(sc, sc->p, "expected ',' or '}'");
		sc->p++;
		sc->depth--;
		return 0;
	}
}

/* Arrays are crushed: their elements are values of the same path, and the
 * (array, index) pair they sit at is kept for array consistency. */
static int
scan_array(struct sc *sc, uint32_t node)
{
	struct pat_set *s = sc->s;

	ENTER(sc, ']');
	PPUSH(s->stk, ++s->narr);
	PPUSH(s->stk, 0);
	uint32_t vmi = s->nodes.v[node].vm;
	for (;;) {
		/* Numbers, the usual array elements, without the call. */
		const unsigned char *start = sc->p;
		if (start < sc->end && ((*start >= '0' && *start <= '9') || *start == '-')) {
			if (number(sc) < 0)
				return -1;
			if (vmi != PAT_NONE)
				pat_leaf_number(s, &s->vms.v[vmi], (const char *)start,
				    (size_t)(sc->p - start));
		} else if (scan_value(sc, node) < 0) {
			return -1;
		}
		if (s->decided) {
			/* matched: the rest is only checked, fast */
			sc->depth--;
			s->stk.n -= 2;
			return skip_rest(sc);
		}
		WS(sc);
		if (sc->p < sc->end && *sc->p == ',') {
			sc->p++;
			WS(sc);
			s->stk.v[s->stk.n - 1]++;
			continue;
		}
		if (sc->p >= sc->end || *sc->p != ']')
			return fail(sc, sc->p, "expected ',' or ']'");
		sc->p++;
		sc->depth--;
		s->stk.n -= 2;
		return 0;
	}
}

static int
scan_value(struct sc *sc, uint32_t node)
{
	struct pat_set *s = sc->s;
	const struct pnode *nd = &s->nodes.v[node];
	struct pvm *vm = nd->vm != PAT_NONE && !s->decided ? &s->vms.v[nd->vm] : NULL;
	const unsigned char *q = NULL, *start = sc->p;
	size_t n = 0;	/* set by string(); initialised for gcc -O1 (TSan) */
	int esc = 0, k;

	if (sc->p >= sc->end)
		return fail(sc, sc->p, "unexpected end of line");
	switch (*sc->p) {
	case '{':
		return nd->kids.e.n > 0 && !s->decided ? scan_object(sc, node) : skip_value(sc);
	case '[':
		return s->decided ? skip_value(sc) : scan_array(sc, node);
	case '"':
		if (string(sc, &q, &n, &esc) < 0)
			return -1;
		if (vm != NULL) {
			const char *t = text(sc, q, &n, esc);
			pat_leaf_string(s, vm, t, n);
		}
		return 0;
	case 't': case 'f': case 'n':
		if ((k = literal(sc)) < 0)
			return -1;
		if (vm != NULL)
			pat_leaf_literal(s, vm, k);
		return 0;
	default:
		if ((*sc->p < '0' || *sc->p > '9') && *sc->p != '-')
			return fail(sc, sc->p, "invalid value");
		if (number(sc) < 0)
			return -1;
		if (vm != NULL)
			pat_leaf_number(s, vm, (const char *)start, (size_t)(sc->p - start));
		return 0;
	}
}

static void
matched(struct pat_set *s, uint32_t pat)
{
	if (s->patstamp.v[pat] == s->gen)
		return;
	s->patstamp.v[pat] = s->gen;
	PPUSH(s->out, pat);
	if (!s->all)
		s->decided = 1;
}

void
pat_hit(struct pat_set *s, uint32_t slot)
{
	struct pslot *sl = &s->slots.v[slot];
	int first = sl->stamp != s->gen;

	if (s->decided || s->patstamp.v[s->subs.v[sl->sub].pat] == s->gen)
		return;		/* its pattern has matched already */
	if (first) {
		sl->stamp = s->gen;
		sl->head = PAT_NONE;
		sl->freehit = 0;
	} else if (sl->freehit) {
		return;		/* a hit outside arrays goes with any other: enough */
	}
	struct phit h = { slot, sl->head, s->ctxa.n, s->stk.n };
	for (uint32_t i = 0; i < s->stk.n; i++)
		PPUSH(s->ctxa, s->stk.v[i]);
	PPUSH(s->hits, h);
	sl->head = s->hits.n - 1;
	sl->freehit = s->stk.n == 0;
	struct psub *sub = &s->subs.v[sl->sub];
	if (sub->stamp != s->gen) {
		sub->stamp = s->gen;
		sub->count = 0;
		sub->ctx = 0;
	}
	if (s->stk.n != 0)
		sub->ctx = 1;
	if (first && sl->kind == SLOT_REQ && ++sub->count == sub->nreq) {
		/* One field, or all outside arrays: nothing to reconcile. */
		if (!sub->has_pres && sub->nf == sub->nreq && (sub->nf == 1 || !sub->ctx))
			matched(s, sub->pat);
		else
			PPUSH(s->cand, sl->sub);
	}
}

int
pat_scan(struct pat_set *s, const char *p, size_t n, struct pat_err *err)
{
	struct sc sc = { (const unsigned char *)p, (const unsigned char *)p + n,
	    (const unsigned char *)p, s, err, 0, (const unsigned char *)p };

	s->line_end = p + n;
	WS(&sc);
	if (sc.p >= sc.end || *sc.p != '{') {
		if (sc.p < sc.end && strchr("[\"tfn-0123456789", *sc.p) != NULL && *sc.p != '\0')
			return fail(&sc, sc.p, "not a JSON object");
		return fail(&sc, sc.p, "invalid JSON");
	}
	if (scan_object(&sc, 0) < 0)
		return -1;
	WS(&sc);
	if (sc.p != sc.end)
		return fail(&sc, sc.p, "trailing characters after the JSON object");
	return 0;
}
