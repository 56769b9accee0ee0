/* Unit tests: a run's --meta KEY=VALUE labels — parsing, stored in run_meta with the run on a
 * real SQLite file (and gone with an aborted run), and `compare --by KEY` grouping on them. */
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
#include "vmdelay/store/compare.h"
#include "vmdelay/store/run_meta.h"
#include "vmdelay/store/store.h"

/* The one text value of sql (a single row and column), in a buffer the next call overwrites. */
static const char *text_of(struct vd_store *st, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_prepare_v2(vd_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	const unsigned char *t = sqlite3_column_text(s, 0);
	snprintf(buf, sizeof(buf), "%s", t ? (const char *)t : "(null)");
	assert_int_equal(sqlite3_step(s), SQLITE_DONE);
	sqlite3_finalize(s);
	return buf;
}

static void parses_key_value(void **state)
{
	struct vd_meta_list l = {.n = 0};
	struct vd_err err;
	assert_int_equal(vd_meta_list_add(&l, "scenario.nic=e1000", &err), 0);
	assert_int_equal(vd_meta_list_add(&l, "note=a=b c", &err), 0); /* '=' in the value */
	assert_int_equal(vd_meta_list_add(&l, "empty=", &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.item[0].key, "scenario.nic");
	assert_string_equal(l.item[0].value, "e1000");
	assert_string_equal(l.item[1].key, "note");
	assert_string_equal(l.item[1].value, "a=b c");
	assert_string_equal(l.item[2].value, "");
}

static void refuses_bad_keys(void **state)
{
	struct vd_meta_list l = {.n = 0};
	struct vd_err err;
	assert_int_equal(vd_meta_list_add(&l, "novalue", &err), -1);
	assert_non_null(strstr(err.msg, "--meta"));
	assert_non_null(strstr(err.msg, "novalue"));
	assert_int_equal(vd_meta_list_add(&l, "=x", &err), -1);
	assert_int_equal(vd_meta_list_add(&l, "two words=x", &err), -1);
	assert_non_null(strstr(err.msg, "two words"));
	char longkey[VD_META_KEY_MAX + 8];
	memset(longkey, 'k', VD_META_KEY_MAX);
	strcpy(longkey + VD_META_KEY_MAX, "=x");
	assert_int_equal(vd_meta_list_add(&l, longkey, &err), -1);
	longkey[VD_META_KEY_MAX - 1] = '\0'; /* the longest key that fits */
	strcat(longkey, "=x");
	assert_int_equal(vd_meta_list_add(&l, longkey, &err), 0);
	assert_int_equal(vd_meta_list_add(&l, "load=cpu", &err), 0);
	assert_int_equal(vd_meta_list_add(&l, "load=io", &err), -1);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(l.n, 2);
}

static void refuses_too_many(void **state)
{
	struct vd_meta_list l = {.n = 0};
	struct vd_err err;
	static char args[VD_META_MAX + 1][16];
	for (int i = 0; i < VD_META_MAX; i++) {
		snprintf(args[i], sizeof(args[i]), "k%d=%d", i, i);
		assert_int_equal(vd_meta_list_add(&l, args[i], &err), 0);
	}
	assert_int_equal(vd_meta_list_add(&l, "one.more=x", &err), -1);
	assert_non_null(strstr(err.msg, "at most"));
	assert_int_equal(l.n, VD_META_MAX);
}

/* Stores one complete run of testbed tb with the given --meta labels and a delta result. */
static int64_t store_run(struct vd_store *st, const char *tb, const char *const *meta, size_t n,
			 double median)
{
	struct vd_meta_list l = {.n = 0};
	struct vd_err err;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(vd_meta_list_add(&l, meta[i], &err), 0);
	struct vd_run_info info = {.tool = "vmdelay-analyze",
				   .testbed = tb,
				   .scenario = "unit",
				   .meta = &l,
				   .start_ns = 1};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
	assert_int_equal(vd_store_add_result(st, run, "guest", "delta", "load", "rtt", "median_ns",
					     median, &err),
			 0);
	assert_int_equal(vd_store_end_run(st, run, 2, &err), 0);
	return run;
}

static void stored_with_the_run(void **state)
{
	const char *path = testutil_tmp("meta.db");
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), 0);
	const char *const meta[] = {"scenario.nic=e1000", "note=a=b", "clocksource=user"};
	int64_t run = store_run(st, "tb", meta, 3, 10);
	/* A key the tool stores itself wins over the user's. */
	struct vd_run_info info = {.tool = "tping", .meta = NULL};
	int64_t run2;
	struct vd_meta_list l = {.n = 0};
	assert_int_equal(vd_meta_list_add(&l, "clocksource=user", &err), 0);
	info.meta = &l;
	assert_int_equal(vd_store_begin_run(st, &info, &run2, &err), 0);
	assert_int_equal(vd_store_add_meta(st, run2, "clocksource", "tsc", &err), 0);
	assert_int_equal(vd_store_end_run(st, run2, 3, &err), 0);
	/* An aborted run leaves no metadata behind. */
	int64_t run3;
	assert_int_equal(vd_store_begin_run(st, &info, &run3, &err), 0);
	vd_store_abort_run(st);
	vd_store_close(st);

	assert_int_equal(vd_store_open(path, &st, &err), 0); /* as another process would see it */
	char sql[200];
	snprintf(sql, sizeof(sql),
		 "SELECT value FROM run_meta WHERE run_id = %lld AND key = "
		 "'scenario.nic'",
		 (long long)run);
	assert_string_equal(text_of(st, sql), "e1000");
	snprintf(sql, sizeof(sql),
		 "SELECT value FROM run_meta WHERE run_id = %lld AND key = 'note'", (long long)run);
	assert_string_equal(text_of(st, sql), "a=b");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM run_meta WHERE run_id = %lld",
		 (long long)run);
	assert_string_equal(text_of(st, sql), "3");
	snprintf(sql, sizeof(sql),
		 "SELECT value FROM run_meta WHERE run_id = %lld AND key = "
		 "'clocksource'",
		 (long long)run2);
	assert_string_equal(text_of(st, sql), "tsc");
	assert_string_equal(text_of(st, "SELECT count(*) FROM runs"), "2");
	assert_string_equal(text_of(st, "SELECT count(DISTINCT run_id) FROM run_meta"), "2");
	vd_store_close(st);
}

static void compare_groups_by_a_meta_key(void **state)
{
	const char *path = testutil_tmp("cmp.db");
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), 0);
	const char *const e1000[] = {"scenario.nic=e1000"}, *const virtio[] = {
								"scenario.nic=virtio"};
	store_run(st, "tb", e1000, 1, 10);
	store_run(st, "tb", virtio, 1, 100);
	store_run(st, "tb", e1000, 1, 30);
	store_run(st, "tb", NULL, 0, 1000); /* no such key: its own group, named '' */

	struct vd_compare_opts opts = {0};
	assert_int_equal(vd_compare_parse_by("testbed,scenario.nic", &opts, &err), 0);
	assert_int_equal(opts.by[1], VD_CMP_META);
	assert_string_equal(vd_compare_by_name(&opts, 1), "scenario.nic");
	assert_string_equal(vd_compare_by_name(&opts, 0), "testbed");
	assert_int_equal(vd_compare_check_by(st, &opts, &err), 0);
	struct vd_compare *c;
	assert_int_equal(vd_compare_query(st, &opts, &c, &err), 0);
	assert_int_equal(c->ngroups, 3);
	assert_int_equal(c->nrows, 1);
	char name[64];
	vd_compare_group_name(c, 0, name, sizeof(name));
	assert_string_equal(name, "tb/e1000");
	assert_int_equal(c->group_runs[0], 2);
	assert_int_equal(vd_compare_cell(c, 0, 0)->median, 20); /* median of 10 and 30 */
	vd_compare_group_name(c, 1, name, sizeof(name));
	assert_string_equal(name, "tb/virtio");
	assert_int_equal(vd_compare_cell(c, 0, 1)->median, 100);
	vd_compare_group_name(c, 2, name, sizeof(name));
	assert_string_equal(name, "tb/-");
	vd_compare_free(c);

	/* A key no run has is named; the same key twice is refused. */
	assert_int_equal(vd_compare_parse_by("scenario.nik", &opts, &err), 0);
	assert_int_equal(vd_compare_check_by(st, &opts, &err), -1);
	assert_non_null(strstr(err.msg, "scenario.nik"));
	assert_int_equal(vd_compare_parse_by("scenario.nic,load,scenario.nic", &opts, &err), -1);
	assert_non_null(strstr(err.msg, "twice"));
	vd_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_key_value),
	    cmocka_unit_test(refuses_bad_keys),
	    cmocka_unit_test(refuses_too_many),
	    cmocka_unit_test(stored_with_the_run),
	    cmocka_unit_test(compare_groups_by_a_meta_key),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
