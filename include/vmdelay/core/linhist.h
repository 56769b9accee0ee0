/* linhist.h — a linear histogram of nanosecond values with a fixed bin width and a bounded
 * number of bins (values past the last bin go to an overflow count, negatives to underflow),
 * so its memory does not grow with the number of samples. Only the range of bins the samples
 * reached is held (thousands of flows whose gaps are all near one value hold a few bins each,
 * not every bin from 0): read bins through vd_linhist_bin. Used for ACK inter-arrival times
 * (Rajasekaran et al., Figures 5-10) and per-packet delay CDFs (Kangarlou et al.). */
#ifndef VMDELAY_LINHIST_H
#define VMDELAY_LINHIST_H

#include <stddef.h>
#include <stdint.h>

#include "vmdelay/core/vdtime.h"

struct vd_linhist {
	vd_ns bin_ns;	    /* bin i holds [i * bin_ns, (i + 1) * bin_ns) */
	size_t max_bins;    /* bins never grow past this */
	size_t nbins;	    /* bins held (grow on demand up to max_bins) */
	uint64_t *count;    /* count[k]: bin lo + k */
	uint64_t total;	    /* every sample, underflow and overflow included */
	vd_ns min, max;	    /* VD_NS_NONE when empty */
	uint64_t overflow;  /* values >= max_bins * bin_ns (the fields so far fill one cache
			     * line: a sample reads them, a marked one mark too) */
	uint64_t *mark;	    /* per bin: samples added with a mark (e.g. duplicate ACKs) */
	uint64_t underflow; /* negative values */
	size_t lo;	    /* the first bin held */
	int oom;	    /* a growth failed: the sample went to overflow */
};

/* Bins [vd_linhist_first, vd_linhist_end) hold every sample that is neither negative nor
 * overflow (none: first == end); vd_linhist_bin is 0 for any bin outside. */
static inline size_t vd_linhist_first(const struct vd_linhist *h)
{
	return h->lo;
}

static inline size_t vd_linhist_end(const struct vd_linhist *h)
{
	return h->lo + h->nbins;
}

static inline uint64_t vd_linhist_bin(const struct vd_linhist *h, size_t i)
{
	return i >= h->lo && i - h->lo < h->nbins ? h->count[i - h->lo] : 0;
}

/* The marked samples of bin i. */
static inline uint64_t vd_linhist_bin_marked(const struct vd_linhist *h, size_t i)
{
	return i >= h->lo && i - h->lo < h->nbins ? h->mark[i - h->lo] : 0;
}

/* bin_ns > 0, max_bins > 0. Allocates nothing until the first sample. */
void vd_linhist_init(struct vd_linhist *h, vd_ns bin_ns, size_t max_bins);
void vd_linhist_free(struct vd_linhist *h);

/* Adds one value; marked != 0 also counts it in the bin's mark. */
void vd_linhist_add(struct vd_linhist *h, vd_ns v, int marked);

/* Number of values strictly below limit: exact when limit is a multiple of bin_ns, otherwise
 * counted up to the bin holding limit (callers choose a bin width that divides it). */
uint64_t vd_linhist_count_below(const struct vd_linhist *h, vd_ns limit);

/* The value below which a fraction p (0..1) of the samples lies, as the upper edge of the bin
 * where the cumulative count reaches p * total (at most the largest value); VD_NS_NONE when
 * empty. */
vd_ns vd_linhist_quantile(const struct vd_linhist *h, double p);

/* Modes: bins whose count is larger than both neighbours' (a plateau counts once, at its first
 * bin) and at least min_share of the samples. Writes up to max bin indexes, largest count first
 * (ties: lower bin first); returns how many. */
size_t vd_linhist_modes(const struct vd_linhist *h, double min_share, size_t *idx, size_t max);

#endif
