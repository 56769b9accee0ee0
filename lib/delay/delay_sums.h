/* delay_sums.h — the per-layer summaries of a streamed analysis (delay_stream.h), fed one probe
 * at a time as probes leave the matching window, in probe order: the values are kept while the
 * probes are at most exact_max, so that medians and percentiles are exact as vd_delay_summary_*
 * gives them; past it they go into bounded sketches (vd_qhist), as vd_delay_summary_* does.
 * Internal to lib/delay. */
#ifndef VMDELAY_LIB_DELAY_SUMS_H
#define VMDELAY_LIB_DELAY_SUMS_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/delay/delay.h"

/* A probe's request and reply time at one vantage point, VD_NS_NONE when it missed it. */
struct vd_delay_times {
	vd_ns req, rep;
};

/* The value of layer `layer` (vd_delay_layer) from the times at its outer and inner point. */
vd_ns vd_delay_layer_from(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir,
			  const struct vd_delay_times *o, const struct vd_delay_times *i);

/* Series: the RTT at vantage point v, and each layer's direction. */
static inline size_t vd_delay_series_rtt(size_t v)
{
	return v;
}
static inline size_t vd_delay_series_layer(size_t nvp, size_t layer, enum vd_delay_dir dir)
{
	return nvp + layer * VD_DIR__COUNT + (size_t)dir;
}

struct vd_delay_sums;

/* Summaries for d's vantage points and clocks (d->nvp, clock_id, aligned, exact_max), with
 * --rest N (0: the probes' own phases). NULL when out of memory. d must outlive them. */
struct vd_delay_sums *vd_delay_sums_new(const struct vd_delay *d, size_t rest);
/* The next probe: t[v] for every vantage point, its phase (enum vd_phase or -1). 0 or -1. */
int vd_delay_sums_add(struct vd_delay_sums *s, const struct vd_delay_times *t, int8_t phase);
/* After the last probe: computes every summary. 0, or -1 out of memory. */
int vd_delay_sums_finish(struct vd_delay_sums *s);
size_t vd_delay_sums_count(const struct vd_delay_sums *s);
int vd_delay_sums_has_phase(const struct vd_delay_sums *s, int phase);
/* The summary of a series over a phase (or VD_PHASE_ALL), as vd_delay_summary_* gives it. */
int vd_delay_sums_get(const struct vd_delay_sums *s, size_t series, int phase,
		      struct vd_summary *out);
/* Probes whose values are held (at most max(exact_max, rest N) + rest N), for tests. */
size_t vd_delay_sums_held(const struct vd_delay_sums *s);
void vd_delay_sums_free(struct vd_delay_sums *s);

#endif
