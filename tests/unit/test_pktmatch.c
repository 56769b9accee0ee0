/* Unit tests: the same TCP packet across vantage points (lib/match/pktmatch.c). What a match is
 * (against a plain list of the pending packets, on streams full of repeated keys, expiries and
 * evictions) and what a look-up costs at tens of thousands of connections (its bucket alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmdelay/match/pktmatch.h"

#include "tcpsegs.h"

#define US VD_NS_PER_US

/* A segment of connection `conn` (< 65,536): a data segment from the client, its ACK from the
 * server, the IP id telling copies apart. */
static struct vd_decoded seg(unsigned conn, int from_client, uint32_t seq, uint16_t ip_id)
{
	struct vd_decoded d = tcp_segment(conn, from_client, seq, 1, 0x10, from_client ? 1448 : 0);
	d.ip_id = ip_id;
	return d;
}

struct match {
	uint32_t first, second;
	vd_ns t_first, t_second;
};

struct log {
	struct match *m;
	size_t n, cap;
};

static void log_match(void *ctx, uint32_t first, vd_ns t_first, uint32_t second, vd_ns t_second,
		      const struct vd_decoded *d)
{
	(void)d;
	struct log *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->m = realloc(l->m, l->cap * sizeof(*l->m));
		assert_non_null(l->m);
	}
	l->m[l->n++] = (struct match){first, second, t_first, t_second};
}

/* The rules of pktmatch.h as a plain list, oldest first: a packet matches the newest pending
 * packet with the same key seen at another point, one of the two the reference (vantage 0);
 * the reference's copy stays, the other's is used up; a packet that matches waits for nothing.
 * A packet waits a horizon at most, and at most cap packets wait (the oldest pushed out). */
struct ref_pending {
	unsigned key;
	uint32_t vantage;
	vd_ns ts;
	int used;
};

struct ref {
	struct ref_pending *p;
	size_t head, tail, cap; /* p[head..tail) pending, tail - head <= cap */
	vd_ns horizon;
	uint64_t evicted;
};

static void ref_add(struct ref *r, struct log *l, unsigned key, uint32_t v, vd_ns ts)
{
	while (r->head < r->tail && r->p[r->head].ts < ts - r->horizon)
		r->head++;
	for (size_t i = r->tail; i-- > r->head;) {
		struct ref_pending *p = &r->p[i];
		if (p->key != key || p->used || p->vantage == v || (p->vantage != 0 && v != 0))
			continue;
		log_match(l, p->vantage, p->ts, v, ts, NULL);
		if (p->vantage != 0)
			p->used = 1;
		return;
	}
	if (r->tail - r->head == r->cap) {
		r->evicted += !r->p[r->head].used;
		r->head++;
	}
	r->p[r->tail++] = (struct ref_pending){.key = key, .vantage = v, .ts = ts};
}

/* Random streams over few keys (each key a segment of one of 40 connections, so keys repeat:
 * duplicates, copies at three points, chains of several pending packets per bucket), a horizon
 * and a cap both reached: the matches are the plain list's, in the same order. */
static void matches_as_a_plain_list_of_pending(void **state)
{
	(void)state;
	srand(7);
	uint64_t evicted = 0;
	for (int round = 0; round < 20; round++) {
		size_t cap = (size_t)16 << (round % 4); /* a power of two: pktmatch's cap exactly */
		vd_ns horizon = (vd_ns)(50 + rand() % 400) * US;
		struct log got = {0}, want = {0};
		struct vd_pktmatch *m = vd_pktmatch_create(cap, horizon, log_match, &got);
		assert_non_null(m);
		const size_t n = 20000;
		struct ref r = {
		    .p = calloc(n, sizeof(struct ref_pending)), .cap = cap, .horizon = horizon};
		assert_non_null(r.p);
		vd_ns t = VD_NS_PER_SEC;
		unsigned nkeys = 8 + (unsigned)(rand() % 200);
		for (size_t i = 0; i < n; i++) {
			t += (vd_ns)(rand() % 8) * US; /* equal times too */
			unsigned key = (unsigned)rand() % nkeys;
			uint32_t v = (uint32_t)(rand() % 3);
			struct vd_decoded d =
			    seg(key % 40, (key / 40) & 1, 1000 + key, (uint16_t)key);
			vd_pktmatch_add(m, v, t, &d);
			ref_add(&r, &want, key, v, t);
			assert_true(vd_pktmatch_pending(m) <= cap);
		}
		assert_true(want.n > 500);
		assert_int_equal(got.n, want.n);
		for (size_t i = 0; i < want.n; i++) {
			assert_int_equal(got.m[i].first, want.m[i].first);
			assert_int_equal(got.m[i].second, want.m[i].second);
			assert_int_equal(got.m[i].t_first, want.m[i].t_first);
			assert_int_equal(got.m[i].t_second, want.m[i].t_second);
		}
		assert_int_equal(vd_pktmatch_evicted(m), r.evicted);
		evicted += r.evicted;
		assert_int_equal(vd_pktmatch_pending(m), r.tail - r.head);
		vd_pktmatch_destroy(m);
		free(r.p);
		free(got.m);
		free(want.m);
	}
	assert_true(evicted > 0); /* the cap was reached, not only the horizon */
}

/* Tens of thousands of connections at two points, as `vmdelay-analyze tcp` reads them (2^18
 * pending at most, a 1 s horizon: ~100,000 packets wait): the bucket of a packet holds the hash
 * bits of its chain's newest pending packet, so most look-ups read that one cache line and no
 * pending packet at random. Were the ring entry of a bucket's newest packet read instead, each
 * look-up into a non-empty bucket (about one in six) would count here. */
static void lookups_read_the_bucket_alone(void **state)
{
	(void)state;
	struct log l = {0};
	struct vd_pktmatch *m = vd_pktmatch_create(1 << 18, VD_NS_PER_SEC, log_match, &l);
	assert_non_null(m);
	const unsigned conns = 65535, n = 400000;
	vd_ns t = VD_NS_PER_SEC;
	for (unsigned i = 0; i < n + 3; i++, t += 10 * US) {
		/* round robin over the connections; the copy at point 1 comes 30 us later */
		if (i < n) {
			struct vd_decoded d =
			    seg(i % conns, 1, 1000 + (i / conns) * 1448, (uint16_t)i);
			vd_pktmatch_add(m, 0, t, &d);
		}
		if (i >= 3) {
			unsigned j = i - 3;
			struct vd_decoded d =
			    seg(j % conns, 1, 1000 + (j / conns) * 1448, (uint16_t)j);
			vd_pktmatch_add(m, 1, t, &d);
		}
	}
	assert_int_equal(l.n, n);
	assert_int_equal(vd_pktmatch_evicted(m), 0);
	print_message("ring entries read beyond the buckets: %llu for %u packets, longest walk "
		      "%zu\n",
		      (unsigned long long)vd_pktmatch_ring_walks(m), 2 * n,
		      vd_pktmatch_longest_walk(m));
	assert_true(vd_pktmatch_ring_walks(m) * 50 < 2 * (uint64_t)n); /* under 2% */
	assert_true(vd_pktmatch_longest_walk(m) <= 8);
	vd_pktmatch_destroy(m);
	free(l.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matches_as_a_plain_list_of_pending),
	    cmocka_unit_test(lookups_read_the_bucket_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
