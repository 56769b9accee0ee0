/* qhist.h — a summary (n, min, median, p99, max, mean, sd) of a stream of ns values in bounded
 * memory: a log-linear histogram, exact below 8192 ns and within 2^-13 (0.012 %) of the value
 * above, min / max / mean / sd exact. For runs too long to keep every value. */
#ifndef VMDELAY_QHIST_H
#define VMDELAY_QHIST_H

#include <stdint.h>

#include "vmdelay/core/stats.h"
#include "vmdelay/core/vdtime.h"

#define VD_QHIST_SUB_BITS 12
#define VD_QHIST_REGIONS (64 - VD_QHIST_SUB_BITS + 1)

struct vd_qhist {
	struct vd_running run;
	/* [0]: values >= 0, [1]: magnitudes of values < 0; regions allocated on first use (at
	 * most 2 * VD_QHIST_REGIONS * 2^VD_QHIST_SUB_BITS counters, whatever the count). */
	uint64_t *region[2][VD_QHIST_REGIONS];
	int oom;
};

void vd_qhist_init(struct vd_qhist *h);
/* Adds v (VD_NS_NONE is skipped). -1 when out of memory (the value is then only in min / max /
 * mean / sd, and h->oom is set). */
int vd_qhist_add(struct vd_qhist *h, vd_ns v);
/* The summary as vd_summarize gives it (percentiles interpolated between closest ranks). */
void vd_qhist_summary(const struct vd_qhist *h, struct vd_summary *out);
void vd_qhist_free(struct vd_qhist *h);

#endif
