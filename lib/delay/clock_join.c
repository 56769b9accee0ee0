/* clock_join.c — the probes two traces on different clocks both saw (clock_join.h).
 *
 * Each trace's echoes are paired by a probe stream of its own (one point: its pairs in request
 * order), and a pair of the inner point joins the nearest pair of the outer one with the same
 * key (family, addresses, id, 16-bit seq) within the window after a coarse offset, as
 * vd_match_probes joins pairs across clocks (a pair whose nearest candidate is taken is a
 * duplicate). The coarse offset is the median difference over the first pairs whose key is
 * found once at the other point (vd_match_probes takes the median over every pair). Only the
 * pairs within the window are held. */
#include "clock_join.h"

#include "trace_merge.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/core/stats.h"
#include "vmdelay/match/probe_stream.h"
#include "vmdelay/match/vantage.h"

/* Pairs of each point the coarse offset is taken from: 13 s at 5000 probes/s. */
#define PREFIX_PAIRS 65536

/* How many inner pairs ahead join_ready fetches what a pair's join reads. */
#define PREFETCH_AHEAD 8

/* ---- one point's pairs, in request order ---- */

struct jpair {
	vd_ns req, rep;
	uint64_t key;
	uint64_t prev; /* the pair before it in its bucket's chain: its number + 1, 0 none */
	int taken;
};

struct side {
	struct vd_trace_reader rd; /* its times as read */
	int ended;
	struct vd_vantage *vp;
	struct vd_probe_stream *ps;
	struct jpair *q; /* a ring: pair number `first` at q[head] */
	size_t head, n, cap;
	uint64_t first;
	uint64_t made;	  /* pairs the stream gave so far */
	vd_ns last_req;	  /* the request of the last pair the stream gave */
	uint64_t *chain;  /* the outer point's pairs by key: newest pair's number + 1 */
	uint64_t chained; /* pairs numbered below it are in their chains */
	uint64_t *flow_h; /* flow_hash of the point's flows met so far */
	size_t nflow_h, flow_h_cap;
	size_t mask;
	int oom;
};

static struct jpair *at(struct side *s, uint64_t num)
{
	return &s->q[(s->head + (size_t)(num - s->first)) & (s->cap - 1)];
}

static void chain_in(struct side *s, uint64_t num)
{
	struct jpair *p = at(s, num);
	uint64_t *b = &s->chain[p->key & s->mask];
	p->prev = *b;
	*b = num + 1;
}

/* The pairs read since into their chains, before a look-up: in a batch, each bucket (a miss:
 * the table spans the window) fetched a few pairs ahead; in number order, as they came. */
static void chain_pending(struct side *s)
{
	uint64_t end = s->first + s->n;
	if (s->chained < s->first)
		s->chained = s->first;
	for (uint64_t num = s->chained; num < end; num++) {
		if (num + PREFETCH_AHEAD < end)
			__builtin_prefetch(&s->chain[at(s, num + PREFETCH_AHEAD)->key & s->mask]);
		chain_in(s, num);
	}
	s->chained = end;
}

/* Room for one more pair: the ring doubled in order, the chains rebuilt when they are short. */
static int grow(struct side *s)
{
	size_t cap = s->cap ? 2 * s->cap : 1024;
	struct jpair *q = malloc(cap * sizeof(*q));
	if (!q)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		q[i] = s->q[(s->head + i) & (s->cap - 1)];
	free(s->q);
	s->q = q;
	s->head = 0;
	s->cap = cap;
	if (s->chain && s->mask + 1 < 2 * cap) {
		uint64_t *c = calloc(2 * cap, sizeof(*c));
		if (!c)
			return -1;
		free(s->chain);
		s->chain = c;
		s->mask = 2 * cap - 1;
		for (uint64_t num = s->first; num < s->chained; num++)
			chain_in(s, num);
	}
	return 0;
}

/* One 64-bit word into the hash (a multiply-xorshift round). */
static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static uint64_t word(const unsigned char *b)
{
	uint64_t w;
	memcpy(&w, b, sizeof(w));
	return w;
}

/* The flow's part of the key (family, addresses, id). */
static uint64_t flow_hash(const struct vd_echo_flow *f)
{
	_Static_assert(sizeof(f->src.bytes) == 16, "addresses of 16 bytes");
	uint64_t h = mix(0, (uint64_t)f->src.family << 32 | (uint64_t)f->has_id << 24 |
				(uint64_t)f->id << 8 | 1);
	h = mix(h, word(f->src.bytes));
	h = mix(h, word(f->src.bytes + 8));
	h = mix(h, word(f->dst.bytes));
	return mix(h, word(f->dst.bytes + 8));
}

/* The key two points both see of a pair's request; its flow's part hashed once a flow (a
 * flow's fields do not change once matching has opened it). 0 out of memory. */
static uint64_t key_of(struct side *s, const struct vd_stream_cell *c)
{
	if (c->flow >= s->nflow_h) {
		size_t n = s->vp->nflows; /* > c->flow */
		if (n > s->flow_h_cap) {
			size_t cap = 2 * s->flow_h_cap > n ? 2 * s->flow_h_cap : n;
			uint64_t *fh = realloc(s->flow_h, cap * sizeof(*fh));
			if (!fh)
				return 0;
			s->flow_h = fh;
			s->flow_h_cap = cap;
		}
		for (size_t i = s->nflow_h; i < n; i++)
			s->flow_h[i] = flow_hash(&s->vp->flows[i]);
		s->nflow_h = n;
	}
	uint64_t h = mix(s->flow_h[c->flow], (uint16_t)c->seq);
	return h ? h : 1;
}

/* The pairs of one point alone (a probe each, in request order) into its ring. */
static int on_pairs(void *ctx, const struct vd_stream_cell *cells, const int8_t *phase, size_t n)
{
	(void)phase;
	struct side *s = ctx;
	for (size_t i = 0; i < n; i++) {
		if (s->n == s->cap && grow(s) < 0) {
			s->oom = 1;
			return -1;
		}
		uint64_t key = key_of(s, &cells[i]);
		if (!key) {
			s->oom = 1;
			return -1;
		}
		uint64_t num = s->first + s->n++;
		*at(s, num) =
		    (struct jpair){.req = cells[i].req_ts, .rep = cells[i].rep_ts, .key = key};
	}
	if (n)
		s->last_req = cells[n - 1].req_ts;
	s->made += n;
	return 0;
}

static void side_free(struct side *s)
{
	vd_probe_stream_free(s->ps);
	vd_echo_pull_close(s->rd.pull);
	vd_vantage_free(s->vp);
	free(s->q);
	free(s->chain);
	free(s->flow_h);
	memset(s, 0, sizeof(*s));
}

/* 0 ready, 1 the usual way must tell (not a trace, no echo, damaged), -1 out of memory. */
static int side_open(struct side *s, const struct vd_vantage_spec *spec,
		     const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		     int chained, struct vd_err *err)
{
	struct vd_err rerr;
	s->last_req = INT64_MIN;
	if (vd_echo_pull_open(spec, ropts, &s->rd.pull, &rerr) != 0)
		return 1;
	struct vd_match_opts mo = {.window = opts->window};
	s->vp = vd_vantage_new("", spec->clock, spec->path, "");
	if (!s->vp || (chained && !(s->chain = calloc(2048, sizeof(*s->chain)))))
		return vd_err_set(err, "out of memory");
	s->mask = 2047;
	if (vd_probe_stream_new(&s->vp, 1, &mo, on_pairs, s, &s->ps, err) < 0)
		return -1;
	return vd_trace_reader_start(&s->rd, s->ps, 0, &rerr, err);
}

/* One echo of s into its stream. 0, 1 damaged, -1 out of memory. */
static int side_feed(struct side *s, struct vd_err *err)
{
	struct vd_err rerr;
	int rc = vd_trace_reader_feed(&s->rd, s->ps, 0, &rerr, err);
	if (!rc && !s->rd.has_next) {
		rc = vd_probe_stream_finish(s->ps, err) < 0 ? -1 : 0;
		s->ended = 1;
	}
	return rc < 0 && s->oom ? vd_err_set(err, "out of memory") : rc;
}

/* ---- one fit: inner point v against outer point a ---- */

struct join {
	struct side a, v;
	vd_ns off, window;
	struct vd_align_acc *acc;
	const struct vd_clock_fit *a_fit; /* a's clock onto the reference, NULL: a is on it */
};

static vd_ns a_ref(const struct join *j, vd_ns t)
{
	return j->a_fit ? vd_align_apply(j->a_fit, t) : t;
}

/* The coarse offset, v's clock - a's, from the pairs read so far. 0, 1 none found, -1. */
static int coarse_offset(struct join *j)
{
	chain_pending(&j->a);
	vd_ns *d = malloc((j->v.n ? j->v.n : 1) * sizeof(*d));
	size_t nd = 0;
	if (!d)
		return -1;
	for (size_t i = 0; i < j->v.n; i++) {
		const struct jpair *p = at(&j->v, j->v.first + i);
		size_t count = 0;
		vd_ns diff = 0;
		for (uint64_t k = j->a.chain[p->key & j->a.mask]; k && count < 2;) {
			const struct jpair *x = at(&j->a, k - 1);
			if (x->key == p->key) {
				count++;
				diff = p->req - x->req;
			}
			k = x->prev;
		}
		if (count == 1)
			d[nd++] = diff;
	}
	if (nd) {
		vd_sort_ns(d, nd);
		j->off = d[nd / 2];
	}
	free(d);
	return nd ? 0 : 1;
}

/* The inner point's pairs whose every candidate has come join their nearest outer pair. */
static int join_ready(struct join *j)
{
	chain_pending(&j->a);
	while (j->v.n) {
		/* a bucket and the outer pair it leads to are misses (the tables span the window):
		 * fetched ahead, the bucket a few pairs before the pair */
		if (j->v.n > 2 * PREFETCH_AHEAD) {
			const struct jpair *far = at(&j->v, j->v.first + 2 * PREFETCH_AHEAD);
			const struct jpair *near = at(&j->v, j->v.first + PREFETCH_AHEAD);
			__builtin_prefetch(&j->a.chain[far->key & j->a.mask]);
			uint64_t k = j->a.chain[near->key & j->a.mask];
			if (k)
				__builtin_prefetch(at(&j->a, k - 1));
		}
		struct jpair *p = at(&j->v, j->v.first);
		vd_ns t = p->req - j->off, w = j->window;
		if (!j->a.ended && j->a.last_req <= vd_ns_add_sat(t, w))
			return 0;
		/* no later inner pair reaches back past t - window */
		while (j->a.n && at(&j->a, j->a.first)->req < vd_ns_sub_sat(t, w)) {
			j->a.head = (j->a.head + 1) & (j->a.cap - 1);
			j->a.first++;
			j->a.n--;
		}
		struct jpair *best = NULL;
		vd_ns best_d = 0;
		for (uint64_t k = j->a.chain[p->key & j->a.mask]; k && k - 1 >= j->a.first;) {
			struct jpair *x = at(&j->a, k - 1);
			k = x->prev;
			if (x->req < vd_ns_sub_sat(t, w))
				break; /* the chain is newest first */
			if (x->key != p->key || x->req > vd_ns_add_sat(t, w))
				continue;
			vd_ns dd = x->req > t ? x->req - t : t - x->req;
			if (!best || dd < best_d) {
				best = x;
				best_d = dd;
			}
			if (x->req <= t)
				break;
		}
		if (best && !best->taken) { /* taken: v's copy of a probe it already has */
			best->taken = 1;
			struct vd_align_sample s = {.in_req = p->req,
						    .in_rep = p->rep,
						    .out_req = a_ref(j, best->req),
						    .out_rep = a_ref(j, best->rep)};
			if (vd_align_acc_add(j->acc, &s) < 0)
				return -1;
		}
		j->v.head = (j->v.head + 1) & (j->v.cap - 1);
		j->v.first++;
		j->v.n--;
	}
	return 0;
}

static int join_run(struct join *j, struct vd_err *err)
{
	int rc;
	/* the first pairs of each, for the coarse offset */
	while (!j->a.ended && j->a.n < PREFIX_PAIRS)
		if ((rc = side_feed(&j->a, err)) != 0)
			return rc;
	while (!j->v.ended && j->v.n < PREFIX_PAIRS)
		if ((rc = side_feed(&j->v, err)) != 0)
			return rc;
	if ((rc = coarse_offset(j)) != 0)
		return rc;
	/* then side by side on a's clock; join_ready again only when a side gave pairs or ended
	 * (the stream gives them a batch at a time: most echoes give none) */
	uint64_t known = UINT64_MAX;
	for (;;) {
		uint64_t now = j->a.made + j->v.made + (uint64_t)j->a.ended + (uint64_t)j->v.ended;
		if (now != known && join_ready(j) < 0)
			return vd_err_set(err, "out of memory");
		known = now;
		int ca = j->a.rd.has_next, cv = j->v.rd.has_next;
		if (!ca && !cv)
			break;
		struct side *s =
		    !cv || (ca && j->a.rd.next.ts <= vd_ns_sub_sat(j->v.rd.next.ts, j->off))
			? &j->a
			: &j->v;
		if ((rc = side_feed(s, err)) != 0)
			return rc;
	}
	return join_ready(j) < 0 ? vd_err_set(err, "out of memory") : 0;
}

int vd_clock_join(const struct vd_vantage_spec *outer, const struct vd_vantage_spec *inner,
		  const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		  const struct vd_clock_fit *outer_fit, struct vd_align_acc *acc,
		  size_t *point_probes, struct vd_err *err)
{
	struct join j = {.window = opts->window > 0 ? opts->window : 10 * VD_NS_PER_SEC,
			 .a_fit = outer_fit,
			 .acc = acc};
	int rc;
	if ((rc = side_open(&j.a, outer, ropts, opts, 1, err)) == 0 &&
	    (rc = side_open(&j.v, inner, ropts, opts, 0, err)) == 0)
		rc = join_run(&j, err);
	/* a side's pairs: those dropped from its ring and those still in it */
	uint64_t most =
	    j.a.first + j.a.n > j.v.first + j.v.n ? j.a.first + j.a.n : j.v.first + j.v.n;
	*point_probes = (size_t)most;
	side_free(&j.a);
	side_free(&j.v);
	return rc;
}
