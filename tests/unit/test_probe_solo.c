/* Unit tests: the ring of probes of one vantage point alone (lib/match/probe_stream_solo.c).
 * It keeps its probes, in the order they leave, across every growth (malloc's block, then a
 * mapping of its own moved whole), wrapped or not; past a huge page it lies on a huge-page
 * boundary (what makes its pages 2 MiB faults); and it stays as small as the probes it holds on
 * a long stream whose probes leave as they come. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "match/probe_stream_solo.h"

#define HUGE_PAGE ((size_t)2 << 20)
#define GAP 1000 /* ns between requests */
#define RTT 500

/* Pair k of the stream: its request at k * GAP, packet k + 1, a flow of its own (no two join). */
static struct vd_stream_pair pair_k(size_t k)
{
	struct vd_stream_pair p = {.rep_ts = (vd_ns)(k * GAP + RTT), .rep_index = 3 * k + 7};
	p.req.ts = (vd_ns)(k * GAP);
	p.req.index = k + 1;
	p.req.phase = (int64_t)(k % 5) - 1;
	p.req.seq = (uint32_t)(k * 7);
	p.req.flow = (uint32_t)k;
	return p;
}

/* The pair taken i-th of n: k = i, except that every 7th couple comes swapped (k + 1 before k),
 * so that a pair goes into the ring before one already there. */
static size_t fed_k(size_t i, size_t n)
{
	if (i % 7 == 0 && i + 1 < n)
		return i + 1;
	return i % 7 == 1 ? i - 1 : i;
}

struct run {
	struct vd_probe_solo s;
	size_t popped;
	size_t most_held;
};

/* Takes n pairs in feed order; each probe that leaves is the next in request order, whole.
 * Every every-th pair taken, up to per probes leave if they may (no pair still to come can
 * nest with them); the rest at the end. */
static void run_stream(struct run *r, size_t n, size_t every, size_t per)
{
	memset(r, 0, sizeof(*r));
	r->s.window = 3 * GAP; /* (a pair taken before one held looks this far back) */
	for (size_t i = 0; i < n; i++) {
		struct vd_stream_pair p = pair_k(fed_k(i, n));
		assert_int_equal(vd_probe_solo_take_more(&r->s, &p), 0);
		if (r->s.n > r->most_held)
			r->most_held = r->s.n;
		if (r->s.cap * sizeof(*r->s.ring) > HUGE_PAGE)
			assert_int_equal((uintptr_t)r->s.ring % HUGE_PAGE, 0);
		/* every pair still to come has its request at or after this */
		vd_ns low = i + 1 < n ? (vd_ns)(i * GAP) : INT64_MAX;
		for (size_t j = 0; i % every == 0 && j < per; j++) {
			const struct vd_stream_pair *x = vd_probe_solo_ready(&r->s, low);
			if (!x)
				break;
			struct vd_stream_pair want = pair_k(r->popped++);
			assert_memory_equal(x, &want, sizeof(want));
			vd_probe_solo_pop(&r->s);
		}
	}
	const struct vd_stream_pair *x;
	while ((x = vd_probe_solo_ready(&r->s, INT64_MAX))) {
		struct vd_stream_pair want = pair_k(r->popped++);
		assert_memory_equal(x, &want, sizeof(want));
		vd_probe_solo_pop(&r->s);
	}
	assert_int_equal(r->popped, n);
	assert_int_equal(r->s.probes, n);
	assert_int_equal(r->s.dups, 0);
}

/* 300,000 probes, one leaving for every four taken: the ring grows past malloc's block into its
 * own mappings (12 MiB at the end) with its head moved on, so each growth also moves a wrapped
 * part; every probe leaves whole and in order. */
static void ring_keeps_probes_across_growth(void **state)
{
	(void)state;
	struct run r;
	run_stream(&r, 300000, 4, 1);
	print_message("held at most %zu probes, ring of %zu\n", r.most_held, r.s.cap);
	assert_true(r.most_held * sizeof(struct vd_stream_pair) > 4 * HUGE_PAGE);
	assert_true(r.s.mapped >= r.s.cap * sizeof(struct vd_stream_pair));
	vd_probe_solo_free(&r.s);
	assert_null(r.s.ring);
}

/* A million probes, each leaving as soon as it may: a few held at once, and the ring stays at
 * its first size, however long the stream. */
static void ring_bounded_by_probes_held(void **state)
{
	(void)state;
	struct run r;
	run_stream(&r, 1000000, 1, SIZE_MAX);
	print_message("held at most %zu probes, ring of %zu\n", r.most_held, r.s.cap);
	assert_true(r.most_held <= 4);
	assert_int_equal(r.s.cap, 256);
	assert_int_equal(r.s.mapped, 0);
	vd_probe_solo_free(&r.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ring_keeps_probes_across_growth),
	    cmocka_unit_test(ring_bounded_by_probes_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
