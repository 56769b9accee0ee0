/* tput.h — a throughput series: bytes acknowledged per interval (Rajasekaran et al., Figure 2:
 * the RTT timescale and 1 s). Streaming: each interval is handed to a callback when it closes,
 * so memory does not grow with the trace; a running summary of the closed intervals is kept. */
#ifndef VMDELAY_TPUT_H
#define VMDELAY_TPUT_H

#include <stdint.h>

#include "vmdelay/core/stats.h"
#include "vmdelay/core/vdtime.h"

/* One closed interval [start, start + len): bytes acknowledged in it. partial: the last interval
 * of the series, cut short by the end of the trace (len is then the part actually covered).
 * Two or more empty intervals in a row come as one call (bytes 0, len = their total length). */
typedef void (*vd_tput_emit_fn)(void *ctx, vd_ns start, vd_ns len, uint64_t bytes, int partial);

/* Where closed intervals go: fn(ctx, ...), or nowhere (a NULL emitter or fn). */
struct vd_tput_emit {
	vd_tput_emit_fn fn;
	void *ctx;
};

/* A series. Zeroed, it is an empty one (vd_tput_init). The interval length and the emitter are
 * the caller's, given to each call: tcpan.h keeps two series per ACK stream of tens of thousands
 * of flows, and copies of run-wide settings would be most of their bytes. What a sample in the
 * open interval updates comes first. */
struct vd_tput {
	vd_ns open_end; /* where the open interval ends, VD_NS_NONE when not computable; equal
			 * to t0 (which a started series' never is) while not started */
	uint64_t cur_bytes;
	uint64_t total; /* every byte added */
	vd_ns last_ts;
	vd_ns t0;		  /* start of the series: the first sample's time */
	uint64_t intervals;	  /* closed full intervals, also the index of the open one */
	double sum_bps, sum_bps2; /* over closed full intervals, for mean and SD */
	double min_bps, max_bps;
};

void vd_tput_init(struct vd_tput *t);

/* bytes newly acknowledged at ts (ts never earlier than the series start; earlier samples are
 * counted in the first interval), in a series of intervals of interval ns (> 0, the same at
 * every call); e (or NULL) is handed the intervals this closes. */
void vd_tput_add(struct vd_tput *t, vd_ns interval, vd_ns ts, uint64_t bytes,
		 const struct vd_tput_emit *e);

/* Closes the open interval (emitted as partial unless it ended exactly on a boundary). The
 * series ends there: no sample is added after it. */
void vd_tput_finish(struct vd_tput *t, vd_ns interval, const struct vd_tput_emit *e);

double vd_tput_mean_bps(const struct vd_tput *t); /* NAN with no full interval */
double vd_tput_sd_bps(const struct vd_tput *t);	  /* NAN with fewer than two */

#endif
