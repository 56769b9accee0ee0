/* pktmatch.c — bounded matching of the same packet across vantage points (see pktmatch.h). */
#include "vmdelay/match/pktmatch.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

/* len bytes (not zeroed) on whole huge pages when it is at least one: aligned to one, the
 * kernel advised (best effort: without transparent huge pages, plain pages). Freed by free. */
static void *alloc_huge(size_t len)
{
	if (len < HUGE_PAGE)
		return malloc(len);
	len = (len + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	void *p = aligned_alloc(HUGE_PAGE, len);
#ifdef MADV_HUGEPAGE
	if (p)
		(void)madvise(p, len, MADV_HUGEPAGE);
#endif
	return p;
}

/* Pending packets live in a ring in arrival order; serial s is at ring[s % cap]. Bucket chains
 * link serials from the newest to the oldest, so the entries that left the ring (serial below
 * the head's) are a chain's tail: a walk stops at the first one, and leaving the ring is only
 * moving the head, with no chain to unlink (no random access per expired packet). */
struct pending {
	uint64_t h;
	vd_ns ts;
	uint64_t next; /* the next older serial + 1 in the bucket chain, 0: end */
	uint32_t vantage;
	int alive;
};

struct vd_pktmatch {
	struct pending *ring;
	size_t cap;
	uint64_t head, tail; /* serials of the oldest pending entry and of the next one */
	uint64_t *bucket;    /* newest serial + 1 of the chain, 0: empty */
	size_t nbuckets;     /* power of two */
	vd_ns horizon;
	vd_pktmatch_fn fn;
	void *ctx;
	uint64_t evicted;
	size_t longest_walk;
};

struct vd_pktmatch *vd_pktmatch_create(size_t cap, vd_ns horizon, vd_pktmatch_fn fn, void *ctx)
{
	struct vd_pktmatch *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	/* powers of two: the ring and bucket indexes are masks, not divisions */
	m->cap = 1;
	while (m->cap < cap)
		m->cap *= 2;
	m->nbuckets = 1;
	while (m->nbuckets < 2 * m->cap)
		m->nbuckets *= 2;
	/* Huge pages: 2^18 pending entries and twice as many buckets are
	 * 12 MB read at random, a TLB miss per packet in 4 KiB pages. The ring needs no zeroing:
	 * only entries from head to tail are ever read. */
	m->ring = alloc_huge(m->cap * sizeof(*m->ring));
	m->bucket = alloc_huge(m->nbuckets * sizeof(*m->bucket));
	if (!m->ring || !m->bucket) {
		vd_pktmatch_destroy(m);
		return NULL;
	}
	memset(m->bucket, 0, m->nbuckets * sizeof(*m->bucket));
	m->horizon = horizon;
	m->fn = fn;
	m->ctx = ctx;
	return m;
}

void vd_pktmatch_destroy(struct vd_pktmatch *m)
{
	if (!m)
		return;
	free(m->ring);
	free(m->bucket);
	free(m);
}

/* The 128-bit product of a and b folded to 64 bits: every bit of each input reaches the
 * middle bits of the result. */
static uint64_t fold_mul(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* 64 bits of the packet's identity: a collision between two packets pending at the same time
 * is a 2^-64 event per pair. Four products of independent input pairs (each word xor-ed with
 * a constant of its own, so that no ordinary value zeroes a product) run in parallel, not a chain
 * of dependent mixing steps; the last product spreads every bit over the low bits that pick the
 * bucket (successive segments of one connection differ in the seq only). */
static uint64_t key_hash(const struct vd_decoded *d)
{
	uint64_t a[2], b[2];
	memcpy(a, d->src.bytes, 16);
	memcpy(b, d->dst.bytes, 16);
	uint64_t ports = ((uint64_t)d->sport << 16) | d->dport | ((uint64_t)d->src.family << 32);
	uint64_t seqack = ((uint64_t)d->tcp_seq << 32) | d->tcp_ack;
	uint64_t rest =
	    ((uint64_t)d->tcp_payload_len << 32) | ((uint64_t)d->tcp_flags << 16) | d->tcp_win;
	uint64_t h = fold_mul(a[0] ^ 0x243f6a8885a308d3ULL, b[0] ^ 0x13198a2e03707345ULL) ^
		     fold_mul(a[1] ^ 0xa4093822299f31d1ULL, b[1] ^ 0x082efa98ec4e6c89ULL) ^
		     fold_mul(ports ^ 0x452821e638d01377ULL, seqack ^ 0xbe5466cf34e90c6dULL) ^
		     fold_mul(rest ^ 0xc0ac29b7c97c50ddULL, d->ip_id ^ 0x3f84d5b5b5470917ULL);
	return fold_mul(h ^ 0x9216d5d98979fb1bULL, 0xd1310ba698dfb5adULL);
}

uint64_t vd_pktmatch_prefetch(const struct vd_pktmatch *m, const struct vd_decoded *d)
{
	uint64_t h = key_hash(d);
	__builtin_prefetch(&m->bucket[h & (m->nbuckets - 1)]);
	return h;
}

void vd_pktmatch_prefetch_chain(const struct vd_pktmatch *m, uint64_t hash)
{
	uint64_t s1 = m->bucket[hash & (m->nbuckets - 1)];
	if (s1 > m->head)
		__builtin_prefetch(&m->ring[(s1 - 1) & (m->cap - 1)]);
}

void vd_pktmatch_add(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts, const struct vd_decoded *d)
{
	vd_pktmatch_add_hashed(m, vantage, ts, d, key_hash(d));
}

void vd_pktmatch_add_hashed(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts,
			    const struct vd_decoded *d, uint64_t h)
{
	if (!vd_ns_timed(ts))
		return;
	vd_ns oldest = vd_ns_sub_sat(ts, m->horizon);
	while (m->head < m->tail && m->ring[m->head & (m->cap - 1)].ts < oldest)
		m->head++;
	/* the entries that expire next, long out of the cache: a few lines ahead of the head */
	__builtin_prefetch(&m->ring[(m->head + 16) & (m->cap - 1)]);
	uint64_t *chain = &m->bucket[h & (m->nbuckets - 1)];
	size_t walk = 0;
	for (uint64_t s1 = *chain; s1 > m->head; s1 = m->ring[(s1 - 1) & (m->cap - 1)].next) {
		struct pending *p = &m->ring[(s1 - 1) & (m->cap - 1)];
		walk++;
		if (!p->alive || p->h != h || p->vantage == vantage ||
		    (p->vantage != 0 && vantage != 0))
			continue;
		if (walk > m->longest_walk)
			m->longest_walk = walk;
		m->fn(m->ctx, p->vantage, p->ts, vantage, ts, d);
		/* The reference's copy stays for the other vantage points; theirs is used up. */
		if (p->vantage != 0)
			p->alive = 0;
		return;
	}
	if (walk > m->longest_walk)
		m->longest_walk = walk;
	if (m->tail - m->head == m->cap) {
		if (m->ring[m->head & (m->cap - 1)].alive)
			m->evicted++;
		m->head++;
	}
	m->ring[m->tail & (m->cap - 1)] =
	    (struct pending){.h = h, .ts = ts, .vantage = vantage, .next = *chain, .alive = 1};
	*chain = ++m->tail;
}

size_t vd_pktmatch_pending(const struct vd_pktmatch *m)
{
	return (size_t)(m->tail - m->head);
}

size_t vd_pktmatch_longest_walk(const struct vd_pktmatch *m)
{
	return m->longest_walk;
}

uint64_t vd_pktmatch_evicted(const struct vd_pktmatch *m)
{
	return m->evicted;
}
