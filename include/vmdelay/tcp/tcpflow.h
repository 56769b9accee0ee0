/* tcpflow.h — TCP flows keyed by their 4-tuple (and a vantage point), in a table whose size
 * is bounded: memory grows with the number of flows, never with the trace. Entries keep their
 * insertion order, so reports list flows in the order they first appeared. */
#ifndef VMDELAY_TCPFLOW_H
#define VMDELAY_TCPFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/input/decode.h"

#define VD_TCP_FIN 0x01
#define VD_TCP_SYN 0x02
#define VD_TCP_RST 0x04
#define VD_TCP_PSH 0x08
#define VD_TCP_ACK 0x10

/* Sequence-space comparison modulo 2^32 (RFC 9293 section 3.4). */
static inline int vd_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* A pure ACK: ACK set, no payload, no SYN, FIN or RST (the ACK stream of Rajasekaran et al.). */
static inline int vd_tcp_is_pure_ack(const struct vd_decoded *d)
{
	return d->l4 == VD_L4_TCP && d->tcp_payload_len == 0 && (d->tcp_flags & VD_TCP_ACK) &&
	       !(d->tcp_flags & (VD_TCP_SYN | VD_TCP_FIN | VD_TCP_RST));
}

/* Endpoint 0 is the sender of the first packet seen (the SYN's sender when the capture has it). */
struct vd_flowkey {
	uint32_t vantage;
	struct vd_addr addr[2];
	uint16_t port[2];
};

struct vd_flowtab;

/* value_size bytes of zeroed state per flow, on a cache line boundary, holding the flow's key
 * (struct vd_flowkey, written by the table) at key_offset: the table compares it in place, so the
 * state's line around it is the one a lookup reads. At most max_flows flows. NULL when out of
 * memory or when the key does not fit in the state. */
struct vd_flowtab *vd_flowtab_create(size_t max_flows, size_t value_size, size_t key_offset);
void vd_flowtab_destroy(struct vd_flowtab *t);

/* The flow of TCP packet d at vantage point v, created if new (unless the table is full: NULL,
 * counted in vd_flowtab_refused; or memory ran out: NULL, counted in vd_flowtab_no_memory). *dir: 0
 * when d was sent by endpoint 0, else 1. */
void *vd_flowtab_get(struct vd_flowtab *t, uint32_t vantage, const struct vd_decoded *d, int *dir);

/* For a caller that sees packets a few ahead (with thousands of concurrent flows the table is
 * out of the cache): the hash of packet d's flow at vantage point v, its slot fetched meanwhile;
 * vd_flowtab_get_hashed is then vd_flowtab_get without hashing again. */
uint64_t vd_flowtab_hash(const struct vd_flowtab *t, uint32_t vantage, const struct vd_decoded *d);
void *vd_flowtab_get_hashed(struct vd_flowtab *t, uint64_t hash, uint32_t vantage,
			    const struct vd_decoded *d, int *dir);

/* The flow of packet d at vantage point v, or NULL (never creates). */
void *vd_flowtab_peek(struct vd_flowtab *t, uint32_t vantage, const struct vd_decoded *d, int *dir);

/* The flow with this key at another vantage point (addresses in either order), or NULL;
 * *same_dir says whether its endpoint 0 is the same host as key's endpoint 0. */
void *vd_flowtab_find(struct vd_flowtab *t, uint32_t vantage, const struct vd_flowkey *key,
		      int *same_dir);

size_t vd_flowtab_count(const struct vd_flowtab *t);
/* Bounds, for tests: bytes the table holds (flows' states included), and the most slots a
 * lookup of one of its flows reads (linear probing: small unless the hash clusters keys). */
size_t vd_flowtab_bytes(const struct vd_flowtab *t);
size_t vd_flowtab_longest_probe(const struct vd_flowtab *t);
uint64_t vd_flowtab_refused(const struct vd_flowtab *t);
/* Packets of new flows that were ignored because memory ran out (not counted as refused). */
uint64_t vd_flowtab_no_memory(const struct vd_flowtab *t);
void *vd_flowtab_value(struct vd_flowtab *t, size_t i); /* i-th flow in insertion order */
const struct vd_flowkey *vd_flowtab_key(const struct vd_flowtab *t, size_t i);

/* "addr:port" of endpoint e (IPv6 as [addr]:port) into buf. */
void vd_flowkey_endpoint(const struct vd_flowkey *k, int e, char *buf, size_t n);

#endif
