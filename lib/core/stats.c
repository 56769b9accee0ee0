/* stats.c — order statistics, moments and RFC 3550 jitter over nanosecond samples. */
#include "vmdelay/core/stats.h"

#include "vmdelay/core/mem.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int cmp_ns(const void *a, const void *b)
{
	vd_ns x = *(const vd_ns *)a, y = *(const vd_ns *)b;
	return (x > y) - (x < y);
}

/* LSD radix sort, 8 bits a pass, on the values with the sign bit flipped (so they order as
 * unsigned); a pass where every value has the same byte is skipped. Returns -1 when out of
 * memory. Long series (a million RTTs) sort about ten times faster than with qsort. */
static int radix_sort_ns(vd_ns *vals, size_t n)
{
	uint64_t *a = (uint64_t *)vals, *b = vd_mem_alloc(n, sizeof(*b));
	if (!b)
		return -1;
	const uint64_t flip = UINT64_C(1) << 63;
	/* the bytes where some value differs from the first: delays share their high bytes, so
	 * usually only three of the eight are counted and sorted on */
	uint64_t diff = 0;
	for (size_t i = 1; i < n; i++)
		diff |= a[i] ^ a[0];
	int digit[8], nd = 0;
	for (int d = 0; d < 8; d++)
		if ((diff >> (8 * d)) & 0xff)
			digit[nd++] = d;
	size_t count[8][256];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		uint64_t u = a[i] ^ flip;
		for (int j = 0; j < nd; j++)
			count[j][(u >> (8 * digit[j])) & 0xff]++;
	}
	uint64_t *src = a, *dst = b;
	for (int j = 0; j < nd; j++) {
		int d = digit[j];
		size_t pos[256], sum = 0;
		for (int k = 0; k < 256; k++) {
			pos[k] = sum;
			sum += count[j][k];
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t u = src[i] ^ flip;
			dst[pos[(u >> (8 * d)) & 0xff]++] = src[i];
		}
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
	free(b);
	return 0;
}

void vd_sort_ns(vd_ns *vals, size_t n)
{
	if (n >= 4096 && radix_sort_ns(vals, n) == 0)
		return;
	if (n > 1)
		qsort(vals, n, sizeof(*vals), cmp_ns);
}

vd_ns vd_percentile_sorted(const vd_ns *sorted, size_t n, double p)
{
	if (p <= 0 || n == 1)
		return sorted[0];
	if (p >= 100)
		return sorted[n - 1];
	double rank = p / 100.0 * (double)(n - 1);
	size_t lo = (size_t)rank;
	double frac = rank - (double)lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	/* Interpolate on the difference so huge epoch values keep their precision. */
	return sorted[lo] + (vd_ns)llround(frac * (double)(sorted[lo + 1] - sorted[lo]));
}

static void swap_ns(vd_ns *a, vd_ns *b)
{
	vd_ns t = *a;
	*a = *b;
	*b = t;
}

/* Moves the k-th smallest of a[0..n) to a[k], the smaller ones before it and the larger after
 * (quickselect, Hoare partition around the median of three; a range that is still being split
 * after 2 log2(n) rounds is sorted instead, so no input makes it quadratic). */
static void select_nth(vd_ns *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	int budget = 8;
	for (size_t m = n; m > 1; m >>= 1)
		budget += 2;
	while (hi > lo) {
		if (hi - lo < 32 || budget-- == 0) {
			vd_sort_ns(a + lo, (size_t)(hi - lo + 1));
			return;
		}
		ptrdiff_t mid = lo + (hi - lo) / 2;
		if (a[mid] < a[lo])
			swap_ns(&a[mid], &a[lo]);
		if (a[hi] < a[lo])
			swap_ns(&a[hi], &a[lo]);
		if (a[hi] < a[mid])
			swap_ns(&a[hi], &a[mid]);
		vd_ns p = a[mid];
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i <= j)
				swap_ns(&a[i++], &a[j--]);
		}
		/* a[lo..j] <= p, a[j+1..i-1] == p, a[i..hi] >= p */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return;
	}
}

/* vd_percentile_sorted's value without sorting: a[0..n) is reordered. */
static vd_ns percentile_select(vd_ns *a, size_t n, double p, vd_ns min, vd_ns max)
{
	if (p <= 0 || n == 1)
		return min;
	if (p >= 100)
		return max;
	double rank = p / 100.0 * (double)(n - 1);
	size_t lo = (size_t)rank;
	double frac = rank - (double)lo;
	if (lo + 1 >= n)
		return max;
	select_nth(a, n, lo);
	vd_ns v0 = a[lo], v1 = a[lo + 1];
	for (size_t i = lo + 2; i < n; i++)
		if (a[i] < v1)
			v1 = a[i];
	return v0 + (vd_ns)llround(frac * (double)(v1 - v0));
}

int vd_summarize_inplace(vd_ns *vals, size_t n, struct vd_summary *out)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (vd_ns_valid(vals[i]))
			vals[k++] = vals[i];
	struct vd_running r;
	vd_running_init(&r);
	for (size_t i = 0; i < k; i++)
		vd_running_add(&r, vals[i]);
	return vd_summarize_ran(vals, k, &r, out);
}

int vd_summarize_ran(vd_ns *vals, size_t n, const struct vd_running *run, struct vd_summary *out)
{
	memset(out, 0, sizeof(*out));
	out->min = out->median = out->p99 = out->max = VD_NS_NONE;
	out->mean = out->sd = NAN;
	out->n = n;
	if (!n)
		return 0;
	out->min = run->min;
	out->max = run->max;
	/* order statistics by selection, not a sort: O(n) for a million samples per summary */
	out->median = percentile_select(vals, n, 50, run->min, run->max);
	out->p99 = percentile_select(vals, n, 99, run->min, run->max);
	out->mean = run->mean;
	out->sd = vd_running_sd(run);
	return 0;
}

int vd_summarize(const vd_ns *vals, size_t n, struct vd_summary *out)
{
	vd_ns *v = vd_mem_alloc(n, sizeof(*v));
	if (!v) {
		vd_summarize_inplace(v, 0, out);
		return -1;
	}
	if (n)
		memcpy(v, vals, n * sizeof(*v));
	int rc = vd_summarize_inplace(v, n, out);
	free(v);
	return rc;
}

void vd_jitter_add(struct vd_jitter *j, vd_ns transit)
{
	if (!vd_ns_valid(transit))
		return;
	if (j->have_prev) {
		double d = fabs((double)(transit - j->prev));
		j->jitter_ns += (d - j->jitter_ns) / 16.0;
	}
	j->prev = transit;
	j->have_prev = 1;
}

void vd_running_init(struct vd_running *r)
{
	memset(r, 0, sizeof(*r));
	r->min = VD_NS_NONE;
	r->max = VD_NS_NONE;
}

void vd_running_add(struct vd_running *r, vd_ns v)
{
	if (!vd_ns_valid(v))
		return;
	r->n++;
	double d = (double)v - r->mean;
	r->mean += d / (double)r->n;
	r->m2 += d * ((double)v - r->mean);
	if (r->n == 1 || v < r->min)
		r->min = v;
	if (r->n == 1 || v > r->max)
		r->max = v;
}

double vd_running_sd(const struct vd_running *r)
{
	if (r->n == 0)
		return NAN;
	if (r->n == 1)
		return 0;
	return sqrt(r->m2 / (double)(r->n - 1));
}
