/* probe_stream_solo.h — the probe stream of one vantage point alone (probe_stream.h): a pair
 * there joins only a probe of its own point, as a duplicate that changes nothing in it, so its
 * probes need no table: they wait in a ring in the order they leave. Also the pair both paths
 * hold. Internal to lib/match; probe_stream.c hands the probes on. */
#ifndef VMDELAY_LIB_MATCH_PROBE_STREAM_SOLO_H
#define VMDELAY_LIB_MATCH_PROBE_STREAM_SOLO_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"

/* A pair within a point, as it waits for its turn (several points) or for its probe to leave
 * (one point). */
struct vd_stream_pair {
	vd_ns req_ts, rep_ts;
	uint64_t req_index : 56; /* (< VD_VANTAGE_INDEX_LIMIT) */
	int64_t phase : 8;
	uint64_t rep_index;
	uint32_t seq, flow;
};

/* A point holds every pair of the last reply wait (10 s: millions at a high probe rate): each
 * byte of a pair is a byte of fresh memory the kernel zeroes, as much as the rest of the pair's
 * work (tests/bench/match.sh). */
_Static_assert(sizeof(struct vd_stream_pair) == 40, "a pair in 40 bytes");

/* The probes of one point alone, in the order they leave: a ring of the pairs that made them
 * (40 bytes, not a cell's 48). */
struct vd_probe_solo {
	struct vd_stream_pair *ring;
	size_t head, n, cap; /* cap a power of two (0: none yet) */
	vd_ns max_rep;	     /* the latest reply of a probe in the ring since it was last empty */
	vd_ns window;
	size_t probes, dups;
};

/* Takes pair sp: a duplicate of a probe held, or a new probe. 0, or -1 out of memory. */
int vd_probe_solo_take(struct vd_probe_solo *s, const struct vd_stream_pair *sp);
/* The probe to leave first if no pair still to come can nest with it (every pair not yet
 * taken has its request at or after low; INT64_MAX, VD_STREAM_END: none comes), else NULL. */
const struct vd_stream_pair *vd_probe_solo_ready(const struct vd_probe_solo *s, vd_ns low);
/* Drops the probe vd_probe_solo_ready gave. */
void vd_probe_solo_pop(struct vd_probe_solo *s);
void vd_probe_solo_free(struct vd_probe_solo *s);

#endif
