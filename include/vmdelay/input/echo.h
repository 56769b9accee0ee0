/* echo.h — ICMP echo events as a vantage point saw them, and the sink a reader hands them to
 * (echo_read.h). The readers know nothing of what consumes the events (matching, lib/match):
 * a reader opens the vantage points it finds, sends each event to its point in file order
 * (time order for tcpmon files) and closes every point, kept or dropped. */
#ifndef VMDELAY_INPUT_ECHO_H
#define VMDELAY_INPUT_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/input/decode.h"
#include "vmdelay/input/vantage_spec.h"

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

/* Is t a time an event may have? */
static inline int vd_echo_ts_ok(vd_ns t)
{
	return t >= 0 && t < VD_ECHO_TS_LIMIT;
}

/* What a reader knows of one vantage point. The reader fills it; the sink reads it when the
 * point is opened and again, final, when it is closed. */
struct vd_echo_point {
	char name[VD_VANTAGE_NAME_MAX];
	char clock[VD_VANTAGE_CLOCK_MAX];
	const char *path;
	char format[24]; /* "pcap", "pcapng", "erf", "tping-csv", "tping-json", "tping-sqlite",
			  * "tcpmon" */
	char select[VD_VANTAGE_SELECT_MAX];
	char notes[400];	       /* what the reader wants the user to know ("" none) */
	uint64_t records;	       /* packets or rows read */
	int has_phase;		       /* every request carries tping's phase */
	uint64_t echoes;	       /* events sent to the sink */
	void *user;		       /* the sink's own object for this point */
	struct vd_encap_summary encap; /* packet traces: tunnels crossed, bad IP lengths */
};

/* Where events go. Each callback returns 0, or -1 when out of memory. */
struct vd_echo_sink {
	void *ctx;
	/* A new point: name, clock, path and format are set; the sink may set p->user. */
	int (*open)(void *ctx, struct vd_echo_point *p);
	int (*echo)(void *ctx, struct vd_echo_point *p, const struct vd_echo *e);
	/* The reader is done with p: keep it (points are kept in the order they should be
	 * listed, outermost first) or drop it. Called once for every opened point. */
	int (*close)(void *ctx, struct vd_echo_point *p, int keep);
};

/* For the readers: a point opened on sink (NULL when out of memory), an event sent to it
 * (counted in p->echoes), and the point closed and freed (keep: see close above). */
struct vd_echo_point *vd_echo_point_open(const struct vd_echo_sink *sink, const char *name,
					 const struct vd_vantage_spec *spec, const char *format);
int vd_echo_point_add(const struct vd_echo_sink *sink, struct vd_echo_point *p,
		      const struct vd_echo *e);
int vd_echo_point_close(const struct vd_echo_sink *sink, struct vd_echo_point *p, int keep);

/* "icmpv4", "icmpv6" or "" (family unknown). */
const char *vd_echo_family_name(const struct vd_echo *e);
/* Formats an address ("" when unknown) into buf (at least 46 bytes). */
const char *vd_addr_format(const struct vd_addr *a, char *buf, size_t len);

#endif
