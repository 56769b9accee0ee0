/* probe_stream_solo.h — the probe stream of one vantage point alone (probe_stream.h): a pair
 * there joins only a probe of its own point, as a duplicate that changes nothing in it, so its
 * probes need no table: they wait in a ring in the order they leave. Also the pair both paths
 * hold. Internal to lib/match; probe_stream.c hands the probes on. */
#ifndef VMDELAY_LIB_MATCH_PROBE_STREAM_SOLO_H
#define VMDELAY_LIB_MATCH_PROBE_STREAM_SOLO_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"
#include "vmdelay/match/vantage.h"

/* A pair within a point, as it waits for its turn (several points) or for its probe to leave
 * (one point). */
struct vd_stream_pair {
	struct vd_echo_req req; /* as the point kept it: a copy, not a field at a time */
	vd_ns rep_ts;
	uint64_t rep_index;
};

/* A point holds every pair of the last reply wait (10 s: millions at a high probe rate): each
 * byte of a pair is a byte of fresh memory the kernel zeroes, as much as the rest of the pair's
 * work (tests/bench/match.sh). */
_Static_assert(sizeof(struct vd_stream_pair) == 40, "a pair in 40 bytes");
/* Measured and dropped: the ring's probes in 32 bytes (RTT and the reply's packet number as
 * 32-bit distances from the request's; probe_stream.c's solo_emit reading them) held 8.6 MiB
 * less on a million probes, in no less CPU time. */

/* The probes of one point alone, in the order they leave: a ring of the pairs that made them
 * (40 bytes, not a cell's 48). */
struct vd_probe_solo {
	struct vd_stream_pair *ring;
	size_t head, n, cap; /* cap a power of two (0: none yet) */
	size_t mapped;	     /* bytes of the ring's own huge-page mapping (0: malloc's) */
	vd_ns max_rep;	     /* the latest reply of a probe in the ring since it was last empty */
	vd_ns window;
	size_t probes, dups;
};

static inline struct vd_stream_pair *vd_probe_solo_at(const struct vd_probe_solo *s, size_t i)
{
	return &s->ring[(s->head + i) & (s->cap - 1)];
}

/* Takes pair sp when it is not the usual one (vd_probe_solo_take_pairs): a duplicate of a
 * probe held, or a new probe in its place. 0, or -1 out of memory. */
int vd_probe_solo_take_more(struct vd_probe_solo *s, const struct vd_stream_pair *sp);

/* Takes the pairs v made (v->pairs[0..npairs), far_reps sorted): each a duplicate of a probe
 * held or a new probe. 0, or -1 out of memory. */
int vd_probe_solo_take_pairs(struct vd_probe_solo *s, const struct vd_vantage *v);

/* The probe to leave first if no pair still to come can nest with it (every pair not yet
 * taken has its request at or after low; INT64_MAX, VD_STREAM_END: none comes), else NULL. */
static inline const struct vd_stream_pair *vd_probe_solo_ready(const struct vd_probe_solo *s,
							       vd_ns low)
{
	if (!s->n)
		return NULL;
	const struct vd_stream_pair *x = vd_probe_solo_at(s, 0);
	vd_ns rtt = x->rep_ts - x->req.ts;
	if (low != INT64_MAX && vd_ns_add_sat(x->req.ts, rtt < s->window ? rtt : s->window) >= low)
		return NULL;
	return x;
}

/* Drops the probe vd_probe_solo_ready gave. */
static inline void vd_probe_solo_pop(struct vd_probe_solo *s)
{
	s->head = (s->head + 1) & (s->cap - 1);
	s->n--;
}

void vd_probe_solo_free(struct vd_probe_solo *s);

#endif
