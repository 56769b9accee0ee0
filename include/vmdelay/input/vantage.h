/* vantage.h — vantage points (wire, bridge, tap, guest kernel, guest user space: issue 3) written
 * NAME[:CLOCK]=PATH[#SELECT], and the normalized ICMP echo events read from any input: packet
 * traces (through vd_trace / vd_decode), tping CSV, JSON lines and SQLite runs. The format is
 * found from the file's content, never from its name. */
#ifndef VMDELAY_VANTAGE_H
#define VMDELAY_VANTAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/input/decode.h"
#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

enum vd_echo_kind { VD_ECHO_REQUEST = 0, VD_ECHO_REPLY = 1 };

/* Event times lie in [0, VD_ECHO_TS_LIMIT) (1970 to 2116), so that differences of two, and
 * differences or sums of those, never overflow: readers skip (traces) or refuse (tping) others. */
#define VD_ECHO_TS_LIMIT (INT64_C(1) << 62)

/* One ICMP / ICMPv6 echo request or reply as a vantage point saw it. */
struct vd_echo {
	vd_ns ts;
	struct vd_addr src, dst; /* family 0: the source does not know (tping rows) */
	uint32_t seq;		 /* ICMP sequence number, or tping's seq (may exceed 16 bits) */
	uint16_t id;
	uint8_t kind;	/* enum vd_echo_kind */
	uint8_t has_id; /* tping's id is chosen by the kernel: unknown */
	int8_t phase;	/* enum vd_phase, or -1 when the source does not say */
	uint64_t index; /* 1-based packet number (tshark's frame.number) or data row */
};

/* An echo request matched with its reply within one vantage point (lib/match/match.c). The reply is
 * kept only as its time and packet number: requests and replies are paired as they are read. */
struct vd_echo_pair {
	size_t req;	    /* index into the vantage point's requests (ev) */
	vd_ns rep_ts;	    /* the reply's time */
	uint64_t rep_index; /* and packet number or data row */
};

/* What matching found at one vantage point. */
struct vd_match_stats {
	size_t requests, replies;
	size_t pairs;
	size_t unmatched_requests; /* no reply seen here (loss, or the reply took another path) */
	size_t unmatched_replies;  /* a reply without an earlier unmatched request */
	size_t duplicates;	   /* a second copy of a pair already seen here (lib/match/match.c) */
	size_t probes;		   /* pairs that joined a probe across vantage points */
};

#define VD_VANTAGE_NAME_MAX 96
#define VD_VANTAGE_CLOCK_MAX 64
#define VD_VANTAGE_SELECT_MAX 64

/* A parsed NAME[:CLOCK]=PATH[#SELECT] argument. */
struct vd_vantage_spec {
	char name[VD_VANTAGE_NAME_MAX]; /* "" for a bare path: named after the file */
	char
	    clock[VD_VANTAGE_CLOCK_MAX]; /* "" is the default clock every unlabelled point shares */
	char *path;			 /* malloc'd */
	char select[VD_VANTAGE_SELECT_MAX]; /* after '#': see vd_vantage_read */
};

/* Parses arg. A bare path (no NAME=) takes its name from the file (basename without its
 * extension). If arg names an existing file, it is a bare path even if it holds '=' or '#'.
 * NAME and CLOCK are [A-Za-z0-9_.+-]+. Returns 0, or -1 with a message quoting arg.
 * Free with vd_vantage_spec_free. */
int vd_vantage_spec_parse(const char *arg, struct vd_vantage_spec *spec, struct vd_err *err);

/* The name of a bare path's vantage point: the file name without directory and extension. */
void vd_vantage_name_from_path(const char *path, char *out, size_t len);
void vd_vantage_spec_free(struct vd_vantage_spec *spec);

struct vd_match_state;

struct vd_vantage {
	char name[VD_VANTAGE_NAME_MAX];
	char clock[VD_VANTAGE_CLOCK_MAX];
	char *path;
	char format[24]; /* "pcap", "pcapng", "erf", "tping-csv", "tping-json", "tping-sqlite",
			  * "tcpmon" */
	char select[VD_VANTAGE_SELECT_MAX];
	char notes[160]; /* what the reader wants the user to know ("" none), e.g. a fallback clock */
	uint64_t records; /* packets or rows read */
	int has_phase;	  /* events carry tping's phase */
	uint64_t echoes;  /* echo requests and replies added */
	/* The echo requests in the order added. A reply is paired when it is added (tshark's rule,
	 * lib/match/match.c) and not stored: the memory an analysis takes grows with the probes, not
	 * with the packets, and the pending requests are found without a second pass. */
	struct vd_echo *ev;
	size_t n, cap;
	struct vd_echo_pair *pairs; /* in the order the replies came; vd_match_pairs sorts them */
	size_t npairs, pairs_cap;
	struct vd_match_state *pending; /* lib/match/match.c: requests still waiting for a reply */
	struct vd_match_stats stats;	/* filled by vd_match_pairs */
};

struct vd_vantage_set {
	struct vd_vantage **v;
	size_t n;
};

struct vd_vantage_read_opts {
	int progress; /* print progress on stderr (the CLI sets it when stderr is a terminal) */
};

/* Reads the input spec names and appends its vantage point(s) to set, in order from the outermost
 * to the innermost:
 *  - a packet trace is one vantage point; with SELECT an interface name or number (pcapng
 *    interface id, ERF port) only that interface's packets; with SELECT "*" every interface is
 *    its own vantage point, named after the interface (NAME.IFACE when NAME is given).
 *  - a tping file gives up to three: "hw", "kernel", "user" (points without any timestamp are
 *    left out). SELECT picks some: a comma list of hw, kernel, user, and run=N (SQLite run id;
 *    default: the last run holding probes). With NAME, a single point is named NAME and several
 *    NAME.kernel, NAME.user.
 *  - a tcpmon record file (docs/formats/tcpmon.md) gives one point per stack level, device first,
 *    socket last (lib/input/vantage_tcm.c): SELECT a comma list of levels or layer names, or "*" (the
 *    default: every level holding echo records). With NAME, NAME or NAME.LEVEL.
 * On error returns -1 with a message naming the file (and the byte offset for damaged traces);
 * vantage points already appended keep the events read before the damage (--keep-going). */
int vd_vantage_read(const struct vd_vantage_spec *spec, struct vd_vantage_set *set,
		    const struct vd_vantage_read_opts *opts, struct vd_err *err);

/* Detects the format of path from its content: one of the format names above, "unknown", or
 * NULL with err set when the file cannot be read. */
const char *vd_vantage_detect(const char *path, struct vd_err *err);

/* Builds vantage points by hand (tests, generators). NULL when out of memory. */
struct vd_vantage *vd_vantage_new(const char *name, const char *clock, const char *path,
				  const char *format);
/* Adds an echo request or reply (pairing a reply at once). 0, or -1 out of memory. */
int vd_vantage_add(struct vd_vantage *v, const struct vd_echo *e);
void vd_vantage_free(struct vd_vantage *v);

int vd_vantage_set_append(struct vd_vantage_set *set, struct vd_vantage *v);
/* Renames duplicates ("a", "a" -> "a", "a-2") so every vantage point has its own name. */
void vd_vantage_set_unique_names(struct vd_vantage_set *set);
void vd_vantage_set_free(struct vd_vantage_set *set);

/* "icmpv4", "icmpv6" or "" (family unknown). */
const char *vd_echo_family_name(const struct vd_echo *e);
/* Formats an address ("" when unknown) into buf (at least 46 bytes). */
const char *vd_addr_format(const struct vd_addr *a, char *buf, size_t len);

#endif
