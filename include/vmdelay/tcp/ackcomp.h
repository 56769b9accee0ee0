/* ackcomp.h — ACK compression between two vantage points, after Paxson ("End-to-end Internet
 * packet dynamics", 1997/1999, section on timing compression): the spacing of successive ACKs
 * where they are sent (upstream, e.g. the host NIC) compared with where they arrive
 * (downstream, e.g. the guest kernel). A pair is compressed when the downstream spacing is
 * smaller than the upstream one by more than `factor`; an event is a run of at least min_run
 * compressed pairs (docs/methodology.md, "ACK compression"). */
#ifndef VMDELAY_ACKCOMP_H
#define VMDELAY_ACKCOMP_H

#include <stdint.h>

#include "vmdelay/core/vdtime.h"

struct vd_ackcomp {
	double factor;	  /* up / down spacing above which a pair is compressed (2) */
	unsigned min_run; /* compressed pairs in a row that make an event (2) */
	uint32_t other;	  /* the upstream vantage point (for reports) */
	uint64_t pairs, compressed, events;
	unsigned run;
	int have;
	vd_ns up, down; /* the previous ACK's times */
};

void vd_ackcomp_init(struct vd_ackcomp *c, double factor, unsigned min_run);

/* One ACK seen upstream at t_up and downstream at t_down (in downstream order). */
void vd_ackcomp_add(struct vd_ackcomp *c, vd_ns t_up, vd_ns t_down);

#endif
