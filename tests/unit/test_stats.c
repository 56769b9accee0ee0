/* Unit tests: summaries, percentiles and RFC 3550 jitter against values worked out by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/core/stats.h"

static void summary_of_known_values(void **state)
{
	/* 1..100 µs: median 50.5 µs, p99 = 99.01 µs, mean 50.5 µs, sample SD 29.011 µs. */
	vd_ns v[101];
	for (int i = 0; i < 100; i++)
		v[i] = (vd_ns)(100 - i) * 1000;
	v[100] = VD_NS_NONE; /* missing values are skipped */
	struct vd_summary s;
	assert_int_equal(vd_summarize(v, 101, &s), 0);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.min, 1000);
	assert_int_equal(s.max, 100000);
	assert_int_equal(s.median, 50500);
	assert_int_equal(s.p99, 99010);
	assert_true(fabs(s.mean - 50500.0) < 1e-6);
	assert_true(fabs(s.sd - 29011.49) < 0.01);
	assert_int_equal(v[0], 100000); /* input untouched */
}

/* The summary's order statistics (found by selection) equal those of the sorted samples, on
 * random, sorted, reversed, constant and two-valued inputs of many sizes. */
static void summary_matches_sorting(void **state)
{
	static vd_ns a[20000], b[20000];
	uint64_t rng = 0x2545f4914f6cdd1dull;
	const size_t sizes[] = {1, 2, 3, 5, 31, 32, 33, 100, 1001, 4096, 20000};
	for (int pattern = 0; pattern < 6; pattern++)
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t n = sizes[si];
			for (size_t i = 0; i < n; i++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				vd_ns r = (vd_ns)(rng % 1000003) - 500000;
				a[i] = pattern == 0   ? r
				       : pattern == 1 ? (vd_ns)i
				       : pattern == 2 ? (vd_ns)(n - i)
				       : pattern == 3 ? 42
				       : pattern == 4 ? (vd_ns)(rng & 1)
						      : INT64_C(1700000000000000000) + r;
			}
			memcpy(b, a, n * sizeof(*a));
			vd_sort_ns(b, n);
			struct vd_summary s;
			assert_int_equal(vd_summarize(a, n, &s), 0);
			assert_int_equal(s.n, n);
			assert_int_equal(s.min, b[0]);
			assert_int_equal(s.max, b[n - 1]);
			assert_int_equal(s.median, vd_percentile_sorted(b, n, 50));
			assert_int_equal(s.p99, vd_percentile_sorted(b, n, 99));
		}
}

static void summary_of_nothing(void **state)
{
	vd_ns v[2] = {VD_NS_NONE, VD_NS_NONE};
	struct vd_summary s;
	assert_int_equal(vd_summarize(v, 2, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.median, VD_NS_NONE);
	assert_true(isnan(s.mean));
}

static void percentile_keeps_epoch_precision(void **state)
{
	vd_ns v[2] = {INT64_C(1700000000123456789), INT64_C(1700000000123456791)};
	assert_int_equal(vd_percentile_sorted(v, 2, 50), INT64_C(1700000000123456790));
	assert_int_equal(vd_percentile_sorted(v, 2, 0), v[0]);
	assert_int_equal(vd_percentile_sorted(v, 2, 100), v[1]);
}

static void jitter_follows_rfc3550(void **state)
{
	/* Transits 100, 116, 100: |D| = 16 then 16 -> J = 1, then 1 + (16 - 1)/16 = 1.9375. */
	struct vd_jitter j = {0};
	vd_jitter_add(&j, 100);
	assert_true(j.jitter_ns == 0);
	vd_jitter_add(&j, 116);
	assert_true(fabs(j.jitter_ns - 1.0) < 1e-12);
	vd_jitter_add(&j, VD_NS_NONE); /* a lost probe does not reset it */
	vd_jitter_add(&j, 100);
	assert_true(fabs(j.jitter_ns - 1.9375) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(summary_of_known_values),
	    cmocka_unit_test(summary_matches_sorting),
	    cmocka_unit_test(summary_of_nothing),
	    cmocka_unit_test(percentile_keeps_epoch_precision),
	    cmocka_unit_test(jitter_follows_rfc3550),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
