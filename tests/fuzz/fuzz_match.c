/* Fuzzes the event scanner of lib/pattern: against a fixed set of patterns
 * that uses every matcher, any input must be accepted exactly when
 * json_validate() says it is one JSON object, never read past its end, and
 * give the same yes/no in all-patterns and first-match modes, and the same
 * matches whether array consistency is decided bottom up or by search. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "pattern/pattern_int.h"
#include "pattern/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = {
	"{\"a\":[\"x\",1,true,null,{\"prefix\":\"p\"},{\"suffix\":\"s\"}]}",
	"{\"a\":{\"b\":[{\"numeric\":[\">\",0,\"<=\",5]}],\"c\":[{\"exists\":false}]}}",
	"{\"a\":[{\"anything-but\":[\"x\",\"y\"]}],\"b\":[{\"exists\":true}]}",
	"{\"a\":[{\"anything-but\":{\"wildcard\":\"*z*\"}},{\"anything-but\":[1,2]}]}",
	"{\"b\":[{\"wildcard\":\"a*b\\\\*\"},{\"equals-ignore-case\":\"\xc3\xa9t\xc3\xa9\"}]}",
	"{\"b\":[{\"cidr\":\"10.0.0.0/8\"},{\"cidr\":\"2001:db8::/32\"},\"::1\"]}",
	"{\"$or\":[{\"a\":[{\"prefix\":{\"equals-ignore-case\":\"X\"}}]},{\"c\":{\"d\":[300]}}]}",
	"{\"c\":{\"d\":[{\"suffix\":{\"equals-ignore-case\":\"Y\"}},{\"anything-but\":{\"prefix\":\"q\"}}]}}",
	"{\"c\":[{\"exists\":false}],\"a\":[{\"anything-but\":\"x\"},{\"exists\":false}]}",
	"{\"a\":{\"b\":[1e300,{\"numeric\":[\"=\",0.5]}],\"c\":[123456789012345678]}}",
	"{\"a\":{\"b\":[1,\"x\"],\"c\":[2,\"y\"]}}",
	"{\"b\":{\"c\":[1]},\"a\":{\"b\":[2],\"d\":{\"c\":[1,\"x\"]}}}",
};

static struct pat_set *set;

/* The matched patterns of the last pat_match(), as a bit set. */
static uint64_t
hit_bits(int n)
{
	uint64_t m = 0;

	for (int i = 0; i < n; i++)
		m |= (uint64_t)1 << pat_hits(set)[i];
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pat_err err;
	struct json_err je;
	char *why;

	if (set == NULL) {
		set = pat_new();
		for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++)
			if (pat_add(set, patterns[i], strlen(patterns[i]), &why) < 0)
				abort();
	}
	char *copy = malloc(size ? size : 1);	/* exact size: ASan sees overreads */
	memcpy(copy, data, size);
	int all = pat_match(set, copy, size, 1, &err);
	int kind = json_validate(copy, size, 0, &je);
	if ((all >= 0) != (kind == '{'))
		abort();
	if (all < 0 && (err.col < 1 || err.col > size + 1 || err.what == NULL))
		abort();
	if (all >= 0) {
		const uint32_t *hits = pat_hits(set);
		for (int i = 0; i < all; i++)
			if (hits[i] >= pat_count(set))
				abort();
		uint64_t bits = hit_bits(all);
		int any = pat_match(set, copy, size, 0, &err);
		if ((any > 0) != (all > 0) || any > 1)
			abort();
		pat_search_only = 1;
		int searched = pat_match(set, copy, size, 1, &err);
		pat_search_only = 0;
		if (searched != all || hit_bits(searched) != bits)
			abort();
	}
	free(copy);
	return 0;
}
