/* probe_stream.c — the same probe across vantage points on one clock, matched as the points are
 * read side by side (probe_stream.h). The rules are vd_match_probes' (probe_key.h); what differs
 * is when each pair is taken, so that only a window of the trace is held:
 *  - a point's pairs leave it in request order once no earlier request of the point can still
 *    be answered: every earlier one was, or has waited for its reply longer than the window (at
 *    least 10 s: a reply later than that comes out of order), so a capture whose requests are
 *    answered promptly flows through and only what follows an unanswered request waits;
 *  - point v takes a pair [t, t + rtt] once every outer point has taken its pairs up to
 *    t + min(rtt, window): on one clock a probe only joins a probe whose interval nests with
 *    its own, so none later than that can be its match, and every one before is there, as it
 *    is when vd_match_probes takes the points one after the other;
 *  - a probe leaves when no pair still to come can nest with it, in time order.
 */
#define _GNU_SOURCE /* qsort_r */
#include "vmdelay/match/probe_stream.h"

#include "probe_key.h"
#include "probe_stream_point.h"
#include "probe_stream_solo.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/match/match.h"
#include "vmdelay/match/pairing.h"

#include <stdlib.h>
#include <string.h>

/* A link to a probe: its slot and its id, so that a slot reused by a newer probe ends a chain
 * (a probe that left took every older one of its chains with it). id 0: none. */
struct link {
	uint64_t id;
	uint32_t slot;
};

struct sprobe {
	vd_ns ref, rtt; /* request time and RTT of the pair that made it */
	uint64_t kh;	/* probe_key, 0: it knows only its seq */
	uint64_t id;	/* 0: a free slot */
	uint64_t ord;	/* the making pair's place among its point's pairs */
	struct link next_seq, next_key;
	uint16_t src_v, key_v; /* the point that made it; the one whose request says most */
	int8_t phase;
};

struct vd_probe_stream {
	struct vd_stream_point *pt;
	size_t nvp;
	vd_ns window;
	vd_ns reply_wait; /* how long a request may wait for its reply: the window, at least 10 s */
	vd_probe_emit_fn emit;
	void *ctx;
	struct sprobe *p;
	struct vd_stream_cell *cell; /* cap * nvp */
	size_t cap, live;
	uint32_t *free_slots;
	size_t nfree;
	uint64_t next_id;
	/* live probes in the order they leave: those that came in that order (most: probes are
	 * made in time order) in a ring, the others in a heap */
	uint32_t *run;
	size_t run_head, run_n;
	uint32_t *out;
	size_t nout;
	struct link by_seq[65536], by_seqonly[65536];
	struct link *by_key;
	size_t key_mask, n_seqonly;
	size_t quiet; /* steps without a pump */
	/* the probes leaving, handed to emit a run at a time: emit_max probes' cells and phases */
	struct vd_stream_cell *emit_cells;
	int8_t *emit_phase;
	size_t emit_max;
	struct vd_probe_solo solo; /* one point alone: its probes (probe_stream_solo.c) */
};

/* Chains by key to begin with: a probe is held only until no pair still to come can nest with
 * it (a few RTTs, at most the window), so few are held at once and a small table stays in
 * cache; it grows when more are held (grow_keys). */
#define KEY_BUCKETS ((size_t)1 << 12)

/* Packets of a file a little out of time order (several capture queues) must not come after
 * pairs that left before them: a point keeps this much of its pairs besides, more when its
 * file showed more. */
#define REORDER_SLACK (100 * VD_NS_PER_MS)

/* ---- probes in the order they leave ---- */

/* The order vd_match_probes sorts probes in: time, then the order it made them (outer points'
 * first, each point's in request order). */
static int probe_before(const struct vd_probe_stream *s, uint32_t a, uint32_t b)
{
	const struct sprobe *x = &s->p[a], *y = &s->p[b];
	if (x->ref != y->ref)
		return x->ref < y->ref;
	if (x->src_v != y->src_v)
		return x->src_v < y->src_v;
	return x->ord < y->ord;
}

static void heap_push(struct vd_probe_stream *s, uint32_t slot)
{
	size_t i = s->nout++;
	while (i && probe_before(s, slot, s->out[(i - 1) / 2])) {
		s->out[i] = s->out[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->out[i] = slot;
}

static void heap_pop(struct vd_probe_stream *s)
{
	uint32_t last = s->out[--s->nout];
	size_t i = 0, n = s->nout;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && probe_before(s, s->out[c + 1], s->out[c]))
			c++;
		if (!probe_before(s, s->out[c], last))
			break;
		s->out[i] = s->out[c];
		i = c;
	}
	if (n)
		s->out[i] = last;
}

static uint32_t *run_at(const struct vd_probe_stream *s, size_t i)
{
	return &s->run[(s->run_head + i) & (s->cap - 1)];
}

/* A new live probe: at the end of the ring when it leaves after its last, else in the heap, so
 * that a probe costs a heap's O(log n) cache misses only when it comes out of order. */
static void out_push(struct vd_probe_stream *s, uint32_t slot)
{
	if (s->run_n && probe_before(s, slot, *run_at(s, s->run_n - 1)))
		heap_push(s, slot);
	else
		*run_at(s, s->run_n++) = slot;
}

/* The live probe to leave first (there is one). */
static uint32_t out_first(const struct vd_probe_stream *s)
{
	if (!s->nout)
		return *run_at(s, 0);
	if (!s->run_n || probe_before(s, s->out[0], *run_at(s, 0)))
		return s->out[0];
	return *run_at(s, 0);
}

static void out_pop_first(struct vd_probe_stream *s)
{
	if (s->nout && (!s->run_n || probe_before(s, s->out[0], *run_at(s, 0)))) {
		heap_pop(s);
	} else {
		s->run_head = (s->run_head + 1) & (s->cap - 1);
		s->run_n--;
	}
}

/* ---- the probe table ---- */

static int alive(const struct vd_probe_stream *s, struct link l)
{
	return l.id && s->p[l.slot].id == l.id;
}

static struct link *link_at(struct vd_probe_stream *s, uint32_t slot, int by_key)
{
	return by_key ? &s->p[slot].next_key : &s->p[slot].next_seq;
}

/* Inserts slot into the chain at *pp, kept newest first (probes mostly come in time order, so
 * this is the head). */
static void chain_insert(struct vd_probe_stream *s, struct link *pp, int by_key, uint32_t slot)
{
	vd_ns ref = s->p[slot].ref;
	while (alive(s, *pp) && s->p[pp->slot].ref > ref)
		pp = link_at(s, pp->slot, by_key);
	*link_at(s, slot, by_key) = *pp;
	*pp = (struct link){.id = s->p[slot].id, .slot = slot};
}

/* The request of cell c of point v as a whole event. */
static void cell_echo(const struct vd_probe_stream *s, size_t v, const struct vd_stream_cell *c,
		      struct vd_echo *e)
{
	const struct vd_echo_req q = {.ts = c->req_ts,
				      .index = c->req_index,
				      .phase = c->phase,
				      .seq = c->seq,
				      .flow = c->flow};
	vd_vantage_req_echo(s->pt[v].v, &q, e);
}

static struct vd_stream_cell *cells_of(const struct vd_probe_stream *s, uint32_t slot)
{
	return &s->cell[(size_t)slot * s->nvp];
}

static int may_join(const struct vd_probe_stream *s, const struct sprobe *x, uint64_t kh,
		    const struct vd_echo *e)
{
	if (kh && x->kh)
		return x->kh == kh;
	struct vd_echo key;
	cell_echo(s, x->key_v, &cells_of(s, (uint32_t)(x - s->p))[x->key_v], &key);
	return compatible(&key, e);
}

/* *p resized to n elements of size bytes: 0, or -1 with *p unchanged. */
static int resize(void **p, size_t n, size_t size)
{
	void *q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	return 0;
}

static int slot_new(struct vd_probe_stream *s, uint32_t *slot)
{
	if (s->nfree) {
		*slot = s->free_slots[--s->nfree];
		return 0;
	}
	if (s->cap >= UINT32_MAX / 2)
		return -1;
	size_t cap = s->cap ? 2 * s->cap : 4096;
	/* the slot arrays share one capacity */
	if (resize((void **)&s->p, cap, sizeof(*s->p)) ||
	    resize((void **)&s->cell, cap * s->nvp, sizeof(*s->cell)) ||
	    resize((void **)&s->free_slots, cap, sizeof(*s->free_slots)) ||
	    resize((void **)&s->out, cap, sizeof(*s->out)) ||
	    resize((void **)&s->run, cap, sizeof(*s->run)))
		return -1;
	uint32_t *run = s->run;
	/* the ring's wrapped part (fewer than the old capacity) after the old end */
	memcpy(run + s->cap, run,
	       (s->run_head + s->run_n > s->cap ? s->run_head + s->run_n - s->cap : 0) *
		   sizeof(*run));
	for (size_t i = cap; i-- > s->cap + 1;)
		s->free_slots[s->nfree++] = (uint32_t)i;
	memset(&s->p[s->cap], 0, (cap - s->cap) * sizeof(*s->p));
	*slot = (uint32_t)s->cap;
	s->cap = cap;
	return 0;
}

/* A probe made by pair sp of point v (request e, its probe_key kh in bucket). */
static int probe_new(struct vd_probe_stream *s, size_t v, const struct vd_echo *e, uint64_t kh,
		     size_t bucket, const struct vd_stream_pair *sp, struct vd_stream_cell *cell)
{
	uint32_t i;
	if (slot_new(s, &i) < 0)
		return -1;
	struct sprobe *x = &s->p[i];
	*x = (struct sprobe){.ref = sp->req.ts,
			     .rtt = sp->rep_ts - sp->req.ts,
			     .kh = kh,
			     .id = s->next_id++,
			     .ord = s->pt[v].taken - 1,
			     .src_v = (uint16_t)v,
			     .key_v = (uint16_t)v,
			     .phase = e->phase};
	struct vd_stream_cell *c = cells_of(s, i);
	memset(c, 0, s->nvp * sizeof(*c));
	c[v] = *cell;
	chain_insert(s, &s->by_seq[e->seq & 0xffff], 0, i);
	s->n_seqonly += !x->kh;
	chain_insert(s, x->kh ? &s->by_key[bucket] : &s->by_seqonly[e->seq & 0xffff], 1, i);
	out_push(s, i);
	s->live++;
	return 0;
}

/* Pair sp of point v joins the nearest compatible probe within the window whose interval nests
 * with its own, or makes a probe (vd_match_probes' loop, on one clock). */
static int take_pair(struct vd_probe_stream *s, size_t v, const struct vd_stream_pair *sp)
{
	struct vd_stream_point *pt = &s->pt[v];
	struct vd_stream_cell cell = {.req_ts = sp->req.ts,
				      .rep_ts = sp->rep_ts,
				      .req_index = sp->req.index,
				      .rep_index = sp->rep_index,
				      .seq = sp->req.seq,
				      .flow = sp->req.flow,
				      .phase = sp->req.phase,
				      .present = 1};
	struct vd_echo e;
	cell_echo(s, v, &cell, &e);
	size_t bucket;
	uint64_t kh = probe_key(&e, s->key_mask, &bucket);
	struct link head[2];
	size_t nch = 0;
	int by_key = kh != 0;
	if (kh) {
		head[nch++] = s->by_key[bucket];
		if (s->n_seqonly)
			head[nch++] = s->by_seqonly[e.seq & 0xffff];
	} else {
		head[nch++] = s->by_seq[e.seq & 0xffff];
	}
	vd_ns t = sp->req.ts, rtt = sp->rep_ts - sp->req.ts, window = s->window;
	uint32_t best = UINT32_MAX;
	vd_ns best_d = 0;
	for (size_t c = 0; c < nch; c++)
		for (struct link l = head[c]; alive(s, l); l = *link_at(s, l.slot, by_key)) {
			const struct sprobe *x = &s->p[l.slot];
			if (x->ref > t + window)
				continue;
			if (x->ref < t - window)
				break; /* the rest of the chain is older still */
			if (!may_join(s, x, kh, &e) || !nests(x->ref, x->ref + x->rtt, t, t + rtt))
				continue;
			vd_ns d = absdiff(t, x->ref);
			if (best == UINT32_MAX || d < best_d) {
				best = l.slot;
				best_d = d;
			}
			if (x->ref <= t)
				break; /* older probes in this chain are farther still */
		}
	if (best == UINT32_MAX || best_d > window) {
		if (probe_new(s, v, &e, kh, bucket, sp, &cell) < 0)
			return -1;
		pt->probes++;
		return 0;
	}
	struct vd_stream_cell *c = cells_of(s, best);
	if (c[v].present) {
		pt->dups++;
		return 0;
	}
	c[v] = cell;
	struct sprobe *x = &s->p[best];
	if (!x->kh) { /* learn what the earlier sources did not know (tping: addresses, id) */
		struct vd_echo key;
		cell_echo(s, x->key_v, &c[x->key_v], &key);
		if ((!key.src.family && e.src.family) || (!key.has_id && e.has_id))
			x->key_v = (uint16_t)v;
	}
	if (x->phase < 0)
		x->phase = e.phase;
	pt->probes++;
	return 0;
}

/* Takes the pairs whose turn has come, a few at a time from each point in turn (outermost
 * first), handing on the probes that are done between rounds, so that a point with many pairs
 * waiting (at the end, or after a gap) does not make every probe wait. */
#define ROUND 256

/* Releases every point's pairs up to the earliest horizon of all: a point that ran ahead of
 * one still waiting for a reply would make probes that wait for it (a probe holds a cell for
 * every point, more than the pairs it is made of). A round's worth ahead of the pump at most:
 * pairs held long (behind a request waiting for its reply) are out of cache, read once here
 * and once when taken. */
static int release_all(struct vd_probe_stream *s)
{
	vd_ns h = VD_STREAM_END;
	for (size_t v = 0; v < s->nvp; v++) {
		vd_ns hv = vd_stream_point_horizon(&s->pt[v]);
		h = hv < h ? hv : h;
	}
	for (size_t v = 0; v < s->nvp; v++) {
		struct vd_stream_point *pt = &s->pt[v];
		int r = 0;
		while (pt->nrel < 2 * ROUND && (r = vd_stream_point_release(pt, h)) > 0)
			__builtin_prefetch(vd_stream_point_at(pt, pt->nrel + 8));
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Probe k of the run being gathered for emit: its cells. */
static struct vd_stream_cell *emit_at(const struct vd_probe_stream *s, size_t k)
{
	return &s->emit_cells[k * s->nvp];
}

/* emit_ready's rule on the ring of one point alone (vd_probe_solo_ready's, the ring's state
 * in locals across the calls to emit). */
static int solo_emit(struct vd_probe_stream *s, vd_ns low)
{
	struct vd_probe_solo *so = &s->solo;
	const struct vd_stream_pair *ring = so->ring;
	size_t head = so->head, n = so->n, mask = so->cap - 1, k = 0, max = s->emit_max;
	vd_ns window = so->window;
	struct vd_stream_cell *cells = s->emit_cells;
	int8_t *phase = s->emit_phase;
	int rc = 0;
	for (; n; head = (head + 1) & mask, n--) {
		const struct vd_stream_pair *x = &ring[head];
		vd_ns rtt = x->rep_ts - x->req.ts;
		if (low != INT64_MAX &&
		    vd_ns_add_sat(x->req.ts, rtt < window ? rtt : window) >= low)
			break;
		cells[k] = (struct vd_stream_cell){.req_ts = x->req.ts,
						   .rep_ts = x->rep_ts,
						   .req_index = x->req.index,
						   .rep_index = x->rep_index,
						   .seq = x->req.seq,
						   .flow = x->req.flow,
						   .phase = (int8_t)x->req.phase,
						   .present = 1};
		phase[k] = cells[k].phase;
		if (++k == max) {
			if (s->emit(s->ctx, cells, phase, k) < 0) {
				rc = -1;
				break;
			}
			k = 0;
		}
	}
	so->head = head;
	so->n = n;
	return rc < 0 || !k ? rc : s->emit(s->ctx, cells, phase, k);
}

/* Hands on, in order, the probes no pair still to come can nest with: every pair not yet
 * taken has its request at or after the earliest vd_stream_point_taken_to. */
static int emit_ready(struct vd_probe_stream *s)
{
	vd_ns low = VD_STREAM_END;
	for (size_t v = 0; v < s->nvp; v++) {
		vd_ns d = vd_stream_point_taken_to(&s->pt[v]);
		low = d < low ? d : low;
	}
	if (s->nvp == 1)
		return solo_emit(s, low);
	/* the cells copied out of their slots (freed: none is taken again before the run is
	 * handed on, here) */
	size_t k = 0;
	while (s->nout + s->run_n) {
		uint32_t i = out_first(s);
		struct sprobe *x = &s->p[i];
		vd_ns last = vd_ns_add_sat(x->ref, x->rtt < s->window ? x->rtt : s->window);
		if (low != VD_STREAM_END && last >= low)
			break;
		out_pop_first(s);
		memcpy(emit_at(s, k), cells_of(s, i), s->nvp * sizeof(*s->cell));
		s->emit_phase[k] = x->phase;
		s->n_seqonly -= !x->kh;
		x->id = 0;
		s->free_slots[s->nfree++] = i;
		s->live--;
		if (++k == s->emit_max) {
			if (s->emit(s->ctx, s->emit_cells, s->emit_phase, k) < 0)
				return -1;
			k = 0;
		}
	}
	return k ? s->emit(s->ctx, s->emit_cells, s->emit_phase, k) : 0;
}

static int cmp_age(const void *a, const void *b, void *ctx)
{
	const struct sprobe *p = ctx, *x = &p[*(const uint32_t *)a], *y = &p[*(const uint32_t *)b];
	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* More probes held than chains by key (a window holding many probes, long RTTs): four times
 * the chains, rebuilt oldest first so that each stays newest first as chain_insert keeps it. */
static int grow_keys(struct vd_probe_stream *s)
{
	size_t n = (s->key_mask + 1) * 4;
	struct link *t = calloc(n, sizeof(*t));
	size_t nlive = s->nout + s->run_n;
	uint32_t *order = vd_mem_alloc(nlive ? nlive : 1, sizeof(*order));
	if (!t || !order) {
		free(t);
		free(order);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < nlive; i++) {
		uint32_t slot = i < s->nout ? s->out[i] : *run_at(s, i - s->nout);
		if (s->p[slot].kh)
			order[k++] = slot;
	}
	qsort_r(order, k, sizeof(*order), cmp_age, s->p);
	free(s->by_key);
	s->by_key = t;
	s->key_mask = n - 1;
	for (size_t i = 0; i < k; i++) {
		struct sprobe *x = &s->p[order[i]];
		struct vd_echo e;
		size_t bucket;
		cell_echo(s, x->src_v, &cells_of(s, order[i])[x->src_v], &e);
		probe_key(&e, s->key_mask, &bucket);
		chain_insert(s, &s->by_key[bucket], 1, order[i]);
	}
	free(order);
	return 0;
}

static int pump(struct vd_probe_stream *s)
{
	for (size_t v = 0; v < s->nvp; v++) {
		if (vd_stream_point_drain(&s->pt[v], s->nvp == 1 ? &s->solo : NULL) < 0)
			return -1;
		vd_stream_point_skip_answered(&s->pt[v]);
	}
	for (;;) {
		if (release_all(s) < 0)
			return -1;
		size_t taken = 0;
		for (size_t v = 0; v < s->nvp; v++) {
			struct vd_stream_point *pt = &s->pt[v];
			for (size_t k = 0; k < ROUND && pt->nrel; k++) {
				const struct vd_stream_pair *sp = &pt->q[pt->qhead];
				vd_ns rtt = sp->rep_ts - sp->req.ts;
				vd_ns need =
				    vd_ns_add_sat(sp->req.ts, rtt < s->window ? rtt : s->window);
				size_t u = 0;
				while (u < v && vd_stream_point_taken_to(&s->pt[u]) > need)
					u++;
				if (u < v)
					break;
				struct vd_stream_pair x = *sp;
				/* a pair's flow (its addresses and id) is a miss among many flows
				 */
				if (pt->nrel > 8)
					__builtin_prefetch(
					    &pt->v->flows[vd_stream_point_at(pt, 8)->req.flow]);
				pt->qhead = (pt->qhead + 1) & (pt->qcap - 1);
				pt->qn--;
				pt->nrel--;
				pt->taken++;
				if (take_pair(s, v, &x) < 0)
					return -1;
				taken++;
			}
		}
		if (emit_ready(s) < 0)
			return -1;
		if (s->live > 2 * (s->key_mask + 1) && s->key_mask < ((size_t)1 << 30) &&
		    grow_keys(s) < 0)
			return -1;
		if (!taken)
			return 0;
	}
}

/* ---- the interface ---- */

int vd_probe_stream_new(struct vd_vantage *const *vps, size_t nvp, const struct vd_match_opts *opts,
			vd_probe_emit_fn emit, void *ctx, struct vd_probe_stream **out,
			struct vd_err *err)
{
	*out = NULL;
	if (!nvp || nvp > UINT16_MAX)
		return vd_err_set(err, "streaming match: %zu vantage points", nvp);
	struct vd_probe_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return vd_err_set(err, "out of memory");
	s->nvp = nvp;
	s->emit = emit;
	s->ctx = ctx;
	s->next_id = 1;
	s->window = opts && opts->window > 0 ? opts->window : 10 * VD_NS_PER_SEC;
	if (s->window > VD_ECHO_TS_LIMIT / 8)
		s->window = VD_ECHO_TS_LIMIT / 8;
	/* a small window narrows the matching, not the replies' delay */
	s->reply_wait = s->window > 10 * VD_NS_PER_SEC ? s->window : 10 * VD_NS_PER_SEC;
	s->solo.window = s->window;
	s->key_mask = KEY_BUCKETS - 1;
	s->pt = calloc(nvp, sizeof(*s->pt));
	s->by_key = calloc(KEY_BUCKETS, sizeof(*s->by_key)); /* id 0: no probe */
	s->emit_max = vd_probe_emit_run(nvp);
	s->emit_cells = calloc(s->emit_max * nvp, sizeof(*s->emit_cells));
	s->emit_phase = malloc(s->emit_max);
	if (!s->pt || !s->by_key || !s->emit_cells || !s->emit_phase) {
		vd_probe_stream_free(s);
		return vd_err_set(err, "out of memory");
	}
	for (size_t v = 0; v < nvp; v++) {
		s->pt[v].v = vps[v];
		s->pt[v].next_ts = INT64_MIN + 1; /* nothing known yet */
		s->pt[v].latest = INT64_MIN + 1;
		s->pt[v].slack = REORDER_SLACK;
		s->pt[v].reply_wait = s->reply_wait;
		s->pt[v].flush_after = VD_NS_PER_SEC; /* as flushed = 0 */
	}
	*out = s;
	return 0;
}

/* What step does beyond noting the time: a file out of order, a flush, a compaction, a pump. */
static __attribute__((noinline)) int
step_more(struct vd_probe_stream *s, struct vd_stream_point *pt, vd_ns next_ts, struct vd_err *err)
{
	if (next_ts != VD_STREAM_END && next_ts < pt->latest) {
		vd_ns late = vd_ns_sub_sat(pt->latest, next_ts);
		late = late < s->reply_wait / 2 ? 2 * late : s->reply_wait;
		pt->slack = late > pt->slack ? late : pt->slack;
	} else if (next_ts != VD_STREAM_END) {
		pt->latest = next_ts;
	}
	/* match.c pairs an echo up to 32 echoes after it came (from 32 flows on): flushed at the
	 * end and every second of the trace, so that no pair comes later than that */
	if ((next_ts == VD_STREAM_END || vd_ns_sub_sat(next_ts, pt->flushed) > VD_NS_PER_SEC) &&
	    vd_match_flush(pt->v) < 0)
		return vd_err_set(err, "out of memory matching probes across vantage points");
	if (next_ts != VD_STREAM_END && vd_ns_sub_sat(next_ts, pt->flushed) > VD_NS_PER_SEC) {
		pt->flushed = next_ts;
		pt->flush_after = vd_ns_add_sat(next_ts, VD_NS_PER_SEC);
	}
	if (vd_stream_point_compact(pt, s->nvp == 1 ? &s->solo : NULL) < 0)
		return vd_err_set(err, "out of memory matching probes across vantage points");
	/* Taking pairs later than their turn changes nothing (every condition only gets truer as
	 * the points go on): pump every 64 events, so that each pump has work for every point;
	 * match.c's pairs wait in v->pairs until then (a batch: the matching's tables stay in
	 * cache between). */
	if ((s->quiet % 64 == 0 || next_ts == VD_STREAM_END) && pump(s) < 0)
		return vd_err_set(err, "out of memory matching probes across vantage points");
	return 0;
}

/* Point v's next event is at next_ts. Most events only note it: the rest (step_more) waits for
 * the 64th event, a flush due or a file going back in time; a compaction waits with it (the
 * requests grow by 64 at most meanwhile). */
static inline int step(struct vd_probe_stream *s, size_t v, vd_ns next_ts, struct vd_err *err)
{
	struct vd_stream_point *pt = &s->pt[v];
	pt->next_ts = next_ts;
	if (++s->quiet % 64 == 0 || next_ts < pt->latest || next_ts >= pt->flush_after)
		return step_more(s, pt, next_ts, err);
	pt->latest = next_ts;
	return 0;
}

int vd_probe_stream_add(struct vd_probe_stream *s, size_t v, const struct vd_echo *e, vd_ns next_ts,
			struct vd_err *err)
{
	return vd_probe_stream_add_run(s, v, e, 1, next_ts, err);
}

int vd_probe_stream_add_run(struct vd_probe_stream *s, size_t v, const struct vd_echo *e, size_t n,
			    vd_ns next_ts, struct vd_err *err)
{
	struct vd_vantage *vp = s->pt[v].v;
	for (size_t i = 0; i < n; i++) {
		if (vd_vantage_add(vp, &e[i]) < 0)
			return vd_err_set(err, "%s: out of memory", vp->name);
		if (step(s, v, i + 1 < n ? e[i + 1].ts : next_ts, err) < 0)
			return -1;
	}
	return 0;
}

int vd_probe_stream_add_events(struct vd_probe_stream *s, const struct vd_stream_event *ev,
			       size_t n, struct vd_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct vd_vantage *vp = s->pt[ev[i].v].v;
		if (vd_vantage_add(vp, &ev[i].e) < 0)
			return vd_err_set(err, "%s: out of memory", vp->name);
		if (step(s, ev[i].v, ev[i].next_ts, err) < 0)
			return -1;
	}
	return 0;
}

int vd_probe_stream_advance(struct vd_probe_stream *s, size_t v, vd_ns next_ts, struct vd_err *err)
{
	return step(s, v, next_ts, err);
}

int vd_probe_stream_finish(struct vd_probe_stream *s, struct vd_err *err)
{
	for (size_t v = 0; v < s->nvp; v++)
		if (step(s, v, VD_STREAM_END, err) < 0)
			return -1;
	for (size_t v = 0; v < s->nvp; v++) {
		struct vd_stream_point *pt = &s->pt[v];
		if (vd_match_pairs(pt->v, err) < 0)
			return -1;
		pt->v->stats.pairs = pt->pairs;
		pt->v->stats.probes = pt->probes + (s->nvp == 1 ? s->solo.probes : 0);
		pt->v->stats.duplicates += pt->dups + (s->nvp == 1 ? s->solo.dups : 0);
	}
	return 0;
}

void vd_probe_stream_free(struct vd_probe_stream *s)
{
	if (!s)
		return;
	for (size_t v = 0; s->pt && v < s->nvp; v++)
		vd_stream_point_free(&s->pt[v]);
	free(s->pt);
	free(s->p);
	free(s->cell);
	free(s->free_slots);
	free(s->out);
	free(s->run);
	free(s->by_key);
	free(s->emit_cells);
	free(s->emit_phase);
	vd_probe_solo_free(&s->solo);
	free(s);
}

void vd_probe_stream_held(const struct vd_probe_stream *s, struct vd_probe_stream_held *h)
{
	memset(h, 0, sizeof(*h));
	h->probes = s->live + s->solo.n;
	for (size_t v = 0; v < s->nvp; v++) {
		h->pairs += vd_stream_point_pairs(&s->pt[v]);
		h->requests += s->pt[v].v->n;
	}
}
