/* tcpflow.c — bounded flow table keyed by vantage point and 4-tuple (see tcpflow.h). */
#include "vmdelay/tcp/tcpflow.h"

#include "arena.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* A flow's state holds its key and starts on a cache line boundary (arena.h): a lookup that
 * finds the key has brought in the line around it, which a state laid out for it makes the line
 * its packet updates first (with many concurrent flows every packet misses the cache). */
struct vd_flowtab {
	size_t max_flows, value_size, key_offset;
	unsigned char **entries; /* the states, in insertion order */
	size_t n, cap;
	/* open addressing: the state's address in the low STATE_BITS (0 = empty), the high bits
	 * of the key's hash above them, so that probing past other flows reads no other state and
	 * finding one reads no other array (a slot leads straight to the state's line) */
	uint64_t *slots;
	size_t nslots; /* power of two, >= 2 * max used */
	uint64_t refused;
	uint64_t no_memory;	/* packets of new flows that found no memory */
	struct vd_arena states; /* in insertion order: a report reads them in sequence */
};

/* States are on cache line boundaries below 2^48 (the user address space of x86-64 and arm64
 * Linux without an explicit hint): their address over 64 in the slot's low bits. */
#define STATE_BITS 42
#define STATE_MASK ((UINT64_C(1) << STATE_BITS) - 1)
#define TAG_MASK (~STATE_MASK)

static unsigned char *state_at(uint64_t slot)
{
	return (unsigned char *)(uintptr_t)((slot & STATE_MASK) << 6);
}

static struct vd_flowkey *key_in(const struct vd_flowtab *t, const unsigned char *state)
{
	return (struct vd_flowkey *)(state + t->key_offset);
}

static struct vd_flowkey *key_of(const struct vd_flowtab *t, size_t i)
{
	return key_in(t, t->entries[i]);
}

struct vd_flowtab *vd_flowtab_create(size_t max_flows, size_t value_size, size_t key_offset)
{
	if (key_offset + sizeof(struct vd_flowkey) > value_size)
		return NULL;
	struct vd_flowtab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->max_flows = max_flows ? max_flows : 1;
	t->value_size = value_size;
	t->key_offset = key_offset;
	t->nslots = 64;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void vd_flowtab_destroy(struct vd_flowtab *t)
{
	if (!t)
		return;
	vd_arena_destroy(&t->states);
	free(t->entries);
	free(t->slots);
	free(t);
}

/* Constant lengths: the compiler compares in registers instead of calling memcmp. */
static int addr_eq(const struct vd_addr *a, const struct vd_addr *b)
{
	if (a->family != b->family)
		return 0;
	if (a->family == AF_INET6)
		return memcmp(a->bytes, b->bytes, 16) == 0;
	return memcmp(a->bytes, b->bytes, 4) == 0;
}

/* One endpoint, a word at a time (this runs for every packet): multiply-xorshift mixing. */
static uint64_t mix64(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static uint64_t hash_ep(uint64_t h, const struct vd_addr *a, uint16_t port)
{
	if (a->family == AF_INET6) {
		uint64_t w[2];
		memcpy(w, a->bytes, 16);
		h = mix64(mix64(h, w[0]), w[1]);
	} else {
		uint32_t w;
		memcpy(&w, a->bytes, 4);
		h = mix64(h, w);
	}
	return mix64(h, port);
}

/* Symmetric in the two endpoints, so both directions land on the same chain. With the vantage
 * point in the hash, a connection's flows at two points have slots apart: leaving it out of
 * the slot index (the vantage point in the tag only, the flows side by side on one slot line,
 * the later point's state fetched from the earlier one's lookup) measured 5-8% more CPU at
 * 65,535 connections, two points. */
static uint64_t hash_key(uint32_t vantage, const struct vd_addr *a0, uint16_t p0,
			 const struct vd_addr *a1, uint16_t p1)
{
	uint64_t base = 0xcbf29ce484222325ULL ^ vantage;
	return hash_ep(base, a0, p0) + hash_ep(base, a1, p1);
}

/* 1: same orientation, 2: reversed, 0: other flow. */
static inline __attribute__((always_inline)) int key_match(const struct vd_flowkey *k,
							   uint32_t vantage,
							   const struct vd_addr *a0, uint16_t p0,
							   const struct vd_addr *a1, uint16_t p1)
{
	if (k->vantage != vantage)
		return 0;
	if (k->port[0] == p0 && k->port[1] == p1 && addr_eq(&k->addr[0], a0) &&
	    addr_eq(&k->addr[1], a1))
		return 1;
	if (k->port[0] == p1 && k->port[1] == p0 && addr_eq(&k->addr[0], a1) &&
	    addr_eq(&k->addr[1], a0))
		return 2;
	return 0;
}

static inline __attribute__((always_inline)) size_t
lookup_hashed(const struct vd_flowtab *t, uint64_t h, uint32_t vantage, const struct vd_addr *a0,
	      uint16_t p0, const struct vd_addr *a1, uint16_t p1, int *how)
{
	size_t mask = t->nslots - 1;
	uint64_t tag = h & TAG_MASK;
	size_t s = (size_t)h & mask;
	for (;; s = (s + 1) & mask) {
		uint64_t e = t->slots[s];
		if (!e) {
			*how = 0;
			return s;
		}
		if ((e & TAG_MASK) != tag)
			continue;
		int m = key_match(key_in(t, state_at(e)), vantage, a0, p0, a1, p1);
		if (m) {
			*how = m;
			return s;
		}
	}
}

static size_t lookup(const struct vd_flowtab *t, uint32_t vantage, const struct vd_addr *a0,
		     uint16_t p0, const struct vd_addr *a1, uint16_t p1, int *how)
{
	return lookup_hashed(t, hash_key(vantage, a0, p0, a1, p1), vantage, a0, p0, a1, p1, how);
}

static uint64_t slot_of(const struct vd_flowkey *k, const unsigned char *state)
{
	uint64_t h = hash_key(k->vantage, &k->addr[0], k->port[0], &k->addr[1], k->port[1]);
	return (h & TAG_MASK) | (uint64_t)((uintptr_t)state >> 6);
}

static int rehash(struct vd_flowtab *t)
{
	size_t nslots = t->nslots * 2;
	uint64_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -1;
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	for (size_t i = 0; i < t->n; i++) {
		const struct vd_flowkey *k = key_of(t, i);
		int how;
		size_t s =
		    lookup(t, k->vantage, &k->addr[0], k->port[0], &k->addr[1], k->port[1], &how);
		t->slots[s] = slot_of(k, t->entries[i]);
	}
	return 0;
}

/* d was just decoded: hash_key loads its fields with the widths the decoder stored them (family
 * a byte, an IPv4 address 4 bytes, ports 2 bytes each), so no load waits for narrower stores to
 * retire. A profile shows this function's time after the prefetch: that is the slot's miss
 * being started (without it, at 65,535 connections, runs took 15-19% more CPU at their best and
 * 18-77% more at their median, at one and two points). */
uint64_t vd_flowtab_hash(const struct vd_flowtab *t, uint32_t vantage, const struct vd_decoded *d)
{
	uint64_t h = hash_key(vantage, &d->src, d->sport, &d->dst, d->dport);
	__builtin_prefetch(&t->slots[(size_t)h & (t->nslots - 1)]);
	return h;
}

void *vd_flowtab_get(struct vd_flowtab *t, uint32_t vantage, const struct vd_decoded *d, int *dir)
{
	return vd_flowtab_get_hashed(t, hash_key(vantage, &d->src, d->sport, &d->dst, d->dport),
				     vantage, d, dir);
}

/* A new flow found no memory: counted (vd_flowtab_no_memory). NULL. */
static void *no_memory(struct vd_flowtab *t)
{
	t->no_memory++;
	return NULL;
}

void *vd_flowtab_get_hashed(struct vd_flowtab *t, uint64_t h, uint32_t vantage,
			    const struct vd_decoded *d, int *dir)
{
	int how;
	size_t s = lookup_hashed(t, h, vantage, &d->src, d->sport, &d->dst, d->dport, &how);
	if (how) {
		*dir = how == 1 ? 0 : 1;
		return state_at(t->slots[s]);
	}
	if (t->n >= t->max_flows) {
		t->refused++;
		return NULL;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		unsigned char **e = realloc(t->entries, cap * sizeof(*e));
		if (!e)
			return no_memory(t);
		t->entries = e;
		t->cap = cap;
	}
	if (t->n >= UINT32_MAX - 1) {
		t->refused++;
		return NULL;
	}
	unsigned char *e = vd_arena_alloc(&t->states, t->value_size);
	if (!e || (uintptr_t)e >> (STATE_BITS + 6)) /* (no such address on those systems) */
		return no_memory(t);
	struct vd_flowkey *k = (struct vd_flowkey *)(e + t->key_offset);
	k->vantage = vantage;
	k->addr[0] = d->src;
	k->addr[1] = d->dst;
	k->port[0] = d->sport;
	k->port[1] = d->dport;
	t->entries[t->n] = e;
	t->slots[s] = slot_of(k, e);
	t->n++;
	if (t->n * 2 > t->nslots && rehash(t))
		return no_memory(t);
	*dir = 0;
	return e;
}

void *vd_flowtab_peek(struct vd_flowtab *t, uint32_t vantage, const struct vd_decoded *d, int *dir)
{
	int how;
	size_t s = lookup(t, vantage, &d->src, d->sport, &d->dst, d->dport, &how);
	if (!how)
		return NULL;
	*dir = how == 1 ? 0 : 1;
	return state_at(t->slots[s]);
}

void *vd_flowtab_find(struct vd_flowtab *t, uint32_t vantage, const struct vd_flowkey *key,
		      int *same_dir)
{
	int how;
	size_t s =
	    lookup(t, vantage, &key->addr[0], key->port[0], &key->addr[1], key->port[1], &how);
	if (!how)
		return NULL;
	*same_dir = how == 1;
	return state_at(t->slots[s]);
}

size_t vd_flowtab_bytes(const struct vd_flowtab *t)
{
	return sizeof(*t) + vd_arena_bytes(&t->states) + t->cap * sizeof(*t->entries) +
	       t->nslots * sizeof(*t->slots);
}

size_t vd_flowtab_longest_probe(const struct vd_flowtab *t)
{
	size_t mask = t->nslots - 1, longest = 0;
	for (size_t s = 0; s < t->nslots; s++) {
		if (!t->slots[s])
			continue;
		const struct vd_flowkey *k = key_in(t, state_at(t->slots[s]));
		size_t home =
		    (size_t)hash_key(k->vantage, &k->addr[0], k->port[0], &k->addr[1], k->port[1]) &
		    mask;
		size_t probes = ((s - home) & mask) + 1;
		if (probes > longest)
			longest = probes;
	}
	return longest;
}

size_t vd_flowtab_count(const struct vd_flowtab *t)
{
	return t->n;
}

uint64_t vd_flowtab_refused(const struct vd_flowtab *t)
{
	return t->refused;
}

uint64_t vd_flowtab_no_memory(const struct vd_flowtab *t)
{
	return t->no_memory;
}

void *vd_flowtab_value(struct vd_flowtab *t, size_t i)
{
	return i < t->n ? t->entries[i] : NULL;
}

const struct vd_flowkey *vd_flowtab_key(const struct vd_flowtab *t, size_t i)
{
	return i < t->n ? key_of(t, i) : NULL;
}

/* Decimal digits of v (< 100000: a byte or a port) at p, written from the last one back;
 * returns the end. */
static char *put_dec(char *p, unsigned v)
{
	char *end = p + (v >= 10000 ? 5 : v >= 1000 ? 4 : v >= 100 ? 3 : v >= 10 ? 2 : 1);
	char *q = end;
	do
		*--q = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

void vd_flowkey_endpoint(const struct vd_flowkey *k, int e, char *buf, size_t n)
{
	const struct vd_addr *ad = &k->addr[e ? 1 : 0];
	/* IPv4 as inet_ntop and snprintf write it, without them: a report of thousands of flows
	 * writes every endpoint several times */
	if (ad->family != AF_INET6 && n >= sizeof("255.255.255.255:65535")) {
		char *p = buf;
		for (int i = 0; i < 4; i++) {
			p = put_dec(p, ad->bytes[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		*put_dec(p, k->port[e ? 1 : 0]) = 0;
		return;
	}
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(ad->family == AF_INET6 ? AF_INET6 : AF_INET, ad->bytes, a, sizeof(a));
	if (ad->family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", a, k->port[e ? 1 : 0]);
	else
		snprintf(buf, n, "%s:%u", a, k->port[e ? 1 : 0]);
}
