/* Unit tests: tping's cells (lib/input/tping_rows.c): a number cell is taken exactly as strtoll
 * takes it whole (the digits summed in the fast path, signs, spaces and overflow through
 * strtoll), then checked against the column's range. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "input/tping_rows.h"
#include "vmdelay/input/echo.h"

/* What vd_tping_cell_set must give for text in a time column: strtoll whole, in range. */
static int reference_ts(const char *text, long long *v)
{
	char *end;
	errno = 0;
	*v = strtoll(text, &end, 10);
	return *end || errno || end == text || !vd_echo_ts_ok((vd_ns)*v) ? -1 : 0;
}

static void numbers_as_strtoll_takes_them(void **state)
{
	(void)state;
	static const char *const cells[] = {
	    "0",
	    "7",
	    "00012",
	    "1700000000123456789",
	    "9223372036854775807",
	    "9223372036854775808",
	    "99999999999999999999",
	    "12345678901234567890",
	    "+5",
	    " 5",
	    "-1",
	    "5 ",
	    "5x",
	    "x",
	    "1e9",
	    "0x10",
	    "999999999999999999",
	    "1000000000000000000",
	};
	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		struct vd_probe p;
		long long want;
		vd_probe_init(&p, 0);
		int rc = vd_tping_cell_set(&p, VD_TPING_COL_USER_TX, cells[i]);
		int ref = reference_ts(cells[i], &want);
		print_message("cell '%s': %d (strtoll: %d)\n", cells[i], rc, ref);
		assert_int_equal(rc, ref);
		if (rc == 0)
			assert_int_equal(p.user_tx, want);
	}
	/* seq: 0 .. UINT32_MAX */
	struct vd_probe p;
	vd_probe_init(&p, 0);
	assert_int_equal(vd_tping_cell_set(&p, VD_TPING_COL_SEQ, "4294967295"), 0);
	assert_int_equal(p.seq, UINT32_MAX);
	assert_int_equal(vd_tping_cell_set(&p, VD_TPING_COL_SEQ, "4294967296"), -1);
	assert_int_equal(vd_tping_cell_set(&p, VD_TPING_COL_SEQ, "null"), -1);
	assert_int_equal(vd_tping_cell_set(&p, VD_TPING_COL_HW_RX, "null"), 0);
	assert_int_equal(vd_tping_cell_set(&p, VD_TPING_COL_HW_RX, "nul"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(numbers_as_strtoll_takes_them),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
