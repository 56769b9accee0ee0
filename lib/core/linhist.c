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
	h->nbins = 0;
}

/* Grows to hold bin i (i < max_bins): doubling, so a stream of samples costs O(log) reallocs. */
static int grow(struct vd_linhist *h, size_t i)
{
	size_t n = h->nbins ? h->nbins : 64;
	while (n <= i)
		n *= 2;
	if (n > h->max_bins)
		n = h->max_bins;
	uint64_t *c = realloc(h->count, n * sizeof(*c));
	if (!c)
		return -1;
	h->count = c;
	uint64_t *m = realloc(h->mark, n * sizeof(*m));
	if (!m)
		return -1;
	h->mark = m;
	memset(c + h->nbins, 0, (n - h->nbins) * sizeof(*c));
	memset(m + h->nbins, 0, (n - h->nbins) * sizeof(*m));
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
	if (i >= h->nbins && grow(h, (size_t)i)) {
		h->oom = 1;
		h->overflow++;
		return;
	}
	h->count[i]++;
	if (marked)
		h->mark[i]++;
}

uint64_t vd_linhist_count_below(const struct vd_linhist *h, vd_ns limit)
{
	if (limit <= 0)
		return 0;
	uint64_t n = h->underflow;
	uint64_t end = (uint64_t)(limit / h->bin_ns);
	for (size_t i = 0; i < h->nbins && i < end; i++)
		n += h->count[i];
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
	for (size_t i = 0; i < h->nbins; i++) {
		cum += (double)h->count[i];
		if (h->count[i] && cum >= want) {
			/* the bin's upper edge, but never past the largest value seen */
			vd_ns edge = (vd_ns)(i + 1) * h->bin_ns;
			return edge < h->max ? edge : h->max;
		}
	}
	return h->max;
}

size_t vd_linhist_modes(const struct vd_linhist *h, double min_share, size_t *idx, size_t max)
{
	size_t n = 0;
	double floor_count = min_share * (double)h->total;
	for (size_t i = 0; i < h->nbins; i++) {
		uint64_t c = h->count[i];
		if (!c || (double)c < floor_count)
			continue;
		if (i > 0 && h->count[i - 1] >= c)
			continue;
		size_t j = i + 1;
		while (j < h->nbins && h->count[j] == c)
			j++;
		if (j < h->nbins && h->count[j] > c)
			continue;
		/* insert sorted by count (desc), keeping at most max */
		size_t pos = n;
		while (pos > 0 && h->count[idx[pos - 1]] < c)
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
