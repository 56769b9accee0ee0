/* align_acc.c — the clock fit of align.c over samples handed one at a time (align_acc.h).
 *
 * Hull: Moon's line for a direction is an edge of the lower convex hull of that direction's
 * points (time, one-way value), chosen by the mean time; the offset bounds are a maximum (a
 * minimum) of a linear function of the points, reached at a vertex of the same hull. So the
 * vertices, the count and the mean give what every point gives. The hull of the points so far
 * is kept exactly (integer coordinates, 128-bit cross products) and merged with the newer
 * points a buffer at a time: hull(A u B) = hull(hull(A) u B), whatever the order.
 * Least squares: exact sums (128-bit integers) of the midpoints' times and offsets, their
 * squares and products, so that the line does not depend on the order of the samples; past
 * 2^47 ns (1.6 days) from the first sample or 2^31 samples they could overflow, and running
 * means and co-moments in long double (Welford) are used instead.
 * vd_align_fit is this over every sample: both give the same line for the same samples. */
#include "vmdelay/delay/align_acc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Points buffered before they are merged into a hull: the memory is the hull plus this. */
#define ACC_BUFFER 4096

struct ipt {
	vd_ns x, y;
};

/* One direction's points: x the inner clock's time, y its one-way value (see vd_align_acc_add). */
struct ihull {
	struct ipt *h; /* the lower hull, by x */
	size_t k, cap;
	struct ipt buf[ACC_BUFFER];
	size_t nbuf;
	__int128 sum_x; /* of x - base, for the mean */
};

/* Beyond this (ns, doubled times and offsets from the first sample's) the sums could overflow. */
#define EXACT_LIMIT ((__int128)1 << 47)

struct vd_align_acc {
	struct ihull req, rep;
	size_t n;
	vd_ns base, t0;	 /* the first sample's inner request time (the sums' origin); the least */
	__int128 m_base; /* 2 * the first sample's midpoint offset */
	int inexact;	 /* a sample past EXACT_LIMIT: the long double moments */
	__int128 st, sm, stt, stm, smm; /* of 2t and 2m from the origins */
	long double mean_t, mean_m, ctt, ctm, cmm;
	double hull_gap; /* the last hull fit's replies' bound less its requests' */
};

struct vd_align_acc *vd_align_acc_new(void)
{
	return calloc(1, sizeof(struct vd_align_acc));
}

void vd_align_acc_free(struct vd_align_acc *a)
{
	if (!a)
		return;
	free(a->req.h);
	free(a->rep.h);
	free(a);
}

size_t vd_align_acc_count(const struct vd_align_acc *a)
{
	return a->n;
}

double vd_align_acc_hull_gap(const struct vd_align_acc *a)
{
	return a->hull_gap;
}

size_t vd_align_acc_held(const struct vd_align_acc *a)
{
	return a->req.k + a->req.nbuf + a->rep.k + a->rep.nbuf;
}

static int cmp_ipt(const void *a, const void *b)
{
	const struct ipt *p = a, *q = b;
	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return (p->y > q->y) - (p->y < q->y);
}

/* (a - o) x (b - o), exact: coordinates below 2^63 make products below 2^126. */
static __int128 icross(struct ipt o, struct ipt a, struct ipt b)
{
	return (__int128)(a.x - o.x) * (b.y - o.y) - (__int128)(a.y - o.y) * (b.x - o.x);
}

/* The buffered points merged into the hull. 0, or -1 out of memory (nothing changed). */
static int hull_flush(struct ihull *u)
{
	if (!u->nbuf)
		return 0;
	size_t m = u->k + u->nbuf;
	struct ipt *p = malloc(m * sizeof(*p));
	if (!p)
		return -1;
	/* the hull is in order already and samples mostly come in it: the buffer sorted (when it
	 * is not) and merged in, the order a sort of both would give (equal points are alike) */
	size_t i = 1;
	while (i < u->nbuf && cmp_ipt(&u->buf[i - 1], &u->buf[i]) <= 0)
		i++;
	if (i < u->nbuf)
		qsort(u->buf, u->nbuf, sizeof(*u->buf), cmp_ipt);
	size_t ih = 0, ib = 0;
	for (size_t o = 0; o < m; o++)
		p[o] = ib == u->nbuf || (ih < u->k && cmp_ipt(&u->h[ih], &u->buf[ib]) <= 0)
			   ? u->h[ih++]
			   : u->buf[ib++];
	/* Andrew's monotone chain, as vd_align_hull_line builds it: of points sharing an x only
	 * the lowest counts, collinear points are dropped; in place (k <= i) */
	size_t k = 0;
	for (i = 0; i < m; i++) {
		if (i && p[i].x == p[i - 1].x)
			continue;
		while (k >= 2 && icross(p[k - 2], p[k - 1], p[i]) <= 0)
			k--;
		p[k++] = p[i];
	}
	free(u->h);
	u->h = p;
	u->k = k;
	u->cap = m;
	u->nbuf = 0;
	return 0;
}

static int hull_add(struct ihull *u, vd_ns x, vd_ns y, vd_ns base)
{
	if (u->nbuf == ACC_BUFFER && hull_flush(u) < 0)
		return -1;
	u->buf[u->nbuf++] = (struct ipt){x, y};
	u->sum_x += x - base;
	return 0;
}

int vd_align_acc_add(struct vd_align_acc *a, const struct vd_align_sample *s)
{
	/* a time an aligned clock cannot give (a fit gone wild): nothing to fit */
	if (!vd_ns_valid(s->in_req) || !vd_ns_valid(s->in_rep) || !vd_ns_valid(s->out_req) ||
	    !vd_ns_valid(s->out_rep))
		return 0;
	/* the midpoint: t = (tq + tr) / 2, m = (xq + yr) / 2, doubled */
	__int128 m2 = (__int128)(s->in_req - s->out_req) + (s->in_rep - s->out_rep);
	if (!a->n) {
		a->base = a->t0 = s->in_req;
		a->m_base = m2;
	}
	if (hull_add(&a->req, s->in_req, s->out_req - s->in_req, a->base) < 0 ||
	    hull_add(&a->rep, s->in_rep, s->in_rep - s->out_rep, a->base) < 0)
		return -1;
	if (s->in_req < a->t0)
		a->t0 = s->in_req;
	a->n++;
	__int128 t2 = (__int128)(s->in_req - a->base) + (s->in_rep - a->base), dm2 = m2 - a->m_base;
	if (t2 >= EXACT_LIMIT || -t2 >= EXACT_LIMIT || dm2 >= EXACT_LIMIT || -dm2 >= EXACT_LIMIT ||
	    a->n >= (size_t)1 << 31)
		a->inexact = 1;
	a->st += t2;
	a->sm += dm2;
	a->stt += t2 * t2;
	a->stm += t2 * dm2;
	a->smm += dm2 * dm2;
	long double t = (long double)t2 / 2, m = (long double)dm2 / 2;
	long double dt = t - a->mean_t, dm = m - a->mean_m;
	a->mean_t += dt / (long double)a->n;
	a->mean_m += dm / (long double)a->n;
	a->ctt += dt * (t - a->mean_t);
	a->ctm += dt * (m - a->mean_m);
	a->cmm += dm * (m - a->mean_m);
	return 0;
}

/* A hull's vertices as vd_align_fit's doubles: x - t0, y. */
static int hull_doubles(const struct ihull *u, vd_ns t0, double **x, double **y)
{
	*x = malloc((u->k ? u->k : 1) * sizeof(double));
	*y = malloc((u->k ? u->k : 1) * sizeof(double));
	if (!*x || !*y)
		return -1;
	for (size_t i = 0; i < u->k; i++) {
		(*x)[i] = (double)(u->h[i].x - t0);
		(*y)[i] = (double)u->h[i].y;
	}
	return 0;
}

/* The mean of a direction's x - t0 over the n samples, from the exact sum. */
static double mean_from(const struct vd_align_acc *a, const struct ihull *u)
{
	__int128 s = u->sum_x - (__int128)a->n * (a->t0 - a->base);
	return (double)s / (double)a->n;
}

static int fit_hull(struct vd_align_acc *a, double *skew, double *off)
{
	double *tq = NULL, *neg = NULL, *tr = NULL, *yr = NULL;
	double as, bs, ar, br;
	int rc = -1;
	if (hull_doubles(&a->req, a->t0, &tq, &neg) < 0 ||
	    hull_doubles(&a->rep, a->t0, &tr, &yr) < 0 ||
	    vd_align_hull_line_at(tq, neg, a->req.k, mean_from(a, &a->req), &as, &bs) < 0 ||
	    vd_align_hull_line_at(tr, yr, a->rep.k, mean_from(a, &a->rep), &ar, &br) < 0)
		goto out;
	*skew = (br - bs) / 2;
	/* the bounds' extremes lie on the hulls' vertices (the file comment) */
	double lo = -INFINITY, hi = INFINITY;
	for (size_t i = 0; i < a->req.k; i++)
		lo = fmax(lo, -neg[i] - *skew * tq[i]);
	for (size_t i = 0; i < a->rep.k; i++)
		hi = fmin(hi, yr[i] - *skew * tr[i]);
	*off = (lo + hi) / 2;
	a->hull_gap = hi - lo;
	rc = 0;
out:
	free(tq);
	free(neg);
	free(tr);
	free(yr);
	return rc;
}

int vd_align_acc_fit(struct vd_align_acc *a, enum vd_align_method method, struct vd_clock_fit *out)
{
	memset(out, 0, sizeof(*out));
	out->method = method;
	if (!a->n || hull_flush(&a->req) < 0 || hull_flush(&a->rep) < 0)
		return -1;
	out->t0 = a->t0;
	out->n = a->n;
	long double n = (long double)a->n, mt = a->mean_t, mm = a->mean_m, ctt = a->ctt,
		    ctm = a->ctm, cmm = a->cmm;
	if (!a->inexact) { /* from the exact sums of the doubled values */
		long double st = (long double)a->st, sm = (long double)a->sm;
		mt = st / n / 2;
		mm = sm / n / 2;
		ctt = ((long double)a->stt - st * st / n) / 4;
		ctm = ((long double)a->stm - st * sm / n) / 4;
		cmm = ((long double)a->smm - sm * sm / n) / 4;
	}
	/* the means on vd_align_fit's origin: t from t0, m whole */
	mt += (long double)(a->base - a->t0);
	mm += (long double)a->m_base / 2;
	double skew = 0, off = 0;
	if (method == VD_ALIGN_HULL) {
		if (fit_hull(a, &skew, &off) < 0)
			return -1;
	} else {
		skew = ctt > 0 ? (double)(ctm / ctt) : 0;
		off = (double)(mm - (long double)skew * mt);
	}
	/* sum of (m - off - skew t)^2 from the co-moments about the means */
	long double k = skew, d = mm - (long double)off - k * mt;
	long double ss = cmm - 2 * k * ctm + k * k * ctt + n * d * d;
	out->skew = skew;
	out->offset_ns = off;
	out->residual_ns = ss > 0 ? (double)sqrtl(ss / n) : 0;
	return 0;
}

int vd_align_fit(enum vd_align_method method, const struct vd_align_sample *s, size_t n,
		 struct vd_clock_fit *out)
{
	/* the streamed analysis fits from the same accumulator: one line for the same samples,
	 * whichever way they were read */
	struct vd_align_acc *a = vd_align_acc_new();
	int rc = -1;
	memset(out, 0, sizeof(*out));
	out->method = method;
	if (!a)
		return -1;
	size_t i = 0;
	while (i < n && vd_align_acc_add(a, &s[i]) == 0)
		i++;
	if (i == n)
		rc = vd_align_acc_fit(a, method, out);
	vd_align_acc_free(a);
	return rc;
}
