/* ackhist.h — the inter-arrival analysis of one pure-ACK stream at one vantage point
 * (Rajasekaran, Martin, Westall, section 4, Figures 5-10): histogram of the gaps between
 * successive pure ACKs, duplicate ACKs marked, the fraction of gaps below the transmit time of
 * one full segment at the bottleneck, and ACK-compression events (docs/methodology.md,
 * "ACK compression": a run of at least min_run successive gaps below that reference).
 * Two parts: the last ACK (struct vd_acklast, small, kept with every flow) and the gap
 * statistics (struct vd_ackhist), which a stream needs from its second ACK on only: tcpan.h
 * allocates them then, so the many flows whose side sends one pure ACK (the handshake's) or
 * none carry no histogram. The settings (struct vd_ackhist_cfg) are the caller's, one per run. */
#ifndef VMDELAY_ACKHIST_H
#define VMDELAY_ACKHIST_H

#include <stdint.h>

#include "vmdelay/core/linhist.h"
#include "vmdelay/core/vdtime.h"

struct vd_ackhist_cfg {
	vd_ns bin_ns;	  /* histogram bin width */
	size_t max_bins;  /* bins kept (gaps beyond: overflow) */
	vd_ns ref_ns;	  /* one full segment at the bottleneck rate */
	unsigned min_run; /* compressed gaps in a row that make an event (2: three ACKs; 0 is 1) */
};

/* The stream's last pure ACK. Zeroed: no ACK yet. */
struct vd_acklast {
	vd_ns ts;
	uint64_t acks; /* pure ACKs seen */
	uint32_t ack;
	uint16_t win;
};

/* The gaps. What every gap updates first, then the histogram. */
struct vd_ackhist {
	uint64_t gaps;	     /* acks - 1 */
	uint64_t below_ref;  /* gaps < ref_ns */
	unsigned run;	     /* current run of compressed gaps */
	uint64_t dups;	     /* of which duplicates: same ack number and window as the last */
	uint64_t events;     /* ACK-compression events */
	uint64_t event_acks; /* ACKs inside events (an event of k gaps holds k + 1 ACKs) */
	struct vd_linhist h; /* gaps; a gap ending in a duplicate ACK is marked; gaps < 0 (the
			      * capture's clock stepped back) are its underflow */
};

void vd_ackhist_init(struct vd_ackhist *a, const struct vd_ackhist_cfg *c);
void vd_ackhist_free(struct vd_ackhist *a);

/* One pure ACK (no payload, no SYN/FIN/RST) at time ts, after the stream's last one (*last,
 * updated). a may be NULL while last->acks is 0 (a first ACK makes no gap). Returns the gap to
 * the previous ACK, or VD_NS_NONE for the first. */
vd_ns vd_ackhist_add(struct vd_ackhist *a, const struct vd_ackhist_cfg *c, struct vd_acklast *last,
		     vd_ns ts, uint32_t ack, uint16_t win);

/* below_ref / gaps, NAN when there is no gap. */
double vd_ackhist_fraction_below(const struct vd_ackhist *a);

#endif
