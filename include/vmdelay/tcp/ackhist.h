/* ackhist.h — the inter-arrival analysis of one pure-ACK stream at one vantage point
 * (Rajasekaran, Martin, Westall, section 4, Figures 5-10): histogram of the gaps between
 * successive pure ACKs, duplicate ACKs marked, the fraction of gaps below the transmit time of
 * one full segment at the bottleneck, and ACK-compression events (docs/methodology.md,
 * "ACK compression": a run of at least min_run successive gaps below that reference).
 * Three parts, each allocated only when a stream needs it: the last ACK (struct vd_acklast,
 * small, kept with every flow); the counts every gap updates (struct vd_ackhist, from the
 * second ACK on: tcpan.h allocates it then); and the detail (struct vd_ackhist_detail: the
 * histogram's bins and the compression counts), which only a gap that lands in the histogram's
 * range, below the reference or below zero needs. Thousands of connections whose ACKs are
 * seconds apart (each gap past the histogram's last bin) carry counts only. The settings
 * (struct vd_ackhist_cfg) are the caller's, one per run. */
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

/* What only gaps in the histogram's range, below the reference or negative update. */
struct vd_ackhist_detail {
	uint64_t below_ref;  /* gaps < ref_ns */
	unsigned run;	     /* current run of compressed gaps */
	uint64_t events;     /* ACK-compression events */
	uint64_t event_acks; /* ACKs inside events (an event of k gaps holds k + 1 ACKs) */
	struct vd_linhist h; /* those gaps; a gap ending in a duplicate ACK is marked; gaps < 0
			      * (the capture's clock stepped back) are its underflow */
};

/* The gaps: what every one updates. Zeroed (detail NULL): no gap yet. The number of gaps is not
 * kept: it is the stream's ACKs less one (struct vd_acklast). */
struct vd_ackhist {
	uint64_t dups;			  /* gaps ending in a duplicate: same ack and window */
	uint64_t beyond;		  /* gaps past the last bin and not below ref_ns */
	struct vd_ackhist_detail *detail; /* NULL until a gap needs it */
};

void vd_ackhist_init(struct vd_ackhist *a);
/* Frees the detail's bins (not the detail: it is the caller's). */
void vd_ackhist_free(struct vd_ackhist *a);

/* An empty detail (the caller's memory), to attach as a->detail. */
void vd_ackhist_detail_init(struct vd_ackhist_detail *d, const struct vd_ackhist_cfg *c);

/* Whether a gap of this length needs the detail: in the histogram's range, below the
 * reference or negative. */
int vd_ackhist_needs_detail(const struct vd_ackhist_cfg *c, vd_ns gap);

/* One pure ACK (no payload, no SYN/FIN/RST) at time ts, after the stream's last one (*last,
 * updated). a may be NULL while last->acks is 0 (a first ACK makes no gap); a->detail must be
 * attached when vd_ackhist_needs_detail says the gap to last->ts needs it. Returns the gap to
 * the previous ACK, or VD_NS_NONE for the first. */
vd_ns vd_ackhist_add(struct vd_ackhist *a, const struct vd_ackhist_cfg *c, struct vd_acklast *last,
		     vd_ns ts, uint32_t ack, uint16_t win);

/* What a report reads of a stream's gaps, whichever parts it has. */
struct vd_ackhist_stats {
	uint64_t gaps, dups, below_ref, events, event_acks;
	uint64_t overflow;	    /* gaps past the last bin (or whose bin found no memory) */
	uint64_t negative;	    /* gaps < 0 */
	const struct vd_linhist *h; /* the bins; its total counts only the gaps in them and the
				     * negative ones (use gaps for every gap) */
};

/* The stats of the stream of a (NULL: none) and last; empty: a histogram with the run's
 * settings and no sample, given when a has no detail. */
void vd_ackhist_read(const struct vd_ackhist *a, const struct vd_acklast *last,
		     const struct vd_linhist *empty, struct vd_ackhist_stats *st);

/* below_ref / gaps, NAN when there is no gap. */
double vd_ackhist_fraction_below(const struct vd_ackhist_stats *st);

#endif
