/* Unit tests: tping's JSON lines parsed with jansson (lib/input/tping_json.c) — a line into a
 * probe, what is refused, and the rows of a file with the line of the damage named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "input/tping_json.h"
#include "testutil.h"

static int line(const char *s, struct vd_probe *p)
{
	return vd_tping_json_line(s, strlen(s), p);
}

static void a_full_line(void **state)
{
	struct vd_probe p;
	assert_int_equal(line("{\"seq\": 70000, \"phase\": \"rest-post\", \"status\": \"late\", "
			      "\"user_tx_ns\": 1000, \"kernel_tx_ns\": null, \"hw_rx_ns\": 1500, "
			      "\"size\": 64, \"extra\": {\"nested\": [1, true]}}\n",
			      &p),
			 1);
	assert_int_equal(p.seq, 70000);
	assert_int_equal(p.phase, VD_PHASE_REST_POST);
	assert_int_equal(p.status, VD_PROBE_LATE);
	assert_int_equal(p.user_tx, 1000);
	assert_false(vd_ns_valid(p.kernel_tx));
	assert_int_equal(p.hw_rx, 1500);
}

static void missing_phase_is_minus_one_and_blank_lines_skip(void **state)
{
	struct vd_probe p;
	assert_int_equal(line("{\"seq\":\"5\",\"user_rx_ns\":\"7\"}", &p), 1);
	assert_int_equal(p.seq, 5);
	assert_int_equal((int)p.phase, -1);
	assert_int_equal(p.user_rx, 7);
	assert_int_equal(line(" \t\r\n", &p), 0);
}

static void refused(void **state)
{
	struct vd_probe p;
	static const char *const bad[] = {
	    "{\"user_tx_ns\": 1}",		  /* no seq */
	    "{\"seq\": null}",			  /* seq missing */
	    "{\"seq\": true}",			  /* not a number */
	    "{\"seq\": 1.5}",			  /* not an integer */
	    "{\"seq\": -1}",			  /* out of range */
	    "{\"seq\": 1, \"user_tx_ns\": -5}",	  /* a time before 1970 */
	    "{\"seq\": 1, \"phase\": \"lunch\"}", /* unknown phase */
	    "{\"seq\": 1",			  /* cut */
	    "[1, 2]",				  /* not an object */
	    "{\"seq\": 1} {\"seq\": 2}",	  /* two objects on a line */
	    "{\"seq\": 99999999999999999999999}", /* too big for any integer */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(line(bad[i], &p), -1);
}

static void file_rows_and_the_damaged_line(void **state)
{
	const char *path = testutil_tmp("run.json");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"seq\":1,\"user_tx_ns\":10}\n\n{\"seq\":2,\"user_tx_ns\":20}\n{\"seq\":3,\n", f);
	fclose(f);
	struct vd_tping_rows *r;
	struct vd_err err;
	assert_int_equal(vd_tping_json_open(path, &r, &err), 0);
	struct vd_probe p;
	assert_int_equal(r->next(r, &p, &err), 1);
	assert_int_equal(p.seq, 1);
	assert_int_equal(r->next(r, &p, &err), 1);
	assert_int_equal(p.seq, 2);
	assert_int_equal(r->next(r, &p, &err), -1);
	assert_non_null(strstr(err.msg, "run.json: line 4:"));
	r->close(r);
	assert_int_equal(vd_tping_json_open(testutil_tmp("none.json"), &r, &err), -1);
	assert_non_null(strstr(err.msg, "none.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_full_line),
	    cmocka_unit_test(missing_phase_is_minus_one_and_blank_lines_skip),
	    cmocka_unit_test(refused),
	    cmocka_unit_test(file_rows_and_the_damaged_line),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
