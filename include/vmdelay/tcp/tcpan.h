/* tcpan.h — per-flow TCP analysis at each vantage point, fed one decoded packet at a time:
 * the pure-ACK inter-arrival histogram (ackhist.h), bytes acknowledged per interval at the RTT
 * timescale and at a long interval (tput.h), handshake or sampled RTT, data and ACK counts.
 * Memory: one state per flow and vantage point (tcpflow.h), independent of trace length.
 * Papers: Rajasekaran et al. section 4 and Figure 2; Kangarlou et al. (sequence/time data). */
#ifndef VMDELAY_TCPAN_H
#define VMDELAY_TCPAN_H

#include <stdint.h>

#include "vmdelay/tcp/ackcomp.h"
#include "vmdelay/tcp/ackhist.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/tcp/tcpflow.h"
#include "vmdelay/tcp/tput.h"

enum vd_tcpan_rtt_src { VD_RTT_NONE, VD_RTT_HANDSHAKE, VD_RTT_SAMPLE, VD_RTT_FIXED };

/* Which throughput series a sample belongs to. */
enum { VD_TPUT_RTT, VD_TPUT_LONG };

struct vd_tcpan_flow;

struct vd_tcpan_opts {
	vd_ns bin_ns;	  /* ACK histogram bin width (10 µs) */
	size_t max_bins;  /* histogram bins kept per flow (gaps beyond: overflow) */
	vd_ns ref_ns;	  /* one full segment at the bottleneck rate */
	unsigned min_run; /* compressed gaps in a row for an ACK-compression event */
	double xc_factor; /* two-point compression: spacing shrunk by more than this (2) */
	vd_ns interval;	  /* the long throughput timescale (1 s) */
	vd_ns rtt;	  /* the RTT timescale; 0: per flow from the handshake or a sample */
	size_t max_flows;
	/* Optional: every closed throughput interval of a flow's ACK stream. */
	void (*series)(void *ctx, const struct vd_tcpan_flow *f, int which, vd_ns start, vd_ns len,
		       uint64_t bytes, int partial);
	/* Optional: every data segment and ACK (sequence/time graph data). kind 'D' data (value =
	 * seq, len = payload), 'A' ACK (value = ack number), relative to the flow's first seq/ack.
	 */
	void (*seqpoint)(void *ctx, const struct vd_tcpan_flow *f, vd_ns ts, char kind,
			 uint32_t rel, uint32_t len);
	void *ctx;
};

/* The ACK analysis of one endpoint's ACK stream: its throughput series and the gaps between its
 * pure ACKs. Only an endpoint whose ACKs advance or that sends a second pure ACK has one (a
 * bulk transfer's data sender usually has none): allocated then, see vd_tcpan_acks. Three
 * cache lines: the gaps' histogram and compression counts are a block of their own, allocated
 * when a gap first needs them (ackhist.h): read the gaps through vd_tcpan_ackgaps. */
struct vd_tcpan_acks {
	vd_ns rtt; /* the flow's rtt, the RTT series' interval: read here, on the lines an ACK
		    * brings in anyway, not on the flow's last line */
	struct vd_tput tp[2]; /* VD_TPUT_RTT, VD_TPUT_LONG */
	struct vd_ackhist ah; /* this endpoint's pure ACKs from the second one on */
};

/* One direction of a flow: what endpoint e sent. Its ACKs acknowledge the other endpoint.
 * Two cache lines, so that tens of thousands of flows stay close to the cache: the first is
 * what every data segment and ACK of the endpoint reads or updates, the second what its pure
 * ACKs and rarer events do. The ACK analysis and two-point compression blocks are allocated
 * when first needed (NULL until then: read them through vd_tcpan_acks and vd_tcpan_ackcomp).
 * No copy of a run-wide setting: those are the analysis' (struct vd_tcpan). */
struct vd_tcpan_dir {
	_Alignas(64) uint64_t data_pkts;
	uint64_t payload_bytes;
	uint64_t wire_segs;   /* data segments on the wire: a super-packet counts its gso_segs */
	uint64_t acked_bytes; /* bytes of the other side's data acknowledged */
	uint32_t seq_hi, ack_hi;
	uint32_t max_segs; /* the most wire segments one data packet carried */
	uint8_t seen : 1;  /* this endpoint sent a packet */
	uint8_t have_seq : 1, have_ack : 1, syn : 1, fin : 1;
	struct vd_tcpan_acks *acks; /* NULL: no advancing ACK and at most one pure ACK yet */
	vd_ns last_adv_ts;
	/* the second line */
	struct vd_acklast pure; /* the last pure ACK, and how many */
	vd_ns first_ack_ts;
	uint64_t retrans;
	uint32_t isn, fin_seq, seq_base, ack_base;
	struct vd_ackcomp *xc; /* two points: the same ACKs against another (Paxson) */
};

struct vd_tcpan_flow {
	/* The first cache line: what every packet reads, the key included (the flow table
	 * compares it in place, so a lookup that finds the flow has brought this line in). */
	_Alignas(64) struct vd_flowkey key;
	uint8_t rtt_src; /* enum vd_tcpan_rtt_src */
	uint8_t probing;
	uint8_t fins; /* bit e: endpoint e sent a FIN (d[e].fin, read here by the other side) */
	/* started: initialized (the table zeroes a new flow's state) */
	uint8_t probe_dir : 1, syn_dir : 1, synack_seen : 1, first_was_syn : 1, started : 1;
	vd_ns first_ts, last_ts;
	struct vd_tcpan_dir d[2];
	/* the last line: the handshake, RTT sampling, the caller's */
	vd_ns syn_ts, probe_ts;
	vd_ns rtt;
	void *user; /* for the caller (e.g. open plot files) */
	/* The same connection at vantage point 0, the reference (vd_tcpan_find's answer, set by
	 * vd_tcpan_finish for a flow at another point; NULL before, at point 0, or when it has
	 * none): a report reads it instead of one lookup, a cache miss, per flow. */
	struct vd_tcpan_flow *ref;
	uint32_t probe_end;
	uint8_t ref_same_dir; /* ref's endpoint 0 is this flow's endpoint 0 */
};

struct vd_tcpan;

struct vd_tcpan *vd_tcpan_create(const struct vd_tcpan_opts *o);
void vd_tcpan_destroy(struct vd_tcpan *an);

/* A TCP packet (d->l4 == VD_L4_TCP) seen at vantage point v. Returns 0, or -1 when the flow
 * table is full (the packet is counted in vd_tcpan_refused and ignored). A packet whose time is
 * missing or out of range (!vd_ns_timed) is counted in vd_tcpan_untimed and ignored. */
int vd_tcpan_add(struct vd_tcpan *an, uint32_t v, vd_ns ts, const struct vd_decoded *d);

/* For a caller that reads packets a few ahead (with thousands of concurrent flows the table is
 * out of the cache): the hash of packet d's flow at vantage point v, its table slot fetched
 * meanwhile; vd_tcpan_add_hashed is then vd_tcpan_add without hashing again. */
uint64_t vd_tcpan_prefetch(struct vd_tcpan *an, uint32_t v, const struct vd_decoded *d);
int vd_tcpan_add_hashed(struct vd_tcpan *an, uint32_t v, vd_ns ts, const struct vd_decoded *d,
			uint64_t hash);

/* Closes every open throughput interval and sets each flow's ref (call once, at the end of the
 * traces). */
void vd_tcpan_finish(struct vd_tcpan *an);

size_t vd_tcpan_flow_count(const struct vd_tcpan *an);
struct vd_tcpan_flow *vd_tcpan_flow(struct vd_tcpan *an, size_t i);
/* The same 4-tuple at vantage point v, or NULL; *same_dir: endpoint 0 is the same host. */
struct vd_tcpan_flow *vd_tcpan_find(struct vd_tcpan *an, uint32_t v, const struct vd_flowkey *k,
				    int *same_dir);
uint64_t vd_tcpan_refused(const struct vd_tcpan *an);
uint64_t vd_tcpan_untimed(const struct vd_tcpan *an);
/* Packets the analysis could not keep for want of memory (a new flow's state, an ACK analysis
 * or compression block): the report would miss them, so a caller fails when this is not 0. */
uint64_t vd_tcpan_no_memory(const struct vd_tcpan *an);
/* Bounds, for tests: bytes held (per flow, never per packet), and the longest probe of the flow
 * table (tcpflow.h). */
size_t vd_tcpan_bytes(const struct vd_tcpan *an);
/* Of which the blocks flows got as they needed them (ACK analysis, gap detail, compression). */
size_t vd_tcpan_block_bytes(const struct vd_tcpan *an);
size_t vd_tcpan_longest_probe(const struct vd_tcpan *an);

/* The flow of packet d at vantage point v if it exists (never creates); *dir as in add. */
struct vd_tcpan_flow *vd_tcpan_lookup(struct vd_tcpan *an, uint32_t v, const struct vd_decoded *d,
				      int *dir);

/* The flow of the packet last given to vd_tcpan_add (*dir as there), or NULL when that packet
 * was ignored (untimed, or the table was full): vd_tcpan_lookup without a second lookup. */
struct vd_tcpan_flow *vd_tcpan_last(struct vd_tcpan *an, int *dir);

/* The ACK analysis of endpoint s of a flow of an: its own, or (when it has none yet) one with
 * nothing counted. Never NULL. Its gaps are read through vd_tcpan_ackgaps. */
const struct vd_tcpan_acks *vd_tcpan_acks(const struct vd_tcpan *an, const struct vd_tcpan_dir *s);
/* The gaps between endpoint s's pure ACKs (ackhist.h); st->h is an empty histogram with the
 * run's settings when none of them needed the bins. */
void vd_tcpan_ackgaps(const struct vd_tcpan *an, const struct vd_tcpan_dir *s,
		      struct vd_ackhist_stats *st);
/* Its two-point ACK compression: its own, or one with no pair. Never NULL. */
const struct vd_ackcomp *vd_tcpan_ackcomp(const struct vd_tcpan *an, const struct vd_tcpan_dir *s);

/* Endpoint dir's pure ACK of flow f, seen upstream (vantage point `upstream`) at t_up and at f's
 * vantage point at t_down: Paxson's two-point compression (ackcomp.h), with the run's settings.
 * Returns -1 out of memory (the ACK is not counted). */
int vd_tcpan_ackcomp_add(struct vd_tcpan *an, struct vd_tcpan_flow *f, int dir, uint32_t upstream,
			 vd_ns t_up, vd_ns t_down);

/* The endpoint that sent the most payload (its data is what the other side's ACKs clock). */
int vd_tcpan_data_dir(const struct vd_tcpan_flow *f);

#endif
