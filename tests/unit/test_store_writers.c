/* Unit tests: many processes writing into one store file at once (new file and existing one),
 * and a writer that must wait long for another's lock. Real processes (fork), a real file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "storeutil.h"
#include "testutil.h"
#include "vmdelay/store/store.h"

#define WRITERS 8
#define PROBES 300

/* One writer process: a whole run, committing small batches so writers interleave. Exit 0 on
 * success; the message on stderr otherwise. */
static void writer(const char *path, int who)
{
	struct vd_err err;
	struct vd_store *st;
	char label[32];
	snprintf(label, sizeof(label), "writer-%d", who);
	struct vd_run_info info = {.tool = "tping", .testbed = "unit", .label = label};
	int64_t run;
	if (vd_store_open(path, &st, &err) || vd_store_begin_run(st, &info, &run, &err)) {
		fprintf(stderr, "writer %d: %s\n", who, err.msg);
		vd_store_close(st);
		_exit(1);
	}
	vd_store_set_batch_interval(st, VD_NS_PER_MS);
	for (uint32_t i = 0; i < PROBES; i++) {
		struct vd_probe p;
		vd_probe_init(&p, i);
		p.user_tx = i;
		if (vd_store_add_probe(st, run, &p, &err)) {
			fprintf(stderr, "writer %d: %s\n", who, err.msg);
			_exit(1);
		}
	}
	if (vd_store_end_run(st, run, 1, &err)) {
		fprintf(stderr, "writer %d: %s\n", who, err.msg);
		_exit(1);
	}
	vd_store_close(st);
	_exit(0);
}

static void run_writers(const char *path)
{
	pid_t pids[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			writer(path, i);
	}
	int failed = 0;
	for (int i = 0; i < WRITERS; i++) {
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	assert_int_equal(failed, 0);
}

static void eight_writers_into_new_then_existing_store(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("many.db"));
	run_writers(p);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM runs WHERE complete = 1"),
			 WRITERS);
	assert_int_equal(storeutil_query(p, "SELECT count(DISTINCT label) FROM runs"), WRITERS);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM probes"), WRITERS * PROBES);
	run_writers(p);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM runs WHERE complete = 1"),
			 2 * WRITERS);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM probes"), 2 * WRITERS * PROBES);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM testbeds"), 1);
}

/* Holds the store's write lock for `seconds` in this process while a child writes a run; the
 * child's exit status. */
static int write_while_locked(const char *path, int seconds, const char *wait_limit)
{
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(path, &st, &err), 0);
	vd_store_close(st);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3_close_v2(
		    db); /* not used in the child; closing does not unlock the parent */
		if (wait_limit)
			setenv("VMDELAY_STORE_WAIT_S", wait_limit, 1);
		struct vd_run_info info = {.tool = "tping"};
		int64_t run;
		if (vd_store_open(path, &st, &err) || vd_store_begin_run(st, &info, &run, &err) ||
		    vd_store_end_run(st, run, 1, &err)) {
			vd_store_close(st);
			/* The message says which file and why. */
			_exit(strstr(err.msg, path) && strstr(err.msg, "still locked") ? 3 : 1);
		}
		vd_store_close(st);
		_exit(0);
	}
	sleep((unsigned)seconds);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void writer_waits_more_than_five_seconds(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("wait.db"));
	assert_int_equal(write_while_locked(p, 7, NULL), 0);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM runs WHERE complete = 1"), 1);
}

static void writer_gives_up_at_its_limit_with_a_message(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s", testutil_tmp("giveup.db"));
	assert_int_equal(write_while_locked(p, 3, "1"), 3);
	assert_int_equal(storeutil_query(p, "SELECT count(*) FROM runs"), 0);
}

/* The first value of sql on the PostgreSQL database url. */
static int64_t pg_query(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* The same eight writers into a PostgreSQL database (VMDELAY_TEST_PG, an empty database on a
 * server tests/e2e/store_pg_netns.sh starts); skipped without it. */
static void eight_writers_into_postgresql(void **state)
{
	(void)state;
	const char *url = getenv("VMDELAY_TEST_PG");
	if (!url)
		skip();
	run_writers(url);
	assert_int_equal(pg_query(url, "SELECT count(*) FROM runs WHERE complete = 1"), WRITERS);
	assert_int_equal(pg_query(url, "SELECT count(*) FROM probes"), WRITERS * PROBES);
	run_writers(url);
	assert_int_equal(pg_query(url, "SELECT count(*) FROM runs WHERE complete = 1"),
			 2 * WRITERS);
	assert_int_equal(pg_query(url, "SELECT count(*) FROM probes"), 2 * WRITERS * PROBES);
	assert_int_equal(pg_query(url, "SELECT count(*) FROM testbeds"), 1);
	/* The probes come back as written. */
	struct vd_err err;
	struct vd_store *st;
	assert_int_equal(vd_store_open(url, &st, &err), 0);
	struct vd_probe *p;
	size_t n;
	assert_int_equal(vd_store_load_probes(st, 1, &p, &n, &err), 0);
	assert_int_equal(n, PROBES);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p[i].seq, i);
		assert_int_equal(p[i].user_tx, (vd_ns)i);
		assert_int_equal(p[i].kernel_rx, VD_NS_NONE);
	}
	free(p);
	vd_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(eight_writers_into_new_then_existing_store),
	    cmocka_unit_test(writer_waits_more_than_five_seconds),
	    cmocka_unit_test(writer_gives_up_at_its_limit_with_a_message),
	    cmocka_unit_test(eight_writers_into_postgresql),
	};
	return cmocka_run_group_tests(tests, testutil_setup, testutil_teardown);
}
