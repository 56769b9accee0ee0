/* align.c — clock offset and skew between two vantage points: least squares on the at-rest
 * probes (Whiteaker et al. 3.2) and the lower-convex-hull linear program of Moon, Skelly and
 * Towsley (INFOCOM 1999), applied to each direction; the fit itself,
 * vd_align_fit, is in align_acc.c. */
#include "vmdelay/delay/align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ns_round.h"

struct pt {
	double x, y;
};

static int cmp_pt(const void *a, const void *b)
{
	const struct pt *p = a, *q = b;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return (p->y > q->y) - (p->y < q->y);
}

static double cross(struct pt o, struct pt a, struct pt b)
{
	return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

int vd_align_hull_line(const double *x, const double *y, size_t n, double *a, double *b)
{
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	return vd_align_hull_line_at(x, y, n, n ? mean / (double)n : 0, a, b);
}

int vd_align_hull_line_at(const double *x, const double *y, size_t n, double mean, double *a,
			  double *b)
{
	if (!n)
		return -1;
	struct pt *p = malloc(n * sizeof(*p));
	struct pt *h = malloc(n * sizeof(*h));
	if (!p || !h) {
		free(p);
		free(h);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (struct pt){x[i], y[i]};
	qsort(p, n, sizeof(*p), cmp_pt);
	/* Lower hull (Andrew's monotone chain); of points sharing an x only the lowest counts. */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && p[i].x == p[i - 1].x)
			continue;
		while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0)
			k--;
		h[k++] = p[i];
	}
	/* The LP "a + b x_i <= y_i for all i, maximize sum (a + b x_i)", i.e. the line highest at
	 * the mean x: the hull edge spanning the mean. */
	if (k == 1) {
		*b = 0;
		*a = h[0].y;
	} else {
		size_t e = 0;
		while (e + 2 < k && h[e + 1].x <= mean)
			e++;
		*b = (h[e + 1].y - h[e].y) / (h[e + 1].x - h[e].x);
		*a = h[e].y - *b * h[e].x;
	}
	free(p);
	free(h);
	return 0;
}

vd_ns vd_align_apply(const struct vd_clock_fit *f, vd_ns t)
{
	if (!vd_ns_valid(t))
		return t;
	/* event times are below 2^62 (VD_ECHO_TS_LIMIT, vmdelay/input/echo.h); a correction taking
	 * them out of that range is a fit gone wild on nonsense input: no aligned time */
	double c = f->offset_ns + f->skew * ((double)t - (double)f->t0);
	if (!(fabs(c) < 0x1p61))
		return VD_NS_NONE;
	return t - vd_ns_round(c);
}

static const char *const method_names[] = {"none", "lsq", "hull"};

const char *vd_align_method_name(enum vd_align_method m)
{
	return (unsigned)m < 3 ? method_names[m] : "?";
}

int vd_align_method_parse(const char *name, enum vd_align_method *m)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, method_names[i]) == 0) {
			*m = (enum vd_align_method)i;
			return 0;
		}
	return -1;
}
