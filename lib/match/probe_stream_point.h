/* probe_stream_point.h — one vantage point within the probe stream (probe_stream.h): its pairs
 * in request order until their turn, and how far in time nothing more of the point can come
 * (its horizon: the first request still waiting for its reply, the answered ones a bit each),
 * with its requests compacted to those still waiting. Internal to lib/match; probe_stream.c
 * takes the pairs across points. */
#ifndef VMDELAY_LIB_MATCH_PROBE_STREAM_POINT_H
#define VMDELAY_LIB_MATCH_PROBE_STREAM_POINT_H

#include <stddef.h>
#include <stdint.h>

#include "probe_stream_solo.h"

#include "vmdelay/core/vdtime.h"
#include "vmdelay/match/vantage.h"

struct vd_stream_point {
	struct vd_vantage *v;
	/* completed pairs in request order (time, then packet number), a ring: the first nrel
	 * are released (their place in the point's order is known), the others wait for every
	 * earlier pair to have come. Replies come nearly in request order, so a pair is inserted
	 * at or near the end. */
	struct vd_stream_pair *q;
	size_t qhead, qn, qcap, nrel;
	/* Pairs whose place is far before the end of q (a reply later than the reply wait, its
	 * request 10 s back among 20 s of pairs), in request order, moved into q when they are
	 * released: inserted at their place, each would move thousands of pairs. The pairs not
	 * released are q's after the first nrel and these, merged in request order. */
	struct vd_stream_pair *late;
	size_t late_head, late_n, late_cap;
	vd_ns next_ts;	  /* the point's next event: nothing earlier comes (INT64_MAX,
			   * VD_STREAM_END: none) */
	vd_ns reply_wait; /* how long a request may wait for its reply */
	/* The requests of v->ev answered so far (a bit each, cleared when compact renumbers them),
	 * and the first one neither answered nor waiting longer than the reply wait: no pair can
	 * come before it any more (but one later than the wait). */
	uint64_t *answered;
	size_t answered_words, waiting;
	/* how much earlier than its predecessors a packet of the point came, twice, at least
	 * REORDER_SLACK: what a pair keeps besides, for the packets still to come */
	vd_ns latest, slack;
	uint64_t taken;	   /* pairs taken so far: a pair's place in the point's order */
	size_t kept;	   /* requests v->ev kept at the last compaction */
	vd_ns flushed;	   /* next_ts when match.c's queue was last flushed */
	vd_ns flush_after; /* the time past which it is due again (or earlier: step_more says) */
	size_t pairs, probes, dups;
};

static inline struct vd_stream_pair *vd_stream_point_at(const struct vd_stream_point *pt, size_t i)
{
	return &pt->q[(pt->qhead + i) & (pt->qcap - 1)];
}

/* Requests of the point older than this have waited for their reply longer than it may take:
 * one that still comes is taken out of order. */
static inline vd_ns vd_stream_point_wait_from(const struct vd_stream_point *pt)
{
	return vd_ns_sub_sat(pt->next_ts, pt->reply_wait);
}

/* Nothing of the point older than this is still to come: no request earlier than its next
 * event or than its first request still waiting for a reply (less the slack for a file's
 * disorder), and nothing that waited longer than the reply wait. */
static inline vd_ns vd_stream_point_horizon(const struct vd_stream_point *pt)
{
	if (pt->next_ts == INT64_MAX)
		return INT64_MAX;
	vd_ns h = pt->next_ts, old = vd_stream_point_wait_from(pt);
	if (pt->waiting < pt->v->n && pt->v->ev[pt->waiting].ts < h)
		h = pt->v->ev[pt->waiting].ts;
	h = vd_ns_sub_sat(h, pt->slack);
	return h > old ? h : old;
}

static inline int vd_stream_pair_before(const struct vd_stream_pair *a,
					const struct vd_stream_pair *b)
{
	return a->req.ts != b->req.ts ? a->req.ts < b->req.ts : a->req.index < b->req.index;
}

/* Every pair of the point with a request before this has been taken: the horizon, or the
 * request of its first pair (the first released, else the earlier of q's and the late ones'). */
static inline vd_ns vd_stream_point_taken_to(const struct vd_stream_point *pt)
{
	vd_ns h = vd_stream_point_horizon(pt);
	if (pt->qn && pt->q[pt->qhead].req.ts < h)
		h = pt->q[pt->qhead].req.ts;
	if (!pt->nrel && pt->late_head < pt->late_n && pt->late[pt->late_head].req.ts < h)
		h = pt->late[pt->late_head].req.ts;
	return h;
}

/* How many pairs the point holds. */
static inline size_t vd_stream_point_pairs(const struct vd_stream_point *pt)
{
	return pt->qn + pt->late_n - pt->late_head;
}

/* vd_stream_point_release when late pairs wait: the earlier of q's next and the first late. */
int vd_stream_point_release_late(struct vd_stream_point *pt, vd_ns h);

/* Releases the point's next pair in request order if its request is before h (INT64_MAX:
 * any): 1, 0 not, -1 out of memory (moving a late pair into q). */
static inline int vd_stream_point_release(struct vd_stream_point *pt, vd_ns h)
{
	if (pt->late_head < pt->late_n)
		return vd_stream_point_release_late(pt, h);
	if (pt->nrel < pt->qn && (h == INT64_MAX || vd_stream_point_at(pt, pt->nrel)->req.ts < h)) {
		pt->nrel++;
		return 1;
	}
	return 0;
}

/* Moves the cursor past the requests answered or waiting longer than the reply wait. */
void vd_stream_point_skip_answered(struct vd_stream_point *pt);

/* Moves the pairs match.c just made out of the point with their requests: into its queue in
 * request order, or, solo not NULL (one point alone), straight to solo. 0, or -1 out of memory. */
int vd_stream_point_drain(struct vd_stream_point *pt, struct vd_probe_solo *solo);

/* Keeps in v->ev only the requests still waiting for a reply once they have doubled since the
 * last time (the pairs made meanwhile drained as vd_stream_point_drain does). 0, or -1 out of
 * memory. */
int vd_stream_point_compact(struct vd_stream_point *pt, struct vd_probe_solo *solo);

void vd_stream_point_free(struct vd_stream_point *pt);

#endif
