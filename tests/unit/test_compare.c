/* Unit tests: lib/store/compare.c on a real SQLite file filled through the store — grouping by
 * testbed, scenario and load, the median over runs, filters, incomplete runs ignored, bad --by. */
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

#include "vmdelay/store/compare.h"
#include "vmdelay/store/store.h"

static char dir[] = "/tmp/vd-compare-XXXXXX";
static char path[256];

/* Stores one complete run with delta_kern and delta_user results (median m, p99 p). */
static void add_run(struct vd_store *st, const char *testbed, const char *scenario,
		    const char *load, double m_kern, double p_kern, double m_user, double p_user,
		    int complete)
{
	struct vd_err err;
	struct vd_run_info info = {.tool = "vmdelay-analyze",
				   .testbed = testbed,
				   .scenario = scenario,
				   .label = "unit",
				   .start_ns = 1};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
	if (load)
		assert_int_equal(vd_store_add_meta(st, run, "load", load, &err), 0);
	assert_int_equal(vd_store_add_result(st, run, "guest", "delta_kern", "load", "rtt",
					     "median_ns", m_kern, &err),
			 0);
	assert_int_equal(vd_store_add_result(st, run, "guest", "delta_kern", "load", "rtt",
					     "p99_ns", p_kern, &err),
			 0);
	/* Not a median or p99: never in the comparison. */
	assert_int_equal(vd_store_add_result(st, run, "guest", "delta_kern", "load", "rtt",
					     "mean_ns", 1e9, &err),
			 0);
	assert_int_equal(vd_store_add_result(st, run, "tping", "delta_user", "load", "rtt",
					     "median_ns", m_user, &err),
			 0);
	assert_int_equal(vd_store_add_result(st, run, "tping", "delta_user", "load", "rtt",
					     "p99_ns", p_user, &err),
			 0);
	assert_int_equal(vd_store_add_result(st, run, "tping", "delta_user", "rest-pre", "rtt",
					     "median_ns", 5, &err),
			 0);
	if (complete)
		assert_int_equal(vd_store_end_run(st, run, 2, &err), 0);
	else
		vd_store_abort_run(st);
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/vd-compare-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/cmp.db", dir);
	struct vd_err err;
	struct vd_store *st;
	if (vd_store_open(path, &st, &err))
		return -1;
	/* netns / whiteaker / cpu: three runs, medians 100, 300, 200 -> 200. */
	add_run(st, "netns", "whiteaker", "cpu", 100, 1000, 10, 20, 1);
	add_run(st, "netns", "whiteaker", "cpu", 300, 3000, 30, 40, 1);
	add_run(st, "netns", "whiteaker", "cpu", 200, 2000, 20, 30, 1);
	/* netns / whiteaker / io: one run. */
	add_run(st, "netns", "whiteaker", "io", 400, 4000, 40, 50, 1);
	/* qemu / whiteaker / cpu: two runs, medians 1000 and 2000 -> 1500. */
	add_run(st, "qemu", "whiteaker", "cpu", 1000, 9000, 100, 200, 1);
	add_run(st, "qemu", "whiteaker", "cpu", 2000, 11000, 300, 400, 1);
	/* An aborted run is absent; a run without a load key groups under ''. */
	add_run(st, "qemu", "whiteaker", "cpu", 1e12, 1e12, 1e12, 1e12, 0);
	add_run(st, "qemu", "dantas", NULL, 7, 8, 9, 10, 1);
	vd_store_close(st);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct vd_compare *query(const char *by, const char *metric, const char *phase)
{
	struct vd_err err;
	struct vd_compare_opts opts = {.metric = metric, .phase = phase};
	assert_int_equal(vd_compare_parse_by(by, &opts, &err), 0);
	struct vd_store *st;
	assert_int_equal(vd_store_open_readonly(path, &st, &err), 0);
	struct vd_compare *c;
	int rc = vd_compare_query(st, &opts, &c, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	vd_store_close(st);
	return c;
}

static size_t find_row(const struct vd_compare *c, const char *metric, const char *phase)
{
	for (size_t r = 0; r < c->nrows; r++)
		if (!strcmp(c->rows[r].metric, metric) && !strcmp(c->rows[r].phase, phase))
			return r;
	fail_msg("row %s/%s missing", metric, phase);
	return 0;
}

static void groups_by_testbed_scenario_load(void **state)
{
	struct vd_compare *c = query("testbed,scenario,load", NULL, NULL);
	assert_int_equal(c->ngroups, 4);
	char name[128];
	const char *want[] = {"netns/whiteaker/cpu", "netns/whiteaker/io", "qemu/whiteaker/cpu",
			      "qemu/dantas/-"};
	const size_t runs[] = {3, 1, 2, 1};
	for (size_t g = 0; g < 4; g++) {
		vd_compare_group_name(c, g, name, sizeof(name));
		assert_string_equal(name, want[g]);
		assert_int_equal(c->group_runs[g], runs[g]);
	}
	/* Rows: delta_kern/load, delta_user/load, delta_user/rest-pre. */
	assert_int_equal(c->nrows, 3);
	size_t kern = find_row(c, "delta_kern", "load");
	assert_string_equal(c->rows[kern].vantage, "guest");
	assert_string_equal(c->rows[kern].direction, "rtt");
	const struct vd_compare_cell *cell = vd_compare_cell(c, kern, 0);
	assert_int_equal(cell->runs, 3);
	assert_int_equal(cell->median, 200);
	assert_int_equal(cell->p99, 2000);
	cell = vd_compare_cell(c, kern, 2);
	assert_int_equal(cell->runs, 2);
	assert_int_equal(cell->median, 1500);
	assert_int_equal(cell->p99, 10000);
	size_t user = find_row(c, "delta_user", "load");
	assert_int_equal(vd_compare_cell(c, user, 1)->median, 40);
	assert_int_equal(vd_compare_cell(c, user, 3)->p99, 10);
	/* rest-pre has a median but no p99. */
	size_t rest = find_row(c, "delta_user", "rest-pre");
	assert_int_equal(vd_compare_cell(c, rest, 0)->median, 5);
	assert_false(vd_ns_valid(vd_compare_cell(c, rest, 0)->p99));
	vd_compare_free(c);
}

static void groups_by_testbed_only(void **state)
{
	struct vd_compare *c = query("testbed", NULL, NULL);
	assert_int_equal(c->ngroups, 2);
	assert_int_equal(c->group_runs[0], 4);
	assert_int_equal(c->group_runs[1], 3);
	/* netns medians of delta_kern: 100, 300, 200, 400 -> 250. */
	size_t kern = find_row(c, "delta_kern", "load");
	assert_int_equal(vd_compare_cell(c, kern, 0)->median, 250);
	/* qemu: 1000, 2000, 7 -> 1000; the aborted run's 1e12 is not there. */
	assert_int_equal(vd_compare_cell(c, kern, 1)->median, 1000);
	vd_compare_free(c);
}

static void filters(void **state)
{
	struct vd_compare *c = query("run", "delta_k*", NULL);
	assert_int_equal(c->nrows, 1);
	assert_string_equal(c->rows[0].metric, "delta_kern");
	assert_int_equal(c->ngroups, 7);
	vd_compare_free(c);
	c = query("testbed", NULL, "rest-pre");
	assert_int_equal(c->nrows, 1);
	assert_string_equal(c->rows[0].phase, "rest-pre");
	vd_compare_free(c);
	/* SQLite's GLOB classes and '?' (now matched in C for both backends) */
	c = query("run", "delta_[k]er?", NULL);
	assert_int_equal(c->nrows, 1);
	assert_string_equal(c->rows[0].metric, "delta_kern");
	vd_compare_free(c);
	c = query("testbed", "delta_[^k]*", NULL);
	assert_int_equal(c->nrows, 2);
	assert_string_equal(c->rows[0].metric, "delta_user");
	vd_compare_free(c);
	c = query("testbed", "no_such_metric", NULL);
	assert_int_equal(c->nrows, 0);
	assert_int_equal(c->ngroups, 0);
	vd_compare_free(c);
}

static void bad_by(void **state)
{
	struct vd_err err;
	struct vd_compare_opts opts = {0};
	assert_int_equal(vd_compare_parse_by("testbed,bo gus", &opts, &err), -1);
	assert_non_null(strstr(err.msg, "bo gus"));
	assert_int_equal(vd_compare_parse_by("testbed,testbed", &opts, &err), -1);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(vd_compare_parse_by("", &opts, &err), -1);
	assert_int_equal(vd_compare_parse_by("load,", &opts, &err), -1);
	assert_int_equal(vd_compare_parse_by("label,run,load", &opts, &err), 0);
	assert_int_equal(opts.nby, 3);
	assert_int_equal(opts.by[0], VD_CMP_LABEL);
	assert_int_equal(opts.by[2], VD_CMP_LOAD);
}

static void not_a_vmdelay_db(void **state)
{
	char other[300];
	snprintf(other, sizeof(other), "%s/other.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE x(y)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* refused on opening, before any query: the message names the file */
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open_readonly(other, &st, &err), -1);
	assert_non_null(strstr(err.msg, "other.db"));
	assert_non_null(strstr(err.msg, "not a vmdelay store"));
}

/* The load key of a run without a 'load' row falls back on params' "load", read in C: the same
 * text as SQLite's json_extract gives (asked of SQLite itself here), whatever the JSON holds. */
static void load_from_params(void **state)
{
	static const char *const params[] = {
	    "{\"load\":\"mem\"}",
	    "{\"load\":3}",
	    "{\"load\":2.5}",
	    "{\"load\":1e20}",
	    "{\"load\":-0.125}",
	    "{\"load\":true}",
	    "{\"load\":false}",
	    "{\"load\":null}",
	    "{\"load\":[1,\"a\"]}",
	    "{\"load\":{\"x\":1}}",
	    "{oops",
	    "[1]",
	    "{\"other\":1}",
	};
	const size_t n = sizeof(params) / sizeof(params[0]);
	char p2[300];
	snprintf(p2, sizeof(p2), "%s/params.db", dir);
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(p2, &st, &err), 0);
	for (size_t i = 0; i <= n; i++) {
		struct vd_run_info info = {
		    .tool = "t", .start_ns = 1, .params_json = i < n ? params[i] : NULL};
		int64_t run;
		assert_int_equal(vd_store_begin_run(st, &info, &run, &err), 0);
		assert_int_equal(
		    vd_store_add_result(st, run, "v", "m", "p", "rtt", "median_ns", 1, &err), 0);
		assert_int_equal(vd_store_end_run(st, run, 2, &err), 0);
	}
	vd_store_close(st);
	struct vd_compare_opts opts = {0};
	assert_int_equal(vd_compare_parse_by("run,load", &opts, &err), 0);
	struct vd_compare *c;
	assert_int_equal(vd_store_open_readonly(p2, &st, &err), 0);
	assert_int_equal(vd_compare_query(st, &opts, &c, &err), 0);
	vd_store_close(st);
	assert_int_equal(c->ngroups, n + 1);
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(p2, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (size_t g = 0; g < c->ngroups; g++) {
		sqlite3_stmt *s;
		assert_int_equal(
		    sqlite3_prepare_v2(db,
				       "SELECT COALESCE(CASE WHEN json_valid(params) THEN"
				       " json_extract(params, '$.load') END, '')"
				       " FROM runs WHERE id = ?",
				       -1, &s, NULL),
		    SQLITE_OK);
		sqlite3_bind_text(s, 1, c->group_keys[g][0], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_string_equal(c->group_keys[g][1], (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	vd_compare_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(groups_by_testbed_scenario_load),
	    cmocka_unit_test(groups_by_testbed_only),
	    cmocka_unit_test(filters),
	    cmocka_unit_test(bad_by),
	    cmocka_unit_test(load_from_params),
	    cmocka_unit_test(not_a_vmdelay_db),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
