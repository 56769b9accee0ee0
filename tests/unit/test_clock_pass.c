/* Unit tests: the matching timeline of the two-pass analysis on several clocks
 * (lib/delay/clock_pass.c): each point's map is strictly increasing and gives back the time in
 * the trace exactly, so the summaries get the traces' own times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmdelay/delay/clock_pass.h"

#define T0 INT64_C(1700000000000000000)

static void maps_give_back_every_time(void **state)
{
	(void)state;
	/* the reference stretched by 37 ppm; a clock 2.5 s behind at that rate (a = 0); one at
	 * half the rate; a large stretch and offset */
	const struct vd_clock_map maps[] = {
	    {.a = 37e-6, .b = T0, .d = 0},
	    {.a = 0, .b = T0, .d = 2.5e9},
	    {.a = 18.5e-6, .b = T0 - 2500000000, .d = 2.5e9 + 0.25},
	    {.a = 1e-3, .b = T0, .d = -3.6e12},
	};
	uint64_t rng = 88172645463325252ULL;
	for (size_t m = 0; m < sizeof(maps) / sizeof(maps[0]); m++) {
		vd_ns prev_t = 0, prev_c = 0;
		for (int i = 0; i < 200000; i++) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			/* times within a day of T0, and runs of consecutive nanoseconds */
			vd_ns t = i % 2 ? prev_t + 1 : T0 + (vd_ns)(rng % (86400ULL * 1000000000));
			vd_ns c = vd_clock_map_to(&maps[m], t);
			assert_int_equal(vd_clock_map_from(&maps[m], c), t);
			if (i % 2)
				assert_true(c > prev_c); /* strictly increasing */
			prev_t = t;
			prev_c = c;
		}
	}
	assert_int_equal(vd_clock_map_to(&maps[0], VD_NS_NONE), VD_NS_NONE);
	assert_int_equal(vd_clock_map_from(&maps[0], VD_NS_NONE), VD_NS_NONE);
	struct vd_clock_map id = {0};
	assert_int_equal(vd_clock_map_to(&id, T0 + 5), T0 + 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(maps_give_back_every_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
