/* Unit tests: clock alignment (lib/delay/align.c) on synthetic probes with a known skew and offset
 * and one-sided exponential queueing noise, and the one-way split it enables (lib/delay/delay.c).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmdelay/delay/align.h"
#include "vmdelay/delay/delay.h"

#include "noise.h"

#define T0 INT64_C(1700000000000000000)
#define SKEW 50e-6
#define OFFSET 3000000.0

/* inner clock reading of true time t */
static vd_ns inner_clock(vd_ns t)
{
	return t + (vd_ns)llround(OFFSET + SKEW * (double)(t - T0));
}

/* At-rest probes: 20 at the start and 20 at the end of a 50 s run, 250 ms apart. Send and receive
 * delays 50 µs + Exp(20 µs); a fraction `outliers` of them get 2..10 ms more. */
static size_t make_samples(struct vd_align_sample *s, double outliers, uint64_t seed)
{
	rng = seed;
	size_t n = 0;
	for (int k = 0; k < 200; k++) {
		if (k >= 20 && k < 180)
			continue;
		vd_ns t = T0 + (vd_ns)k * 250000000;
		vd_ns send = 50000 + expo(20000), recv = 50000 + expo(20000);
		if (uniform() < outliers)
			send += 2000000 + (vd_ns)(uniform() * 8e6);
		if (uniform() < outliers)
			recv += 2000000 + (vd_ns)(uniform() * 8e6);
		vd_ns out_req = t + send, out_rep = out_req + 100000;
		s[n++] = (struct vd_align_sample){
		    .in_req = inner_clock(t),
		    .out_req = out_req,
		    .out_rep = out_rep,
		    .in_rep = inner_clock(out_rep + recv),
		};
	}
	return n;
}

static void both_estimators_recover_skew(void **state)
{
	struct vd_align_sample s[40];
	double worst[3] = {0};
	for (uint64_t seed = 1; seed <= 20; seed++) {
		size_t n = make_samples(s, 0, seed * 7919);
		for (int m = VD_ALIGN_LSQ; m <= VD_ALIGN_HULL; m++) {
			struct vd_clock_fit f;
			assert_int_equal(vd_align_fit((enum vd_align_method)m, s, n, &f), 0);
			double err_ppm = fabs(f.skew - SKEW) * 1e6;
			assert_true(err_ppm < 1.0);
			/* offset at t0 (the first inner request), within 20 µs */
			double true_off = OFFSET + SKEW * (double)(f.t0 - OFFSET - T0);
			assert_true(fabs(f.offset_ns - true_off) < 20000);
			if (err_ppm > worst[m])
				worst[m] = err_ppm;
		}
	}
	print_message(
	    "skew error, exponential noise, worst of 20 runs: lsq %.4f ppm, hull %.4f ppm\n",
	    worst[VD_ALIGN_LSQ], worst[VD_ALIGN_HULL]);
}

static void hull_survives_outliers(void **state)
{
	struct vd_align_sample s[40];
	double worst[3] = {0};
	for (uint64_t seed = 1; seed <= 20; seed++) {
		size_t n = make_samples(s, 0.10, seed * 104729);
		for (int m = VD_ALIGN_LSQ; m <= VD_ALIGN_HULL; m++) {
			struct vd_clock_fit f;
			assert_int_equal(vd_align_fit((enum vd_align_method)m, s, n, &f), 0);
			double err_ppm = fabs(f.skew - SKEW) * 1e6;
			if (err_ppm > worst[m])
				worst[m] = err_ppm;
		}
	}
	print_message("skew error, 10%% outliers, worst of 20 runs: lsq %.4f ppm, hull %.4f ppm\n",
		      worst[VD_ALIGN_LSQ], worst[VD_ALIGN_HULL]);
	assert_true(worst[VD_ALIGN_HULL] < 1.0);
	/* the reason hull is the default: least squares is pulled by the outliers */
	assert_true(worst[VD_ALIGN_LSQ] > worst[VD_ALIGN_HULL]);
}

static void hull_line_is_moon_lp(void **state)
{
	/* Points above y = 1 + 2x except three on it: the LP's line is that one. */
	double x[] = {0, 1, 2, 3, 4, 5}, y[] = {1, 3.5, 5, 9, 9, 11};
	double a, b;
	assert_int_equal(vd_align_hull_line(x, y, 6, &a, &b), 0);
	assert_true(fabs(b - 2) < 1e-12);
	assert_true(fabs(a - 1) < 1e-12);
	/* one point: flat line through it */
	assert_int_equal(vd_align_hull_line(x + 3, y + 3, 1, &a, &b), 0);
	assert_true(b == 0 && a == 9);
	assert_int_equal(vd_align_hull_line(x, y, 0, &a, &b), -1);
}

static void apply_inverts_the_clock(void **state)
{
	struct vd_clock_fit f = {.t0 = inner_clock(T0), .skew = SKEW, .offset_ns = OFFSET};
	vd_ns t = T0 + 40 * VD_NS_PER_SEC;
	vd_ns back = vd_align_apply(&f, inner_clock(t));
	/* theta is a line on the inner time axis: a skew-squared term (0.1 µs after 40 s) remains
	 */
	assert_true(llabs(back - t) <= 200);
	assert_int_equal(vd_align_apply(&f, VD_NS_NONE), VD_NS_NONE);
	enum vd_align_method m;
	assert_int_equal(vd_align_method_parse("hull", &m), 0);
	assert_int_equal(m, VD_ALIGN_HULL);
	assert_int_equal(vd_align_method_parse("lsqr", &m), -1);
}

/* Whole pipeline: a wire vantage point (reference clock) and a guest one on another clock, with
 * known per-probe send and receive delays (heavy tail in the load phase); the one-way split must
 * come back within 20 µs per probe. */
static void one_way_split_within_20us(void **state)
{
	rng = 4242;
	struct vd_vantage *wire = vd_vantage_new("wire", "peer", "w", "test");
	struct vd_vantage *guest = vd_vantage_new("guest", "vm", "g", "test");
	assert_non_null(wire);
	assert_non_null(guest);
	enum { N = 200 };
	vd_ns send[N], recv[N];
	for (int k = 0; k < N; k++) {
		int phase = k < 20	  ? VD_PHASE_REST_PRE
			    : k >= N - 20 ? VD_PHASE_REST_POST
					  : VD_PHASE_LOAD;
		vd_ns t = T0 + (vd_ns)k * 250000000;
		send[k] = 50000 + expo(10000);
		recv[k] = 50000 + expo(10000);
		if (phase == VD_PHASE_LOAD && uniform() < 0.2)
			send[k] += expo(5e6);
		if (phase == VD_PHASE_LOAD && uniform() < 0.2)
			recv[k] += expo(5e6);
		vd_ns wq = t + send[k], wr = wq + 100000 + expo(1000);
		struct vd_echo e = {.seq = (uint32_t)k, .phase = (int8_t)phase};
		e.src.family = e.dst.family = 2;
		e.src.bytes[0] = 10;
		e.dst.bytes[0] = 11;
		e.id = 7;
		e.has_id = 1;
		struct vd_echo r = e;
		r.src = e.dst;
		r.dst = e.src;
		r.kind = VD_ECHO_REPLY;
		e.ts = wq;
		r.ts = wr;
		assert_int_equal(vd_vantage_add(wire, &e), 0);
		assert_int_equal(vd_vantage_add(wire, &r), 0);
		e.ts = inner_clock(t);
		r.ts = inner_clock(wr + recv[k]);
		e.has_id = r.has_id = 0; /* like tping: no id, no addresses */
		e.src.family = e.dst.family = r.src.family = r.dst.family = 0;
		assert_int_equal(vd_vantage_add(guest, &e), 0);
		assert_int_equal(vd_vantage_add(guest, &r), 0);
	}
	struct vd_vantage *vps[2] = {wire, guest};
	for (int m = VD_ALIGN_LSQ; m <= VD_ALIGN_HULL; m++) {
		struct vd_delay_opts o = {.align = (enum vd_align_method)m};
		struct vd_delay d;
		struct vd_err err;
		int warn;
		assert_int_equal(vd_delay_analyze(vps, 2, &o, &d, &warn, &err), 0);
		assert_int_equal(warn, 0);
		assert_int_equal(d.map.n, N);
		assert_int_equal(d.naligns, 1);
		assert_int_equal(d.rest_probes, 40);
		vd_ns worst = 0;
		for (size_t p = 0; p < d.map.n; p++) {
			vd_ns es = vd_delay_layer(&d, p, 1, VD_DIR_SEND) - send[p];
			vd_ns er = vd_delay_layer(&d, p, 1, VD_DIR_RECV) - recv[p];
			worst = llabs(es) > worst ? llabs(es) : worst;
			worst = llabs(er) > worst ? llabs(er) : worst;
		}
		print_message("%s: skew %.3f ppm, worst per-probe one-way error %.1f us\n",
			      vd_align_method_name((enum vd_align_method)m),
			      d.aligns[0].fit.skew * 1e6, (double)worst / 1e3);
		assert_true(worst < 20000);
		vd_delay_free(&d);
	}
	vd_vantage_free(wire);
	vd_vantage_free(guest);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(both_estimators_recover_skew),
	    cmocka_unit_test(hull_survives_outliers),
	    cmocka_unit_test(hull_line_is_moon_lp),
	    cmocka_unit_test(apply_inverts_the_clock),
	    cmocka_unit_test(one_way_split_within_20us),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
