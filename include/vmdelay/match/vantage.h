/* vantage.h — vantage points (wire, bridge, tap, guest kernel, guest user space) as matching
 * holds them: the echo requests each saw and the replies paired with them as they came. They
 * are filled from any input by vd_vantage_read, which is the sink of lib/input's echo readers
 * (vmdelay/input/echo_read.h). */
#ifndef VMDELAY_MATCH_VANTAGE_H
#define VMDELAY_MATCH_VANTAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/echo.h"
#include "vmdelay/input/echo_read.h"
#include "vmdelay/input/vantage_spec.h"

/* An echo request as a vantage point keeps it: what it shares with the other requests of its
 * flow (family, addresses, id) is kept once per flow (struct vd_echo_flow), so that a request
 * takes 24 bytes, not the 64 of a whole event: the requests and their pairs are most of an
 * analysis' memory (tests/unit/test_vantage.c checks the sizes). */
struct vd_echo_req {
	vd_ns ts;
	uint64_t index : 56; /* 1-based packet number or data row (< VD_VANTAGE_INDEX_LIMIT) */
	int64_t phase : 8;   /* enum vd_phase, or -1 */
	uint32_t seq;
	uint32_t flow; /* index into the vantage point's flows */
};

/* Packet numbers and rows a vantage point keeps (2^56: 22 years of packets at 100 Mpkt/s), and
 * the requests it keeps (pairs index them in 32 bits; 2^32 requests would take 96 GiB). */
#define VD_VANTAGE_INDEX_LIMIT (UINT64_C(1) << 56)
#define VD_VANTAGE_REQ_LIMIT UINT32_MAX

/* The flow of a request: what every request of one pending-request flow (lib/match/match.c)
 * has in common. id is the first request's when !has_id (nobody reads it then). */
struct vd_echo_flow {
	struct vd_addr src, dst;
	uint16_t id;
	uint8_t has_id;
};

/* An echo request matched with its reply within one vantage point (lib/match/match.c). The reply
 * is kept only as its time and packet number: requests and replies are paired as they are read. The
 * packet number is kept as its distance from the request's (vd_pair_rep_index): a reply comes a few
 * packets after its request, and the pair takes 16 bytes instead of 24. */
struct vd_echo_pair {
	vd_ns rep_ts;	   /* the reply's time */
	uint32_t req;	   /* index into the vantage point's requests (ev) */
	int32_t rep_after; /* reply's packet number - request's, or VD_PAIR_FAR */
};

/* rep_after of a reply farther than 2^31 packets from its request: its packet number is in the
 * vantage point's far_reps. */
#define VD_PAIR_FAR INT32_MIN

/* A reply's packet number that does not fit rep_after, by its request. */
struct vd_far_rep {
	uint64_t req;
	uint64_t rep_index;
};

/* What matching found at one vantage point. */
struct vd_match_stats {
	size_t requests, replies;
	size_t pairs;
	size_t unmatched_requests; /* no reply seen here (loss, or the reply took another path) */
	size_t unmatched_replies;  /* a reply without an earlier unmatched request */
	size_t duplicates; /* a second copy of a pair already seen here (lib/match/match.c) */
	size_t probes;	   /* pairs that joined a probe across vantage points */
};

struct vd_match_state;

struct vd_vantage {
	char name[VD_VANTAGE_NAME_MAX];
	char clock[VD_VANTAGE_CLOCK_MAX];
	char *path;
	char format[24]; /* "pcap", "pcapng", "erf", "tping-csv", "tping-json", "tping-sqlite",
			  * "tcpmon" */
	char select[VD_VANTAGE_SELECT_MAX];
	char notes[400];  /* what the reader wants the user to know ("" none), e.g. a fallback clock
			   * or the tunnels the frames came through */
	uint64_t records; /* packets or rows read */
	int has_phase;	  /* events carry tping's phase */
	uint64_t echoes;  /* echo requests and replies added */
	/* The echo requests in the order added. A reply is paired as it is added (tshark's rule,
	 * lib/match/match.c) and not stored: the memory an analysis takes grows with the probes,
	 * not with the packets, and the pending requests are found without a second pass. */
	struct vd_echo_req *ev;
	size_t n, cap;
	struct vd_echo_flow *flows; /* filled by matching as a request opens a new flow */
	size_t nflows, flows_cap;
	struct vd_echo_pair *pairs; /* in the order the replies came; vd_match_pairs sorts them */
	size_t npairs, pairs_cap;
	struct vd_far_rep *far_reps; /* sorted by req by vd_match_pairs */
	size_t nfar, far_cap;
	struct vd_match_state *pending; /* lib/match/match.c: requests still waiting for a reply */
	struct vd_match_stats stats;	/* filled by vd_match_pairs */
	struct vd_encap_summary encap;	/* packet traces: tunnels crossed, bad IP lengths */
};

struct vd_vantage_set {
	struct vd_vantage **v;
	size_t n;
};

/* Reads the input spec names (vd_echo_read) and appends its vantage point(s) to set, in order
 * from the outermost to the innermost. On error returns -1 with a message naming the file;
 * vantage points already appended keep the events read before the damage (--keep-going). */
int vd_vantage_read(const struct vd_vantage_spec *spec, struct vd_vantage_set *set,
		    const struct vd_echo_read_opts *opts, struct vd_err *err);

/* Builds vantage points by hand (tests, generators). NULL when out of memory. */
struct vd_vantage *vd_vantage_new(const char *name, const char *clock, const char *path,
				  const char *format);
/* Adds an echo request or reply (pairing a reply at once). 0, or -1 out of memory. */
int vd_vantage_add(struct vd_vantage *v, const struct vd_echo *e);
/* Request i of v (an index into v->ev) as a whole event. */
void vd_vantage_echo(const struct vd_vantage *v, size_t i, struct vd_echo *e);
/* A request of v's flows (one v->ev held, or one kept elsewhere) as a whole event. */
void vd_vantage_req_echo(const struct vd_vantage *v, const struct vd_echo_req *q,
			 struct vd_echo *e);
/* The reply's packet number or data row of pair p of v (vd_match_pairs must have run). */
uint64_t vd_pair_rep_index(const struct vd_vantage *v, const struct vd_echo_pair *p);
void vd_vantage_free(struct vd_vantage *v);

int vd_vantage_set_append(struct vd_vantage_set *set, struct vd_vantage *v);
/* Renames duplicates ("a", "a" -> "a", "a-2") so every vantage point has its own name. */
void vd_vantage_set_unique_names(struct vd_vantage_set *set);
void vd_vantage_set_free(struct vd_vantage_set *set);

#endif
