/* Unit tests: the SQLite store on a real file — round trip, rollback, bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "testutil.h"
#include "vmdelay/store/store.h"

static int64_t count(struct vd_store *st, const char *sql)
{
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(vd_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void probes_round_trip(void **state)
{
	const char *path = testutil_tmp("rt.db");
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), 0);
	struct vd_run_info info = {.tool = "tping",
				   .testbed = "unit",
				   .label = "x",
				   .command_line = "tping -c 3",
				   .start_ns = 1};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
	struct vd_probe in[3];
	for (uint32_t i = 0; i < 3; i++) {
		vd_probe_init(&in[i], i + 1);
		in[i].user_tx = 1000 * i;
		in[i].kernel_rx = 1000 * i + 500;
		in[i].size = 108;
		in[i].phase = (enum vd_phase)i;
	}
	in[2].status = VD_PROBE_LOST;
	for (int i = 0; i < 3; i++)
		assert_int_equal(vd_store_add_probe(st, run, &in[i], &err), 0);
	assert_int_equal(vd_store_add_meta(st, run, "clocksource", "tsc", &err), 0);
	assert_int_equal(vd_store_end_run(st, run, 99, &err), 0);
	vd_store_close(st);

	assert_int_equal(vd_store_open(path, &st, &err), 0); /* reopen: no migration again */
	struct vd_probe *out;
	size_t n;
	assert_int_equal(vd_store_load_probes(st, run, &out, &n, &err), 0);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i].seq, in[i].seq);
		assert_int_equal(out[i].phase, in[i].phase);
		assert_int_equal(out[i].status, in[i].status);
		assert_int_equal(out[i].user_tx, in[i].user_tx);
		assert_int_equal(out[i].kernel_rx, in[i].kernel_rx);
		assert_int_equal(out[i].kernel_tx, VD_NS_NONE);
		assert_int_equal(out[i].size, 108);
		assert_int_equal(out[i].ttl, -1);
	}
	assert_int_equal(count(st, "SELECT complete FROM runs"), 1);
	assert_int_equal(count(st, "PRAGMA user_version"), vd_store_schema_version());
	free(out);
	vd_store_close(st);
}

static void aborted_run_leaves_nothing(void **state)
{
	const char *path = testutil_tmp("abort.db");
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), 0);
	struct vd_run_info info = {.tool = "tping"};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
	struct vd_probe p;
	vd_probe_init(&p, 1);
	assert_int_equal(vd_store_add_probe(st, run, &p, &err), 0);
	vd_store_abort_run(st);
	assert_int_equal(count(st, "SELECT count(*) FROM runs"), 0);
	assert_int_equal(count(st, "SELECT count(*) FROM probes"), 0);
	vd_store_close(st);
}

static void not_a_database_is_a_clear_error(void **state)
{
	const char *path = testutil_tmp("junk.db");
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 200; i++)
		fputs("this is not sqlite at all\n", f);
	fclose(f);
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, path));
}

static void unwritable_path_is_a_clear_error(void **state)
{
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open("/nonexistent-dir/x.db", &st, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/x.db"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(probes_round_trip),
	    cmocka_unit_test(aborted_run_leaves_nothing),
	    cmocka_unit_test(not_a_database_is_a_clear_error),
	    cmocka_unit_test(unwritable_path_is_a_clear_error),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
