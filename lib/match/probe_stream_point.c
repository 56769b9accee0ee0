/* probe_stream_point.c — one vantage point within the probe stream (probe_stream_point.h): the
 * pairs match.c makes, moved out with their requests in request order; the answered requests
 * a bit each, so that the first one still waiting, which bounds the point's horizon, is found
 * by a cursor; the requests compacted to those still waiting. */
#include "probe_stream_point.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/match/pairing.h"

#include <stdlib.h>
#include <string.h>

static int pair_before(const struct vd_stream_pair *a, const struct vd_stream_pair *b)
{
	return a->req.ts != b->req.ts ? a->req.ts < b->req.ts : a->req.index < b->req.index;
}

/* Inserts a completed pair in request order, after the pairs already released: one that
 * comes after them (a reply later than the window) is taken out of order. */
static int pair_insert(struct vd_stream_point *pt, const struct vd_stream_pair *x)
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
	size_t i = pt->qn++;
	for (; i > pt->nrel && pair_before(x, vd_stream_point_at(pt, i - 1)); i--)
		*vd_stream_point_at(pt, i) = *vd_stream_point_at(pt, i - 1);
	*vd_stream_point_at(pt, i) = *x;
	return 0;
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

struct remap {
	size_t *idx;
	size_t n, cap;
	int oom;
};

static size_t note_pending(void *ctx, size_t req)
{
	struct remap *r = ctx;
	if (r->n == r->cap && vd_mem_reserve((void **)&r->idx, &r->cap, r->n + 1, sizeof(*r->idx)))
		r->oom = 1;
	else
		r->idx[r->n++] = req;
	return req;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static size_t new_place(void *ctx, size_t req)
{
	const struct remap *r = ctx;
	const size_t *at = bsearch(&req, r->idx, r->n, sizeof(*r->idx), cmp_size);
	return (size_t)(at - r->idx);
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
	struct remap r = {0};
	if (vd_match_pending_remap(v, note_pending, &r) < 0 || r.oom) {
		free(r.idx);
		return -1;
	}
	qsort(r.idx, r.n, sizeof(*r.idx), cmp_size);
	for (size_t i = 0; i < r.n; i++)
		v->ev[i] = v->ev[r.idx[i]];
	if (vd_match_pending_remap(v, new_place, &r) < 0) { /* (nothing queued now) */
		free(r.idx);
		return -1;
	}
	v->n = r.n;
	pt->kept = r.n;
	free(r.idx);
	/* every request kept is unanswered: the cursor starts again from the first */
	if (pt->answered)
		memset(pt->answered, 0, pt->answered_words * sizeof(*pt->answered));
	pt->waiting = 0;
	return 0;
}

void vd_stream_point_free(struct vd_stream_point *pt)
{
	free(pt->q);
	free(pt->answered);
}
