/* pktmatch.h — finds the same TCP packet at two vantage points of one host (e.g. bridge and
 * guest kernel) to measure its delay between them (Kangarlou et al., per-packet RX/TX path
 * delay as a CDF). A packet is identified by its 4-tuple and direction, seq, ack, payload
 * length, flags, window and IPv4 id. Pending packets wait at most `horizon` of trace time and
 * at most `cap` (rounded up to a power of two) of them are kept, so memory is bounded by the window
 * in flight. */
#ifndef VMDELAY_PKTMATCH_H
#define VMDELAY_PKTMATCH_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/core/vdtime.h"

/* A match: the packet d was seen at vantage point `first` at t_first, then at `second` at
 * t_second (one of the two is vantage point 0, the reference). */
typedef void (*vd_pktmatch_fn)(void *ctx, uint32_t first, vd_ns t_first, uint32_t second,
			       vd_ns t_second, const struct vd_decoded *d);

struct vd_pktmatch;

struct vd_pktmatch *vd_pktmatch_create(size_t cap, vd_ns horizon, vd_pktmatch_fn fn, void *ctx);
void vd_pktmatch_destroy(struct vd_pktmatch *m);

/* Packets must come in time order across vantage points (a merge of the traces). A packet whose
 * time is missing or out of range (!vd_ns_timed), or whose vantage point is 65535 or more, is
 * ignored. */
void vd_pktmatch_add(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts, const struct vd_decoded *d);

/* For a caller that reads packets a few ahead (pending packets of thousands of connections are
 * out of the cache): the hash of packet d (its bucket fetched meanwhile), then, a few packets
 * later, vd_pktmatch_add_hashed is vd_pktmatch_add without hashing again. */
uint64_t vd_pktmatch_prefetch(const struct vd_pktmatch *m, const struct vd_decoded *d);
void vd_pktmatch_add_hashed(struct vd_pktmatch *m, uint32_t vantage, vd_ns ts,
			    const struct vd_decoded *d, uint64_t hash);

uint64_t vd_pktmatch_evicted(const struct vd_pktmatch *m); /* pushed out by cap, not by age */
/* Bounds, for tests: packets waiting now (at most cap), and the most pending entries one packet
 * ever had to look at (its bucket's chain: small unless the key hash clusters). */
size_t vd_pktmatch_pending(const struct vd_pktmatch *m);
size_t vd_pktmatch_longest_walk(const struct vd_pktmatch *m);
/* Pending entries read from the ring to walk a chain past its newest entry (whose hash bits
 * its bucket holds): few, a packet's look-up is its bucket's one cache line. */
uint64_t vd_pktmatch_ring_walks(const struct vd_pktmatch *m);

#endif
