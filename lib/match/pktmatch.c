/* pktmatch.c — bounded matching of the same packet across vantage points (see pktmatch.h). */
#include "vmdelay/match/pktmatch.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

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
 * moving the head, with no chain to unlink (no random access per expired packet).
 * The entries of a chain share the low bits of their key hash (the bucket index), so an entry's
 * link keeps the other bits (comparing them compares the whole hash) and, in the low bits, the
 * distance back to the next older serial of the chain (0: none; at most cap < nbuckets). A
 * bucket holds its newest entry's link beside its serial: a packet whose bucket has no copy of
 * it learns so from the bucket alone, one line read at random (with thousands of connections
 * the ring entry a chain starts at is out of the cache); the ring is read only for an older
 * entry of the chain (rare: the buckets outnumber the pending packets) or for a copy found. The
 * vantage point, read only for a copy, lives beside the ring. */
struct pending {
	uint64_t link; /* key hash above the bucket bits | distance to the next older serial */
	vd_ns ts;
};

struct bucket {
	uint64_t newest; /* serial + 1 of the chain's newest entry, 0: empty */
	uint64_t link;	 /* that entry's link */
};

#define USED_UP UINT16_MAX /* in the vantage array: an entry that has found its copy */

struct vd_pktmatch {
	struct pending *ring;
	uint16_t *vantage; /* per ring entry: its vantage point, or USED_UP */
	size_t cap;
	uint64_t head, tail; /* serials of the oldest pending entry and of the next one */
	struct bucket *bucket;
	size_t nbuckets; /* power of two, > cap */
	vd_ns horizon;
	vd_pktmatch_fn fn;
	void *ctx;
	uint64_t evicted;
	size_t longest_walk;
	uint64_t ring_walks; /* ring entries read to walk a chain past its newest */
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
	/* Huge pages: twice 2^18 buckets are 8 MB read at random, a TLB miss per packet in 4 KiB
	 * pages (and the 4 MB ring, read at random for a chain's older entries or a copy's time).
	 * The ring needs no zeroing: only entries from head to tail are ever read. */
	m->ring = alloc_huge(m->cap * sizeof(*m->ring));
	m->vantage = malloc(m->cap * sizeof(*m->vantage));
	m->bucket = alloc_huge(m->nbuckets * sizeof(*m->bucket));
	if (!m->ring || !m->vantage || !m->bucket) {
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
	free(m->vantage);
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
 * is a 2^-64 event per pair. Products of independent input pairs (each word xor-ed with a
 * constant of its own, so that no ordinary value zeroes a product) run in parallel, not a chain
 * of dependent mixing steps, and each spreads every bit of its inputs over the low bits that
 * pick the bucket (successive segments of one connection differ in the seq only). An IPv4
 * packet is two products: its addresses are 4 bytes each (the decoder zeroes the other 12).
 * The packet was just decoded: every field is loaded as the decoder stored it (one load over
 * two narrower stores, or a 16-byte address over a 4-byte one, waits for them to retire). */
static inline __attribute__((always_inline)) uint64_t key_hash(const struct vd_decoded *d)
{
	uint32_t src4, dst4;
	memcpy(&src4, d->src.bytes, 4);
	memcpy(&dst4, d->dst.bytes, 4);
	uint64_t addrs = ((uint64_t)src4 << 32) | dst4;
	uint64_t seqack = ((uint64_t)d->tcp_seq << 32) | d->tcp_ack;
	uint64_t ids = ((uint64_t)d->ip_id << 48) | ((uint64_t)d->src.family << 32) |
		       ((uint32_t)d->sport << 16) | d->dport;
	uint64_t rest =
	    ((uint64_t)d->tcp_payload_len << 32) | ((uint64_t)d->tcp_flags << 16) | d->tcp_win;
	uint64_t h = fold_mul(addrs ^ 0x243f6a8885a308d3ULL, seqack ^ 0x13198a2e03707345ULL) ^
		     fold_mul(ids ^ 0xa4093822299f31d1ULL, rest ^ 0x082efa98ec4e6c89ULL);
	if (d->src.family != AF_INET) { /* the whole 16 bytes of each address */
		uint64_t a[2], b[2];
		memcpy(a, d->src.bytes, 16);
		memcpy(b, d->dst.bytes, 16);
		h ^= fold_mul(a[0] ^ 0x452821e638d01377ULL, b[0] ^ 0xbe5466cf34e90c6dULL) ^
		     fold_mul(a[1] ^ 0xc0ac29b7c97c50ddULL, b[1] ^ 0x3f84d5b5b5470917ULL);
	}
	return h;
}

uint64_t vd_pktmatch_prefetch(const struct vd_pktmatch *m, const struct vd_decoded *d)
{
	uint64_t h = key_hash(d);
	__builtin_prefetch(&m->bucket[h & (m->nbuckets - 1)]);
	return h;
}

void vd_pktmatch_add(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts, const struct vd_decoded *d)
{
	vd_pktmatch_add_hashed(m, vantage, ts, d, key_hash(d));
}

void vd_pktmatch_add_hashed(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts,
			    const struct vd_decoded *d, uint64_t h)
{
	if (!vd_ns_timed(ts) || vantage >= USED_UP)
		return;
	vd_ns oldest = vd_ns_sub_sat(ts, m->horizon);
	size_t ring_mask = m->cap - 1;
	uint64_t low = m->nbuckets - 1; /* the bucket bits: the distance in a link */
	while (m->head < m->tail && m->ring[m->head & ring_mask].ts < oldest)
		m->head++;
	/* the entries that expire next, long out of the cache: a few lines ahead of the head */
	__builtin_prefetch(&m->ring[(m->head + 32) & ring_mask]);
	struct bucket *b = &m->bucket[h & low];
	size_t walk = 0;
	uint64_t s1 = b->newest, link = b->link;
	while (s1 > m->head) {
		uint64_t s = (s1 - 1) & ring_mask;
		walk++;
		if (((link ^ h) & ~low) == 0) {
			uint16_t pv = m->vantage[s];
			/* a copy from another point, one of the two the reference */
			if (pv != USED_UP && pv != vantage && (pv == 0 || vantage == 0)) {
				if (walk > m->longest_walk)
					m->longest_walk = walk;
				m->fn(m->ctx, pv, m->ring[s].ts, vantage, ts, d);
				/* The reference's copy stays for the other vantage points; theirs
				 * is used up. */
				if (pv != 0)
					m->vantage[s] = USED_UP;
				return;
			}
		}
		uint64_t dist = link & low;
		if (!dist || s1 - dist <= m->head)
			break;
		s1 -= dist;
		link = m->ring[(s1 - 1) & ring_mask].link;
		m->ring_walks++;
	}
	if (walk > m->longest_walk)
		m->longest_walk = walk;
	if (m->tail - m->head == m->cap) {
		if (m->vantage[m->head & ring_mask] != USED_UP)
			m->evicted++;
		m->head++;
	}
	/* the chain's newest entry, if still pending, is less than cap serials back */
	uint64_t dist = b->newest > m->head ? m->tail + 1 - b->newest : 0;
	b->link = (h & ~low) | dist;
	m->ring[m->tail & ring_mask] = (struct pending){.link = b->link, .ts = ts};
	m->vantage[m->tail & ring_mask] = (uint16_t)vantage;
	b->newest = ++m->tail;
}

size_t vd_pktmatch_pending(const struct vd_pktmatch *m)
{
	return (size_t)(m->tail - m->head);
}

size_t vd_pktmatch_longest_walk(const struct vd_pktmatch *m)
{
	return m->longest_walk;
}

uint64_t vd_pktmatch_ring_walks(const struct vd_pktmatch *m)
{
	return m->ring_walks;
}

uint64_t vd_pktmatch_evicted(const struct vd_pktmatch *m)
{
	return m->evicted;
}
