/* ackhist.h — the inter-arrival analysis of one pure-ACK stream at one vantage point
 * (Rajasekaran, Martin, Westall, section 4, Figures 5-10): histogram of the gaps between
 * successive pure ACKs, duplicate ACKs marked, the fraction of gaps below the transmit time of
 * one full segment at the bottleneck, and ACK-compression events (docs/methodology.md,
 * "ACK compression": a run of at least min_run successive gaps below that reference). */
#ifndef VMDELAY_ACKHIST_H
#define VMDELAY_ACKHIST_H

#include <stdint.h>

#include "vmdelay/core/linhist.h"
#include "vmdelay/core/vdtime.h"

/* On cache lines of its own, what every ACK updates first, then the histogram (tcpan.h keeps
 * many of these, and with many flows each line an ACK touches is a miss). */
struct vd_ackhist {
	_Alignas(64) vd_ns last_ts;
	vd_ns ref_ns;	    /* one full segment at the bottleneck rate */
	uint64_t acks;	    /* pure ACKs seen */
	uint64_t gaps;	    /* acks - 1 */
	uint64_t below_ref; /* gaps < ref_ns */
	unsigned run;	    /* current run of compressed gaps */
	unsigned min_run;   /* compressed gaps in a row that make an event (2: three ACKs) */
	int have_last;
	uint32_t last_ack;
	uint16_t last_win;
	struct vd_linhist h; /* gaps; a gap ending in a duplicate ACK is marked */
	uint64_t dups;	     /* of which duplicates: same ack number and window as the last */
	uint64_t events;     /* ACK-compression events */
	uint64_t event_acks; /* ACKs inside events (an event of k gaps holds k + 1 ACKs) */
	uint64_t backwards;  /* gaps < 0: the capture's clock stepped back */
};

void vd_ackhist_init(struct vd_ackhist *a, vd_ns bin_ns, size_t max_bins, vd_ns ref_ns,
		     unsigned min_run);
void vd_ackhist_free(struct vd_ackhist *a);

/* One pure ACK (no payload, no SYN/FIN/RST) at time ts. Returns the gap to the previous one,
 * or VD_NS_NONE for the first. */
vd_ns vd_ackhist_add(struct vd_ackhist *a, vd_ns ts, uint32_t ack, uint16_t win);

/* below_ref / gaps, NAN when there is no gap. */
double vd_ackhist_fraction_below(const struct vd_ackhist *a);

#endif
