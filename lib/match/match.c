/* match.c — ICMP echo request/reply matching within a vantage point (tshark's pairing rule) and
 * probe matching across vantage points (Whiteaker et al. section 3.2 compare the same
 * probe's RTT at every vantage point). */
#include "vmdelay/match/match.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/core/stats.h"

#include <stdlib.h>
#include <string.h>

/* ---- within a vantage point ---- */

/* Requests are kept per flow: the flow table (family, addresses, id) is open addressing with a
 * mixing hash of the whole flow key, and each flow has its own table of seqs, so that no other
 * flow's keys come between a flow's seqs: how flows interleave in a capture does not
 * change the probe sequences (tests/unit/test_match.c checks their longest length on adversarial
 * key sets). */

/* The flow key as five words: w[0] = id | family << 16 | has_id << 24, then the request's source
 * and destination addresses. Built from loads into registers and hashed from them: writing a
 * byte-wise struct and reading it back as words stalls store forwarding on every packet. */
struct fkey {
	uint64_t w[5];
};

#define NIL UINT32_MAX /* no pool node */

/* A seq seen in a request of the flow. Keys that have no request waiting any more leave a big
 * table when it fills up (flow_sweep), remembered in the answered set: the table is sized by the
 * outstanding probes, not by the keys a capture ever held (tping's seqs do not wrap), while a
 * capture's keys that come back every 65536 probes stay and are found without that set. */
struct sslot {
	uint32_t seq;
	uint32_t head, tail; /* FIFO of pending requests: nodes of the pool (NIL: none waits) */
	uint8_t used;
	uint8_t answered;      /* a reply matched a request of this key */
	uint32_t answered_ord; /* the flow's request count of the last request a reply matched */
};

struct flow {
	struct fkey key;
	uint64_t h;	   /* flow_hash of key; 0: free slot */
	struct sslot *tab; /* size slots, a power of two */
	uint32_t size, used;
	uint64_t *swept; /* 16-bit seqs: a bit per seq answered within the last half wrap and swept
			  * out of tab (or NULL) */
	uint32_t nreq;	 /* requests of the flow so far */
	uint32_t vflow;	 /* its index in the vantage point's flows (NIL: not yet there) */
};

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void key_of(const struct vd_echo *e, struct fkey *k)
{
	/* a reply travels the other way: key it by its request's direction */
	const struct vd_addr *s = e->kind == VD_ECHO_REQUEST ? &e->src : &e->dst;
	const struct vd_addr *d = e->kind == VD_ECHO_REQUEST ? &e->dst : &e->src;
	k->w[0] = (uint64_t)(e->has_id ? e->id : 0) | (uint64_t)e->src.family << 16 |
		  (uint64_t)(e->has_id ? 1 : 0) << 24;
	k->w[1] = load64(s->bytes);
	k->w[2] = load64(s->bytes + 8);
	k->w[3] = load64(d->bytes);
	k->w[4] = load64(d->bytes + 8);
}

static inline int key_eq(const struct fkey *x, const struct fkey *y)
{
	return ((x->w[0] ^ y->w[0]) | (x->w[1] ^ y->w[1]) | (x->w[2] ^ y->w[2]) |
		(x->w[3] ^ y->w[3]) | (x->w[4] ^ y->w[4])) == 0;
}

static inline uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* Every word of the flow key mixed into every bit of the hash (never 0: 0 marks a free slot).
 * The words are multiplied independently and mixed once: no chain of dependent multiplies on
 * the per-packet path. */
static inline uint64_t flow_hash(const struct fkey *k)
{
	uint64_t h = k->w[0] * 0x9e3779b97f4a7c15ull ^ k->w[1] * 0xc2b2ae3d27d4eb4full ^
		     k->w[2] * 0x165667b19e3779f9ull ^ k->w[3] * 0xd6e8feb86659fd93ull ^
		     (k->w[4] + 1) * 0xff51afd7ed558ccdull;
	h = fmix64(h);
	return h ? h : 1;
}

/* A key's 64-bit hash (flow and seq), as the answered set remembers it. */
static inline uint64_t key_hash(uint64_t fh, uint32_t seq)
{
	return fmix64(fh ^ ((uint64_t)seq + 1) * 0x9e3779b97f4a7c15ull);
}

/* Seqs are placed in groups of 8 consecutive ones (two cache lines of slots): a flow's next
 * probes are matched in memory its previous ones brought in. */
#define SEQ_GROUP_BITS 3

/* The top bits of x times 2^64 / golden ratio (Fibonacci hashing): consecutive x spread evenly
 * over the 2^bits values, and so do x at any power-of-two stride (the multiplier keeps at least
 * 32 significant bits after the shift). bits may be 0. */
static inline uint64_t fib_hash(uint64_t x, uint32_t bits)
{
	return (x * 0x9e3779b97f4a7c15ull) >> (63 - bits) >> 1;
}

/* Home slot of seq in a table of size (a power of two, at least 8) slots: its group of 8 by
 * Fibonacci hashing, so that strides of a power of two and seqs wrapping past 65535 spread
 * instead of piling up, its place in the group by its low bits. */
static inline uint32_t seq_home(uint32_t seq, uint32_t size)
{
	uint32_t bits = (uint32_t)__builtin_ctz(size) - SEQ_GROUP_BITS;
	return (uint32_t)(fib_hash(seq >> SEQ_GROUP_BITS, bits) << SEQ_GROUP_BITS) |
	       (seq & ((1u << SEQ_GROUP_BITS) - 1));
}

static struct sslot *seq_lookup(const struct flow *f, uint32_t seq)
{
	for (uint32_t i = seq_home(seq, f->size);; i = (i + 1) & (f->size - 1)) {
		struct sslot *s = &f->tab[i];
		if (!s->used || s->seq == seq)
			return s;
	}
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

/* (cannot fail: the caller reserved room) */
static void hset_add(struct hset *s, uint64_t h)
{
	uint64_t c = hset_code(h);
	size_t i = hset_find(s, c);
	if (!s->tab[i]) {
		s->tab[i] = c;
		s->used++;
	}
}

/* A flow's seqs are all kept, waiting or not, up to this many slots; then the seqs with nothing
 * waiting are swept out, remembered as answered: an ICMP flow's (16-bit seqs) in a bitmap of
 * its own (8 KiB), other flows' (tping's 32-bit seqs, which never wrap) in the answered set.
 * The table then holds what is in flight, not every seq a long capture went through. */
#define FLOW_KEEP_ALL_16 ((uint32_t)1 << 10)
#define FLOW_KEEP_ALL ((uint32_t)1 << 17)

/* Does the flow's seq fit 16 bits (ICMP ids and seqs from a trace)? */
static int flow_seq16(const struct flow *f)
{
	return (f->key.w[0] >> 24 & 1) != 0;
}

static int swept_has(const struct flow *f, uint32_t seq)
{
	return f->swept && seq < 65536 && (f->swept[seq >> 6] >> (seq & 63) & 1);
}
#define FLOW_FIRST_SIZE 8

/* Rehashes f into size slots; with answered, keys with nothing waiting go into that set instead
 * (it was reserved for them). */
static int flow_rehash(struct flow *f, uint32_t size, struct hset *answered)
{
	struct sslot *tab = vd_mem_alloc(size, sizeof(*tab));
	if (!tab)
		return -1;
	memset(tab, 0, (size_t)size * sizeof(*tab));
	struct flow n = *f;
	n.tab = tab;
	n.size = size;
	n.used = 0;
	for (uint32_t i = 0; i < f->size; i++) {
		const struct sslot *s = &f->tab[i];
		if (!s->used)
			continue;
		if (answered && s->head == NIL) {
			if (f->swept && s->seq < 65536)
				f->swept[s->seq >> 6] |= UINT64_C(1) << (s->seq & 63);
			else
				hset_add(answered, key_hash(f->h, s->seq));
			continue;
		}
		*seq_lookup(&n, s->seq) = *s;
		n.used++;
	}
	free(f->tab);
	*f = n;
	return 0;
}

/* Makes room for one more seq: a small table doubles; a big one drops the seqs with nothing
 * waiting into the answered set and is sized so that it is at most a quarter full (each sweep
 * is paid for by as many insertions as the table has slots). */
static int flow_make_room(struct flow *f, struct hset *answered)
{
	int seq16 = flow_seq16(f);
	if (f->size < (seq16 ? FLOW_KEEP_ALL_16 : FLOW_KEEP_ALL))
		return flow_rehash(f, f->size * 2, NULL);
	if (seq16 && !f->swept && !(f->swept = calloc(65536 / 64, sizeof(*f->swept))))
		return -1;
	uint32_t waiting = 0, idle = 0;
	for (uint32_t i = 0; i < f->size; i++)
		if (f->tab[i].used)
			waiting += f->tab[i].head != NIL, idle += f->tab[i].head == NIL;
	uint64_t size = f->size;
	while (4 * ((uint64_t)waiting + 1) > size)
		size *= 2;
	if (size > (uint64_t)1 << 31 || (!seq16 && hset_reserve(answered, idle) < 0))
		return -1;
	return flow_rehash(f, (uint32_t)size, answered);
}

/* The flows of a vantage point: open addressing, linear probing, at most half full. */
struct ftable {
	struct flow *tab;
	size_t size, used;
};

static struct flow *flow_lookup(const struct ftable *t, const struct fkey *k, uint64_t h)
{
	for (size_t i = h & (t->size - 1);; i = (i + 1) & (t->size - 1)) {
		struct flow *f = &t->tab[i];
		if (!f->h || (f->h == h && key_eq(&f->key, k)))
			return f;
	}
}

static int ftable_grow(struct ftable *t)
{
	struct ftable n = {.size = t->size ? 2 * t->size : 64, .used = t->used};
	n.tab = vd_mem_alloc(n.size, sizeof(*n.tab));
	if (!n.tab)
		return -1;
	memset(n.tab, 0, n.size * sizeof(*n.tab));
	for (size_t i = 0; i < t->size; i++)
		if (t->tab[i].h)
			*flow_lookup(&n, &t->tab[i].key, t->tab[i].h) = t->tab[i];
	free(t->tab);
	*t = n;
	return 0;
}

/* A pending request: its index in v->ev and the next pending request with the same key. The
 * pool holds only requests still waiting, so it is sized by the outstanding probes. */
struct pnode {
	size_t req;
	uint32_t next;
	uint32_t ord; /* the flow's request count when it came (wrap_stale) */
};

struct vd_match_state {
	struct ftable flows;
	struct flow *last; /* the flow of the previous echo: captures come in runs of one flow */
	struct hset answered;
	struct pnode *pool;
	size_t pool_cap;
	uint32_t pool_used, free_list;
	size_t requests, replies, unmatched_replies, dup_replies;
	size_t stale_unmatched, stale_dups; /* requests wrap_stale dropped */
};

void vd_match_state_free(struct vd_match_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->flows.size; i++) {
		free(s->flows.tab[i].tab);
		free(s->flows.tab[i].swept);
	}
	free(s->flows.tab);
	free(s->answered.tab);
	free(s->pool);
	free(s);
}

static uint32_t node_new(struct vd_match_state *s, size_t req)
{
	uint32_t i = s->free_list;
	if (i != NIL) {
		s->free_list = s->pool[i].next;
	} else {
		if (s->pool_used == NIL - 1 ||
		    vd_mem_reserve((void **)&s->pool, &s->pool_cap, (size_t)s->pool_used + 1,
				   sizeof(*s->pool)) < 0)
			return NIL;
		i = s->pool_used++;
	}
	s->pool[i] = (struct pnode){.req = req, .next = NIL};
	return i;
}

static struct vd_match_state *state_new(void)
{
	struct vd_match_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->free_list = NIL;
	if (ftable_grow(&s->flows) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The flow of key k; a request makes it when it is new, a reply gets NULL. */
static struct flow *flow_of(struct vd_match_state *s, const struct fkey *k, int make)
{
	if (s->last && key_eq(&s->last->key, k))
		return s->last;
	uint64_t h = flow_hash(k);
	struct flow *f = flow_lookup(&s->flows, k, h);
	if (!f->h) {
		if (!make)
			return NULL;
		if (2 * (s->flows.used + 1) > s->flows.size) {
			if (ftable_grow(&s->flows) < 0)
				return NULL;
			f = flow_lookup(&s->flows, k, h);
		}
		f->tab = vd_mem_alloc(FLOW_FIRST_SIZE, sizeof(*f->tab));
		if (!f->tab)
			return NULL;
		memset(f->tab, 0, FLOW_FIRST_SIZE * sizeof(*f->tab));
		f->key = *k;
		f->h = h;
		f->size = FLOW_FIRST_SIZE;
		f->used = 0;
		f->swept = NULL;
		f->vflow = NIL;
		s->flows.used++;
	}
	s->last = f;
	return f;
}

/* A 16-bit seq comes back after the flow has sent 65536 requests: a request still waiting on it
 * when its flow has sent half that many since was lost (its reply never came) and must not take
 * the reply of the request that reuses its key a wrap later (tshark's earliest-request rule
 * would pair them 65536 probes apart, and every later probe of that seq one wrap late). A copy
 * of a request (retransmitted, seen twice) comes long before that. */
#define WRAP_STALE 32768

/* Is a request left waiting (ord: its flow's request count) a copy of an answered one? A copy
 * comes after the request that was answered; on a 16-bit seq, within the same wrap of it. */
static int leftover_is_copy(const struct vd_match_state *s, const struct flow *f,
			    const struct sslot *sl, uint32_t ord)
{
	if (flow_seq16(f))
		return sl->answered ? ord - sl->answered_ord < WRAP_STALE : swept_has(f, sl->seq);
	return sl->answered || hset_has(&s->answered, key_hash(f->h, sl->seq));
}

static void wrap_stale(struct vd_match_state *s, struct flow *f, struct sslot *sl)
{
	while (sl->head != NIL && f->nreq - s->pool[sl->head].ord >= WRAP_STALE) {
		uint32_t nd = sl->head;
		if (leftover_is_copy(s, f, sl, s->pool[nd].ord))
			s->stale_dups++;
		else
			s->stale_unmatched++;
		sl->head = s->pool[nd].next;
		s->pool[nd].next = s->free_list;
		s->free_list = nd;
	}
}

/* The request's flow in v's flows, added when it is new. */
static int vantage_flow(struct vd_vantage *v, struct flow *f, const struct vd_echo *e)
{
	if (f->vflow != NIL)
		return 0;
	if (v->nflows >= NIL - 1 ||
	    vd_mem_reserve((void **)&v->flows, &v->flows_cap, v->nflows + 1, sizeof(*v->flows)) < 0)
		return -1;
	v->flows[v->nflows] =
	    (struct vd_echo_flow){.src = e->src, .dst = e->dst, .id = e->id, .has_id = e->has_id};
	f->vflow = (uint32_t)v->nflows++;
	return 0;
}

static int add_request(struct vd_match_state *s, struct vd_vantage *v, const struct fkey *k,
		       const struct vd_echo *e)
{
	uint32_t seq = e->seq;
	struct flow *f = flow_of(s, k, 1);
	if (!f || vantage_flow(v, f, e) < 0)
		return -1;
	v->ev[v->n - 1].flow = f->vflow;
	struct sslot *sl = seq_lookup(f, seq);
	if (!sl->used && 2 * (f->used + 1) > f->size) {
		if (flow_make_room(f, &s->answered) < 0)
			return -1;
		sl = seq_lookup(f, seq);
	}
	uint32_t nd = node_new(s, v->n - 1);
	if (nd == NIL)
		return -1;
	s->pool[nd].ord = f->nreq++;
	/* the swept bits say "answered within the last half wrap": forget the seq half a wrap
	 * away, which comes next after this one */
	if (f->swept)
		f->swept[((seq + WRAP_STALE) & 0xffff) >> 6] &=
		    ~(UINT64_C(1) << ((seq + WRAP_STALE) & 63));
	if (!sl->used) {
		*sl = (struct sslot){.seq = seq, .head = NIL, .tail = NIL, .used = 1};
		f->used++;
	} else if (sl->head != NIL && flow_seq16(f)) {
		wrap_stale(s, f, sl);
	}
	if (sl->head == NIL)
		sl->head = nd;
	else
		s->pool[sl->tail].next = nd;
	sl->tail = nd;
	s->requests++;
	return 0;
}

static int add_reply(struct vd_match_state *s, struct vd_vantage *v, const struct fkey *k,
		     const struct vd_echo *e)
{
	s->replies++;
	struct flow *f = flow_of(s, k, 0);
	struct sslot *sl = f ? seq_lookup(f, e->seq) : NULL;
	if (!sl || !sl->used || sl->head == NIL) {
		/* a second reply to an answered request is a duplicate, not a stray */
		int answered = sl && ((sl->used && sl->answered) || swept_has(f, e->seq) ||
				      hset_has(&s->answered, key_hash(f->h, e->seq)));
		if (answered)
			s->dup_replies++;
		else
			s->unmatched_replies++;
		return 0;
	}
	if (v->npairs == v->pairs_cap && vd_mem_reserve((void **)&v->pairs, &v->pairs_cap,
							v->npairs + 1, sizeof(*v->pairs)) < 0) {
		s->replies--;
		return -1;
	}
	uint32_t nd = sl->head;
	size_t req = s->pool[nd].req;
	int64_t after = (int64_t)e->index - (int64_t)v->ev[req].index;
	if (after <= VD_PAIR_FAR || after > INT32_MAX) {
		if (vd_mem_reserve((void **)&v->far_reps, &v->far_cap, v->nfar + 1,
				   sizeof(*v->far_reps)) < 0) {
			s->replies--;
			return -1;
		}
		v->far_reps[v->nfar++] = (struct vd_far_rep){.req = req, .rep_index = e->index};
		after = VD_PAIR_FAR;
	}
	v->pairs[v->npairs++] = (struct vd_echo_pair){
	    .rep_ts = e->ts, .req = (uint32_t)req, .rep_after = (int32_t)after};
	sl->head = s->pool[nd].next;
	sl->answered = 1;
	sl->answered_ord = s->pool[nd].ord;
	s->pool[nd].next = s->free_list;
	s->free_list = nd;
	return 0;
}

int vd_match_add(struct vd_vantage *v, const struct vd_echo *e)
{
	struct vd_match_state *s = v->pending;
	if (!s && !(s = v->pending = state_new()))
		return -1;
	struct fkey k;
	key_of(e, &k);
	return e->kind == VD_ECHO_REQUEST ? add_request(s, v, &k, e) : add_reply(s, v, &k, e);
}

void vd_match_table_stats(const struct vd_vantage *v, struct vd_match_table_stats *st)
{
	memset(st, 0, sizeof(*st));
	const struct vd_match_state *s = v->pending;
	if (!s)
		return;
	const struct ftable *t = &s->flows;
	for (size_t i = 0; i < t->size; i++) {
		const struct flow *f = &t->tab[i];
		if (!f->h)
			continue;
		st->flows++;
		size_t probe = ((i - f->h) & (t->size - 1)) + 1;
		if (probe > st->longest_probe)
			st->longest_probe = probe;
		for (uint32_t j = 0; j < f->size; j++) {
			const struct sslot *sl = &f->tab[j];
			if (!sl->used)
				continue;
			st->keys++;
			probe = ((j - seq_home(sl->seq, f->size)) & (f->size - 1)) + 1;
			if (probe > st->longest_probe)
				st->longest_probe = probe;
		}
	}
	st->slots = t->size;
	for (size_t i = 0; i < t->size; i++)
		st->slots += t->tab[i].h ? t->tab[i].size : 0;
}

static const struct vd_echo_req *sort_ev;

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
		st->duplicates = s->dup_replies + s->stale_dups;
		st->unmatched_requests = s->stale_unmatched;
		/* Requests left over: a copy of an answered request (seen twice, or retransmitted)
		 * is a duplicate; the others went unanswered here. */
		for (size_t i = 0; i < s->flows.size; i++) {
			const struct flow *f = &s->flows.tab[i];
			for (uint32_t j = 0; f->h && j < f->size; j++) {
				const struct sslot *sl = &f->tab[j];
				if (!sl->used || sl->head == NIL)
					continue;
				for (uint32_t r = sl->head; r != NIL; r = s->pool[r].next) {
					if (leftover_is_copy(s, f, sl, s->pool[r].ord))
						st->duplicates++;
					else
						st->unmatched_requests++;
				}
			}
		}
	}
	vd_vantage_far_sort(v);
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

/* The key of a request as the probe table knows it: family, addresses, id and the low 16 bits
 * of the seq (what two traces both see) as a 64-bit hash, 0 when the request lacks addresses
 * or id; *bucket its chain among mask + 1, the key's group of 8 seqs placed by a hash, the seq
 * within it by its low bits, so that a flow's consecutive probes share cache lines. */
static uint64_t probe_key(const struct vd_echo *e, size_t mask, size_t *bucket)
{
	uint32_t seq = e->seq & 0xffff;
	*bucket = seq & mask;
	if (!e->src.family || !e->has_id)
		return 0;
	struct fkey k;
	key_of(e, &k);
	uint64_t fh = flow_hash(&k);
	*bucket = ((size_t)fmix64(fh ^ (seq >> SEQ_GROUP_BITS)) << SEQ_GROUP_BITS |
		   (seq & ((1u << SEQ_GROUP_BITS) - 1))) &
		  mask;
	uint64_t h = key_hash(fh, seq);
	return h ? h : 1;
}

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
