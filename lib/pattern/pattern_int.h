/* pattern_int — the inside of pattern.c and its helpers: the compiled set, its
 * hash maps and value matchers.  Not for commands: they use pattern.h. */
#ifndef EVKIT_PATINT_H
#define EVKIT_PATINT_H

#include <stddef.h>
#include <stdint.h>

#include "pattern.h"

#ifdef __SSE2__
#include <emmintrin.h>
/* Bit i set when p[i] is an ASCII digit, for i < 32 (32 bytes readable). */
static inline uint32_t
pat_digits32(const unsigned char *p)
{
	const __m128i bias = _mm_set1_epi8((char)0x50), lim = _mm_set1_epi8(-118);
	__m128i a = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bias);
	__m128i b = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), bias);

	/* '0'..'9' land on -128..-119, below every other byte */
	return (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(a, lim)) |
	    (uint32_t)_mm_movemask_epi8(_mm_cmplt_epi8(b, lim)) << 16;
}
#endif

#define PAT_NONE UINT32_MAX

/* A growable array.  pat_grow() dies with 70 when out of memory. */
#define PVEC(...) struct { __VA_ARGS__ *v; uint32_t n, cap; }
void *pat_grow(void *v, uint32_t *cap, uint32_t need, size_t elem);
#define PPUSH(vec, x) do { \
	if ((vec).n == (vec).cap) \
		(vec).v = pat_grow((vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v); \
	(vec).v[(vec).n++] = (x); \
} while (0)

/* Byte-string keys to uint32 values, open addressing; keys are copied. */
struct pmap {
	uint32_t *tab;		/* entry index + 1; 0 is empty */
	uint32_t mask;
	PVEC(struct pment { uint64_t h; uint32_t off, len, val; }) e;
	PVEC(char) keys;
	uint64_t lens;		/* bit (len & 63) set for every key length */
};
/* The value of key k, created as PAT_NONE if new. */
uint32_t *pmap_put(struct pmap *m, const void *k, size_t n);
/* The value of key k, or PAT_NONE. */
uint32_t pmap_get(const struct pmap *m, const void *k, size_t n);
/* The same with a hash of the caller's: a map filled by pmap_put_h() is
 * read by pmap_get_h() with the same hash function.  Maps of prefixes
 * and suffixes hash by paffix_hash(), FNV-1a over the bytes (backwards
 * for suffixes) then mixed, so a value's prefixes of every length hash
 * in one pass: h = PAFFIX_STEP(h, byte) from PAFFIX_SEED, PAFFIX_FIN(h)
 * for each length looked up. */
uint32_t pmap_get_h(const struct pmap *m, const void *k, size_t n, uint64_t h);
uint32_t *pmap_put_h(struct pmap *m, const void *k, size_t n, uint64_t h);
#define PAFFIX_SEED 0xcbf29ce484222325ULL
#define PAFFIX_STEP(h, c) (((h) ^ (uint64_t)(c)) * 0x100000001b3ULL)
#define PAFFIX_FIN(h) (((h) ^ (h) >> 31) * 0xbf58476d1ce4e5b9ULL)
uint64_t paffix_hash(const void *k, size_t n, int back);
void pmap_free(struct pmap *m);

/* A JSON number reduced to its value: 0.d[0]d[1]… × 10^exp, no leading or
 * trailing zeros in d; nd == 0 is zero, never negative (event-ruler reads
 * numbers as Java BigDecimals, which have no -0).  Hashable as raw bytes. */
struct pdec {
	int32_t exp;
	uint8_t neg, nd;
	char d[18];
};
/* Parses a valid JSON number p[0..n); -1 if it has more than 17
 * significant digits (then no double holds it exactly and it compares as
 * text only).  pdec_parse_in() may read up to p + avail (avail >= n). */
int pdec_parse_in(const char *p, size_t n, size_t avail, struct pdec *d);
/* The same number as spans of the text, before copying any digit. */
struct pnum {
	const char *ip, *fp;	/* significant integer and fraction digits */
	size_t ni, nf;
	int32_t exp;
	uint8_t neg, nd;
};
int pnum_spans(const char *p, size_t n, size_t avail, struct pnum *sn);
#ifdef __SSE2__
/* pnum_spans() of the common shape, -?digits(.digits)? in under 32 bytes
 * with 32 readable, from bit masks of its digits and zeros: the first and
 * last significant digit and the point give it all.  1: not that shape. */
static inline int
pnum_spans_fast(const char *p, size_t n, const char *limit, struct pnum *sn)
{
	const unsigned char *q = (const unsigned char *)p;
	unsigned len = (unsigned)n, neg = len > 0 && *q == '-';

	q += neg;
	len -= neg;
	if (len == 0 || len > 31 || limit - (const char *)q < 32)
		return 1;
	__m128i zero = _mm_set1_epi8('0');
	uint32_t all = (1u << len) - 1, d = pat_digits32(q) & all;
	unsigned pt = (unsigned)__builtin_ctz(~d);	/* the point, or len */
	if (pt < len && (q[pt] != '.' || (d | 1u << pt) != all))
		return 1;	/* an exponent */
	if (q[0] != '0' && q[len - 1] != '0' && pt < len) {
		/* d.d with no zero to trim, most numbers */
		sn->neg = (uint8_t)neg;
		sn->ip = (const char *)q;
		sn->ni = pt;
		sn->fp = (const char *)q + pt + 1;
		sn->nf = len - pt - 1;
		sn->exp = (int32_t)pt;
		if (len - 1 > 17)
			return -1;
		sn->nd = (uint8_t)(len - 1);
		return 0;
	}
	uint32_t z = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_loadu_si128((const __m128i *)(const void *)q), zero)) |
	    (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
	    _mm_loadu_si128((const __m128i *)(const void *)(q + 16)), zero)) << 16;
	uint32_t nz = d & ~z;
	sn->neg = (uint8_t)neg;
	if (nz == 0) {
		sn->neg = 0;	/* -0 is 0 */
		sn->ip = sn->fp = (const char *)q;
		sn->ni = sn->nf = 0;
		sn->nd = 0;
		sn->exp = 0;
		return 0;
	}
	unsigned fs = (unsigned)__builtin_ctz(nz), ls = 31 - (unsigned)__builtin_clz(nz);
	sn->ip = (const char *)q + fs;
	if (fs > pt) {		/* 0.00ddd */
		sn->ni = 0;
		sn->fp = (const char *)q + fs;
		sn->nf = ls - fs + 1;
		sn->exp = -(int32_t)(fs - pt - 1);
	} else {
		sn->ni = (ls < pt ? ls + 1 : pt) - fs;
		sn->fp = (const char *)q + pt + 1;
		sn->nf = ls > pt ? ls - pt : 0;
		sn->exp = (int32_t)(pt - fs);
	}
	if (sn->ni + sn->nf > 17)
		return -1;
	sn->nd = (uint8_t)(sn->ni + sn->nf);
	return 0;
}
#else
static inline int
pnum_spans_fast(const char *p, size_t n, const char *limit, struct pnum *sn)
{
	(void)p, (void)n, (void)limit, (void)sn;
	return 1;
}
#endif

void pnum_dec(const struct pnum *sn, struct pdec *d);
/* The number's value as a double within a relative 2.5e-16, or NAN when
 * that is not cheap to promise (an exponent far from 0).  Bytes up to
 * limit may be read. */
double pnum_near(const struct pnum *sn, const char *limit);
/* The value of d, rounded to a double. */
double pdec_double(const struct pdec *d);
#define pdec_parse(p, n, d) pdec_parse_in((p), (n), (n), (d))
int pdec_cmp(const struct pdec *a, const struct pdec *b);
/* A 12-bit digest of a number's value, for a Bloom filter in front of the
 * hash maps: most numbers of an event equal no pattern number.  It takes
 * the last 8 significant digits (byte 7 the last; fewer digits leave the
 * low bytes 0), where numbers near each other differ. */
static inline uint32_t
pbloom(int32_t exp, unsigned nd, unsigned neg, uint64_t last8)
{
	uint64_t k = (uint64_t)(uint16_t)exp | (uint64_t)nd << 16 | (uint64_t)neg << 24;

	k = (k * 0x9e3779b97f4a7c15ULL) ^ last8;
	return (uint32_t)((k * 0xbf58476d1ce4e5b9ULL) >> 52);	/* 12 bits */
}

/* last8 of pbloom() from digit i = at(i) of nd. */
#define PBLOOM_LAST8(out, nd, at) do { \
	unsigned m_ = (nd) < 8 ? (nd) : 8; \
	(out) = 0; \
	for (unsigned j_ = 0; j_ < m_; j_++) \
		(out) |= (uint64_t)(at((nd) - m_ + j_)) << 8 * (8 - m_ + j_); \
} while (0)

static inline uint32_t
pdec_bloom(const struct pdec *d)
{
	uint64_t last8;
#define PDEC_AT(i) ((unsigned char)d->d[i])
	PBLOOM_LAST8(last8, d->nd, PDEC_AT);
#undef PDEC_AT
	return pbloom(d->exp, d->nd, d->neg, last8);
}
/* 1 if the number text p[0..n) is what event-ruler calls comparable: its
 * value survives a round trip through the nearest double and back to the
 * decimal Java's Double.toString() writes for it (the shortest that
 * converts back, of two digits at least where that is closer).  *key
 * gets that value. */
int pdec_comparable(const char *p, size_t n, struct pdec *key);
/* The reference way (printf and strtod), for tests: t parsed from p, v
 * its nearest double. */
int pdec_comparable_slow(const char *p, size_t n, const struct pdec *t, double v,
    struct pdec *key);

/* Wildcard (compile-time checked): '*' any run, "\*" star, "\\" backslash. */
const char *pwild_check(const char *w, size_t n);
int pwild_match(const char *w, size_t wn, const char *s, size_t n);
/* A checked wildcard compiled for pwild_run(): escapes decoded and each
 * '*' that matches any run written as PWILD_STAR, a byte UTF-8 text never
 * holds.  out has room for n bytes; returns the length. */
#define PWILD_STAR '\xff'
enum { PWILD_GRAM = 4 };
size_t pwild_compile(const char *w, size_t n, char *out);
/* Matching in O(n + cn): the literal runs between stars found left to
 * right by a linear substring search, the first and last anchored. */
int pwild_run(const char *c, size_t cn, const char *s, size_t n);
/* The case-folded key of equals-ignore-case text p[0..n) into out (room
 * for 5n bytes): a value's characters each the lower case of every
 * character of its upper case (patfold.c); a pattern's characters each
 * the fold of their forms (peic_forms()), or (size_t)-1 when some
 * character's two forms fold apart (not in the index, then: matched one
 * by one). */
size_t peic_fold(const char *p, size_t n, char *out, int pattern);
/* The UTF-8 of the two texts a pattern character pc matches, its Java
 * lower and upper case ("??" both outside the BMP), lengths in len. */
void peic_forms(unsigned pc, char forms[2][16], size_t len[2]);
/* towlower() of the ignore-case locale. */
unsigned peic_lower(unsigned c);
/* event-ruler's equals-ignore-case: every character of the pattern must
 * appear in the value as its lower-case or its upper-case form. */
int peic_equal(const char *pat, size_t pn, const char *s, size_t n);
int peic_prefix(const char *pat, size_t pn, const char *s, size_t n);
int peic_suffix(const char *pat, size_t pn, const char *s, size_t n);
/* IPv4/IPv6 text to 16 bytes (IPv4 in the first 4); 4, 6 or 0.  As
 * event-ruler reads them: IPv4 octets may have leading zeros, an
 * IPv4-mapped IPv6 address is the IPv4 one. */
int pip_parse(const char *p, size_t n, unsigned char out[16]);

enum { SLOT_REQ, SLOT_OPT, SLOT_PRES };

struct pslot {
	uint32_t sub;
	uint8_t kind;
	uint8_t freehit;	/* has a hit outside any array this event */
	uint32_t stamp, head;	/* per event: generation, first hit */
};

struct pfield {
	uint32_t req;		/* REQ or OPT slot, or PAT_NONE */
	uint32_t pres;		/* PRES slot (exists:false), or PAT_NONE */
	uint32_t rank;		/* of its dotted name among its sub-pattern's */
};

struct psub {
	uint32_t pat, f0, nf;
	uint32_t nreq;
	uint8_t has_pres;
	uint8_t ctx;		/* per event: some hit of it is inside an array */
	uint32_t stamp, count;	/* per event: REQ slots hit */
};

struct pstrm {			/* ignore-case and wildcard matchers */
	uint32_t slot, off, len;
	uint8_t kind;
};
enum { SM_EIC, SM_PEIC, SM_SEIC, SM_WILD };

struct prange {
	struct pdec lo, hi;
	uint8_t flags;
	uint32_t slot;
};
enum { R_LO = 1, R_LO_OPEN = 2, R_HI = 4, R_HI_OPEN = 8 };


struct pip {			/* the compiler's view of an address or a block */
	unsigned char lo[16], hi[16];
	uint8_t v6;
	uint32_t slot;
};
/* event-ruler's IP matching (patval.c): whether range r holds the value
 * whose digits pip_digits() gave. */
int pip_in(const struct pip *r, const unsigned char *v, size_t n);
/* Hex digit i of a 16-byte address, the first the high half of byte 0. */
#define PIP_NIB(x, i) ((i) % 2 == 0 ? (x)[(i) / 2] >> 4 : (x)[(i) / 2] & 15)
size_t pip_digits(const char *p, size_t n, int string, unsigned char v[32]);

struct pab {			/* anything-but prefix/suffix/ignore-case/wildcard */
	uint32_t slot, first, n;	/* strings: strs[first..first+n) */
	uint8_t kind;
};

/* The matchers on one path.  Lists (map values) index pat_set.lists. */
struct plist {
	uint32_t *v;
	uint32_t n, cap;
};

struct pvm {
	struct pmap exact, numtext, numeq, prefix, suffix, abs, abn;
	uint32_t lit[3];	/* true, false, null: list or PAT_NONE */
	struct plist plen, slen;	/* distinct prefix / suffix lengths */
	PVEC(struct prange) ranges;
	/* The ranges as a segment tree over the elementary intervals of
	 * their sorted distinct bounds (rpts): node i holds a list of slots
	 * or PAT_NONE; leaf 2k+1 is the point rpts[k], leaf 2k the gap
	 * below it.  Built at the first number after a range was added. */
	PVEC(struct pdec) rpts;
	PVEC(double) rdbl;	/* rpts rounded to doubles */
	PVEC(uint32_t) rtree;	/* 2 × leaves nodes */
	uint8_t rstale;
	PVEC(struct pstrm) strm;	/* ignore-case matchers not in eic/peic/seic */
	/* Ignore-case matchers by peic_fold() key → list of strm2 indices:
	 * whole values, prefixes and suffixes by key length. */
	struct pmap eic, peic, seic;
	struct plist pelen, selen;
	PVEC(struct pstrm) strm2;
	/* Wildcards, pwild_compile()d, found by a literal run of theirs:
	 * the prefix before the first star (wpre) if there is one, else
	 * the longest run: the suffix after the last star (wsuf), or the
	 * first bytes, up to PWILD_GRAM, of a middle one (wgram), looked up
	 * at every place in the value once they are more than a few. */
	PVEC(struct pstrm) wild;
	struct pmap wpre, wsuf, wgram;	/* → list of wild */
	struct plist wlen, wslen, wglen;	/* their distinct key lengths */
	PVEC(uint32_t) wmid;	/* the wildcards in wgram */
	PVEC(uint32_t) wany;	/* no literal run: "*" */
	PVEC(uint32_t) wstamp;	/* per wild: wgen when last tried */
	uint32_t wgen;
	/* IP addresses and CIDR blocks, matched as pip_in() does: a value's
	 * digits must start with the k hex digits that all addresses of a
	 * block share.  The distinct blocks (ipb, each with its list of
	 * slots in .slot; ipm finds one by version, prefix length and
	 * address) are filed by those k digits, a byte each, in ip4k or
	 * ip6k by their version, the k in ip4len or ip6len: a value costs a
	 * lookup per distinct k, and pip_in() on the at most 16 blocks of
	 * one key. */
	PVEC(struct pip) ipb;
	struct pmap ipm, ip4k, ip6k;
	struct plist ip4len, ip6len;
	PVEC(uint32_t) any;	/* exists:true and presence slots */
	PVEC(struct pabv { uint32_t slot, stamp; }) abv;	/* anything-but values; stamp: excluded */
	PVEC(struct pab) abo;
	uint64_t numbloom[64];	/* numeq and abn keys, by pdec_bloom() */
	uint8_t need_num, need_ip;
	uint32_t leafgen;	/* per leaf: abv stamps */
};

struct pspan {
	uint32_t off, len;
};

struct pnode {
	struct pmap kids;	/* member name → node */
	uint32_t vm;		/* index into vms, or PAT_NONE */
	uint8_t deep;		/* a kid has kids: an event's "a.b" may lead there */
};

struct phit {
	uint32_t slot, next, ctx, nctx;
};

struct pat_set {
	PVEC(struct pnode) nodes;
	PVEC(struct pvm) vms;
	PVEC(struct pslot) slots;
	PVEC(struct pfield) fields;
	PVEC(struct psub) subs;
	PVEC(struct plist) lists;
	PVEC(char) strs;	/* string bytes of strm / abo matchers */
	PVEC(struct pspan) abstr;
	PVEC(uint32_t) always;	/* subs with no REQ slot: checked every event */
	uint32_t npat;
	/* per event */
	uint32_t gen;
	PVEC(uint32_t) patstamp;
	PVEC(struct phit) hits;
	PVEC(uint32_t) ctxa;	/* saved hit contexts */
	PVEC(uint32_t) stk;	/* (array id, index) pairs of the arrays we are in */
	PVEC(uint32_t) cand;
	PVEC(uint32_t) out;
	PVEC(uint32_t) chosen;
	PVEC(uint32_t) crank;	/* the rank of each chosen hit's field */
	const char *line_end;	/* of the line being scanned */
	PVEC(uint8_t) absent;
	PVEC(struct pleaf { uint32_t hit, field; }) aleaf;	/* patarr.c's scratch */
	PVEC(uint64_t) amask;
	uint32_t narr;
	int all, decided;
	char *scratch;
	size_t scap;
	char *fold;		/* peic_fold() of the value at hand */
	size_t fcap;
};

/* The slot list l of s, as a pointer and count. */
#define PLIST(s, l) ((s)->lists.v[(l)])

/* Compiler side: a new list, and appending to one. */
uint32_t pat_newlist(struct pat_set *s);
void pat_listadd(struct pat_set *s, uint32_t *l, uint32_t slot);

/* Scanner side (patscan.c): records that slot matched at the current
 * array position. */
void pat_hit(struct pat_set *s, uint32_t slot);
/* Validates and scans one line, hitting slots; -1 on bad JSON. */
int pat_scan(struct pat_set *s, const char *p, size_t n, struct pat_err *err);
/* The bit-mask fast path of skipping arrays of numbers (patskim.c): p is
 * just past a value (after is 0) or a '[' (after is '[') inside open >= 1
 * nested arrays, room more may open.
 * Returns the length of the checked prefix of p[0..len), which ends just
 * past a comma (0: none), and in *delta how many arrays that prefix opened
 * less closed; never leaves the outermost of the open ones.  *seen is
 * where it stopped: the first byte it could not vouch for. */
size_t pat_skim(const unsigned char *p, size_t len, int open, int room, int after,
    int *delta, size_t *seen);
/* Which classifier it uses: 0 SSE2, 1 AVX2, 2 AVX-512BW; -1 until it
 * has asked the CPU for the best it has (pat_skim_best(); tests set
 * lower ones). */
extern int pat_skim_level;
int pat_skim_best(void);
void pat_skim_init(void);
/* The scanner's tables, made once before any thread scans. */
void pat_scan_init(void);
/* The locale of ignore-case matching, likewise. */
void pat_eic_init(void);
/* Array consistency of sub-pattern sub over this event's hits, without
 * search (patarr.c): 1 it matches, 0 not, -1 not decided here (exists:false,
 * too many fields or masks): the search must. */
int pat_arrays_fit(struct pat_set *s, const struct psub *sub);
/* Tests set it to decide every sub-pattern by search. */
extern int pat_search_only;
/* The segment tree of vm's ranges (patrange.c), and the leaf of the
 * elementary interval that holds number sn (x: pnum_near(); d: its
 * value, computed into d if needed, when *have is 0). */
void prange_build(struct pat_set *s, struct pvm *vm);
uint32_t prange_leaf(const struct pvm *vm, const struct pnum *sn, double x, struct pdec *d,
    int *have);
/* Value matching (patleaf.c): one leaf at node vm. */
void pat_leaf_string(struct pat_set *s, struct pvm *vm, const char *p, size_t n);
void pat_leaf_number(struct pat_set *s, struct pvm *vm, const char *p, size_t n);
void pat_leaf_literal(struct pat_set *s, struct pvm *vm, int which);

/* Decodes the inside of a valid JSON string literal p[0..n) into out
 * (room for n bytes: decoding never grows); returns its length.  A lone
 * surrogate escape becomes U+FFFD. */
size_t pat_unescape(const char *p, size_t n, char *out);
/* Appends code point c as UTF-8 at *o, moving *o past it. */
void pat_put_utf8(char **o, unsigned c);

/* The compiler's view of a pattern: a parsed JSON tree. */
struct jnode {
	char t;			/* '{' '[' '"' '0' (number) 't' 'f' 'n' */
	const char *s, *k;	/* string (decoded) or number text; member name */
	size_t n, kn;
	uint32_t nkid;
	struct jnode *kid, *next;
};

/* The tree of valid JSON text p[0..n); *mem is for pat_tree_free(). */
struct jnode *pat_tree(const char *p, size_t n, void **mem);
void pat_tree_free(void *mem);

/* Compiling: the JSON path of the value at hand, for error messages. */
struct pcomp {
	struct pat_set *s;
	char path[512];
	size_t plen;
	char *why;		/* set on the first error */
};
int pc_fail(struct pcomp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t pc_push_key(struct pcomp *c, const char *k, size_t n);
size_t pc_push_index(struct pcomp *c, uint32_t i);
void pc_pop(struct pcomp *c, size_t mark);
/* Checks (vm == PAT_NONE) or compiles (into vm, slots of sub) the value
 * list of one field; -1 on a pattern error. */
int pc_field(struct pcomp *c, const struct jnode *vals, uint32_t vm, uint32_t sub,
    struct pfield *f);

#endif
