/* linhist.c — bounded linear histogram of nanosecond values (see linhist.h). */
#include "vmdelay/core/linhist.h"

#include <stdlib.h>
#include <string.h>

void vd_linhist_init(struct vd_linhist *h, vd_ns bin_ns, size_t max_bins)
{
	memset(h, 0, sizeof(*h));
	h->bin_ns = bin_ns > 0 ? bin_ns : 1;
	h->max_bins = max_bins ? max_bins : 1;
	h->min = h->max = VD_NS_NONE;
}

void vd_linhist_free(struct vd_linhist *h)
{
	free(h->count);
	free(h->mark);
	h->count = h->mark = NULL;
	h->nbins = h->lo = 0;
}

/* Grows the bins held to include bin i (outside them, i < max_bins): at least twice as many,
 * so a stream of samples costs O(log) reallocations, extended towards i. */
static int grow(struct vd_linhist *h, size_t i)
{
	size_t lo = h->nbins ? h->lo : i & ~(size_t)63, hi = h->nbins ? h->lo + h->nbins : lo;
	size_t need_lo = i < lo ? i : lo, need_hi = i + 1 > hi ? i + 1 : hi;
	size_t n = h->nbins ? 2 * h->nbins : 64;
	if (n < need_hi - need_lo)
		n = need_hi - need_lo;
	if (n > h->max_bins)
		n = h->max_bins;
	size_t new_lo = i >= lo ? need_lo : need_hi > n ? need_hi - n : 0;
	if (new_lo + n > h->max_bins)
		new_lo = h->max_bins - n;
	uint64_t *c = calloc(n, sizeof(*c)), *m = calloc(n, sizeof(*m));
	if (!c || !m) {
		free(c);
		free(m);
		return -1;
	}
	if (h->nbins) {
		memcpy(c + (h->lo - new_lo), h->count, h->nbins * sizeof(*c));
		memcpy(m + (h->lo - new_lo), h->mark, h->nbins * sizeof(*m));
	}
	free(h->count);
	free(h->mark);
	h->count = c;
	h->mark = m;
	h->lo = new_lo;
	h->nbins = n;
	return 0;
}

void vd_linhist_add(struct vd_linhist *h, vd_ns v, int marked)
{
	h->total++;
	if (h->min == VD_NS_NONE || v < h->min)
		h->min = v;
	if (h->max == VD_NS_NONE || v > h->max)
		h->max = v;
	if (v < 0) {
		h->underflow++;
		return;
	}
	uint64_t i = (uint64_t)(v / h->bin_ns);
	if (i >= h->max_bins) {
		h->overflow++;
		return;
	}
	if ((i < h->lo || i - h->lo >= h->nbins) && grow(h, (size_t)i)) {
		h->oom = 1;
		h->overflow++;
		return;
	}
	h->count[i - h->lo]++;
	if (marked)
		h->mark[i - h->lo]++;
}

uint64_t vd_linhist_count_below(const struct vd_linhist *h, vd_ns limit)
{
	if (limit <= 0)
		return 0;
	uint64_t n = h->underflow;
	uint64_t end = (uint64_t)(limit / h->bin_ns);
	for (size_t k = 0; k < h->nbins && h->lo + k < end; k++)
		n += h->count[k];
	return n;
}

vd_ns vd_linhist_quantile(const struct vd_linhist *h, double p)
{
	if (!h->total)
		return VD_NS_NONE;
	double want = p * (double)h->total;
	double cum = (double)h->underflow;
	if (cum >= want && h->underflow)
		return h->min;
	for (size_t k = 0; k < h->nbins; k++) {
		cum += (double)h->count[k];
		if (h->count[k] && cum >= want) {
			/* the bin's upper edge, but never past the largest value seen */
			vd_ns edge = (vd_ns)(h->lo + k + 1) * h->bin_ns;
			return edge < h->max ? edge : h->max;
		}
	}
	return h->max;
}

size_t vd_linhist_modes(const struct vd_linhist *h, double min_share, size_t *idx, size_t max)
{
	size_t n = 0;
	double floor_count = min_share * (double)h->total;
	size_t end = vd_linhist_end(h);
	/* bins outside those held are empty: never modes, and 0 as neighbours */
	for (size_t i = vd_linhist_first(h); i < end; i++) {
		uint64_t c = vd_linhist_bin(h, i);
		if (!c || (double)c < floor_count)
			continue;
		if (i > 0 && vd_linhist_bin(h, i - 1) >= c)
			continue;
		size_t j = i + 1;
		while (j < end && vd_linhist_bin(h, j) == c)
			j++;
		if (j < end && vd_linhist_bin(h, j) > c)
			continue;
		/* insert sorted by count (desc), keeping at most max */
		size_t pos = n;
		while (pos > 0 && vd_linhist_bin(h, idx[pos - 1]) < c)
			pos--;
		if (pos >= max)
			continue;
		size_t last = n < max ? n : max - 1;
		for (size_t k = last; k > pos; k--)
			idx[k] = idx[k - 1];
		idx[pos] = i;
		if (n < max)
			n++;
	}
	return n;
}
