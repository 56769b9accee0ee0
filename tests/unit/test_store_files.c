/* Unit tests: the store's open on real SQLite files — a refused file (newer schema, another
 * program's SQLite file, not SQLite) is byte-identical afterwards and the message names the
 * file and what was found; readers never write; an old store is migrated by a writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../lib/store/store_schema.h"
#include "storeutil.h"
#include "testutil.h"
#include "vmdelay/store/store.h"

/* The whole file, malloc'd, for byte comparison. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)len + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return b;
}

static int exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A rollback-journal SQLite file made by "another program" with the given SQL. */
static void make_sqlite(const char *path, const char *sql)
{
	sqlite3 *db;
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Both opens refuse path, the message holding the path and `found`, and leave it as it was. */
static void assert_refused_untouched(const char *path, const char *found)
{
	size_t n0, n1;
	char *before = slurp(path, &n0);
	char side[300];
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, path));
	if (!strstr(err.msg, found))
		fail_msg("message '%s' does not say '%s'", err.msg, found);
	assert_int_equal(vd_store_open_readonly(path, &st, &err), -1);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, found));
	char *after = slurp(path, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	snprintf(side, sizeof(side), "%s-wal", path);
	assert_false(exists(side));
	snprintf(side, sizeof(side), "%s-journal", path);
	assert_false(exists(side));
	free(before);
	free(after);
}

static void newer_schema_is_refused_untouched(void **state)
{
	(void)state;
	const char *path = testutil_tmp("newer.db");
	char p[256];
	snprintf(p, sizeof(p), "%s", path);
	make_sqlite(p, "PRAGMA application_id = 1986872396; PRAGMA user_version = 99;"
		       "CREATE TABLE runs(id INTEGER PRIMARY KEY);");
	assert_refused_untouched(p, "schema version 99 is newer");
}

static void other_programs_sqlite_is_refused_untouched(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("other.db"));
	make_sqlite(p, "PRAGMA application_id = 305419896; CREATE TABLE t(x); INSERT INTO t"
		       " VALUES (1);");
	assert_refused_untouched(p, "application_id 0x12345678");
	/* No application_id, tables of its own, user_version 0: also someone else's. */
	make_sqlite(p, "CREATE TABLE photos(x); INSERT INTO photos VALUES (1);");
	assert_refused_untouched(p, "no vmdelay 'runs' table");
	/* A runs table of another program with its own user_version. */
	make_sqlite(p, "PRAGMA user_version = 7; CREATE TABLE t(x);");
	assert_refused_untouched(p, "no vmdelay 'runs' table");
}

static void not_sqlite_is_refused_untouched(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("junk.db"));
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 300; i++)
		fputs("this is not sqlite at all\n", f);
	fclose(f);
	assert_refused_untouched(p, "not an SQLite database");
}

/* A store as version 1 of the schema left it (no application_id, no runs.status, no
 * results.idx; two runs' results written interleaved). */
static void make_v1_store(const char *path)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = 1;");
	sqlite3 *db;
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, vd_store_migration(0), NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL;"
			 "INSERT INTO testbeds VALUES (1, 'old', 0);"
			 "INSERT INTO runs(id, testbed_id, tool, tool_version, complete)"
			 " VALUES (1, 1, 'tping', '0.1', 1), (2, 1, 'vmdelay-analyze', '0.1', 1);"
			 "INSERT INTO results VALUES (2, 'a', 'rtt', '', '', 'n', 1),"
			 " (1, 'a', 'rtt', '', '', 'n', 2), (2, 'b', 'rtt', '', '', 'n', 3),"
			 " (2, 'c', 'rtt', '', '', 'n', 4), (1, 'b', 'rtt', '', '', 'n', 5);",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void reader_never_migrates_writer_does(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("v1.db"));
	make_v1_store(p);
	size_t n0, n1;
	char *before = slurp(p, &n0);
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open_readonly(p, &st, &err), 0);
	struct vd_run_info info = {.tool = "tping"};
	int64_t run;
	assert_int_equal(vd_store_begin_run(st, &info, &run, &err), -1);
	assert_non_null(strstr(err.msg, "read-only"));
	vd_store_close(st);
	char *after = slurp(p, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
	assert_int_equal(storeutil_query(p, "PRAGMA user_version"), 1);

	assert_int_equal(vd_store_open(p, &st, &err), 0);
	vd_store_close(st);
	assert_int_equal(storeutil_query(p, "PRAGMA user_version"), vd_store_schema_version());
	assert_int_equal(storeutil_query(p, "PRAGMA application_id"), 0x766d444c);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM runs WHERE status = 'complete'"),
			 2);
	/* results numbered within their run in the order they were stored: 0, 1, 2 and 0, 1 */
	assert_int_equal(
	    storeutil_query(p, "SELECT sum(idx * value) FROM results WHERE run_id = 2"),
	    0 * 1 + 1 * 3 + 2 * 4);
	assert_int_equal(
	    storeutil_query(p, "SELECT sum(idx * value) FROM results WHERE run_id = 1"),
	    0 * 2 + 1 * 5);
}

static void new_store_has_application_id(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("new.db"));
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(p, &st, &err), 0);
	vd_store_close(st);
	assert_int_equal(storeutil_query(p, "PRAGMA application_id"), 0x766d444c);
	assert_int_equal(storeutil_query(p, "PRAGMA user_version"), vd_store_schema_version());
	/* Opening again is not a refusal, and a reader opens it too. */
	assert_int_equal(vd_store_open(p, &st, &err), 0);
	vd_store_close(st);
	assert_int_equal(vd_store_open_readonly(p, &st, &err), 0);
	vd_store_close(st);
	/* A reader does not create a missing file. */
	snprintf(p, sizeof(p), "%s", testutil_tmp("missing.db"));
	assert_int_equal(vd_store_open_readonly(p, &st, &err), -1);
	assert_non_null(strstr(err.msg, p));
	assert_false(exists(p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(newer_schema_is_refused_untouched),
	    cmocka_unit_test(other_programs_sqlite_is_refused_untouched),
	    cmocka_unit_test(not_sqlite_is_refused_untouched),
	    cmocka_unit_test(reader_never_migrates_writer_does),
	    cmocka_unit_test(new_store_has_application_id),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
