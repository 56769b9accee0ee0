/* stats.h — summaries of delay samples: min, median, mean, p99, max, SD; RFC 3550 jitter. */
#ifndef VMDELAY_STATS_H
#define VMDELAY_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"

struct vd_summary {
	size_t n;  /* samples that had a value */
	vd_ns min; /* all VD_NS_NONE when n == 0 */
	vd_ns median;
	vd_ns p99;
	vd_ns max;
	double mean; /* ns; NAN when n == 0 */
	double sd;   /* sample standard deviation (n - 1), ns; 0 when n == 1, NAN when n == 0 */
};

/* Summarizes vals[0..n), skipping VD_NS_NONE entries. Does not modify vals.
 * Returns 0, or -1 when out of memory. */
int vd_summarize(const vd_ns *vals, size_t n, struct vd_summary *out);
/* The same on a scratch array: reorders (and overwrites) vals instead of copying it. */
int vd_summarize_inplace(vd_ns *vals, size_t n, struct vd_summary *out);

/* Percentile p in [0, 100] of sorted[0..n) (n > 0) by linear interpolation between the closest
 * ranks (numpy's default), rounded to the nearest ns: p = 50 is the usual median. */
vd_ns vd_percentile_sorted(const vd_ns *sorted, size_t n, double p);

/* Sorts in place, ascending. */
void vd_sort_ns(vd_ns *vals, size_t n);

/* RFC 3550 section 6.4.1 interarrival jitter, fed one transit time (here: an RTT) at a time. */
struct vd_jitter {
	int have_prev;
	vd_ns prev;
	double jitter_ns;
};
void vd_jitter_add(struct vd_jitter *j, vd_ns transit);

/* Welford running mean/variance for streams too long to keep. */
struct vd_running {
	uint64_t n;
	double mean, m2;
	vd_ns min, max;
};
void vd_running_init(struct vd_running *r);
void vd_running_add(struct vd_running *r, vd_ns v);
double vd_running_sd(const struct vd_running *r);

/* vd_summarize_inplace on vals[0..n), every one a value, that r has taken in this order
 * (vd_running_add): a caller summarizing many series runs them side by side, so that their
 * adds (a division each) overlap. Reorders vals. 0. */
int vd_summarize_ran(vd_ns *vals, size_t n, const struct vd_running *r, struct vd_summary *out);

#endif
