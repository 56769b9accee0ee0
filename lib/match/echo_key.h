/* echo_key.h — the key of an ICMP echo flow (family, addresses, id) and its hashes, shared by
 * pairing within a vantage point (pairing.c) and the probe table across vantage points
 * (probes.c), so that both place a flow's seqs the same way. Internal to lib/match. */
#ifndef VMDELAY_LIB_MATCH_ECHO_KEY_H
#define VMDELAY_LIB_MATCH_ECHO_KEY_H

#include "vmdelay/input/echo.h"

#include <stdint.h>
#include <string.h>

/* The flow key as five words: w[0] = id | family << 16 | has_id << 24, then the request's source
 * and destination addresses. Built from loads into registers and hashed from them: writing a
 * byte-wise struct and reading it back as words stalls store forwarding on every packet. */
struct fkey {
	uint64_t w[5];
};

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void key_of(const struct vd_echo *e, struct fkey *k)
{
	/* a reply travels the other way: key it by its request's direction */
	const struct vd_addr *s = e->kind == VD_ECHO_REQUEST ? &e->src : &e->dst;
	const struct vd_addr *d = e->kind == VD_ECHO_REQUEST ? &e->dst : &e->src;
	k->w[0] = (uint64_t)(e->has_id ? e->id : 0) | (uint64_t)e->src.family << 16 |
		  (uint64_t)(e->has_id ? 1 : 0) << 24;
	k->w[1] = load64(s->bytes);
	k->w[2] = load64(s->bytes + 8);
	k->w[3] = load64(d->bytes);
	k->w[4] = load64(d->bytes + 8);
}

static inline int key_eq(const struct fkey *x, const struct fkey *y)
{
	return ((x->w[0] ^ y->w[0]) | (x->w[1] ^ y->w[1]) | (x->w[2] ^ y->w[2]) |
		(x->w[3] ^ y->w[3]) | (x->w[4] ^ y->w[4])) == 0;
}

static inline uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Every word of the flow key mixed into every bit of the hash (never 0: 0 marks a free slot).
 * The words are multiplied independently and mixed once: no chain of dependent multiplies on
 * the per-packet path. */
static inline uint64_t flow_hash(const struct fkey *k)
{
	uint64_t h = k->w[0] * 0x9e3779b97f4a7c15ull ^ k->w[1] * 0xc2b2ae3d27d4eb4full ^
		     k->w[2] * 0x165667b19e3779f9ull ^ k->w[3] * 0xd6e8feb86659fd93ull ^
		     (k->w[4] + 1) * 0xff51afd7ed558ccdull;
	h = fmix64(h);
	return h ? h : 1;
}

/* A key's 64-bit hash (flow and seq), as the answered set remembers it. */
static inline uint64_t key_hash(uint64_t fh, uint32_t seq)
{
	return fmix64(fh ^ ((uint64_t)seq + 1) * 0x9e3779b97f4a7c15ull);
}

/* Seqs are placed in groups of 8 consecutive ones (two cache lines of slots): a flow's next
 * probes are matched in memory its previous ones brought in. */
#define SEQ_GROUP_BITS 3

#endif
