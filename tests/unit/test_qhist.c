/* Unit tests: bounded-memory summaries (vd_qhist) against the exact ones (vd_summarize). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmdelay/core/qhist.h"

static void summarize_both(const vd_ns *v, size_t n, struct vd_summary *exact,
			   struct vd_summary *approx)
{
	struct vd_qhist h;
	vd_qhist_init(&h);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(vd_qhist_add(&h, v[i]), 0);
	vd_qhist_summary(&h, approx);
	vd_qhist_free(&h);
	assert_int_equal(vd_summarize(v, n, exact), 0);
}

/* Below 8192 ns every value has its own bucket: the same numbers as vd_summarize. */
static void small_values_are_exact(void **state)
{
	(void)state;
	vd_ns v[1001];
	srand(7);
	for (size_t i = 0; i < 1001; i++)
		v[i] = (vd_ns)(rand() % 16000) - 8000;
	struct vd_summary e, a;
	for (size_t n = 1; n <= 1001; n += 250) {
		summarize_both(v, n, &e, &a);
		assert_int_equal(a.n, e.n);
		assert_int_equal(a.min, e.min);
		assert_int_equal(a.max, e.max);
		assert_int_equal(a.median, e.median);
		assert_int_equal(a.p99, e.p99);
		assert_true(fabs(a.mean - e.mean) < 1e-6);
	}
}

/* Above, within the bucket width: 2^-12 of the value. */
static void large_values_within_precision(void **state)
{
	(void)state;
	size_t n = 100000;
	vd_ns *v = malloc(n * sizeof(*v));
	assert_non_null(v);
	srand(11);
	for (size_t i = 0; i < n; i++)
		v[i] = 20000 + (vd_ns)(rand() % 5000000) + (i % 1000 == 0 ? 900000000 : 0);
	v[5] = VD_NS_NONE;
	struct vd_summary e, a;
	summarize_both(v, n, &e, &a);
	assert_int_equal(a.n, e.n);
	assert_int_equal(a.min, e.min);
	assert_int_equal(a.max, e.max);
	assert_true(llabs(a.median - e.median) <= e.median / 4096 + 1);
	assert_true(llabs(a.p99 - e.p99) <= e.p99 / 4096 + 1);
	free(v);
}

static void extremes_and_empty(void **state)
{
	(void)state;
	vd_ns v[] = {INT64_MAX, INT64_MIN + 1, 0, -1, 1};
	struct vd_summary e, a;
	summarize_both(v, 5, &e, &a);
	assert_int_equal(a.median, e.median);
	assert_int_equal(a.min, e.min);
	assert_int_equal(a.max, e.max);
	struct vd_qhist h;
	vd_qhist_init(&h);
	vd_qhist_summary(&h, &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.median, VD_NS_NONE);
	vd_qhist_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(small_values_are_exact),
	    cmocka_unit_test(large_values_within_precision),
	    cmocka_unit_test(extremes_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
