/* Unit tests: vd_sort_ns on long series (the radix path) against qsort, with negatives, equal
 * high bytes, the extremes of int64 and VD_NS_NONE-free data; short series take qsort. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmdelay/core/stats.h"

static int cmp(const void *a, const void *b)
{
	vd_ns x = *(const vd_ns *)a, y = *(const vd_ns *)b;
	return (x > y) - (x < y);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void check(size_t n, int kind)
{
	vd_ns *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next();
		switch (kind) {
		case 0: /* epoch-like times: the high bytes are all equal */
			a[i] = INT64_C(1700000000000000000) + (vd_ns)(r % 1000000000);
			break;
		case 1: /* anything, negatives included */
			a[i] = (vd_ns)r;
			break;
		default: /* small deltas around zero, and the extremes */
			a[i] = (vd_ns)(r % 2001) - 1000;
			if (i % 997 == 0)
				a[i] = i % 2 ? INT64_MAX : INT64_MIN + 1;
		}
	}
	memcpy(b, a, n * sizeof(*a));
	vd_sort_ns(a, n);
	qsort(b, n, sizeof(*b), cmp);
	assert_memory_equal(a, b, n * sizeof(*a));
	free(a);
	free(b);
}

static void long_series_sort_like_qsort(void **state)
{
	for (int kind = 0; kind < 3; kind++) {
		check(100000, kind);
		check(4096, kind);
		check(4095, kind);
		check(7, kind);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(long_series_sort_like_qsort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
