/* pktmatch.c — bounded matching of the same packet across vantage points (see pktmatch.h). */
#include "vmdelay/match/pktmatch.h"

#include <stdlib.h>
#include <string.h>

struct pending {
	uint64_t h;
	vd_ns ts;
	uint32_t vantage;
	int32_t next; /* bucket chain */
	int alive;
};

struct vd_pktmatch {
	struct pending *ring; /* FIFO in arrival order: the oldest is at head */
	size_t cap, head, n;
	int32_t *bucket;
	size_t nbuckets; /* power of two */
	vd_ns horizon;
	vd_pktmatch_fn fn;
	void *ctx;
	uint64_t evicted;
};

struct vd_pktmatch *vd_pktmatch_create(size_t cap, vd_ns horizon, vd_pktmatch_fn fn, void *ctx)
{
	struct vd_pktmatch *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cap = cap ? cap : 1;
	m->nbuckets = 1;
	while (m->nbuckets < 2 * m->cap)
		m->nbuckets *= 2;
	m->ring = calloc(m->cap, sizeof(*m->ring));
	m->bucket = malloc(m->nbuckets * sizeof(*m->bucket));
	if (!m->ring || !m->bucket) {
		vd_pktmatch_destroy(m);
		return NULL;
	}
	memset(m->bucket, 0xff, m->nbuckets * sizeof(*m->bucket)); /* -1: empty */
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

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

/* 64 bits of the packet's identity: a collision between two packets pending at the same time
 * is a 2^-64 event per pair. */
static uint64_t key_hash(const struct vd_decoded *d)
{
	uint64_t h = 0x243f6a8885a308d3ULL;
	for (int i = 0; i < 16; i += 8) {
		uint64_t a, b;
		memcpy(&a, d->src.bytes + i, 8);
		memcpy(&b, d->dst.bytes + i, 8);
		h = mix(mix(h, a), b);
	}
	h = mix(h, ((uint64_t)d->sport << 16) | d->dport | ((uint64_t)d->src.family << 32));
	h = mix(h, ((uint64_t)d->tcp_seq << 32) | d->tcp_ack);
	h = mix(h,
		((uint64_t)d->tcp_payload_len << 32) | ((uint64_t)d->tcp_flags << 16) | d->tcp_win);
	return mix(h, d->ip_id);
}

/* Removes the ring's oldest entry from its bucket chain. */
static void pop_head(struct vd_pktmatch *m)
{
	int32_t idx = (int32_t)m->head;
	struct pending *p = &m->ring[idx];
	int32_t *link = &m->bucket[p->h & (m->nbuckets - 1)];
	while (*link >= 0 && *link != idx)
		link = &m->ring[*link].next;
	if (*link == idx)
		*link = p->next;
	m->head = (m->head + 1) % m->cap;
	m->n--;
}

void vd_pktmatch_add(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts, const struct vd_decoded *d)
{
	if (!vd_ns_timed(ts))
		return;
	vd_ns oldest = vd_ns_sub_sat(ts, m->horizon);
	while (m->n && m->ring[m->head].ts < oldest)
		pop_head(m);
	uint64_t h = key_hash(d);
	size_t b = h & (m->nbuckets - 1);
	for (int32_t i = m->bucket[b]; i >= 0; i = m->ring[i].next) {
		struct pending *p = &m->ring[i];
		if (!p->alive || p->h != h || p->vantage == vantage ||
		    (p->vantage != 0 && vantage != 0))
			continue;
		m->fn(m->ctx, p->vantage, p->ts, vantage, ts, d);
		/* The reference's copy stays for the other vantage points; theirs is used up. */
		if (p->vantage != 0)
			p->alive = 0;
		return;
	}
	if (m->n == m->cap) {
		if (m->ring[m->head].alive)
			m->evicted++;
		pop_head(m);
	}
	size_t idx = (m->head + m->n) % m->cap;
	m->ring[idx] = (struct pending){
	    .h = h, .ts = ts, .vantage = vantage, .next = m->bucket[b], .alive = 1};
	m->bucket[b] = (int32_t)idx;
	m->n++;
}

uint64_t vd_pktmatch_evicted(const struct vd_pktmatch *m)
{
	return m->evicted;
}
