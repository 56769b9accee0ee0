/* Unit tests: lib/core/units.c — the numbers of the command lines: what is taken, and that
 * hex floats, infinities, NaN, blanks, signs, trailing characters and overflow are refused. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmdelay/core/units.h"

/* Texts strtod would take (and some it would not) that no number option should. */
static const char *const not_decimal[] = {
    "",	   " 5",     "5 ", "+5", "-5", "0x10",	"0x1p-3", "0X1P3", "inf",   "INF",    "infinity",
    "nan", "NAN(1)", ".",  "e5", "1e", "1.2.3", "1,5",	  "5x",	   "1e400", "1e-400", "٣",
};

static void whole_numbers(void **state)
{
	long long n;
	assert_int_equal(vd_units_parse_int("5001", 1, 65535, &n), 0);
	assert_int_equal(n, 5001);
	assert_int_equal(vd_units_parse_int("-3", -5, 5, &n), 0);
	assert_int_equal(n, -3);
	assert_int_equal(vd_units_parse_int("007", 0, 9, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(vd_units_parse_int("0", 1, 65535, &n), -1);
	assert_int_equal(vd_units_parse_int("65536", 1, 65535, &n), -1);
	assert_int_equal(vd_units_parse_int("", 0, 9, &n), -1);
	assert_int_equal(vd_units_parse_int(" 5", 0, 9, &n), -1);
	assert_int_equal(vd_units_parse_int("+5", 0, 9, &n), -1);
	assert_int_equal(vd_units_parse_int("5x", 0, 9, &n), -1);
	assert_int_equal(vd_units_parse_int("0x5", 0, 9, &n), -1);
	assert_int_equal(vd_units_parse_int("5.0", 0, 9, &n), -1);
	assert_int_equal(vd_units_parse_int("-", -9, 9, &n), -1);
	assert_int_equal(vd_units_parse_int("99999999999999999999", 0, LLONG_MAX, &n), -1);
	assert_int_equal(vd_units_parse_int("9223372036854775807", 0, LLONG_MAX, &n), 0);
	assert_int_equal(vd_units_parse_int(NULL, 0, 9, &n), -1);
}

static void decimals(void **state)
{
	double v;
	assert_int_equal(vd_units_parse_decimal("2", &v), 0);
	assert_true(v == 2);
	assert_int_equal(vd_units_parse_decimal("0.25", &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(vd_units_parse_decimal(".5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(vd_units_parse_decimal("5.", &v), 0);
	assert_true(v == 5);
	assert_int_equal(vd_units_parse_decimal("1e-3", &v), 0);
	assert_true(v == 1e-3);
	assert_int_equal(vd_units_parse_decimal("2.5E+2", &v), 0);
	assert_true(v == 250);
	for (size_t i = 0; i < sizeof(not_decimal) / sizeof(not_decimal[0]); i++)
		if (vd_units_parse_decimal(not_decimal[i], &v) == 0)
			fail_msg("'%s' was taken as a decimal (%g)", not_decimal[i], v);
	assert_int_equal(vd_units_parse_decimal(NULL, &v), -1);
}

static void durations(void **state)
{
	vd_ns t;
	assert_int_equal(vd_units_parse_duration("0.25", &t), 0);
	assert_int_equal(t, 250000000);
	assert_int_equal(vd_units_parse_duration("100us", &t), 0);
	assert_int_equal(t, 100000);
	assert_int_equal(vd_units_parse_duration("2ms", &t), 0);
	assert_int_equal(t, 2000000);
	assert_int_equal(vd_units_parse_duration("10ns", &t), 0);
	assert_int_equal(t, 10);
	assert_int_equal(vd_units_parse_duration("30s", &t), 0);
	assert_int_equal(t, 30 * VD_NS_PER_SEC);
	assert_int_equal(vd_units_parse_duration("1e3ms", &t), 0);
	assert_int_equal(t, VD_NS_PER_SEC);
	assert_int_equal(vd_units_parse_duration("0", &t), 0);
	assert_int_equal(t, 0);
	/* 9.2e9 s is the most a vd_ns holds (and a little less) */
	assert_int_equal(vd_units_parse_duration("9.2e9", &t), 0);
	assert_int_equal(vd_units_parse_duration("9.3e9", &t), -1);
	assert_int_equal(vd_units_parse_duration("1x", &t), -1);
	assert_int_equal(vd_units_parse_duration("1 s", &t), -1);
	assert_int_equal(vd_units_parse_duration("1sec", &t), -1);
	assert_int_equal(vd_units_parse_duration("0x1p-3s", &t), -1);
	assert_int_equal(vd_units_parse_duration("infms", &t), -1);
	for (size_t i = 0; i < sizeof(not_decimal) / sizeof(not_decimal[0]); i++)
		if (vd_units_parse_duration(not_decimal[i], &t) == 0)
			fail_msg("'%s' was taken as a duration (%lld ns)", not_decimal[i],
				 (long long)t);
}

static void rates(void **state)
{
	double bps;
	assert_int_equal(vd_units_parse_rate("100Mbit", &bps), 0);
	assert_true(bps == 100e6);
	/* Rajasekaran et al.: 1500-byte frames at 100 Mbit/s take 0.12 ms. */
	assert_int_equal(vd_units_tx_time(1500, bps), 120 * VD_NS_PER_US);
	assert_int_equal(vd_units_parse_rate("1Gbps", &bps), 0);
	assert_true(bps == 1e9);
	assert_int_equal(vd_units_parse_rate("2.5G", &bps), 0);
	assert_true(bps == 2.5e9);
	assert_int_equal(vd_units_parse_rate("64000", &bps), 0);
	assert_true(bps == 64000);
	assert_int_equal(vd_units_parse_rate("fast", &bps), -1);
	assert_int_equal(vd_units_parse_rate("-5M", &bps), -1);
	assert_int_equal(vd_units_parse_rate("0", &bps), -1);
	assert_int_equal(vd_units_parse_rate("0x1p20bit", &bps), -1);
	assert_int_equal(vd_units_parse_rate("infM", &bps), -1);
	assert_int_equal(vd_units_parse_rate("100 Mbit", &bps), -1);
	assert_int_equal(vd_units_parse_rate("100Mbitx", &bps), -1);
	/* a positive rate so small that one frame's time is no longer a vd_ns */
	assert_int_equal(vd_units_parse_rate("1e-300", &bps), -1);
	assert_int_equal(vd_units_parse_rate("1e300T", &bps), -1);
	assert_int_equal(vd_units_parse_rate("1bit/s", &bps), 0);
	assert_true(vd_units_tx_time(65536, bps) > 0);
	for (size_t i = 0; i < sizeof(not_decimal) / sizeof(not_decimal[0]); i++)
		if (vd_units_parse_rate(not_decimal[i], &bps) == 0)
			fail_msg("'%s' was taken as a rate (%g)", not_decimal[i], bps);
}

static void sizes(void **state)
{
	uint64_t b, c;
	assert_int_equal(vd_units_parse_bytes("100KB", &b), 0);
	assert_int_equal(b, 102400);
	assert_int_equal(vd_units_parse_bytes("1500", &b), 0);
	assert_int_equal(b, 1500);
	assert_int_equal(vd_units_parse_bytes("2MiB", &b), 0);
	assert_int_equal(b, 2 << 20);
	assert_int_equal(vd_units_parse_bytes("0", &b), -1);
	assert_int_equal(vd_units_parse_bytes("12Q", &b), -1);
	assert_int_equal(vd_units_parse_bytes(" 12", &b), -1);
	assert_int_equal(vd_units_parse_bytes("+12", &b), -1);
	assert_int_equal(vd_units_parse_bytes("0x12", &b), -1);
	assert_int_equal(vd_units_parse_bytes("1.5K", &b), -1);
	assert_int_equal(vd_units_parse_bytes("99999999999999999999", &b), -1);
	assert_int_equal(vd_units_parse_bytes("2000000G", &b), -1);
	assert_int_equal(vd_units_parse_repeat("1000x100KB", &c, &b), 0);
	assert_int_equal(c, 1000);
	assert_int_equal(b, 102400);
	assert_int_equal(vd_units_parse_repeat("x100KB", &c, &b), -1);
	assert_int_equal(vd_units_parse_repeat("10", &c, &b), -1);
	assert_int_equal(vd_units_parse_repeat("-1x10", &c, &b), -1);
	assert_int_equal(vd_units_parse_repeat("100000001x10", &c, &b), -1);
	assert_int_equal(vd_units_parse_repeat("0x10x10", &c, &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(whole_numbers), cmocka_unit_test(decimals),
	    cmocka_unit_test(durations),     cmocka_unit_test(rates),
	    cmocka_unit_test(sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
