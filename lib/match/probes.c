/* probes.c — the same probe across vantage points (Whiteaker et al. section 3.2 compare the
 * same probe's RTT at every vantage point): pairs of every point joined into probes. */
#include "vmdelay/match/probes.h"

#include "echo_key.h"
#include "probe_key.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/core/stats.h"

#include <stdlib.h>
#include <string.h>

/* Probes are found by their key: a probe whose request knows addresses and id (a trace's) sits
 * in a chain of a table hashed on family, addresses, id and the 16-bit seq, so that the
 * concurrent flows of a capture do not share chains; a probe that knows only its seq (a tping
 * row's) sits in a chain by seq. Every probe is also in a chain by seq, which a tping row
 * searches (it cannot tell flows apart: the nearest compatible probe in time wins). Chains stay
 * sorted newest first, so searches stop past the window. */
struct xprobe {
	vd_ns ref;   /* request time on the first clock that saw it (coarsely aligned) */
	vd_ns rtt;   /* at the vantage point that made it: its [request, reply] is [ref, ref + rtt]
		      * on that point's clock, after its offset */
	uint64_t kh; /* probe_key of the request that made it, 0: it knows only its seq */
	uint32_t next_seq; /* chain by seq */
	uint32_t next_key; /* chain by key (kh != 0) or by seq among seq-only probes */
	uint32_t key_req;  /* the request that says most (addresses, id) so far: */
	uint16_t key_v;	   /* vps[key_v]->ev[key_req] */
	uint16_t src_v;	   /* the vantage point that made it (its pair is in the cell) */
};

#define XNONE UINT32_MAX

struct builder {
	struct vd_vantage *const *vps;
	struct xprobe *p;
	size_t n, cap;
	int32_t *cell; /* cap * nvp */
	int8_t *phase; /* per probe: kept apart so the map takes it as it is */
	int sorted;    /* probes were made in time order (ref, then creation) */
	size_t nvp;
	uint32_t *by_seq;     /* 65536 chains through next_seq: every probe */
	uint32_t *by_seqonly; /* 65536 chains through next_key: probes that know only a seq */
	uint32_t *by_key;     /* key_mask + 1 chains through next_key: probes with a key */
	size_t n_seqonly;     /* probes in by_seqonly */
	size_t key_mask;
};

/* Inserts probe i into the chain at *pp through the link at byte offset off of struct xprobe,
 * keeping the chain newest first; probes mostly come in time order, so this is the head. */
static void chain_insert(struct builder *b, uint32_t *pp, size_t off, uint32_t i)
{
	vd_ns ref = b->p[i].ref;
	while (*pp != XNONE && b->p[*pp].ref > ref)
		pp = (uint32_t *)((char *)&b->p[*pp] + off);
	*(uint32_t *)((char *)&b->p[i] + off) = *pp;
	*pp = i;
}

/* req is request `ri` of vantage point v, expanded. */
static int add_probe(struct builder *b, const struct vd_echo *req, size_t ri, vd_ns rtt, size_t v,
		     vd_ns ref)
{
	if (b->n == b->cap) {
		size_t cap = b->cap, ccap = b->cap, pcap = b->cap;
		if (b->n >= XNONE - 1 ||
		    vd_mem_reserve((void **)&b->cell, &ccap, b->n + 1, b->nvp * sizeof(*b->cell)) <
			0 ||
		    vd_mem_reserve((void **)&b->phase, &pcap, b->n + 1, sizeof(*b->phase)) < 0 ||
		    vd_mem_reserve((void **)&b->p, &cap, b->n + 1, sizeof(*b->p)) < 0)
			return -1;
		b->cap = cap;
	}
	uint32_t i = (uint32_t)b->n;
	struct xprobe *x = &b->p[i];
	x->key_req = (uint32_t)ri;
	x->key_v = (uint16_t)v;
	x->ref = ref;
	x->rtt = rtt;
	size_t bucket;
	x->kh = probe_key(req, b->key_mask, &bucket);
	b->phase[i] = req->phase;
	if (i && ref < b->p[i - 1].ref)
		b->sorted = 0;
	x->src_v = (uint16_t)v;
	chain_insert(b, &b->by_seq[req->seq & 0xffff], offsetof(struct xprobe, next_seq), i);
	b->n_seqonly += !x->kh;
	chain_insert(b, x->kh ? &b->by_key[bucket] : &b->by_seqonly[req->seq & 0xffff],
		     offsetof(struct xprobe, next_key), i);
	for (size_t k = 0; k < b->nvp; k++)
		b->cell[i * b->nvp + k] = -1;
	b->n++;
	return 0;
}

/* The chains to search for request e: one by key and the seq-only one, or, when e knows only
 * its seq, the chain of every probe with that seq. */
struct chains {
	uint32_t head[2];
	size_t off; /* the link followed */
	size_t n;
};

static uint64_t chains_of(const struct builder *b, const struct vd_echo *e, struct chains *c)
{
	size_t bucket;
	uint64_t kh = probe_key(e, b->key_mask, &bucket);
	if (kh) {
		c->head[0] = b->by_key[bucket];
		c->head[1] = b->n_seqonly ? b->by_seqonly[e->seq & 0xffff] : XNONE;
		c->off = offsetof(struct xprobe, next_key);
		c->n = 2;
	} else {
		c->head[0] = b->by_seq[e->seq & 0xffff];
		c->off = offsetof(struct xprobe, next_seq);
		c->n = 1;
	}
	return kh;
}

static inline uint32_t chain_next(const struct builder *b, uint32_t q, size_t off)
{
	return *(const uint32_t *)((const char *)&b->p[q] + off);
}

/* Can request e (known by its key hash kh, 0 if none) join probe x? */
static inline int may_join(const struct builder *b, const struct xprobe *x, uint64_t kh,
			   const struct vd_echo *e)
{
	/* Both keys known: equal 64-bit hashes are the same key (odds of a collision about
	 * 2^-64 a pair), and the request need not be read: it is far back in memory. */
	if (kh && x->kh)
		return x->kh == kh;
	struct vd_echo key;
	vd_vantage_echo(b->vps[x->key_v], x->key_req, &key);
	return compatible(&key, e);
}

/* The coarse offset between v's clock and the probes' reference times: the median difference
 * over the pairs with exactly one compatible probe, or, when every pair is ambiguous (tping rows
 * against a trace holding several flows), the densest 1 ms cluster of all candidate differences. */
static int coarse_offset(struct builder *b, const struct vd_vantage *v, vd_ns *off)
{
	size_t cap = v->npairs ? v->npairs : 1, nd = 0, na = 0;
	vd_ns *d = malloc(cap * sizeof(*d));
	vd_ns *all = malloc(4 * cap * sizeof(*all));
	if (!d || !all) {
		free(d);
		free(all);
		return -1;
	}
	for (size_t i = 0; i < v->npairs; i++) {
		struct vd_echo ebuf, *e = &ebuf;
		vd_vantage_echo(v, v->pairs[i].req, e);
		struct chains c;
		uint64_t kh = chains_of(b, e, &c);
		uint32_t found = XNONE;
		size_t count = 0;
		for (size_t ch = 0; ch < c.n; ch++)
			for (uint32_t q = c.head[ch]; q != XNONE; q = chain_next(b, q, c.off)) {
				if (!may_join(b, &b->p[q], kh, e))
					continue;
				found = q;
				if (na < 4 * cap && count < 4)
					all[na++] = e->ts - b->p[q].ref;
				count++;
			}
		if (count == 1)
			d[nd++] = e->ts - b->p[found].ref;
	}
	*off = 0;
	if (nd) {
		vd_sort_ns(d, nd);
		*off = d[nd / 2];
	} else if (na) {
		vd_sort_ns(all, na);
		size_t best = 0, best_n = 0;
		for (size_t i = 0, j = 0; i < na; i++) {
			while (all[i] - all[j] > VD_NS_PER_MS)
				j++;
			if (i - j + 1 > best_n) {
				best_n = i - j + 1;
				best = j;
			}
		}
		*off = all[best + best_n / 2];
	}
	free(d);
	free(all);
	return 0;
}

static const struct xprobe *sort_probes;

static int cmp_probe_idx(const void *a, const void *b)
{
	const struct xprobe *x = &sort_probes[*(const size_t *)a];
	const struct xprobe *y = &sort_probes[*(const size_t *)b];
	if (x->ref != y->ref)
		return x->ref < y->ref ? -1 : 1;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	return (i > j) - (i < j);
}

/* One vantage point whose pairs (sorted by request time) have strictly increasing request and
 * reply times: no two [request, reply] intervals nest, so no pair can join another's probe and
 * every pair is a probe of its own, in order. Saves the probe table on the usual capture. */
static int single_point_probes(struct vd_vantage *v, struct vd_probe_map *map)
{
	for (size_t i = 1; i < v->npairs; i++)
		if (v->ev[v->pairs[i].req].ts <= v->ev[v->pairs[i - 1].req].ts ||
		    v->pairs[i].rep_ts <= v->pairs[i - 1].rep_ts)
			return 0;
	size_t n = v->npairs;
	map->cell = vd_mem_alloc(n ? n : 1, sizeof(*map->cell));
	map->phase = malloc(n ? n : 1);
	if (!map->cell || !map->phase) {
		vd_probe_map_free(map);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		map->cell[i] = (int32_t)i;
		map->phase[i] = v->ev[v->pairs[i].req].phase;
	}
	map->n = n;
	map->nvp = 1;
	v->stats.probes = n;
	return 1;
}

int vd_match_probes(struct vd_vantage *const *vps, size_t nvp, const struct vd_match_opts *opts,
		    struct vd_probe_map *map, struct vd_err *err)
{
	memset(map, 0, sizeof(*map));
	if (nvp > UINT16_MAX) /* probes name their vantage point in 16 bits */
		return vd_err_set(err, "more than %d vantage points", UINT16_MAX);
	for (size_t v = 0; v < nvp; v++)
		if (vps[v]->npairs > INT32_MAX) /* cells are 32-bit: half the memory of 64 */
			return vd_err_set(err, "vantage point %s: more than %d echo pairs",
					  vps[v]->name, INT32_MAX);
	if (nvp == 1) {
		int r = single_point_probes(vps[0], map);
		if (r < 0)
			return vd_err_set(err, "out of memory matching probes");
		if (r > 0)
			return 0;
	}
	vd_ns window = opts && opts->window > 0 ? opts->window : 10 * VD_NS_PER_SEC;
	/* times < 2^62, |offset| <= 2^60, window <= 2^59: time - offset +- window cannot overflow
	 */
	if (window > VD_ECHO_TS_LIMIT / 8)
		window = VD_ECHO_TS_LIMIT / 8;
	struct builder b = {.vps = vps, .nvp = nvp, .sorted = 1};
	vd_ns *offs = calloc(nvp ? nvp : 1, sizeof(*offs));
	size_t *clock_of = calloc(nvp ? nvp : 1, sizeof(*clock_of));
	size_t *order = NULL;
	int rc = -1;
	size_t total = 0, most = 0;
	for (size_t v = 0; v < nvp; v++) {
		total += vps[v]->npairs;
		most = vps[v]->npairs > most ? vps[v]->npairs : most;
	}
	/* Chains by key for twice the pairs of the busiest vantage point: the probes are about
	 * as many when the points saw the same probes (the case that matters), and a few to a
	 * chain when they did not. Sized by the total, the table was a quarter of the memory. */
	b.key_mask = 1023;
	while (b.key_mask < 2 * most && b.key_mask < ((size_t)1 << 31))
		b.key_mask = 2 * b.key_mask + 1;
	b.by_seq = vd_mem_alloc(65536, sizeof(*b.by_seq));
	b.by_seqonly = vd_mem_alloc(65536, sizeof(*b.by_seqonly));
	b.by_key = vd_mem_alloc(b.key_mask + 1, sizeof(*b.by_key));
	if (!b.by_seq || !b.by_seqonly || !b.by_key || !offs || !clock_of)
		goto oom;
	memset(b.by_seq, 0xff, 65536 * sizeof(*b.by_seq)); /* XNONE */
	memset(b.by_seqonly, 0xff, 65536 * sizeof(*b.by_seqonly));
	memset(b.by_key, 0xff, (b.key_mask + 1) * sizeof(*b.by_key));
	/* every pair makes at most one probe: no copy while the arrays grow */
	b.cap = total ? total : 1;
	b.p = vd_mem_alloc(b.cap, sizeof(*b.p));
	b.cell = vd_mem_alloc(b.cap * nvp, sizeof(*b.cell));
	b.phase = vd_mem_alloc(b.cap, sizeof(*b.phase));
	if (!b.p || !b.cell || !b.phase)
		goto oom;
	for (size_t v = 0; v < nvp; v++) {
		struct vd_vantage *vp = vps[v];
		vp->stats.probes = 0;
		/* Points on one clock label read one clock: only other labels need an offset. */
		size_t u = 0;
		while (u < v && strcmp(vps[u]->clock, vp->clock) != 0)
			u++;
		clock_of[v] = u; /* the first vantage point on this clock stands for it */
		if (u < v)
			offs[v] = offs[u];
		else if (v && coarse_offset(&b, vp, &offs[v]) < 0)
			goto oom;
		if (offs[v] > VD_ECHO_TS_LIMIT / 4 || offs[v] < -VD_ECHO_TS_LIMIT / 4)
			offs[v] = 0; /* clocks 36 years apart: nonsense, not an offset */
		vd_ns off = offs[v];
		for (size_t i = 0; i < vp->npairs; i++) {
			struct vd_echo ebuf, *e = &ebuf;
			vd_vantage_echo(vp, vp->pairs[i].req, e);
			vd_ns rep_ts = vp->pairs[i].rep_ts;
			struct chains ch;
			uint64_t kh = chains_of(&b, e, &ch);
			uint32_t best = XNONE;
			vd_ns best_d = 0, t = e->ts - off;
			for (size_t c = 0; c < ch.n; c++)
				for (uint32_t q = ch.head[c]; q != XNONE;
				     q = chain_next(&b, q, ch.off)) {
					const struct xprobe *x = &b.p[q];
					if (x->ref > t + window)
						continue;
					if (x->ref < t - window)
						break; /* the rest of the chain is older still */
					if (!may_join(&b, x, kh, e))
						continue;
					vd_ns rtt = rep_ts - e->ts;
					if (clock_of[x->src_v] == clock_of[v] &&
					    !nests(x->ref, x->ref + x->rtt, t, t + rtt))
						continue;
					vd_ns d = absdiff(t, x->ref);
					if (best == XNONE || d < best_d) {
						best = q;
						best_d = d;
					}
					/* older probes in this chain are farther still */
					if (x->ref <= t)
						break;
				}
			if (best != XNONE && best_d <= window) {
				int32_t *c = &b.cell[best * nvp + v];
				if (*c >= 0) {
					vp->stats.duplicates++;
					continue;
				}
				*c = (int32_t)i;
				struct xprobe *x = &b.p[best];
				/* learn what the earlier sources did not know (tping: addresses,
				 * id) */
				if (!x->kh) { /* (a probe with a key hash knows both) */
					struct vd_echo key;
					vd_vantage_echo(b.vps[x->key_v], x->key_req, &key);
					if ((!key.src.family && e->src.family) ||
					    (!key.has_id && e->has_id)) {
						x->key_req = vp->pairs[i].req;
						x->key_v = (uint16_t)v;
					}
				}
				if (b.phase[best] < 0)
					b.phase[best] = e->phase;
			} else {
				if (add_probe(&b, e, vp->pairs[i].req, rep_ts - e->ts, v,
					      e->ts - off) < 0)
					goto oom;
				b.cell[(b.n - 1) * nvp + v] = (int32_t)i;
			}
			vp->stats.probes++;
		}
	}
	/* sort probes by time; probes made in time order (one vantage point, or the usual
	 * capture) keep the builder's cells as they are */
	sort_probes = b.p;
	if (b.sorted) {
		map->cell = b.cell;
		map->phase = b.phase;
		b.cell = NULL;
		b.phase = NULL;
	} else {
		order = vd_mem_alloc(b.n, sizeof(*order));
		map->cell = vd_mem_alloc(b.n * nvp, sizeof(*map->cell));
		map->phase = malloc(b.n ? b.n : 1);
		if (!order || !map->cell || !map->phase)
			goto oom;
		for (size_t i = 0; i < b.n; i++)
			order[i] = i;
		qsort(order, b.n, sizeof(*order), cmp_probe_idx);
		for (size_t i = 0; i < b.n; i++) {
			memcpy(&map->cell[i * nvp], &b.cell[order[i] * nvp],
			       nvp * sizeof(*map->cell));
			map->phase[i] = b.phase[order[i]];
		}
	}
	map->n = b.n;
	map->nvp = nvp;
	rc = 0;
oom: /* every failure above is an allocation: rc is still -1 */
	sort_probes = NULL;
	free(order);
	free(offs);
	free(clock_of);
	free(b.p);
	free(b.cell);
	free(b.phase);
	free(b.by_seq);
	free(b.by_seqonly);
	free(b.by_key);
	if (rc < 0) {
		vd_probe_map_free(map);
		return vd_err_set(err, "out of memory matching probes across vantage points");
	}
	return 0;
}

void vd_probe_map_free(struct vd_probe_map *map)
{
	free(map->cell);
	free(map->phase);
	memset(map, 0, sizeof(*map));
}

const struct vd_echo_req *vd_probe_req(const struct vd_probe_map *m, struct vd_vantage *const *vps,
				       size_t p, size_t v)
{
	int32_t c = m->cell[p * m->nvp + v];
	return c < 0 ? NULL : &vps[v]->ev[vps[v]->pairs[c].req];
}

int vd_probe_echo(const struct vd_probe_map *m, struct vd_vantage *const *vps, size_t p, size_t v,
		  struct vd_echo *e)
{
	int32_t c = m->cell[p * m->nvp + v];
	if (c < 0)
		return -1;
	vd_vantage_echo(vps[v], vps[v]->pairs[c].req, e);
	return 0;
}

const struct vd_echo_pair *vd_probe_pair(const struct vd_probe_map *m,
					 struct vd_vantage *const *vps, size_t p, size_t v)
{
	int32_t c = m->cell[p * m->nvp + v];
	return c < 0 ? NULL : &vps[v]->pairs[c];
}
