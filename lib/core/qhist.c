/* qhist.c — bounded-memory summaries of ns streams (qhist.h). */
#include "vmdelay/core/qhist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB ((uint64_t)1 << VD_QHIST_SUB_BITS)

void vd_qhist_init(struct vd_qhist *h)
{
	memset(h, 0, sizeof(*h));
	vd_running_init(&h->run);
}

/* Region and bucket of a magnitude m: region 0 holds 0 .. 2*SUB-1 one per ns, region r > 0 the
 * octave [2^(r+SUB_BITS), 2^(r+SUB_BITS+1)) in SUB buckets. */
static void locate(uint64_t m, unsigned *region, uint64_t *bucket)
{
	if (m < 2 * SUB) {
		*region = 0;
		*bucket = m;
		return;
	}
	unsigned e = 63u - (unsigned)__builtin_clzll(m); /* >= SUB_BITS + 1 */
	*region = e - VD_QHIST_SUB_BITS;
	*bucket = (m >> (e - VD_QHIST_SUB_BITS)) & (SUB - 1);
}

/* The value a bucket stands for: exact in region 0, the middle of the bucket above. */
static uint64_t bucket_value(unsigned region, uint64_t bucket)
{
	if (region == 0)
		return bucket;
	unsigned e = region + VD_QHIST_SUB_BITS;
	uint64_t width = (uint64_t)1 << (e - VD_QHIST_SUB_BITS);
	return ((uint64_t)1 << e) + bucket * width + width / 2;
}

static size_t region_len(unsigned region)
{
	return region == 0 ? 2 * SUB : SUB;
}

int vd_qhist_add(struct vd_qhist *h, vd_ns v)
{
	if (!vd_ns_valid(v))
		return 0;
	vd_running_add(&h->run, v);
	int side = v < 0;
	uint64_t m = side ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
	unsigned r;
	uint64_t b;
	locate(m, &r, &b);
	if (!h->region[side][r] &&
	    !(h->region[side][r] = calloc(region_len(r), sizeof(uint64_t)))) {
		h->oom = 1;
		return -1;
	}
	h->region[side][r][b]++;
	return 0;
}

/* The k-th smallest value (0-based) as its bucket gives it. */
static vd_ns kth(const struct vd_qhist *h, uint64_t k)
{
	/* negatives: largest magnitude first */
	for (int r = VD_QHIST_REGIONS - 1; r >= 0; r--) {
		const uint64_t *c = h->region[1][r];
		if (!c)
			continue;
		for (size_t b = region_len((unsigned)r); b-- > 0;) {
			if (k < c[b])
				return -(vd_ns)bucket_value((unsigned)r, b);
			k -= c[b];
		}
	}
	for (unsigned r = 0; r < VD_QHIST_REGIONS; r++) {
		const uint64_t *c = h->region[0][r];
		if (!c)
			continue;
		for (size_t b = 0; b < region_len(r); b++) {
			if (k < c[b])
				return (vd_ns)bucket_value(r, b);
			k -= c[b];
		}
	}
	return h->run.max;
}

/* Percentile p of the stream, interpolated as vd_percentile_sorted does, kept in [min, max]. */
static vd_ns percentile(const struct vd_qhist *h, uint64_t n, double p)
{
	if (n == 1)
		return h->run.min;
	double rank = p / 100.0 * (double)(n - 1);
	uint64_t lo = (uint64_t)rank;
	double frac = rank - (double)lo;
	if (lo + 1 >= n)
		return h->run.max;
	vd_ns v0 = kth(h, lo), v1 = kth(h, lo + 1);
	if (frac == 0)
		return v0;
	/* in double: v1 - v0 may not fit in vd_ns */
	double v = (double)v0 + round(frac * ((double)v1 - (double)v0));
	return v <= (double)h->run.min	 ? h->run.min
	       : v >= (double)h->run.max ? h->run.max
					 : (vd_ns)v;
}

void vd_qhist_summary(const struct vd_qhist *h, struct vd_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->min = out->median = out->p99 = out->max = VD_NS_NONE;
	out->mean = out->sd = NAN;
	out->n = (size_t)h->run.n;
	if (!h->run.n)
		return;
	out->min = h->run.min;
	out->max = h->run.max;
	out->mean = h->run.mean;
	out->sd = vd_running_sd(&h->run);
	/* With a value missing from the buckets (out of memory), the ranks would be off. */
	if (h->oom)
		return;
	out->median = percentile(h, h->run.n, 50);
	out->p99 = percentile(h, h->run.n, 99);
}

void vd_qhist_free(struct vd_qhist *h)
{
	for (int s = 0; s < 2; s++)
		for (unsigned r = 0; r < VD_QHIST_REGIONS; r++) {
			free(h->region[s][r]);
			h->region[s][r] = NULL;
		}
}
