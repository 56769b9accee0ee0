/* match.c — ICMP echo request/reply matching within a vantage point (tshark's pairing rule) and
 * probe matching across vantage points (Whiteaker et al. section 3.2 compare the same
 * probe's RTT at every vantage point). */
#include "vmdelay/match/match.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/core/stats.h"

#include <stdlib.h>
#include <string.h>

/* ---- within a vantage point ---- */

/* The pairing key as five words: w[0] = seq | id << 32 | family << 48 | has_id << 56, then the
 * request's source and destination addresses. Built from loads into registers and hashed from
 * them: writing a byte-wise struct and reading it back as words stalls store forwarding on every
 * packet. */
struct mkey {
	uint64_t w[5];
};

/* A key seen in a request; h is its key_hash. Keys that have no request waiting any more leave
 * the table when it fills up (table_sweep), remembered in the answered set: the table is sized by
 * the outstanding probes, not by the keys a capture ever held (tping's seqs do not wrap), while a
 * capture's keys that come back every 65536 probes stay and are found without that set. */
struct slot {
	struct mkey key;
	uint64_t h;
	size_t head, tail; /* FIFO of pending requests: nodes of the pool (NONE: none waits) */
	uint32_t used;
	uint32_t answered; /* a reply matched a request of this key */
};

#define NONE ((size_t)-1)

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void key_of(const struct vd_echo *e, struct mkey *k)
{
	/* a reply travels the other way: key it by its request's direction */
	const struct vd_addr *s = e->kind == VD_ECHO_REQUEST ? &e->src : &e->dst;
	const struct vd_addr *d = e->kind == VD_ECHO_REQUEST ? &e->dst : &e->src;
	k->w[0] = (uint64_t)e->seq | (uint64_t)(e->has_id ? e->id : 0) << 32 |
		  (uint64_t)e->src.family << 48 | (uint64_t)(e->has_id ? 1 : 0) << 56;
	k->w[1] = load64(s->bytes);
	k->w[2] = load64(s->bytes + 8);
	k->w[3] = load64(d->bytes);
	k->w[4] = load64(d->bytes + 8);
}

static inline int key_eq(const struct mkey *x, const struct mkey *y)
{
	return ((x->w[0] ^ y->w[0]) | (x->w[1] ^ y->w[1]) | (x->w[2] ^ y->w[2]) |
		(x->w[3] ^ y->w[3]) | (x->w[4] ^ y->w[4])) == 0;
}

/* The flow (addresses, id) is mixed, the seq added as is: a flow's consecutive probes land in
 * consecutive slots, so matching walks the table nearly in order instead of missing the cache.
 * The words are multiplied independently and mixed once: no chain of dependent multiplies on
 * the per-packet path. */
static inline uint64_t key_hash(const struct mkey *k)
{
	uint64_t h = (k->w[0] >> 32) * 0x9e3779b97f4a7c15ull ^ k->w[1] * 0xc2b2ae3d27d4eb4full ^
		     k->w[2] * 0x165667b19e3779f9ull ^ k->w[3] * 0xd6e8feb86659fd93ull ^
		     k->w[4] * 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h + (uint32_t)k->w[0];
}

/* Open addressing with linear probing, at most half full. */
struct table {
	struct slot *tab;
	size_t size, used;
};

static struct slot *lookup(const struct table *t, const struct mkey *k, uint64_t h)
{
	for (size_t i = h & (t->size - 1);; i = (i + 1) & (t->size - 1)) {
		if (!t->tab[i].used || (t->tab[i].h == h && key_eq(&t->tab[i].key, k)))
			return &t->tab[i];
	}
}

/* Rehashes t into size slots, keeping the slots keep() accepts. */
static int table_rehash(struct table *t, size_t size, int (*keep)(const struct slot *, void *),
			void *arg)
{
	struct table n = {.size = size};
	n.tab = vd_mem_alloc(size, sizeof(*n.tab));
	if (!n.tab)
		return -1;
	memset(n.tab, 0, size * sizeof(*n.tab));
	for (size_t i = 0; i < t->size; i++)
		if (t->tab[i].used && keep(&t->tab[i], arg)) {
			*lookup(&n, &t->tab[i].key, t->tab[i].h) = t->tab[i];
			n.used++;
		}
	free(t->tab);
	*t = n;
	return 0;
}

/* The keys answered at least once, as their 64-bit hashes (0 stands for empty): a reply or
 * request left over on such a key is a duplicate, not a stray or a loss. A hash collision (odds
 * about n / 2^64) would only move one count between those two columns. */
struct hset {
	uint64_t *tab;
	size_t size, used;
};

static uint64_t hset_code(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return h ? h : 1;
}

static size_t hset_find(const struct hset *s, uint64_t c)
{
	size_t i = (size_t)(c * 0x9e3779b97f4a7c15ull >> 20) & (s->size - 1);
	while (s->tab[i] && s->tab[i] != c)
		i = (i + 1) & (s->size - 1);
	return i;
}

static int hset_has(const struct hset *s, uint64_t h)
{
	return s->size && s->tab[hset_find(s, hset_code(h))] != 0;
}

static int hset_reserve(struct hset *s, size_t more)
{
	if (2 * (s->used + more) <= s->size)
		return 0;
	struct hset n = {.size = s->size ? s->size : 1024, .used = s->used};
	while (2 * (s->used + more) > n.size)
		n.size *= 2;
	n.tab = vd_mem_alloc(n.size, sizeof(*n.tab));
	if (!n.tab)
		return -1;
	memset(n.tab, 0, n.size * sizeof(*n.tab));
	for (size_t i = 0; i < s->size; i++)
		if (s->tab[i])
			n.tab[hset_find(&n, s->tab[i])] = s->tab[i];
	free(s->tab);
	*s = n;
	return 0;
}

static int hset_add(struct hset *s, uint64_t h)
{
	if (hset_reserve(s, 1) < 0)
		return -1;
	uint64_t c = hset_code(h);
	size_t i = hset_find(s, c);
	if (!s->tab[i]) {
		s->tab[i] = c;
		s->used++;
	}
	return 0;
}

static int keep_waiting(const struct slot *sl, void *arg)
{
	struct hset *answered = arg;
	if (sl->head != NONE)
		return 1;
	/* an answered key with nothing waiting: remembered by its hash only (the allocation
	 * cannot fail: the set was sized before) */
	(void)hset_add(answered, sl->h);
	return 0;
}

static int keep_all(const struct slot *sl, void *arg)
{
	(void)sl;
	(void)arg;
	return 1;
}

/* Keys kept whether or not a request waits, up to this many slots (18 MiB): the 65536 seqs of
 * two flows. */
#define TABLE_KEEP_ALL ((size_t)1 << 18)

/* Makes room for one more key: a small table grows; a big one drops the keys with nothing
 * waiting into the answered set and is sized so that it is at most a quarter full (each sweep is
 * paid for by as many insertions as the table has slots). */
static int table_sweep(struct table *t, struct hset *answered)
{
	if (t->size < TABLE_KEEP_ALL)
		return table_rehash(t, t->size * 2, keep_all, NULL);
	size_t waiting = 0, idle = 0;
	for (size_t i = 0; i < t->size; i++)
		if (t->tab[i].used)
			waiting += t->tab[i].head != NONE, idle += t->tab[i].head == NONE;
	size_t size = t->size;
	while (4 * (waiting + 1) > size)
		size *= 2;
	if (hset_reserve(answered, idle) < 0)
		return -1;
	return table_rehash(t, size, keep_waiting, answered);
}

/* A pending request: its index in v->ev and the next pending request with the same key. The
 * pool holds only requests still waiting, so it is sized by the outstanding probes. */
struct pnode {
	size_t req, next;
};

struct vd_match_state {
	struct table t;
	struct hset answered;
	struct pnode *pool;
	size_t pool_cap, pool_used, free_list;
	size_t requests, replies, unmatched_replies, dup_replies;
};

void vd_match_state_free(struct vd_match_state *s)
{
	if (!s)
		return;
	free(s->t.tab);
	free(s->answered.tab);
	free(s->pool);
	free(s);
}

static size_t node_new(struct vd_match_state *s, size_t req)
{
	size_t i = s->free_list;
	if (i != NONE) {
		s->free_list = s->pool[i].next;
	} else {
		if (vd_mem_reserve((void **)&s->pool, &s->pool_cap, s->pool_used + 1,
				   sizeof(*s->pool)) < 0)
			return NONE;
		i = s->pool_used++;
	}
	s->pool[i] = (struct pnode){.req = req, .next = NONE};
	return i;
}

int vd_match_add(struct vd_vantage *v, const struct vd_echo *e)
{
	struct vd_match_state *s = v->pending;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->free_list = NONE;
		if (table_rehash(&s->t, 1024, keep_all, NULL) < 0) {
			free(s);
			return -1;
		}
		v->pending = s;
	}
	struct mkey k;
	key_of(e, &k);
	uint64_t h = key_hash(&k);
	struct table *t = &s->t;
	if (e->kind == VD_ECHO_REQUEST) {
		struct slot *sl = lookup(t, &k, h);
		if (!sl->used && 2 * (t->used + 1) > t->size) {
			if (table_sweep(t, &s->answered) < 0)
				return -1;
			sl = lookup(t, &k, h);
		}
		size_t nd = node_new(s, v->n - 1);
		if (nd == NONE)
			return -1;
		if (!sl->used) {
			sl->used = 1;
			sl->key = k;
			sl->h = h;
			sl->head = NONE;
			sl->answered = 0;
			t->used++;
		}
		if (sl->head == NONE)
			sl->head = nd;
		else
			s->pool[sl->tail].next = nd;
		sl->tail = nd;
		s->requests++;
		return 0;
	}
	s->replies++;
	struct slot *sl = lookup(t, &k, h);
	if (!sl->used || sl->head == NONE) {
		/* a second reply to an answered request is a duplicate, not a stray */
		if ((sl->used && sl->answered) || hset_has(&s->answered, h))
			s->dup_replies++;
		else
			s->unmatched_replies++;
		return 0;
	}
	if (v->npairs == v->pairs_cap &&
	    vd_mem_reserve((void **)&v->pairs, &v->pairs_cap, v->npairs + 1, sizeof(*v->pairs)) < 0) {
		s->replies--;
		return -1;
	}
	size_t nd = sl->head;
	v->pairs[v->npairs++] =
	    (struct vd_echo_pair){.req = s->pool[nd].req, .rep_ts = e->ts, .rep_index = e->index};
	sl->head = s->pool[nd].next;
	sl->answered = 1;
	s->pool[nd].next = s->free_list;
	s->free_list = nd;
	return 0;
}

static const struct vd_echo *sort_ev;

static int cmp_pair_req(const void *a, const void *b)
{
	const struct vd_echo_pair *x = a, *y = b;
	vd_ns tx = sort_ev[x->req].ts, ty = sort_ev[y->req].ts;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->req < y->req ? -1 : x->req > y->req;
}

int vd_match_pairs(struct vd_vantage *v, struct vd_err *err)
{
	(void)err;
	struct vd_match_stats *st = &v->stats;
	memset(st, 0, sizeof(*st));
	const struct vd_match_state *s = v->pending;
	if (s) {
		st->requests = s->requests;
		st->replies = s->replies;
		st->unmatched_replies = s->unmatched_replies;
		st->duplicates = s->dup_replies;
		/* Requests left over: a copy of an answered request (seen twice, or retransmitted)
		 * is a duplicate; the others went unanswered here. */
		for (size_t i = 0; i < s->t.size; i++) {
			const struct slot *sl = &s->t.tab[i];
			if (!sl->used || sl->head == NONE)
				continue;
			int answered = sl->answered || hset_has(&s->answered, sl->h);
			for (size_t r = sl->head; r != NONE; r = s->pool[r].next) {
				if (answered)
					st->duplicates++;
				else
					st->unmatched_requests++;
			}
		}
	}
	/* replies come nearly in request order: sort only when they do not */
	sort_ev = v->ev;
	for (size_t i = 1; i < v->npairs; i++)
		if (cmp_pair_req(&v->pairs[i - 1], &v->pairs[i]) > 0) {
			qsort(v->pairs, v->npairs, sizeof(*v->pairs), cmp_pair_req);
			break;
		}
	sort_ev = NULL;
	st->pairs = v->npairs;
	return 0;
}

/* ---- across vantage points ---- */

struct xprobe {
	const struct vd_echo *key; /* the request that says most (addresses, id) so far */
	vd_ns ref; /* request time on the first clock that saw it (coarsely aligned) */
	size_t next;  /* bucket chain */
	size_t src_v; /* the vantage point that made it (its pair is in the cell) */
};

/* On one clock, the same probe's [request, reply] intervals at two vantage points nest (the
 * inner one holds the outer one whichever side the prober is on): a probe that does not nest is
 * another host's with the same seq. */
static int nests(vd_ns aq, vd_ns ar, vd_ns bq, vd_ns br)
{
	return (aq <= bq && br <= ar) || (bq <= aq && ar <= br);
}

static int addr_eq(const struct vd_addr *a, const struct vd_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static int compatible(const struct vd_echo *p, const struct vd_echo *e)
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

struct builder {
	struct xprobe *p;
	size_t n, cap;
	int64_t *cell; /* cap * nvp */
	int8_t *phase; /* per probe: kept apart so the map takes it as it is */
	int sorted;    /* probes were made in time order (ref, then creation) */
	size_t nvp;
	size_t *head; /* 65536 buckets */
};

static int add_probe(struct builder *b, const struct vd_echo *req, size_t v, vd_ns ref)
{
	if (b->n == b->cap) {
		size_t cap = b->cap, ccap = b->cap, pcap = b->cap;
		if (vd_mem_reserve((void **)&b->cell, &ccap, b->n + 1, b->nvp * sizeof(*b->cell)) < 0 ||
		    vd_mem_reserve((void **)&b->phase, &pcap, b->n + 1, sizeof(*b->phase)) < 0 ||
		    vd_mem_reserve((void **)&b->p, &cap, b->n + 1, sizeof(*b->p)) < 0)
			return -1;
		b->cap = cap;
	}
	struct xprobe *x = &b->p[b->n];
	x->key = req;
	x->ref = ref;
	b->phase[b->n] = req->phase;
	if (b->n && ref < b->p[b->n - 1].ref)
		b->sorted = 0;
	x->src_v = v;
	/* chains stay sorted newest first, so searches stop past the window; probes mostly come
	 * in time order, so this is the head */
	size_t *pp = &b->head[req->seq & 0xffff];
	while (*pp != NONE && b->p[*pp].ref > ref)
		pp = &b->p[*pp].next;
	x->next = *pp;
	*pp = b->n;
	for (size_t k = 0; k < b->nvp; k++)
		b->cell[b->n * b->nvp + k] = -1;
	b->n++;
	return 0;
}

static vd_ns absdiff(vd_ns a, vd_ns b)
{
	return a > b ? a - b : b - a;
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
		const struct vd_echo *e = &v->ev[v->pairs[i].req];
		size_t found = NONE, count = 0;
		for (size_t q = b->head[e->seq & 0xffff]; q != NONE; q = b->p[q].next) {
			if (!compatible(b->p[q].key, e))
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

int vd_match_probes(struct vd_vantage *const *vps, size_t nvp, const struct vd_match_opts *opts,
		    struct vd_probe_map *map, struct vd_err *err)
{
	memset(map, 0, sizeof(*map));
	vd_ns window = opts && opts->window > 0 ? opts->window : 10 * VD_NS_PER_SEC;
	/* times < 2^62, |offset| <= 2^60, window <= 2^59: time - offset +- window cannot overflow */
	if (window > VD_ECHO_TS_LIMIT / 8)
		window = VD_ECHO_TS_LIMIT / 8;
	struct builder b = {.nvp = nvp, .sorted = 1};
	vd_ns *offs = calloc(nvp ? nvp : 1, sizeof(*offs));
	size_t *clock_of = calloc(nvp ? nvp : 1, sizeof(*clock_of));
	size_t *order = NULL;
	int rc = -1;
	b.head = malloc(65536 * sizeof(*b.head));
	if (!b.head || !offs || !clock_of)
		goto oom;
	for (size_t i = 0; i < 65536; i++)
		b.head[i] = NONE;
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
			const struct vd_echo *e = &vp->ev[vp->pairs[i].req];
			vd_ns rep_ts = vp->pairs[i].rep_ts;
			size_t best = NONE;
			vd_ns best_d = 0;
			for (size_t q = b.head[e->seq & 0xffff]; q != NONE; q = b.p[q].next) {
				const struct xprobe *x = &b.p[q];
				if (x->ref > e->ts - off + window)
					continue;
				if (x->ref < e->ts - off - window)
					break; /* the rest of the chain is older still */
				if (!compatible(x->key, e))
					continue;
				if (clock_of[x->src_v] == clock_of[v]) {
					const struct vd_vantage *sv = vps[x->src_v];
					const struct vd_echo_pair *xp =
					    &sv->pairs[b.cell[q * nvp + x->src_v]];
					if (!nests(sv->ev[xp->req].ts, xp->rep_ts, e->ts, rep_ts))
						continue;
				}
				vd_ns d = absdiff(e->ts - off, b.p[q].ref);
				if (best == NONE || d < best_d) {
					best = q;
					best_d = d;
				}
			}
			if (best != NONE && best_d <= window) {
				int64_t *c = &b.cell[best * nvp + v];
				if (*c >= 0) {
					vp->stats.duplicates++;
					continue;
				}
				*c = (int64_t)i;
				struct xprobe *x = &b.p[best];
				/* learn what the earlier sources did not know (tping: addresses,
				 * id) */
				if ((!x->key->src.family && e->src.family) ||
				    (!x->key->has_id && e->has_id))
					x->key = e;
				if (b.phase[best] < 0)
					b.phase[best] = e->phase;
			} else {
				if (add_probe(&b, e, v, e->ts - off) < 0)
					goto oom;
				b.cell[(b.n - 1) * nvp + v] = (int64_t)i;
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
	free(b.head);
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

const struct vd_echo *vd_probe_req(const struct vd_probe_map *m, struct vd_vantage *const *vps,
				   size_t p, size_t v)
{
	int64_t c = m->cell[p * m->nvp + v];
	return c < 0 ? NULL : &vps[v]->ev[vps[v]->pairs[c].req];
}

const struct vd_echo_pair *vd_probe_pair(const struct vd_probe_map *m,
					 struct vd_vantage *const *vps, size_t p, size_t v)
{
	int64_t c = m->cell[p * m->nvp + v];
	return c < 0 ? NULL : &vps[v]->pairs[c];
}
