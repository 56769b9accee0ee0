/* probe_key.h — what decides that two pairs are the same probe, shared by the probe table
 * built after reading (probes.c) and the one that streams (probe_stream.c): the key a probe is
 * found by, and the rules a candidate must pass (docs/methodology.md, "Matching"). Internal to
 * lib/match. */
#ifndef VMDELAY_LIB_MATCH_PROBE_KEY_H
#define VMDELAY_LIB_MATCH_PROBE_KEY_H

#include "echo_key.h"

#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/echo.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The key of a request as the probe table knows it: family, addresses, id and the low 16 bits
 * of the seq (what two traces both see) as a 64-bit hash, 0 when the request lacks addresses
 * or id; *bucket its chain among mask + 1, the key's group of 8 seqs placed by a hash, the seq
 * within it by its low bits, so that a flow's consecutive probes share cache lines. */
static inline uint64_t probe_key(const struct vd_echo *e, size_t mask, size_t *bucket)
{
	uint32_t seq = e->seq & 0xffff;
	*bucket = seq & mask;
	if (!e->src.family || !e->has_id)
		return 0;
	struct fkey k;
	key_of(e, &k);
	uint64_t fh = flow_hash(&k);
	*bucket = ((size_t)fmix64(fh ^ (seq >> SEQ_GROUP_BITS)) << SEQ_GROUP_BITS |
		   (seq & ((1u << SEQ_GROUP_BITS) - 1))) &
		  mask;
	uint64_t h = key_hash(fh, seq);
	return h ? h : 1;
}

/* On one clock, the same probe's [request, reply] intervals at two vantage points nest (the
 * inner one holds the outer one whichever side the prober is on): a probe that does not nest is
 * another host's with the same seq. */
static inline int nests(vd_ns aq, vd_ns ar, vd_ns bq, vd_ns br)
{
	return (aq <= bq && br <= ar) || (bq <= aq && ar <= br);
}

static inline int addr_eq(const struct vd_addr *a, const struct vd_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static inline int compatible(const struct vd_echo *p, const struct vd_echo *e)
{
	if ((p->seq & 0xffff) != (e->seq & 0xffff))
		return 0;
	if (p->src.family && e->src.family &&
	    (!addr_eq(&p->src, &e->src) || !addr_eq(&p->dst, &e->dst)))
		return 0;
	if (p->has_id && e->has_id && p->id != e->id)
		return 0;
	/* two tping sources know the full seq */
	if (!p->src.family && !e->src.family && p->seq != e->seq)
		return 0;
	return 1;
}

static inline vd_ns absdiff(vd_ns a, vd_ns b)
{
	return a > b ? a - b : b - a;
}

#endif
