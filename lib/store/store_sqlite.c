/* store_sqlite.c — the SQLite backend's rows: runs, probes, results, metadata (the opening and
 * migrations are in store_open.c). */
#include "vmdelay/store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmdelay/core/mem.h"

#include "store_impl.h"

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
		return vd_store_fail(st, err, what);
	return 0;
}

static int testbed_id(struct vd_store *st, const char *name, int64_t *id, struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO testbeds(name, created_ns) VALUES (?, ?) "
			       "ON CONFLICT(name) DO NOTHING",
			       -1, &s, NULL) != SQLITE_OK)
		return vd_store_fail(st, err, "testbed");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, vd_now(CLOCK_REALTIME));
	if (step_done(st, s, err, "testbed"))
		return -1;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM testbeds WHERE name = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return vd_store_fail(st, err, "testbed");
	sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : vd_store_fail(st, err, "testbed");
}

static int sq_begin(struct vd_store *st, struct vd_err *err)
{
	return vd_store_exec(st, "BEGIN IMMEDIATE", err, "cannot start a transaction");
}

static int sq_commit(struct vd_store *st, struct vd_err *err)
{
	if (vd_store_exec(st, "COMMIT", err, "cannot commit")) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static void sq_rollback(struct vd_store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The statement in *cache, prepared on first use and reset for reuse after. */
static sqlite3_stmt *cached(struct vd_store *st, sqlite3_stmt **cache, const char *sql)
{
	if (*cache) {
		sqlite3_reset(*cache);
		sqlite3_clear_bindings(*cache);
	} else if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache, NULL) !=
		   SQLITE_OK) {
		*cache = NULL;
	}
	return *cache;
}

/* Steps a cached statement once; -1 with a message unless it is done. */
static int step_cached(struct vd_store *st, sqlite3_stmt *s, struct vd_err *err, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return vd_store_fail(st, err, what);
	return 0;
}

static int sq_begin_run(struct vd_store *st, const struct vd_run_info *info, const char *host,
			const char *kernel, int64_t *run_id, struct vd_err *err)
{
	if (sq_begin(st, err))
		return -1;
	int64_t tb = 0;
	if (testbed_id(st, info->testbed ? info->testbed : "default", &tb, err))
		goto fail;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
		st->db,
		"INSERT INTO runs(testbed_id, tool, tool_version, host, kernel_release,"
		" command_line, label, scenario, params, start_ns, status)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,'running')",
		-1, &s, NULL) != SQLITE_OK) {
		vd_store_fail(st, err, "run");
		goto fail;
	}
	sqlite3_bind_int64(s, 1, tb);
	sqlite3_bind_text(s, 2, info->tool, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, VMDELAY_VERSION, -1, SQLITE_STATIC);
	bind_text_or_null(s, 4, host);
	bind_text_or_null(s, 5, kernel);
	bind_text_or_null(s, 6, info->command_line);
	bind_text_or_null(s, 7, info->label);
	bind_text_or_null(s, 8, info->scenario);
	bind_text_or_null(s, 9, info->params_json);
	bind_ns(s, 10, info->start_ns);
	if (step_done(st, s, err, "cannot insert run"))
		goto fail;
	*run_id = sqlite3_last_insert_rowid(st->db);
	return sq_commit(st, err);
fail:
	sq_rollback(st);
	return -1;
}

static int sq_add_meta(struct vd_store *st, int64_t run_id, const char *key, const char *value,
		       struct vd_err *err)
{
	sqlite3_stmt *s =
	    cached(st, &st->ins_meta, "INSERT OR REPLACE INTO run_meta VALUES (?,?,?)");
	if (!s)
		return vd_store_fail(st, err, "run metadata");
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
	bind_text_or_null(s, 3, value);
	return step_cached(st, s, err, "cannot insert run metadata");
}

static void bind_int_or_null(sqlite3_stmt *s, int i, int32_t v)
{
	if (v >= 0)
		sqlite3_bind_int(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int sq_add_probe(struct vd_store *st, int64_t run_id, int64_t idx, const struct vd_probe *p,
			struct vd_err *err)
{
	sqlite3_stmt *s =
	    cached(st, &st->ins_probe,
		   "INSERT INTO probes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!s)
		return vd_store_fail(st, err, "probe");
	int i = 1;
	sqlite3_bind_int64(s, i++, run_id);
	sqlite3_bind_int64(s, i++, idx);
	sqlite3_bind_int64(s, i++, p->seq);
	sqlite3_bind_text(s, i++, vd_phase_name(p->phase), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, i++, vd_probe_status_name(p->status), -1, SQLITE_STATIC);
	const vd_ns times[] = {p->user_tx, p->sched_tx,	 p->sched_tx_last, p->kernel_tx,
			       p->hw_tx,   p->kernel_rx, p->hw_rx,	   p->user_rx};
	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
		bind_ns(s, i++, times[k]);
	const int32_t ints[] = {p->size, p->ttl, p->icmp_type, p->icmp_code, p->cpu};
	for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
		bind_int_or_null(s, i++, ints[k]);
	bind_ns(s, i++, p->timer_late);
	return step_cached(st, s, err, "cannot insert probe");
}

static int sq_add_result(struct vd_store *st, int64_t run_id, int64_t idx, const char *vantage,
			 const char *metric, const char *phase, const char *direction,
			 const char *stat, double value, struct vd_err *err)
{
	sqlite3_stmt *s =
	    cached(st, &st->ins_result,
		   "INSERT INTO results(run_id, vantage, metric, phase, direction, stat,"
		   " value, idx) VALUES (?,?,?,?,?,?,?,?)");
	if (!s)
		return vd_store_fail(st, err, "result");
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_text(s, 2, vantage ? vantage : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, metric, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 4, phase ? phase : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 5, direction ? direction : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, stat, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(s, 7, value);
	sqlite3_bind_int64(s, 8, idx);
	return step_cached(st, s, err, "cannot insert result");
}

/* "INSERT INTO table(c1, ...) VALUES (?, ...)" into b; -1 if it does not fit. */
int vd_store_insert_sql(char *b, size_t len, const char *table, size_t n, const char *const *cols,
			int dollar)
{
	size_t k = (size_t)snprintf(b, len, "INSERT INTO %s(", table);
	for (size_t i = 0; i < n && k < len; i++)
		k += (size_t)snprintf(b + k, len - k, "%s%s", i ? ", " : "", cols[i]);
	if (k < len)
		k += (size_t)snprintf(b + k, len - k, ") VALUES (");
	for (size_t i = 0; i < n && k < len; i++)
		k += dollar ? (size_t)snprintf(b + k, len - k, "%s$%zu", i ? ", " : "", i + 1)
			    : (size_t)snprintf(b + k, len - k, "%s?", i ? ", " : "");
	if (k < len)
		k += (size_t)snprintf(b + k, len - k, ")");
	return k < len ? 0 : -1;
}

static int sq_add_row(struct vd_store *st, const char *table, size_t n, const char *const *cols,
		      const char *const *vals, struct vd_err *err)
{
	char sql[1024];
	sqlite3_stmt *s;
	if (vd_store_insert_sql(sql, sizeof(sql), table, n, cols, 0))
		return vd_err_set(err, "%s: %s: too many columns", st->path, table);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return vd_store_fail(st, err, table);
	for (size_t i = 0; i < n; i++)
		bind_text_or_null(s, (int)i + 1, vals[i]);
	return step_done(st, s, err, table);
}

static int sq_finish_run(struct vd_store *st, int64_t run_id, vd_ns end_ns, int status,
			 struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
			       "UPDATE runs SET end_ns = ?, status = ?, complete = ? WHERE id = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return vd_store_fail(st, err, "run");
	bind_ns(s, 1, end_ns);
	sqlite3_bind_text(s, 2, vd_run_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, status == VD_RUN_COMPLETE);
	sqlite3_bind_int64(s, 4, run_id);
	return step_done(st, s, err, "cannot finish run");
}

/* The run and, by the foreign keys' cascade, its rows. */
static void sq_delete_run(struct vd_store *st, int64_t run_id)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "DELETE FROM runs WHERE id = ?", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_int64(s, 1, run_id);
		sqlite3_step(s);
		sqlite3_finalize(s);
	}
}

static void sq_close(struct vd_store *st)
{
	sqlite3_finalize(st->ins_probe);
	sqlite3_finalize(st->ins_result);
	sqlite3_finalize(st->ins_meta);
	sqlite3_close_v2(st->db);
	st->db = NULL;
}

static vd_ns column_ns(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? VD_NS_NONE : sqlite3_column_int64(s, i);
}

static int32_t column_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int(s, i);
}

static int sq_load_probes(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			  struct vd_err *err)
{
	*probes = NULL;
	*n = 0;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
		st->db,
		"SELECT seq, phase, status, user_tx_ns, sched_tx_ns, sched_tx_last_ns,"
		" kernel_tx_ns, hw_tx_ns, kernel_rx_ns, hw_rx_ns, user_rx_ns, size, ttl,"
		" icmp_type, icmp_code, cpu, timer_late_ns"
		" FROM probes WHERE run_id = ? ORDER BY idx",
		-1, &s, NULL) != SQLITE_OK)
		return vd_store_fail(st, err, "cannot read probes");
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
		vd_ns *times[] = {&p->user_tx, &p->sched_tx,  &p->sched_tx_last, &p->kernel_tx,
				  &p->hw_tx,   &p->kernel_rx, &p->hw_rx,	 &p->user_rx};
		int col = 3;
		for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
			*times[k] = column_ns(s, col++);
		int32_t *ints[] = {&p->size, &p->ttl, &p->icmp_type, &p->icmp_code, &p->cpu};
		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
			*ints[k] = column_int(s, col++);
		p->timer_late = column_ns(s, col);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return vd_store_fail(st, err, "cannot read probes");
	return 0;
}

static int sq_select(struct vd_store *st, const char *sql, size_t n, const char *const *params,
		     vd_store_row_fn fn, void *arg, struct vd_err *err)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return vd_store_fail(st, err, "cannot read the store");
	for (size_t i = 0; i < n; i++)
		bind_text_or_null(s, (int)i + 1, params[i]);
	struct vd_store_row row = {.ops = st->ops, .res = s};
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = fn(arg, &row);
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : vd_store_fail(st, err, "cannot read the store");
}

static int sq_col_null(const struct vd_store_row *r, int col)
{
	return sqlite3_column_type(r->res, col) == SQLITE_NULL;
}

static const char *sq_col_text(const struct vd_store_row *r, int col)
{
	return (const char *)sqlite3_column_text(r->res, col);
}

static int64_t sq_col_int64(const struct vd_store_row *r, int col)
{
	return sqlite3_column_int64(r->res, col);
}

static double sq_col_double(const struct vd_store_row *r, int col)
{
	return sqlite3_column_double(r->res, col);
}

const struct vd_store_ops vd_store_sqlite_ops = {
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .begin_run = sq_begin_run,
    .add_meta = sq_add_meta,
    .add_probe = sq_add_probe,
    .add_result = sq_add_result,
    .add_row = sq_add_row,
    .finish_run = sq_finish_run,
    .delete_run = sq_delete_run,
    .load_probes = sq_load_probes,
    .close = sq_close,
    .select = sq_select,
    .col_null = sq_col_null,
    .col_text = sq_col_text,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .insert_order = "rowid",
};
