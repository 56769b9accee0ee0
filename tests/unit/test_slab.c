/* Unit tests: the block allocator behind matching's per-flow seq tables (lib/match/slab.c):
 * blocks are zeroed, cache-line aligned and never overlap under random allocation and freeing,
 * and freed blocks are used again for blocks of their size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/slab.h"

enum { SLOT = 16, LIVE = 3000, STEPS = 60000 };

struct block {
	uint8_t *p;
	unsigned log2;
	uint8_t mark;
};

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* Random allocations (8 to 2048 slots, as flows' tables) and frees: each block comes zeroed and
 * on a cache line, and keeps the mark written into it until freed (no two blocks overlap). */
static void blocks_are_zeroed_aligned_and_apart(void **state)
{
	static struct block live[LIVE];
	struct vd_slab s;
	vd_slab_init(&s, SLOT);
	uint64_t rng = 0x2545f4914f6cdd1dull;
	for (int step = 0; step < STEPS; step++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		struct block *b = &live[rng % LIVE];
		if (b->p) {
			assert_true(all_bytes(b->p, (size_t)SLOT << b->log2, b->mark));
			vd_slab_free(&s, b->p, b->log2);
			b->p = NULL;
			continue;
		}
		b->log2 = 3 + (unsigned)(rng >> 20) % 9;
		b->mark = (uint8_t)(1 + (rng >> 40) % 255);
		size_t bytes = (size_t)SLOT << b->log2;
		b->p = vd_slab_alloc(&s, b->log2);
		assert_non_null(b->p);
		assert_int_equal((uintptr_t)b->p % 64, 0);
		assert_true(all_bytes(b->p, bytes, 0));
		memset(b->p, b->mark, bytes);
	}
	for (size_t i = 0; i < LIVE; i++)
		if (live[i].p) {
			assert_true(
			    all_bytes(live[i].p, (size_t)SLOT << live[i].log2, live[i].mark));
			vd_slab_free(&s, live[i].p, live[i].log2);
			live[i].p = NULL;
		}
	vd_slab_destroy(&s);
}

/* Tables that double one after the other (8, 16, 32... slots, each freed as the next comes)
 * for many flows, then the same again for as many new flows: the second round takes its blocks
 * from the first round's, no new chunk. */
static void freed_blocks_are_used_again(void **state)
{
	enum { FLOWS = 20000, TOP = 6 }; /* 20000 tables of 2^6 slots: 20 MB */
	static void *tab[FLOWS];
	struct vd_slab s;
	vd_slab_init(&s, SLOT);
	size_t chunks = 0;
	for (int round = 0; round < 2; round++) {
		for (unsigned log2 = 3; log2 <= TOP; log2++)
			for (size_t f = 0; f < FLOWS; f++) {
				void *bigger = vd_slab_alloc(&s, log2);
				assert_non_null(bigger);
				vd_slab_free(&s, tab[f], log2 - 1);
				tab[f] = bigger;
			}
		for (size_t f = 0; f < FLOWS; f++) {
			vd_slab_free(&s, tab[f], TOP);
			tab[f] = NULL;
		}
		if (round == 0)
			chunks = s.nchunks;
	}
	assert_true(chunks > 0);
	assert_int_equal(s.nchunks, chunks);
	vd_slab_destroy(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(blocks_are_zeroed_aligned_and_apart),
	    cmocka_unit_test(freed_blocks_are_used_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
