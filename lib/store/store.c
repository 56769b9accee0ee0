/* store.c — opening, migrating and writing runs to the SQLite store. */
#include "vmdelay/store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vmdelay/core/mem.h"

#include "store_schema.h"

struct vd_store {
	sqlite3 *db;
	char *path;
	int in_run;
	int64_t probe_idx;
};

int vd_store_schema_version(void)
{
	return vd_store_migration_count();
}

static int db_fail(struct vd_store *st, struct vd_err *err, const char *what)
{
	return vd_err_set(err, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static int exec_sql(struct vd_store *st, const char *sql, struct vd_err *err, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		vd_err_set(err, "%s: %s: %s", st->path, what, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int user_version(struct vd_store *st, int *v, struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "not a vmdelay database (cannot read its schema version)");
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		return db_fail(st, err, "not a vmdelay database (cannot read its schema version)");
	}
	*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int migrate(struct vd_store *st, struct vd_err *err)
{
	int v = 0;
	if (user_version(st, &v, err))
		return -1;
	int target = vd_store_migration_count();
	if (v > target)
		return vd_err_set(err, "%s: schema version %d is newer than this build's %d", st->path,
				  v, target);
	for (; v < target; v++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d;", v + 1);
		if (exec_sql(st, "BEGIN IMMEDIATE", err, "migration") ||
		    exec_sql(st, vd_store_migration(v), err, "migration") ||
		    exec_sql(st, bump, err, "migration") || exec_sql(st, "COMMIT", err, "migration")) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

int vd_store_open(const char *path, struct vd_store **out, struct vd_err *err)
{
	*out = NULL;
	struct vd_store *st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		free(st);
		return vd_err_set(err, "%s: out of memory", path);
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		db_fail(st, err, "cannot open database");
		vd_store_close(st);
		return -1;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* journal_mode is the first statement that touches the file: it finds non-SQLite files. */
	if (exec_sql(st, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", err,
		     "cannot use database") ||
	    migrate(st, err)) {
		vd_store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void vd_store_close(struct vd_store *st)
{
	if (!st)
		return;
	if (st->in_run)
		vd_store_abort_run(st);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

struct sqlite3 *vd_store_db(struct vd_store *st)
{
	return st->db;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_ns(sqlite3_stmt *s, int i, vd_ns t)
{
	if (vd_ns_valid(t))
		sqlite3_bind_int64(s, i, t);
	else
		sqlite3_bind_null(s, i);
}

/* Runs one prepared statement to completion; -1 with a message on failure. */
static int step_done(struct vd_store *st, sqlite3_stmt *s, struct vd_err *err, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, err, what);
	return 0;
}

char *vd_store_command_line(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	char *p = s;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (i)
			*p++ = ' ';
		memcpy(p, argv[i], n);
		p += n;
	}
	*p = 0;
	return s;
}

static int testbed_id(struct vd_store *st, const char *name, int64_t *id, struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO testbeds(name, created_ns) VALUES (?, ?) "
			       "ON CONFLICT(name) DO NOTHING",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "testbed");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, vd_now(CLOCK_REALTIME));
	if (step_done(st, s, err, "testbed"))
		return -1;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM testbeds WHERE name = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return db_fail(st, err, "testbed");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_fail(st, err, "testbed");
}

int vd_store_begin_run(struct vd_store *st, const struct vd_run_info *info, int64_t *run_id,
		       struct vd_err *err)
{
	if (st->in_run)
		return vd_err_set(err, "%s: a run is already open", st->path);
	if (exec_sql(st, "BEGIN IMMEDIATE", err, "cannot start a transaction"))
		return -1;
	st->in_run = 1;
	st->probe_idx = 0;
	int64_t tb = 0;
	if (testbed_id(st, info->testbed ? info->testbed : "default", &tb, err))
		goto fail;
	struct utsname u;
	int have_uname = uname(&u) == 0;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO runs(testbed_id, tool, tool_version, host, kernel_release,"
			       " command_line, label, scenario, params, start_ns)"
			       " VALUES (?,?,?,?,?,?,?,?,?,?)",
			       -1, &s, NULL) != SQLITE_OK) {
		db_fail(st, err, "run");
		goto fail;
	}
	sqlite3_bind_int64(s, 1, tb);
	sqlite3_bind_text(s, 2, info->tool, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, VMDELAY_VERSION, -1, SQLITE_STATIC);
	bind_text_or_null(s, 4, have_uname ? u.nodename : NULL);
	bind_text_or_null(s, 5, have_uname ? u.release : NULL);
	bind_text_or_null(s, 6, info->command_line);
	bind_text_or_null(s, 7, info->label);
	bind_text_or_null(s, 8, info->scenario);
	bind_text_or_null(s, 9, info->params_json);
	bind_ns(s, 10, info->start_ns);
	if (step_done(st, s, err, "cannot insert run"))
		goto fail;
	*run_id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; info->meta && i < info->meta->n; i++)
		if (vd_store_add_meta(st, *run_id, info->meta->item[i].key, info->meta->item[i].value,
				      err))
			goto fail;
	return 0;
fail:
	vd_store_abort_run(st);
	return -1;
}

int vd_store_add_meta(struct vd_store *st, int64_t run_id, const char *key, const char *value,
		      struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO run_meta VALUES (?,?,?)", -1, &s,
			       NULL) != SQLITE_OK)
		return db_fail(st, err, "run metadata");
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	bind_text_or_null(s, 3, value);
	return step_done(st, s, err, "cannot insert run metadata");
}

static void bind_int_or_null(sqlite3_stmt *s, int i, int32_t v)
{
	if (v >= 0)
		sqlite3_bind_int(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

int vd_store_add_probe(struct vd_store *st, int64_t run_id, const struct vd_probe *p,
		       struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO probes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "probe");
	int i = 1;
	sqlite3_bind_int64(s, i++, run_id);
	sqlite3_bind_int64(s, i++, st->probe_idx);
	sqlite3_bind_int64(s, i++, p->seq);
	sqlite3_bind_text(s, i++, vd_phase_name(p->phase), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, vd_probe_status_name(p->status), -1, SQLITE_STATIC);
	const vd_ns times[] = { p->user_tx, p->sched_tx, p->sched_tx_last, p->kernel_tx,
				p->hw_tx,   p->kernel_rx, p->hw_rx,       p->user_rx };
	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
		bind_ns(s, i++, times[k]);
	const int32_t ints[] = { p->size, p->ttl, p->icmp_type, p->icmp_code, p->cpu };
	for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
		bind_int_or_null(s, i++, ints[k]);
	bind_ns(s, i++, p->timer_late);
	if (step_done(st, s, err, "cannot insert probe"))
		return -1;
	st->probe_idx++;
	return 0;
}

int vd_store_add_result(struct vd_store *st, int64_t run_id, const char *vantage, const char *metric,
			const char *phase, const char *direction, const char *stat, double value,
			struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "INSERT INTO results VALUES (?,?,?,?,?,?,?)", -1, &s, NULL) !=
	    SQLITE_OK)
		return db_fail(st, err, "result");
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_text(s, 2, vantage ? vantage : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, metric, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, phase ? phase : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, direction ? direction : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, stat, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(s, 7, value);
	return step_done(st, s, err, "cannot insert result");
}

int vd_store_end_run(struct vd_store *st, int64_t run_id, vd_ns end_ns, struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "UPDATE runs SET end_ns = ?, complete = 1 WHERE id = ?", -1,
			       &s, NULL) != SQLITE_OK) {
		db_fail(st, err, "run");
		goto fail;
	}
	bind_ns(s, 1, end_ns);
	sqlite3_bind_int64(s, 2, run_id);
	if (step_done(st, s, err, "cannot finish run") ||
	    exec_sql(st, "COMMIT", err, "cannot commit run"))
		goto fail;
	st->in_run = 0;
	return 0;
fail:
	vd_store_abort_run(st);
	return -1;
}

void vd_store_abort_run(struct vd_store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_run = 0;
}

static vd_ns column_ns(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? VD_NS_NONE : sqlite3_column_int64(s, i);
}

static int32_t column_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int(s, i);
}

int vd_store_load_probes(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			 struct vd_err *err)
{
	*probes = NULL;
	*n = 0;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT seq, phase, status, user_tx_ns, sched_tx_ns, sched_tx_last_ns,"
			       " kernel_tx_ns, hw_tx_ns, kernel_rx_ns, hw_rx_ns, user_rx_ns, size, ttl,"
			       " icmp_type, icmp_code, cpu, timer_late_ns"
			       " FROM probes WHERE run_id = ? ORDER BY idx",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, err, "cannot read probes");
	sqlite3_bind_int64(s, 1, run_id);
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (vd_mem_reserve((void **)probes, &cap, *n + 1, sizeof(**probes))) {
			sqlite3_finalize(s);
			return vd_err_set(err, "%s: out of memory", st->path);
		}
		struct vd_probe *p = &(*probes)[(*n)++];
		vd_probe_init(p, (uint32_t)sqlite3_column_int64(s, 0));
		const char *ph = (const char *)sqlite3_column_text(s, 1);
		const char *stn = (const char *)sqlite3_column_text(s, 2);
		if (!ph || vd_phase_parse(ph, &p->phase) || !stn ||
		    vd_probe_status_parse(stn, &p->status)) {
			sqlite3_finalize(s);
			return vd_err_set(err, "%s: run %lld: bad phase or status in probe %zu",
					  st->path, (long long)run_id, *n - 1);
		}
		vd_ns *times[] = { &p->user_tx, &p->sched_tx,  &p->sched_tx_last, &p->kernel_tx,
				   &p->hw_tx,   &p->kernel_rx, &p->hw_rx,         &p->user_rx };
		int col = 3;
		for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
			*times[k] = column_ns(s, col++);
		int32_t *ints[] = { &p->size, &p->ttl, &p->icmp_type, &p->icmp_code, &p->cpu };
		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			*ints[k] = column_int(s, col++);
		p->timer_late = column_ns(s, col);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, err, "cannot read probes");
	return 0;
}
