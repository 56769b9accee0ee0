/* Unit tests: per-layer tables (lib/delay/delay.c) — RTT per vantage point, ΔRTT per layer and
 * total, send + receive = Δ on one clock, phases from tping and from --rest, values worked by hand.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "vmdelay/delay/delay.h"

#define US INT64_C(1000)
#define T0 INT64_C(1700000000000000000)

static void add_pair(struct vd_vantage *v, uint32_t seq, vd_ns req, vd_ns rep, int phase)
{
	struct vd_echo e = {.ts = req, .seq = seq, .kind = VD_ECHO_REQUEST, .phase = (int8_t)phase};
	assert_int_equal(vd_vantage_add(v, &e), 0);
	e.ts = rep;
	e.kind = VD_ECHO_REPLY;
	assert_int_equal(vd_vantage_add(v, &e), 0);
}

/* 10 probes; wire RTT 100 µs; kernel adds send 10·k µs and recv 5 µs; user adds send 1 µs and
 * recv 2·k µs (k = 1..10). Probe 5 missed by the kernel point. Phases: 1-2 rest-pre, 3-8 load,
 * 9-10 rest-post. */
static struct vd_vantage *vp[3];

static int setup(void **state)
{
	vp[0] = vd_vantage_new("wire", "", "w", "test");
	vp[1] = vd_vantage_new("kernel", "", "k", "test");
	vp[2] = vd_vantage_new("user", "", "u", "test");
	for (uint32_t k = 1; k <= 10; k++) {
		int ph = k <= 2 ? VD_PHASE_REST_PRE : k <= 8 ? VD_PHASE_LOAD : VD_PHASE_REST_POST;
		vd_ns t = T0 + (vd_ns)k * 1000000000;
		vd_ns kq = t, wq = kq + 10 * US * k, wr = wq + 100 * US, kr = wr + 5 * US;
		vd_ns uq = kq - 1 * US, ur = kr + 2 * US * k;
		add_pair(vp[0], k, wq, wr, -1);
		if (k != 5)
			add_pair(vp[1], k, kq, kr, ph);
		add_pair(vp[2], k, uq, ur, ph);
	}
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < 3; i++)
		vd_vantage_free(vp[i]);
	return 0;
}

static void tables(void **state)
{
	struct vd_delay d;
	struct vd_err err;
	int warn;
	struct vd_delay_opts o = {.align = VD_ALIGN_HULL};
	assert_int_equal(vd_delay_analyze(vp, 3, &o, &d, &warn, &err), 0);
	assert_int_equal(d.map.n, 10);
	assert_int_equal(d.naligns, 0); /* one clock */
	assert_int_equal(d.have_phases, 1);
	int ph[VD_PHASE__COUNT + 1];
	assert_int_equal(vd_delay_phases(&d, ph), 4);
	assert_int_equal(ph[0], VD_PHASE_ALL);

	struct vd_summary s;
	assert_int_equal(vd_delay_summary_rtt(&d, 0, VD_PHASE_ALL, &s), 0);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.median, 100 * US);
	assert_true(s.sd == 0);
	/* kernel Δ = 10k + 5 µs over k != 5: 15, 25, 35, 45, 65, ..., 105 */
	assert_int_equal(vd_delay_summary_layer(&d, 1, VD_DIR_RTT, VD_PHASE_ALL, &s), 0);
	assert_int_equal(s.n, 9);
	assert_int_equal(s.min, 15 * US);
	assert_int_equal(s.median, 65 * US);
	assert_int_equal(s.max, 105 * US);
	assert_int_equal(s.p99, 104200); /* 95 + 0.92 * 10 µs, numpy's linear rule */
	assert_true(fabs(s.mean - 60555.556) < 0.01);
	assert_int_equal(vd_delay_summary_layer(&d, 1, VD_DIR_SEND, VD_PHASE_ALL, &s), 0);
	assert_int_equal(s.median, 60 * US);
	assert_int_equal(vd_delay_summary_layer(&d, 1, VD_DIR_RECV, VD_PHASE_ALL, &s), 0);
	assert_int_equal(s.median, 5 * US);
	assert_int_equal(s.sd, 0);
	/* user layer: only where the kernel point saw the probe */
	assert_int_equal(vd_delay_summary_layer(&d, 2, VD_DIR_RTT, VD_PHASE_LOAD, &s), 0);
	assert_int_equal(s.n, 5);	     /* probes 3, 4, 6, 7, 8 */
	assert_int_equal(s.median, 13 * US); /* 1 + 2 * 6 */
	/* total (layer 0) = user RTT - wire RTT, for all 10 probes */
	assert_int_equal(vd_delay_summary_layer(&d, 0, VD_DIR_RTT, VD_PHASE_ALL, &s), 0);
	assert_int_equal(s.n, 10);
	assert_int_equal(s.min, 18 * US);  /* 10 + 5 + 1 + 2 */
	assert_int_equal(s.max, 126 * US); /* 100 + 5 + 1 + 20 */
	for (size_t p = 0; p < d.map.n; p++) {
		vd_ns sum =
		    vd_delay_layer(&d, p, 0, VD_DIR_SEND) + vd_delay_layer(&d, p, 0, VD_DIR_RECV);
		assert_int_equal(sum, vd_delay_layer(&d, p, 0, VD_DIR_RTT));
	}
	vd_delay_free(&d);
}

/* Past exact_max probes the summaries come from the bounded sketch: the same n, min and max,
 * median and p99 within its 2^-12 relative bound of the exact ones. */
static void sketch_past_exact_max(void **state)
{
	struct vd_delay exact, sketch;
	struct vd_err err;
	int warn;
	struct vd_delay_opts o = {.align = VD_ALIGN_HULL};
	assert_int_equal(vd_delay_analyze(vp, 3, &o, &exact, &warn, &err), 0);
	o.exact_max = 4;
	assert_int_equal(vd_delay_analyze(vp, 3, &o, &sketch, &warn, &err), 0);
	for (size_t l = 0; l < 3; l++)
		for (int dir = 0; dir < VD_DIR__COUNT; dir++) {
			struct vd_summary a, b;
			assert_int_equal(vd_delay_summary_layer(&exact, l, dir, VD_PHASE_ALL, &a),
					 0);
			assert_int_equal(vd_delay_summary_layer(&sketch, l, dir, VD_PHASE_ALL, &b),
					 0);
			assert_int_equal(a.n, b.n);
			assert_int_equal(a.min, b.min);
			assert_int_equal(a.max, b.max);
			assert_true(llabs(a.median - b.median) <= a.median / 4096 + 1);
			assert_true(llabs(a.p99 - b.p99) <= a.p99 / 4096 + 1);
			assert_true(fabs(a.mean - b.mean) < 1e-6 * fabs(a.mean) + 1e-6);
		}
	vd_delay_free(&exact);
	vd_delay_free(&sketch);
}

static void rest_option_relabels(void **state)
{
	struct vd_delay d;
	struct vd_err err;
	int warn;
	struct vd_delay_opts o = {.align = VD_ALIGN_HULL, .rest = 3};
	assert_int_equal(vd_delay_analyze(vp, 3, &o, &d, &warn, &err), 0);
	struct vd_summary s;
	assert_int_equal(vd_delay_summary_rtt(&d, 0, VD_PHASE_REST_PRE, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(vd_delay_summary_rtt(&d, 0, VD_PHASE_LOAD, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(vd_delay_summary_rtt(&d, 0, VD_PHASE_REST_POST, &s), 0);
	assert_int_equal(s.n, 3);
	vd_delay_free(&d);
}

/* Moves a vantage point's clock: its requests and its paired replies. */
static void shift(struct vd_vantage *v, vd_ns by)
{
	for (size_t i = 0; i < v->n; i++)
		v->ev[i].ts += by;
	for (size_t i = 0; i < v->npairs; i++)
		v->pairs[i].rep_ts += by;
}

static void other_clock_needs_alignment(void **state)
{
	/* put the user point on its own clock, 7 ms ahead: without --align no one-way split */
	snprintf(vp[2]->clock, sizeof(vp[2]->clock), "vm");
	shift(vp[2], 7000 * US);
	struct vd_delay d;
	struct vd_err err;
	int warn;
	struct vd_delay_opts o = {.align = VD_ALIGN_NONE};
	assert_int_equal(vd_delay_analyze(vp, 3, &o, &d, &warn, &err), 0);
	assert_int_equal(d.map.n, 10);
	assert_int_equal(vd_delay_layer(&d, 0, 2, VD_DIR_SEND), VD_NS_NONE);
	assert_int_equal(vd_delay_layer(&d, 0, 2, VD_DIR_RTT), 3 * US); /* RTTs need no alignment */
	vd_delay_free(&d);
	o.align = VD_ALIGN_HULL;
	assert_int_equal(vd_delay_analyze(vp, 3, &o, &d, &warn, &err), 0);
	assert_int_equal(d.naligns, 1);
	assert_int_equal(d.aligns[0].vantage, 2);
	assert_int_equal(d.aligns[0].against, 1);
	/* skew ~0; offset 7 ms plus half the (recv - send) asymmetry of the at-rest minimums */
	assert_true(fabs(d.aligns[0].fit.offset_ns - 7000 * US) < 20 * US);
	vd_ns s = vd_delay_layer(&d, 0, 2, VD_DIR_SEND), r = vd_delay_layer(&d, 0, 2, VD_DIR_RECV);
	assert_int_equal(s + r, 3 * US);
	vd_delay_free(&d);
	shift(vp[2], -7000 * US);
	vp[2]->clock[0] = '\0';
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(tables),
	    cmocka_unit_test(sketch_past_exact_max),
	    cmocka_unit_test(rest_option_relabels),
	    cmocka_unit_test(other_clock_needs_alignment),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
