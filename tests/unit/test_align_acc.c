/* Unit tests: the clock fit over samples handed one at a time (lib/delay/align_acc.c, which
 * vd_align_fit uses too) against the estimators' formulas applied to every sample at once, on
 * synthetic probes with a known skew and offset: the same line, whatever the order of the
 * samples, the truth recovered, and memory that holds the hulls, not the samples. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmdelay/delay/align.h"
#include "vmdelay/delay/align_acc.h"

#include "noise.h"

#define T0 INT64_C(1700000000000000000)
#define SKEW 37e-6
#define OFFSET (-2500000000.0) /* the inner clock 2.5 s behind */

static vd_ns inner_clock(vd_ns t)
{
	return t + (vd_ns)llround(OFFSET + SKEW * (double)(t - T0));
}

/* n probes 1 ms apart (an hour for 3.6M), in bursts out of order (a reply can come after the
 * next request): one-way delays 40 µs + Exp(15 µs), a tenth with up to 5 ms of queueing. */
static struct vd_align_sample *make(size_t n, uint64_t seed)
{
	rng = seed;
	struct vd_align_sample *s = malloc(n * sizeof(*s));
	assert_non_null(s);
	for (size_t k = 0; k < n; k++) {
		vd_ns t = T0 + (vd_ns)k * 1000000 + (vd_ns)(uniform() * 900000);
		vd_ns send = 40000 + expo(15000), recv = 40000 + expo(15000);
		if (uniform() < 0.1)
			send += (vd_ns)(uniform() * 5e6);
		if (uniform() < 0.1)
			recv += (vd_ns)(uniform() * 5e6);
		vd_ns out_req = t + send, out_rep = out_req + 20000 + expo(5000);
		s[k] = (struct vd_align_sample){.in_req = inner_clock(t),
						.out_req = out_req,
						.out_rep = out_rep,
						.in_rep = inner_clock(out_rep + recv)};
	}
	return s;
}

static void shuffle(struct vd_align_sample *s, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(uniform() * (double)(i + 1));
		struct vd_align_sample t = s[i];
		s[i] = s[j];
		s[j] = t;
	}
}

/* The estimators over every sample, in doubles (align.h's definitions): Moon's hull line of each
 * direction over every point and the offset between the bounds of every point; least squares in
 * two passes. */
static void every_sample_fit(const struct vd_align_sample *s, size_t n, enum vd_align_method m,
			     struct vd_clock_fit *f)
{
	vd_ns t0 = s[0].in_req;
	for (size_t i = 1; i < n; i++)
		t0 = s[i].in_req < t0 ? s[i].in_req : t0;
	double *tq = malloc(n * sizeof(double)), *tr = malloc(n * sizeof(double));
	double *xq = malloc(n * sizeof(double)), *yr = malloc(n * sizeof(double));
	double *neg = malloc(n * sizeof(double));
	assert_true(tq && tr && xq && yr && neg);
	for (size_t i = 0; i < n; i++) {
		tq[i] = (double)(s[i].in_req - t0);
		tr[i] = (double)(s[i].in_rep - t0);
		xq[i] = (double)(s[i].in_req - s[i].out_req);
		yr[i] = (double)(s[i].in_rep - s[i].out_rep);
		neg[i] = -xq[i];
	}
	double skew, off;
	if (m == VD_ALIGN_HULL) {
		double as, bs, ar, br, lo = -INFINITY, hi = INFINITY;
		assert_int_equal(vd_align_hull_line(tq, neg, n, &as, &bs), 0);
		assert_int_equal(vd_align_hull_line(tr, yr, n, &ar, &br), 0);
		skew = (br - bs) / 2;
		for (size_t i = 0; i < n; i++) {
			lo = fmax(lo, xq[i] - skew * tq[i]);
			hi = fmin(hi, yr[i] - skew * tr[i]);
		}
		off = (lo + hi) / 2;
	} else {
		double mt = 0, mm = 0, sxy = 0, sxx = 0;
		for (size_t i = 0; i < n; i++) {
			mt += (tq[i] + tr[i]) / 2;
			mm += (xq[i] + yr[i]) / 2;
		}
		mt /= (double)n;
		mm /= (double)n;
		for (size_t i = 0; i < n; i++) {
			double t = (tq[i] + tr[i]) / 2 - mt, d = (xq[i] + yr[i]) / 2 - mm;
			sxy += t * d;
			sxx += t * t;
		}
		skew = sxx > 0 ? sxy / sxx : 0;
		off = mm - skew * mt;
	}
	double ss = 0;
	for (size_t i = 0; i < n; i++) {
		double r = (xq[i] + yr[i]) / 2 - (off + skew * (tq[i] + tr[i]) / 2);
		ss += r * r;
	}
	*f = (struct vd_clock_fit){.method = m,
				   .n = n,
				   .t0 = t0,
				   .skew = skew,
				   .offset_ns = off,
				   .residual_ns = sqrt(ss / (double)n)};
	free(tq);
	free(tr);
	free(xq);
	free(yr);
	free(neg);
}

static void acc_fit(const struct vd_align_sample *s, size_t n, enum vd_align_method m,
		    struct vd_clock_fit *f, size_t *held)
{
	struct vd_align_acc *a = vd_align_acc_new();
	assert_non_null(a);
	*held = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(vd_align_acc_add(a, &s[i]), 0);
		if (vd_align_acc_held(a) > *held)
			*held = vd_align_acc_held(a);
	}
	assert_int_equal(vd_align_acc_count(a), n);
	assert_int_equal(vd_align_acc_fit(a, m, f), 0);
	vd_align_acc_free(a);
}

/* The accumulated fit is the estimators' over every sample, in any order, and finds the clock. */
static void same_fit_as_every_sample(void **state)
{
	(void)state;
	size_t n = 200000;
	struct vd_align_sample *s = make(n, 12345);
	struct vd_clock_fit first[3];
	for (int shuffled = 0; shuffled < 2; shuffled++) {
		if (shuffled)
			shuffle(s, n); /* hulls merged a buffer at a time: any order */
		for (int m = VD_ALIGN_LSQ; m <= VD_ALIGN_HULL; m++) {
			struct vd_clock_fit whole, acc;
			size_t held;
			every_sample_fit(s, n, (enum vd_align_method)m, &whole);
			acc_fit(s, n, (enum vd_align_method)m, &acc, &held);
			/* vd_align_fit is the accumulator's, and the order does not matter */
			struct vd_clock_fit api;
			assert_int_equal(vd_align_fit((enum vd_align_method)m, s, n, &api), 0);
			assert_true(api.skew == acc.skew && api.offset_ns == acc.offset_ns &&
				    api.residual_ns == acc.residual_ns);
			if (!shuffled)
				first[m] = acc;
			else
				assert_true(first[m].skew == acc.skew &&
					    first[m].offset_ns == acc.offset_ns &&
					    first[m].residual_ns == acc.residual_ns);
			print_message("%s%s: skew %.6f / %.6f ppm, offset %.3f / %.3f ns, residual "
				      "%.3f / %.3f ns (every sample / accumulated); differences "
				      "%.2g ppm, %.2g ns, %.2g ns\n",
				      vd_align_method_name((enum vd_align_method)m),
				      shuffled ? " shuffled" : "", whole.skew * 1e6, acc.skew * 1e6,
				      whole.offset_ns, acc.offset_ns, whole.residual_ns,
				      acc.residual_ns, fabs(whole.skew - acc.skew) * 1e6,
				      fabs(whole.offset_ns - acc.offset_ns),
				      fabs(whole.residual_ns - acc.residual_ns));
			assert_int_equal(acc.t0, whole.t0);
			assert_int_equal(acc.n, whole.n);
			/* equal up to rounding: 1e-12 ppm, a thousandth of a ns */
			assert_true(fabs(acc.skew - whole.skew) < 1e-18 + 1e-9 * fabs(whole.skew));
			assert_true(fabs(acc.offset_ns - whole.offset_ns) < 1e-3);
			assert_true(fabs(acc.residual_ns - whole.residual_ns) <
				    1e-6 * whole.residual_ns + 1e-3);
			/* the hull leaves the least send + receive delay: 80 µs */
			if (m == VD_ALIGN_HULL) {
				struct vd_align_acc *a = vd_align_acc_new();
				for (size_t i = 0; i < n; i++)
					assert_int_equal(vd_align_acc_add(a, &s[i]), 0);
				assert_int_equal(vd_align_acc_fit(a, VD_ALIGN_HULL, &api), 0);
				double gap = vd_align_acc_hull_gap(a);
				print_message("hull gap %.1f ns\n", gap);
				assert_true(gap > 79990 && gap < 81000); /* clocks read to 1 ns */
				vd_align_acc_free(a);
			}
			/* the truth: skew within 0.05 ppm, theta(t0) within 20 µs */
			assert_true(fabs(acc.skew - SKEW) < 0.05e-6);
			double truth = OFFSET + SKEW * (double)(acc.t0 - OFFSET - T0);
			assert_true(fabs(acc.offset_ns - truth) < 20000);
		}
	}
	free(s);
}

/* What is held is the hulls and one buffer, whatever the count of samples. */
static void memory_follows_hulls_not_samples(void **state)
{
	(void)state;
	size_t held_small, held_big;
	struct vd_clock_fit f;
	struct vd_align_sample *s = make(20000, 777);
	acc_fit(s, 20000, VD_ALIGN_HULL, &f, &held_small);
	free(s);
	s = make(2000000, 777);
	acc_fit(s, 2000000, VD_ALIGN_HULL, &f, &held_big);
	free(s);
	print_message("points held: %zu for 20k samples, %zu for 2M\n", held_small, held_big);
	/* two buffers of 4096 and two hulls of a few dozen vertices */
	assert_true(held_big <= 2 * 4096 + 2 * 200);
	assert_true(held_big <= held_small + 2 * 200);
}

static void nothing_to_fit(void **state)
{
	(void)state;
	struct vd_align_acc *a = vd_align_acc_new();
	assert_non_null(a);
	struct vd_clock_fit f;
	assert_int_equal(vd_align_acc_fit(a, VD_ALIGN_HULL, &f), -1);
	/* a time no clock gives is not a sample */
	struct vd_align_sample bad = {
	    .in_req = VD_NS_NONE, .in_rep = 5, .out_req = 1, .out_rep = 4};
	assert_int_equal(vd_align_acc_add(a, &bad), 0);
	assert_int_equal(vd_align_acc_count(a), 0);
	/* one sample: a flat line through it, as vd_align_fit */
	struct vd_align_sample one = {
	    .in_req = 1000, .out_req = 900, .out_rep = 1900, .in_rep = 2100};
	struct vd_clock_fit whole;
	assert_int_equal(vd_align_acc_add(a, &one), 0);
	assert_int_equal(vd_align_acc_fit(a, VD_ALIGN_HULL, &f), 0);
	assert_int_equal(vd_align_fit(VD_ALIGN_HULL, &one, 1, &whole), 0);
	assert_true(f.skew == whole.skew && f.offset_ns == whole.offset_ns);
	vd_align_acc_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_fit_as_every_sample),
	    cmocka_unit_test(memory_follows_hulls_not_samples),
	    cmocka_unit_test(nothing_to_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
