/* match.c — ICMP echo request/reply matching within a vantage point (tshark's pairing rule),
 * streamed as the vantage point's events arrive. */
#include "vmdelay/match/match.h"

#include "echo_key.h"
#include "seq_words.h"
#include "slab.h"

#include "vmdelay/core/mem.h"
#include "vmdelay/core/stats.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Requests are kept per flow: the flow table (family, addresses, id) is open addressing with a
 * mixing hash of the whole flow key, and each flow has its own table of seqs, so that no other
 * flow's keys come between a flow's seqs: how flows interleave in a capture does not
 * change the probe sequences (tests/unit/test_match.c checks their longest length on adversarial
 * key sets). */

#define NIL UINT32_MAX /* no pool node */

/* A seq seen in a request of the flow. Keys that have no request waiting any more leave the
 * table when it fills up (flow_make_room), remembered as answered outside it: the table is sized
 * by the outstanding probes, not by the keys a capture ever held.
 * 16 bytes, four to a cache line (a FIFO's tail is kept in its first pool node). */
struct sslot {
	uint32_t seq;
	uint32_t head;	       /* FIFO of pending requests: nodes of the pool (NIL: none waits) */
	uint32_t answered_ord; /* the flow's request count of the last request a reply matched */
	uint8_t used;
	uint8_t answered; /* a reply matched a request of this key */
};

/* A flow record is one cache line (64 bytes, 64-byte aligned): the line a packet of the flow
 * touches besides its seq slot. The flow's hash is not kept (computed again on the rare paths
 * that need it). Above the key's own bits, the key's first word tells where the flow's swept
 * seqs are: in a bitmap of its own (FLOW_DENSE), or in the shared swept words (FLOW_SWEPT), in
 * which case it holds a window of seqs [lo, hi] (counted round the wrap) outside which the flow
 * has none there, so that a request looks for one (add_request) only where there can be one: a
 * flow's next seq is past its newest swept one, and its words line is not touched. */
struct flow {
	struct fkey key;   /* w[0] | FLOW_DENSE | FLOW_SWEPT | window */
	struct sslot *tab; /* size slots, a power of two */
	uint32_t size, used;
	uint32_t nreq;	/* requests of the flow so far */
	uint32_t vflow; /* its index in the vantage point's flows (NIL: not yet there) */
};

_Static_assert(sizeof(struct flow) == 64, "a flow record is a cache line");
_Static_assert(sizeof(struct sslot) == 16, "four seq slots to a cache line");

#define FLOW_DENSE (UINT64_C(1) << 31)
#define FLOW_SWEPT (UINT64_C(1) << 30)
#define FLOW_LO_SHIFT 32 /* the window's first seq */
#define FLOW_HI_SHIFT 48 /* its last */
#define FLOW_WINDOW (UINT64_C(0xffffffff) << FLOW_LO_SHIFT)
#define FLOW_META (FLOW_DENSE | FLOW_SWEPT | FLOW_WINDOW)

/* Is f the flow of k? */
static inline int flow_is(const struct flow *f, const struct fkey *k)
{
	return (((f->key.w[0] & ~FLOW_META) ^ k->w[0]) | (f->key.w[1] ^ k->w[1]) |
		(f->key.w[2] ^ k->w[2]) | (f->key.w[3] ^ k->w[3]) | (f->key.w[4] ^ k->w[4])) == 0;
}

/* The flow_hash of f's key. */
static uint64_t flow_hash_of(const struct flow *f)
{
	struct fkey k = f->key;
	k.w[0] &= ~FLOW_META;
	return flow_hash(&k);
}

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
 * The table then holds what is in flight, not every seq a long capture went through.
 * (128 slots instead of 1024 for ICMP flows: as many instructions at 50 hosts in random order,
 * 16-20% more CPU time.) */
#define FLOW_KEEP_ALL_16 ((uint32_t)1 << 10)
#define FLOW_KEEP_ALL ((uint32_t)1 << 17)
/* ... as long as the ICMP flows' tables together stay within this many slots (4 MiB): past it,
 * an ICMP flow sweeps at the size it has (from its first on), its swept seqs as bits of the
 * shared swept words (seq_words.h). With tens of thousands of hosts in random order, tables
 * that kept every seq were hundreds of MiB, each line of them a cache miss and a page the
 * kernel zeroed (tests/bench/match.sh, 65535 hosts); with a few flows, sweeping a small table
 * every few requests cost more than the big tables. */
#define SEQ16_SLOTS_BUDGET ((size_t)1 << 18)
#define FLOW_FIRST_SIZE 8
/* A table smaller than this grows fourfold: with many flows all growing at once (tens of
 * thousands of hosts in random order) the blocks they leave are not taken again, and each size
 * passed through is fresh memory the kernel must zero, which cost more than the pairing itself
 * (tests/bench/match.sh, 65535 hosts); one ping's flow still holds only the first size. */
#define FLOW_GROW_FOURFOLD 32

/* Does the flow's seq fit 16 bits (ICMP ids and seqs from a trace)? */
static int flow_seq16(const struct flow *f)
{
	return (f->key.w[0] >> 24 & 1) != 0;
}

/* The flows of a vantage point: their records numbered in the order they came, in pages that
 * never move (a record found stays valid), and an index of 8-byte entries, open addressing with
 * linear probing at most half full: (low 32 bits of the flow hash) << 32 | (record number + 1),
 * 0 free. Growing rewrites the small index, not the records, and the index of 65535 flows
 * (1 MiB) stays mostly cached: a flow costs one record line, which is prefetched. */
struct ftable {
	uint64_t *idx;
	size_t size, n; /* index entries, records */
	struct flow **pages;
	size_t npages;
};

#define REC_PAGE_BITS 15 /* 32768 records: 2 MiB, a huge page */
#define REC_NUM_MASK UINT64_C(0xffffffff)

/* A pending request: its index in v->ev and the next pending request with the same key. The
 * pool holds only requests still waiting, so it is sized by the outstanding probes. */
struct pnode {
	size_t req;
	uint32_t next;
	uint32_t ord;  /* the flow's request count when it came (wrap_stale) */
	uint32_t tail; /* in the first node of a FIFO: its last node */
};

/* An echo waiting its turn in the lookahead queue (vd_match_add): its key and flow hash, for a
 * request its index in v->ev, the record number its hash points to in the index (+ 1, 0: none) and
 * its flow's record once that is confirmed (no second lookup). */
struct queued_echo {
	struct vd_echo e;
	struct fkey k;
	uint64_t fh;
	size_t req;
	uint64_t candidate;
	struct flow *found;
};

/* Many flows: the flow records and seq slots an echo needs are rarely cached, and a miss costs
 * as much as all the rest of an echo's work. Echoes are paired LOOKAHEAD echoes after they come:
 * the index entry of each is prefetched when it comes, the record it points to RECORD_AGE echoes
 * later, its seq slot SEQ_AGE echoes later (each time the line before is cached by then), so
 * that the misses of many echoes overlap instead of being waited for one by one. With a few flows
 * all is cached: echoes are paired as they come until the vantage point has LOOKAHEAD_FLOWS flows
 * (from 50 flows on, random order, the lookahead was faster: tests/bench/match.sh).
 * Measured at 65535 hosts in random order (CPU time, same run): without the index, record or
 * seq slot prefetch 18-57% slower; prefetching into L2 only 15% slower; no faster: record / seq
 * slot / pairing ages 4/8/16, 16/32/48 or 24/48/64 instead of 8/16/32, the steps taken on batches
 * of 8 or 16 echoes (a loop over a batch each; +1% instructions at 50 hosts), a leaner queue
 * (entries without the whole echo, 88 bytes not 136, the rare paths out of line; -0.5%), the
 * index, the swept words and the first record page in huge pages. */
#define LOOKAHEAD 32 /* a power of two */
#define RECORD_AGE 8
#define SEQ_AGE 16
#define LOOKAHEAD_FLOWS 32
/* A table up to this many slots that a request will sweep is prefetched whole. */
#define SWEEP_PREFETCH 16

struct vd_match_state {
	struct queued_echo queue[LOOKAHEAD]; /* a ring: qlen echoes from qhead */
	uint32_t qhead, qlen;
	struct ftable flows;
	struct flow *last; /* the flow of the previous echo: captures come in runs of one flow */
	struct hset answered;
	struct vd_slab seqtabs; /* the flows' seq tables */
	size_t seq16_slots;	/* in the ICMP flows' tables */
	/* 16-bit seqs answered within the last half wrap and swept out of their flow's table: by
	 * the flow's vflow, of flows that grew to FLOW_KEEP_ALL_16 (FLOW_DENSE), and of the others
	 * as bits of the words (flow, seq / 64) */
	uint64_t **dense;
	size_t dense_cap;
	struct vd_seq_words swept;
	size_t words_lookups; /* of the swept words by requests (vd_match_table_stats) */
	struct pnode *pool;
	size_t pool_cap;
	uint32_t pool_used, free_list;
	size_t requests, replies, unmatched_replies, dup_replies;
	size_t stale_unmatched, stale_dups; /* requests wrap_stale dropped */
};

static uint32_t window_lo(uint64_t w0)
{
	return (uint32_t)(w0 >> FLOW_LO_SHIFT) & 0xffff;
}

static uint32_t window_hi(uint64_t w0)
{
	return (uint32_t)(w0 >> FLOW_HI_SHIFT) & 0xffff;
}

static uint64_t window_set(uint64_t w0, uint32_t lo, uint32_t hi)
{
	return (w0 & ~FLOW_WINDOW) | FLOW_SWEPT | (uint64_t)lo << FLOW_LO_SHIFT |
	       (uint64_t)hi << FLOW_HI_SHIFT;
}

/* May the flow with key word w0 have seq (< 65536) in the shared swept words? */
static inline int window_has(uint64_t w0, uint32_t seq)
{
	uint32_t lo = window_lo(w0);
	return (w0 & FLOW_SWEPT) && ((seq - lo) & 0xffff) <= ((window_hi(w0) - lo) & 0xffff);
}

/* w0 with its window grown the shorter way round to take seq in. */
static uint64_t window_add(uint64_t w0, uint32_t seq)
{
	if (!(w0 & FLOW_SWEPT))
		return window_set(w0, seq, seq);
	if (window_has(w0, seq))
		return w0;
	uint32_t lo = window_lo(w0), hi = window_hi(w0);
	return ((seq - hi) & 0xffff) <= ((lo - seq) & 0xffff) ? window_set(w0, lo, seq)
							      : window_set(w0, seq, hi);
}

/* w0 after seq left the words: a window's end that held it moves in (never to empty, so
 * that FLOW_SWEPT stays: the flow has swept and does not grow again). */
static uint64_t window_drop(uint64_t w0, uint32_t seq)
{
	uint32_t lo = window_lo(w0), hi = window_hi(w0);
	if (lo == hi)
		return w0;
	if (seq == lo)
		return window_set(w0, (lo + 1) & 0xffff, hi);
	if (seq == hi)
		return window_set(w0, lo, (hi - 1) & 0xffff);
	return w0;
}

static int swept_has(const struct vd_match_state *s, const struct flow *f, uint32_t seq)
{
	if (seq >= 65536)
		return 0;
	if (f->key.w[0] & FLOW_DENSE)
		return s->dense[f->vflow][seq >> 6] >> (seq & 63) & 1;
	return window_has(f->key.w[0], seq) && vd_seq_words_has(&s->swept, f->vflow, seq);
}

/* swept_has for a request, counting the look-ups of the shared words it makes */
static int request_swept_has(struct vd_match_state *s, const struct flow *f, uint32_t seq)
{
	s->words_lookups +=
	    seq < 65536 && !(f->key.w[0] & FLOW_DENSE) && window_has(f->key.w[0], seq);
	return swept_has(s, f, seq);
}

static void swept_clear(struct vd_match_state *s, struct flow *f, uint32_t seq)
{
	if (f->key.w[0] & FLOW_DENSE) {
		s->dense[f->vflow][seq >> 6] &= ~(UINT64_C(1) << (seq & 63));
	} else if (window_has(f->key.w[0], seq)) {
		s->words_lookups++;
		vd_seq_words_clear(&s->swept, f->vflow, seq);
		f->key.w[0] = window_drop(f->key.w[0], seq);
	}
}

/* Gives f its own bitmap of swept seqs (all clear): it grew to FLOW_KEEP_ALL_16 and so has
 * not swept yet. */
static int dense_make(struct vd_match_state *s, struct flow *f)
{
	if (f->vflow >= s->dense_cap) {
		size_t cap = s->dense_cap;
		if (vd_mem_reserve((void **)&s->dense, &cap, (size_t)f->vflow + 1,
				   sizeof(*s->dense)) < 0)
			return -1;
		memset(s->dense + s->dense_cap, 0, (cap - s->dense_cap) * sizeof(*s->dense));
		s->dense_cap = cap;
	}
	if (!(s->dense[f->vflow] = calloc(65536 / 64, sizeof(uint64_t))))
		return -1;
	f->key.w[0] |= FLOW_DENSE;
	return 0;
}

/* A sweep that keeps its table's size rehashes it in place when at most this many keys stay
 * (they wait on the stack while the table is cleared): an ICMP flow sweeps every few requests
 * (its small table) or every few hundred (a table of hundreds of slots with a few waiting), and
 * a block from the slab's free list would be cold lines each time. */
#define REHASH_IN_PLACE 64

/* Rehashes f into size slots; with sweep, keys with nothing waiting go into the flow's own
 * bitmap, the swept words or the answered set instead (reserved for them), and waiting says how
 * many keys stay. */
static int flow_rehash(struct vd_match_state *s, struct flow *f, uint32_t size, int sweep,
		       uint32_t waiting)
{
	struct sslot kept[REHASH_IN_PLACE];
	uint32_t nkept = 0;
	int in_place = sweep && size == f->size && waiting <= REHASH_IN_PLACE;
	struct flow n = *f;
	if (!in_place && !(n.tab = vd_slab_alloc(&s->seqtabs, (unsigned)__builtin_ctz(size))))
		return -1;
	n.size = size;
	n.used = 0;
	int seq16 = flow_seq16(f);
	uint64_t fh = sweep && !seq16 ? flow_hash_of(f) : 0;
	/* the swept seqs of one word of the shared words, set together (a group of a table's
	 * slots holds consecutive seqs) */
	uint32_t word_seq = 0;
	uint64_t word_bits = 0;
	for (uint32_t i = 0; i < f->size; i++) {
		const struct sslot *sl = &f->tab[i];
		if (!sl->used)
			continue;
		if (sweep && sl->head == NIL) {
			if (!seq16 || sl->seq >= 65536) {
				hset_add(&s->answered, key_hash(fh, sl->seq));
			} else if (n.key.w[0] & FLOW_DENSE) {
				s->dense[n.vflow][sl->seq >> 6] |= UINT64_C(1) << (sl->seq & 63);
			} else {
				if (word_bits && (sl->seq ^ word_seq) >> 6) {
					vd_seq_words_or(&s->swept, n.vflow, word_seq, word_bits);
					word_bits = 0;
				}
				word_seq = sl->seq;
				word_bits |= UINT64_C(1) << (sl->seq & 63);
				n.key.w[0] = window_add(n.key.w[0], sl->seq);
			}
		} else if (in_place) {
			kept[nkept++] = *sl;
		} else {
			*seq_lookup(&n, sl->seq) = *sl;
			n.used++;
		}
	}
	if (word_bits)
		vd_seq_words_or(&s->swept, n.vflow, word_seq, word_bits);
	if (in_place) {
		memset(n.tab, 0, size * sizeof(*n.tab));
		for (uint32_t k = 0; k < nkept; k++)
			*seq_lookup(&n, kept[k].seq) = kept[k];
		n.used = nkept;
	} else {
		vd_slab_free(&s->seqtabs, f->tab, (unsigned)__builtin_ctz(f->size));
	}
	if (seq16)
		s->seq16_slots += (size_t)size - f->size;
	*f = n;
	return 0;
}

/* Makes room for one more seq: a small table grows (an ICMP flow's while the ICMP tables fit
 * SEQ16_SLOTS_BUDGET, and never again once it has swept into the shared words); a big one, or
 * an ICMP flow's past the budget, drops the seqs with nothing waiting into the flow's bitmap,
 * the swept words or the answered set and is sized so that it is at most a quarter full (each
 * sweep is paid for by as many insertions as the table has slots). */
static int flow_make_room(struct vd_match_state *s, struct flow *f)
{
	int seq16 = flow_seq16(f);
	uint32_t grown = f->size * (f->size < FLOW_GROW_FOURFOLD ? 4 : 2);
	if (!seq16 && f->size < FLOW_KEEP_ALL)
		return flow_rehash(s, f, grown, 0, 0);
	int dense = (f->key.w[0] & FLOW_DENSE) != 0;
	if (seq16 && !dense && !(f->key.w[0] & FLOW_SWEPT) && f->size < FLOW_KEEP_ALL_16 &&
	    s->seq16_slots + (grown - f->size) <= SEQ16_SLOTS_BUDGET)
		return flow_rehash(s, f, grown, 0, 0);
	if (seq16 && !dense && !(f->key.w[0] & FLOW_SWEPT) && f->size >= FLOW_KEEP_ALL_16) {
		if (dense_make(s, f) < 0)
			return -1;
		dense = 1;
	}
	uint32_t waiting = 0, idle = 0;
	for (uint32_t i = 0; i < f->size; i++)
		if (f->tab[i].used)
			waiting += f->tab[i].head != NIL, idle += f->tab[i].head == NIL;
	uint64_t size = f->size;
	while (4 * ((uint64_t)waiting + 1) > size)
		size *= 2;
	if (size > (uint64_t)1 << 31 || (seq16 ? (dense ? 0 : vd_seq_words_reserve(&s->swept, idle))
					       : hset_reserve(&s->answered, idle)) < 0)
		return -1;
	return flow_rehash(s, f, (uint32_t)size, 1, waiting);
}

static struct flow *record(const struct ftable *t, uint64_t num)
{
	return &t->pages[num >> REC_PAGE_BITS][num & ((1u << REC_PAGE_BITS) - 1)];
}

/* The index entry of the flow of k (hash h), or the free one where it would go. */
static uint64_t *index_slot(const struct ftable *t, const struct fkey *k, uint64_t h)
{
	uint64_t tag = h << 32;
	for (size_t i = h & (t->size - 1);; i = (i + 1) & (t->size - 1)) {
		uint64_t e = t->idx[i];
		if (!e ||
		    ((e & ~REC_NUM_MASK) == tag && flow_is(record(t, (e & REC_NUM_MASK) - 1), k)))
			return &t->idx[i];
	}
}

/* The record of the flow of k (hash h), NULL if there is none. */
static struct flow *flow_lookup(const struct ftable *t, const struct fkey *k, uint64_t h)
{
	uint64_t e = *index_slot(t, k, h);
	return e ? record(t, (e & REC_NUM_MASK) - 1) : NULL;
}

static int index_grow(struct ftable *t)
{
	size_t size = t->size ? 2 * t->size : 64;
	uint64_t *idx = vd_mem_alloc(size, sizeof(*idx));
	if (!idx)
		return -1;
	memset(idx, 0, size * sizeof(*idx));
	for (size_t i = 0; i < t->size; i++) {
		uint64_t e = t->idx[i];
		if (!e)
			continue;
		size_t j = (e >> 32) & (size - 1);
		while (idx[j])
			j = (j + 1) & (size - 1);
		idx[j] = e;
	}
	free(t->idx);
	t->idx = idx;
	t->size = size;
	return 0;
}

/* A new record for the flow of k (not in t; hash h), its seq table tab. */
static struct flow *flow_add(struct ftable *t, const struct fkey *k, uint64_t h, struct sslot *tab)
{
	if (t->n >= REC_NUM_MASK - 1 || (2 * (t->n + 1) > t->size && index_grow(t) < 0))
		return NULL;
	if (t->n >> REC_PAGE_BITS == t->npages) {
		size_t bytes = sizeof(struct flow) << REC_PAGE_BITS;
		struct flow **pages = realloc(t->pages, (t->npages + 1) * sizeof(*pages));
		if (!pages)
			return NULL;
		t->pages = pages;
		if (!(pages[t->npages] = aligned_alloc(bytes, bytes)))
			return NULL;
#ifdef MADV_HUGEPAGE
		if (t->npages) /* (the first page is touched a record at a time) */
			(void)madvise(pages[t->npages], bytes, MADV_HUGEPAGE); /* best effort */
#endif
		t->npages++;
	}
	uint64_t *slot = index_slot(t, k, h);
	struct flow *f = record(t, t->n);
	*f = (struct flow){.key = *k, .tab = tab, .size = FLOW_FIRST_SIZE, .vflow = NIL};
	*slot = h << 32 | (t->n + 1);
	t->n++;
	return f;
}

void vd_match_state_free(struct vd_match_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->flows.n; i++) {
		const struct flow *f = record(&s->flows, i);
		vd_slab_free(&s->seqtabs, f->tab, (unsigned)__builtin_ctz(f->size));
	}
	for (size_t i = 0; i < s->flows.npages; i++)
		free(s->flows.pages[i]);
	free(s->flows.pages);
	for (size_t i = 0; i < s->dense_cap; i++)
		free(s->dense[i]);
	free(s->dense);
	vd_seq_words_free(&s->swept);
	vd_slab_destroy(&s->seqtabs);
	free(s->flows.idx);
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
	vd_slab_init(&s->seqtabs, sizeof(struct sslot));
	if (index_grow(&s->flows) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The flow of key k (flow_hash h, 0 if not computed yet; its record found, or NULL if not
 * known); a request makes it when it is new, a reply gets NULL. */
static struct flow *flow_of(struct vd_match_state *s, const struct fkey *k, uint64_t h,
			    struct flow *found, int make)
{
	if (found)
		return s->last = found;
	if (s->last && flow_is(s->last, k))
		return s->last;
	if (!h)
		h = flow_hash(k);
	struct flow *f = flow_lookup(&s->flows, k, h);
	if (!f) {
		if (!make)
			return NULL;
		struct sslot *tab =
		    vd_slab_alloc(&s->seqtabs, (unsigned)__builtin_ctz(FLOW_FIRST_SIZE));
		if (!tab)
			return NULL;
		if (!(f = flow_add(&s->flows, k, h, tab))) {
			vd_slab_free(&s->seqtabs, tab, (unsigned)__builtin_ctz(FLOW_FIRST_SIZE));
			return NULL;
		}
		if (flow_seq16(f))
			s->seq16_slots += FLOW_FIRST_SIZE;
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
		return sl->answered ? ord - sl->answered_ord < WRAP_STALE
				    : swept_has(s, f, sl->seq);
	return sl->answered || hset_has(&s->answered, key_hash(flow_hash_of(f), sl->seq));
}

/* Takes the first pending request off sl's FIFO (not empty); returns its node. */
static uint32_t fifo_pop(struct vd_match_state *s, struct sslot *sl)
{
	uint32_t nd = sl->head, next = s->pool[nd].next;
	if (next != NIL)
		s->pool[next].tail = s->pool[nd].tail;
	sl->head = next;
	return nd;
}

static void node_free(struct vd_match_state *s, uint32_t nd)
{
	s->pool[nd].next = s->free_list;
	s->free_list = nd;
}

static void wrap_stale(struct vd_match_state *s, struct flow *f, struct sslot *sl)
{
	while (sl->head != NIL && f->nreq - s->pool[sl->head].ord >= WRAP_STALE) {
		uint32_t nd = sl->head;
		if (leftover_is_copy(s, f, sl, s->pool[nd].ord))
			s->stale_dups++;
		else
			s->stale_unmatched++;
		node_free(s, fifo_pop(s, sl));
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

/* The pairing of one echo e: its key k, its flow_hash fh (0: not computed yet),
 * its flow's record if known (flow_of) and for a request its index in v->ev. */
static int add_request(struct vd_match_state *s, struct vd_vantage *v, const struct vd_echo *e,
		       const struct fkey *k, uint64_t fh, struct flow *found, size_t req)
{
	uint32_t seq = e->seq;
	struct flow *f = flow_of(s, k, fh, found, 1);
	if (!f || vantage_flow(v, f, e) < 0)
		return -1;
	v->ev[req].flow = f->vflow;
	struct sslot *sl = seq_lookup(f, seq);
	if (!sl->used && 4 * (f->used + 1) > 3 * f->size) {
		if (flow_make_room(s, f) < 0)
			return -1;
		sl = seq_lookup(f, seq);
	}
	uint32_t nd = node_new(s, req);
	if (nd == NIL)
		return -1;
	s->pool[nd].ord = f->nreq++;
	/* the swept bits say "answered within the last half wrap": forget the seq half a wrap
	 * away, which comes next after this one */
	swept_clear(s, f, (seq + WRAP_STALE) & 0xffff);
	if (!sl->used) {
		*sl = (struct sslot){.seq = seq, .head = NIL, .used = 1};
		f->used++;
		/* a key swept out as answered within the last half wrap: this request is a copy
		 * of the answered one, as if its slot had stayed (leftover_is_copy) */
		if (flow_seq16(f) && request_swept_has(s, f, seq)) {
			sl->answered = 1;
			sl->answered_ord = s->pool[nd].ord;
		}
	} else if (sl->head != NIL && flow_seq16(f)) {
		wrap_stale(s, f, sl);
	}
	if (sl->head == NIL) {
		sl->head = nd;
	} else {
		struct pnode *first = &s->pool[sl->head];
		s->pool[first->tail].next = nd;
	}
	s->pool[sl->head].tail = nd;
	s->requests++;
	return 0;
}

static int add_reply(struct vd_match_state *s, struct vd_vantage *v, const struct vd_echo *e,
		     const struct fkey *k, uint64_t fh, struct flow *found)
{
	s->replies++;
	struct flow *f = flow_of(s, k, fh, found, 0);
	struct sslot *sl = f ? seq_lookup(f, e->seq) : NULL;
	if (!sl || !sl->used || sl->head == NIL) {
		/* a second reply to an answered request is a duplicate, not a stray */
		int answered = sl && ((sl->used && sl->answered) || swept_has(s, f, e->seq) ||
				      hset_has(&s->answered, key_hash(flow_hash_of(f), e->seq)));
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
	fifo_pop(s, sl);
	sl->answered = 1;
	sl->answered_ord = s->pool[nd].ord;
	node_free(s, nd);
	return 0;
}

static int pair_echo(struct vd_match_state *s, struct vd_vantage *v, const struct queued_echo *q)
{
	return q->e.kind == VD_ECHO_REQUEST
		   ? add_request(s, v, &q->e, &q->k, q->fh, q->found, q->req)
		   : add_reply(s, v, &q->e, &q->k, q->fh, q->found);
}

/* The record number + 1 the index holds for q's hash (0: none): by the hash alone, without
 * reading any record, so that the record can be prefetched before it is compared. */
static uint64_t index_candidate(const struct ftable *t, const struct queued_echo *q)
{
	uint64_t tag = q->fh << 32;
	for (size_t i = q->fh & (t->size - 1);; i = (i + 1) & (t->size - 1)) {
		uint64_t e = t->idx[i];
		if (!e || (e & ~REC_NUM_MASK) == tag)
			return e & REC_NUM_MASK;
	}
}

static int pair_oldest(struct vd_match_state *s, struct vd_vantage *v)
{
	const struct queued_echo *q = &s->queue[s->qhead];
	s->qhead = (s->qhead + 1) & (LOOKAHEAD - 1);
	s->qlen--;
	return pair_echo(s, v, q);
}

int vd_match_add(struct vd_vantage *v, const struct vd_echo *e)
{
	struct vd_match_state *s = v->pending;
	if (!s && !(s = v->pending = state_new()))
		return -1;
	if (s->qlen == LOOKAHEAD && pair_oldest(s, v) < 0)
		return -1;
	if (s->qlen == 0 && s->flows.n < LOOKAHEAD_FLOWS) {
		/* no copy, and the flow hash only if the echo is not of the last echo's flow */
		struct fkey k;
		key_of(e, &k);
		return e->kind == VD_ECHO_REQUEST ? add_request(s, v, e, &k, 0, NULL, v->n - 1)
						  : add_reply(s, v, e, &k, 0, NULL);
	}
	struct queued_echo *q = &s->queue[(s->qhead + s->qlen) & (LOOKAHEAD - 1)];
	q->e = *e;
	key_of(e, &q->k);
	q->fh = flow_hash(&q->k);
	q->req = v->n - 1;
	q->candidate = 0;
	q->found = NULL;
	__builtin_prefetch(&s->flows.idx[q->fh & (s->flows.size - 1)]);
	s->qlen++;
	/* RECORD_AGE echoes later: the record the index points to; SEQ_AGE: the seq slot */
	if (s->qlen > RECORD_AGE) {
		struct queued_echo *a =
		    &s->queue[(s->qhead + s->qlen - 1 - RECORD_AGE) & (LOOKAHEAD - 1)];
		if ((a->candidate = index_candidate(&s->flows, a)))
			__builtin_prefetch(record(&s->flows, a->candidate - 1));
	}
	if (s->qlen > SEQ_AGE) {
		struct queued_echo *a =
		    &s->queue[(s->qhead + s->qlen - 1 - SEQ_AGE) & (LOOKAHEAD - 1)];
		struct flow *f = a->candidate ? record(&s->flows, a->candidate - 1) : NULL;
		if (f && flow_is(f, &a->k)) {
			__builtin_prefetch(&f->tab[seq_home(a->e.seq, f->size)]);
			a->found = f;
			/* an ICMP request looks its seq up in the swept words (add_request), and
			 * one that fills its flow's small table sweeps all of it, the seqs before
			 * its own going there */
			if (a->e.kind != VD_ECHO_REQUEST || !flow_seq16(f) || f->vflow == NIL ||
			    (f->key.w[0] & FLOW_DENSE))
				return 0;
			int sweeps = 4 * (f->used + 1) > 3 * f->size && f->size <= SWEEP_PREFETCH;
			for (uint32_t i = 0; sweeps && i < f->size; i += 64 / sizeof(*f->tab))
				__builtin_prefetch(&f->tab[i]);
			if (sweeps || window_has(f->key.w[0], a->e.seq))
				vd_seq_words_prefetch(&s->swept, f->vflow, a->e.seq);
		}
	}
	return 0;
}

int vd_match_flush(struct vd_vantage *v)
{
	struct vd_match_state *s = v->pending;
	while (s && s->qlen)
		if (pair_oldest(s, v) < 0)
			return -1;
	return 0;
}

int vd_match_table_stats(struct vd_vantage *v, struct vd_match_table_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (vd_match_flush(v) < 0)
		return -1;
	const struct vd_match_state *s = v->pending;
	if (!s)
		return 0;
	const struct ftable *t = &s->flows;
	st->slots = t->size;
	for (size_t i = 0; i < t->size; i++) {
		if (!t->idx[i])
			continue;
		size_t probe = ((i - (t->idx[i] >> 32)) & (t->size - 1)) + 1;
		if (probe > st->longest_probe)
			st->longest_probe = probe;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct flow *f = record(t, i);
		st->flows++;
		st->slots += f->size;
		for (uint32_t j = 0; j < f->size; j++) {
			const struct sslot *sl = &f->tab[j];
			if (!sl->used)
				continue;
			st->keys++;
			size_t probe = ((j - seq_home(sl->seq, f->size)) & (f->size - 1)) + 1;
			if (probe > st->longest_probe)
				st->longest_probe = probe;
		}
	}
	st->words_lookups = s->words_lookups;
	size_t words_probe;
	vd_seq_words_stats(&s->swept, &st->answered, &words_probe);
	if (words_probe > st->longest_probe)
		st->longest_probe = words_probe;
	for (size_t i = 0; i < s->dense_cap; i++)
		for (size_t w = 0; s->dense[i] && w < 65536 / 64; w++)
			st->answered += (size_t)__builtin_popcountll(s->dense[i][w]);
	return 0;
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

/* Requests left over: a copy of an answered request (seen twice, or retransmitted) is a
 * duplicate; the others went unanswered here. They are the pool nodes not on the free list:
 * each is found through its request's flow and seq, not by going through every slot of every
 * flow (with many flows, most of the memory matching holds). */
static int count_leftovers(const struct vd_match_state *s, struct vd_vantage *v)
{
	uint8_t *idle = calloc(s->pool_used ? s->pool_used : 1, 1);
	if (!idle)
		return -1;
	for (uint32_t r = s->free_list; r != NIL; r = s->pool[r].next)
		idle[r] = 1;
	struct vd_match_stats *st = &v->stats;
	for (uint32_t r = 0; r < s->pool_used; r++) {
		if (idle[r])
			continue;
		struct vd_echo e;
		vd_vantage_echo(v, s->pool[r].req, &e);
		struct fkey k;
		key_of(&e, &k);
		uint64_t h = flow_hash(&k);
		const struct flow *f = flow_lookup(&s->flows, &k, h); /* (its request made it) */
		if (leftover_is_copy(s, f, seq_lookup(f, e.seq), s->pool[r].ord))
			st->duplicates++;
		else
			st->unmatched_requests++;
	}
	free(idle);
	return 0;
}

int vd_match_pending_remap(struct vd_vantage *v, size_t (*fn)(void *ctx, size_t req), void *ctx)
{
	struct vd_match_state *s = v->pending;
	if (!s)
		return 0;
	if (vd_match_flush(v) < 0) /* the queued echoes hold indices into v->ev too */
		return -1;
	uint8_t *idle = calloc(s->pool_used ? s->pool_used : 1, 1);
	if (!idle)
		return -1;
	for (uint32_t r = s->free_list; r != NIL; r = s->pool[r].next)
		idle[r] = 1;
	for (uint32_t r = 0; r < s->pool_used; r++)
		if (!idle[r])
			s->pool[r].req = fn(ctx, s->pool[r].req);
	free(idle);
	return 0;
}

int vd_match_pairs(struct vd_vantage *v, struct vd_err *err)
{
	if (vd_match_flush(v) < 0)
		return vd_err_set(err, "%s: out of memory pairing echoes", v->path);
	struct vd_match_stats *st = &v->stats;
	memset(st, 0, sizeof(*st));
	const struct vd_match_state *s = v->pending;
	if (s) {
		st->requests = s->requests;
		st->replies = s->replies;
		st->unmatched_replies = s->unmatched_replies;
		st->duplicates = s->dup_replies + s->stale_dups;
		st->unmatched_requests = s->stale_unmatched;
		if (count_leftovers(s, v) < 0)
			return vd_err_set(err, "%s: out of memory pairing echoes", v->path);
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
