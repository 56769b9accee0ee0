/* tcmnl.h — the tcpmon generic netlink messages (vmdelay/record.h) without a socket: building
 * requests into a buffer and parsing the kernel's replies from raw bytes, every attribute
 * bounds- and type-checked, so the parser can be fuzzed and a bad message is an error. */
#ifndef VMDELAY_TCMNL_H
#define VMDELAY_TCMNL_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/record.h"

struct vd_tcmnl_stats {
	int running;
	uint32_t layers, ring_records, ncpus, tsc_khz, clock_flags, hooks_missing;
	uint64_t recorded, lost, read, filtered;
	int has_cost;
	uint32_t cost[__TCPMON_L_MAX][TCPMON_COST_BUCKETS];
};

enum vd_tcmnl_kind { VD_TCMNL_DATA, VD_TCMNL_DONE, VD_TCMNL_ACK, VD_TCMNL_ERROR, VD_TCMNL_OTHER };

struct vd_tcmnl_msg {
	enum vd_tcmnl_kind kind;
	uint16_t type, flags;
	uint32_t seq;
	int error;	  /* VD_TCMNL_ERROR: negative errno */
	char extack[256]; /* VD_TCMNL_ERROR: the kernel's explanation, "" if none */
	uint8_t cmd;	  /* VD_TCMNL_DATA */
	int has_cpu;
	uint32_t cpu;
	const uint8_t
	    *records; /* nrecords records of record_size bytes (vd_tcmrec_decode_record) */
	size_t nrecords;
	uint32_t record_size;
	const uint8_t *calib; /* ncalib struct tcpmon_calib (vd_tcmrec_decode_calib) */
	size_t ncalib;
	int has_stats;
	struct vd_tcmnl_stats stats;
};

/* Parses the netlink message at buf (len bytes available). *used: bytes to skip to the next
 * message. -1 with a message naming the offset when the message is malformed. */
int vd_tcmnl_parse(const uint8_t *buf, size_t len, struct vd_tcmnl_msg *m, size_t *used,
		   struct vd_err *err);

struct vd_tcmnl_filter {
	uint8_t proto, family;
	uint8_t addr_len, addr2_len;
	uint8_t addr[16], addr2[16];
	int has_port, has_port2;
	uint16_t port, port2;
	int has_filter; /* any filter word given: send a FILTER nest */
	int has_layers;
	uint32_t layers;
};

/* Words: tcp | icmp | icmp6 | ip | ip6 | host ADDR (twice at most) | port N (twice at most) |
 * layers LIST ("all", or names joined by commas). */
int vd_tcmnl_filter_parse(int argc, char *const *argv, struct vd_tcmnl_filter *f,
			  struct vd_err *err);
int vd_tcmnl_layers_parse(const char *s, uint32_t *mask, struct vd_err *err);

/* Writes a request into buf: nlmsghdr (NLM_F_REQUEST | flags), genlmsghdr, then LAYERS and/or
 * FILTER from f (NULL: none). Returns its length, or -1 if cap is too small. */
int vd_tcmnl_build(uint8_t *buf, size_t cap, uint16_t family, uint8_t cmd, uint16_t flags,
		   uint32_t seq, const struct vd_tcmnl_filter *f);

/* Hook cost histograms (TCPMON_SA_COST, one row of TCPMON_COST_BUCKETS per layer). */
/* The bucket of value v, as tcpmon.ko's tcpmon_cost_bucket() puts it (exact below 16, then 8
 * buckets per power of two, the last one open): for histograms of other values (ns) too. */
unsigned vd_tcmnl_cost_bucket(uint64_t v);
uint64_t vd_tcmnl_cost_count(const uint32_t *hist);
/* Cycles at quantile q (0..1), linear inside a bucket; -1 for an empty histogram. */
double vd_tcmnl_cost_quantile(const uint32_t *hist, double q);
#endif
