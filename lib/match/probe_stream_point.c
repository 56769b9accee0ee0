/* probe_stream_point.c — one vantage point within the probe stream (probe_stream_point.h): the
 * pairs match.c makes, moved out with their requests in request order; the answered requests
 * a bit each, so that the first one still waiting, which bounds the point's horizon, is found
 * by a cursor; the requests compacted to those still waiting. */
#include "probe_stream_point.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/match/pairing.h"

#include <stdlib.h>
#include <string.h>

/* Where x goes among the pairs not released, which are in request order: after the last one
 * not after it. Replies come a few dozen pairs out of request order (RTTs longer than the
 * interval) and a late one thousands: a search from the end in steps that double, then halving,
 * rather than a step a pair. */
static size_t pair_place(const struct vd_stream_point *pt, const struct vd_stream_pair *x)
{
	size_t hi = pt->qn, step = 1; /* every pair from hi on is after x */
	while (hi > pt->nrel) {
		size_t lo = hi - pt->nrel > step ? hi - step : pt->nrel;
		if (!vd_stream_pair_before(x, vd_stream_point_at(pt, lo))) {
			/* the place is in (lo, hi]: halved down to it */
			while (hi - lo > 1) {
				size_t mid = lo + (hi - lo) / 2;
				if (vd_stream_pair_before(x, vd_stream_point_at(pt, mid)))
					hi = mid;
				else
					lo = mid;
			}
			return hi;
		}
		hi = lo;
		step *= 2;
	}
	return hi;
}

/* The pairs [from, to) of the ring one place on (to a free place at to), a block at a time:
 * the ring's end splits them in two at most. */
static void ring_shift(struct vd_stream_point *pt, size_t from, size_t to)
{
	size_t mask = pt->qcap - 1;
	while (to > from) {
		size_t last = (pt->qhead + to - 1) & mask; /* where the last to move is */
		if (last == mask) {			   /* it moves across the end */
			pt->q[0] = pt->q[mask];
			to--;
			continue;
		}
		size_t len = to - from < last + 1 ? to - from : last + 1;
		memmove(&pt->q[last + 2 - len], &pt->q[last + 1 - len], len * sizeof(*pt->q));
		to -= len;
	}
}

/* The pairs [0, to) of the ring one place back (the ring's head moves back to a free place), a
 * block at a time. */
static void ring_shift_front(struct vd_stream_point *pt, size_t to)
{
	size_t mask = pt->qcap - 1;
	for (size_t from = 0; from < to;) {
		size_t first = (pt->qhead + from) & mask; /* where the first to move is */
		if (first == 0) {			  /* it moves across the end */
			pt->q[mask] = pt->q[0];
			from++;
			continue;
		}
		size_t len = to - from < pt->qcap - first ? to - from : pt->qcap - first;
		memmove(&pt->q[first - 1], &pt->q[first], len * sizeof(*pt->q));
		from += len;
	}
	pt->qhead = (pt->qhead + mask) & mask;
}

/* x at place i of q: the pairs before it (when fewer) or after it moved one place. 0, or -1 out
 * of memory. */
static int ring_insert(struct vd_stream_point *pt, size_t i, const struct vd_stream_pair *x)
{
	if (pt->qn == pt->qcap) {
		/* grown in place (realloc moves a big block's pages, not its bytes): a copy would
		 * fault in twice the memory; then the ring's wrapped part, the first qhead pairs
		 * (fewer than the room added: the capacity at least doubles), goes after the old
		 * end */
		size_t old = pt->qcap, cap = pt->qcap;
		if (vd_mem_reserve((void **)&pt->q, &cap, old + 1, sizeof(*pt->q)) < 0)
			return -1;
		memcpy(pt->q + old, pt->q, pt->qhead * sizeof(*pt->q));
		pt->qcap = cap;
	}
	if (i < pt->qn - i)
		ring_shift_front(pt, i);
	else
		ring_shift(pt, i, pt->qn);
	pt->qn++;
	*vd_stream_point_at(pt, i) = *x;
	return 0;
}

/* Pairs further than this from q's end wait among the late ones. */
#define LATE_FROM 256

/* x among the late pairs, in request order (they come nearly in order: at or near the end). */
static int late_insert(struct vd_stream_point *pt, const struct vd_stream_pair *x)
{
	if (pt->late_head && pt->late_head >= pt->late_n / 2) { /* the taken part makes room */
		memmove(pt->late, pt->late + pt->late_head,
			(pt->late_n - pt->late_head) * sizeof(*pt->late));
		pt->late_n -= pt->late_head;
		pt->late_head = 0;
	}
	if (vd_mem_reserve((void **)&pt->late, &pt->late_cap, pt->late_n + 1, sizeof(*pt->late)) <
	    0)
		return -1;
	size_t i = pt->late_n;
	while (i > pt->late_head && vd_stream_pair_before(x, &pt->late[i - 1]))
		i--;
	memmove(&pt->late[i + 1], &pt->late[i], (pt->late_n - i) * sizeof(*pt->late));
	pt->late[i] = *x;
	pt->late_n++;
	return 0;
}

int vd_stream_point_release_late(struct vd_stream_point *pt, vd_ns h)
{
	const struct vd_stream_pair *l = &pt->late[pt->late_head];
	if (pt->nrel < pt->qn && !vd_stream_pair_before(l, vd_stream_point_at(pt, pt->nrel))) {
		if (h != INT64_MAX && vd_stream_point_at(pt, pt->nrel)->req.ts >= h)
			return 0;
		pt->nrel++;
		return 1;
	}
	if (h != INT64_MAX && l->req.ts >= h)
		return 0;
	if (ring_insert(pt, pt->nrel, l) < 0)
		return -1;
	if (++pt->late_head == pt->late_n)
		pt->late_head = pt->late_n = 0;
	pt->nrel++;
	return 1;
}

/* Inserts a completed pair in request order, after the pairs already released: one that
 * comes after them (a reply later than the window) is taken out of order. */
static int pair_insert(struct vd_stream_point *pt, const struct vd_stream_pair *x)
{
	if (pt->qn < pt->qcap &&
	    (pt->qn == pt->nrel || !vd_stream_pair_before(x, vd_stream_point_at(pt, pt->qn - 1)))) {
		*vd_stream_point_at(pt, pt->qn++) = *x; /* most come in order: at the end */
		return 0;
	}
	size_t i = pair_place(pt, x);
	return pt->qn - i > LATE_FROM ? late_insert(pt, x) : ring_insert(pt, i, x);
}

static int is_answered(const struct vd_stream_point *pt, size_t req)
{
	return req / 64 < pt->answered_words && (pt->answered[req / 64] >> (req % 64) & 1);
}

/* Room in the answered bits for every request v holds. */
static int answered_room(struct vd_stream_point *pt)
{
	size_t words = (pt->v->n + 63) / 64, old = pt->answered_words;
	if (words <= old)
		return 0;
	if (vd_mem_reserve((void **)&pt->answered, &pt->answered_words, words,
			   sizeof(*pt->answered)) < 0)
		return -1;
	memset(pt->answered + old, 0, (pt->answered_words - old) * sizeof(*pt->answered));
	return 0;
}

void vd_stream_point_skip_answered(struct vd_stream_point *pt)
{
	vd_ns old = vd_stream_point_wait_from(pt);
	const struct vd_vantage *v = pt->v;
	while (pt->waiting < v->n && (is_answered(pt, pt->waiting) || v->ev[pt->waiting].ts < old))
		pt->waiting++;
}

/* The pairs v made are gone from it. */
static int drained(struct vd_stream_point *pt)
{
	pt->pairs += pt->v->npairs;
	pt->v->npairs = 0;
	pt->v->nfar = 0;
	return 0;
}

int vd_stream_point_drain(struct vd_stream_point *pt, struct vd_probe_solo *solo)
{
	struct vd_vantage *v = pt->v;
	if (!v->npairs)
		return 0;
	vd_vantage_far_sort(v); /* vd_pair_rep_index looks a far reply up by its request */
	if (answered_room(pt) < 0)
		return -1;
	const struct vd_echo_pair *pairs = v->pairs;
	size_t npairs = v->npairs;
	uint64_t *answered = pt->answered;
	for (size_t i = 0; i < npairs; i++)
		answered[pairs[i].req / 64] |= UINT64_C(1) << (pairs[i].req % 64);
	if (solo)
		return vd_probe_solo_take_pairs(solo, v) < 0 ? -1 : drained(pt);
	for (size_t i = 0; i < npairs; i++) {
		const struct vd_echo_pair *pr = &pairs[i];
		const struct vd_echo_req *q = &v->ev[pr->req];
		/* (vd_pair_rep_index's sum inline: a call a pair) */
		uint64_t rep_index = pr->rep_after != VD_PAIR_FAR
					 ? (uint64_t)((int64_t)q->index + pr->rep_after)
					 : vd_pair_rep_index(v, pr);
		const struct vd_stream_pair sp = {
		    .req = *q, .rep_ts = pr->rep_ts, .rep_index = rep_index};
		if (pair_insert(pt, &sp) < 0)
			return -1;
	}
	return drained(pt);
}

/* The requests match.c still waits on, a bit each, and how many are set in the words before
 * each: a request's place among them in O(1), no sort. */
struct remap {
	uint64_t *bits;
	size_t *before;
};

static size_t note_pending(void *ctx, size_t req)
{
	struct remap *r = ctx;
	r->bits[req / 64] |= UINT64_C(1) << (req % 64);
	return req;
}

static size_t new_place(void *ctx, size_t req)
{
	const struct remap *r = ctx;
	uint64_t below = r->bits[req / 64] & ((UINT64_C(1) << (req % 64)) - 1);
	return r->before[req / 64] + (size_t)__builtin_popcountll(below);
}

/* The answered requests were moved out with their pairs. Run when the kept requests have
 * doubled, so it costs O(1) a request. */
int vd_stream_point_compact(struct vd_stream_point *pt, struct vd_probe_solo *solo)
{
	struct vd_vantage *v = pt->v;
	if (v->n < 2 * pt->kept + 16384)
		return 0;
	/* the echoes match.c still queues hold indices too: pair them and take their pairs */
	if (vd_match_flush(v) < 0 || vd_stream_point_drain(pt, solo) < 0)
		return -1;
	size_t words = (v->n + 63) / 64, n = 0;
	struct remap r = {calloc(words, sizeof(*r.bits)), malloc(words * sizeof(*r.before))};
	if (!r.bits || !r.before || vd_match_pending_remap(v, note_pending, &r) < 0) {
		free(r.bits);
		free(r.before);
		return -1;
	}
	/* the waiting requests to the front, in their order */
	for (size_t w = 0; w < words; w++) {
		r.before[w] = n;
		for (uint64_t b = r.bits[w]; b; b &= b - 1)
			v->ev[n++] = v->ev[w * 64 + (size_t)__builtin_ctzll(b)];
	}
	int rc = vd_match_pending_remap(v, new_place, &r); /* (nothing queued now) */
	free(r.bits);
	free(r.before);
	if (rc < 0)
		return -1;
	v->n = n;
	pt->kept = n;
	/* every request kept is unanswered: the cursor starts again from the first */
	if (pt->answered)
		memset(pt->answered, 0, pt->answered_words * sizeof(*pt->answered));
	pt->waiting = 0;
	return 0;
}

void vd_stream_point_free(struct vd_stream_point *pt)
{
	free(pt->q);
	free(pt->late);
	free(pt->answered);
}
