/* ackcomp.h — ACK compression between two vantage points, after Paxson ("End-to-end Internet
 * packet dynamics", 1997/1999, section on timing compression): the spacing of successive ACKs
 * where they are sent (upstream, e.g. the host NIC) compared with where they arrive
 * (downstream, e.g. the guest kernel). A pair is compressed when the downstream spacing is
 * smaller than the upstream one by more than `factor`; an event is a run of at least min_run
 * compressed pairs (docs/methodology.md, "ACK compression"). The settings are the caller's,
 * one per run (struct vd_ackcomp_cfg); a zeroed struct vd_ackcomp is an empty analysis. */
#ifndef VMDELAY_ACKCOMP_H
#define VMDELAY_ACKCOMP_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

struct vd_ackcomp_cfg {
	double factor;	  /* up / down spacing above which a pair is compressed (<= 1: 2) */
	unsigned min_run; /* compressed pairs in a row that make an event (0: 1) */
};

struct vd_ackcomp {
	uint32_t other; /* the upstream vantage point (for reports) */
	unsigned run;
	int have;
	uint64_t pairs, compressed, events;
	vd_ns up, down; /* the previous ACK's times */
};

/* One ACK seen upstream at t_up and downstream at t_down (in downstream order). */
void vd_ackcomp_add(struct vd_ackcomp *x, const struct vd_ackcomp_cfg *c, vd_ns t_up, vd_ns t_down);

#endif
