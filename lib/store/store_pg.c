/* store_pg.c — the PostgreSQL backend (libpq): the same schema and migrations as SQLite (the
 * version in table vmdelay_schema), migrations under an advisory lock inside one transaction,
 * probes sent with COPY. A lab's testbed hosts point --db at one server (docs/schema.md). */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdelay/store/store.h"

#include "store_impl.h"
#include "store_schema.h"

/* pg_advisory_xact_lock key of the migrations (vmdelay's SQLite application_id). */
#define PG_MIGRATION_LOCK 1986872396

struct vd_pg {
	PGconn *c;
	int copying; /* a COPY probes FROM STDIN is open */
	char *shown; /* the connection string for messages, password hidden */
};

/* The URL with any password (user:PASSWORD@ or a password= parameter) replaced, for messages. */
static char *shown_url(const char *url)
{
	size_t len = strlen(url);
	char *s = malloc(len + 7); /* room for "***" in place of two shorter passwords */
	if (!s)
		return NULL;
	memcpy(s, url, len + 1);
	char *scheme = strstr(s, "://");
	char *at = scheme ? strchr(scheme + 3, '@') : NULL;
	char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
	if (colon) {
		memmove(colon + 4, at, strlen(at) + 1);
		memcpy(colon + 1, "***", 3);
	}
	for (char *p = strchr(s, '?'); p; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, "password=", 9) == 0) {
			char *v = p + 10, *end = v + strcspn(v, "&");
			memmove(v + 3, end, strlen(end) + 1);
			memcpy(v, "***", 3);
		}
	return s;
}

static int pg_fail(struct vd_store *st, struct vd_err *err, const char *what)
{
	const char *m = PQerrorMessage(st->pg->c);
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		n--;
	return vd_err_set(err, "%s: %s: %.*s", st->pg->shown, what, (int)n, m);
}

/* Runs sql with text parameters; -1 with a message unless the result is `want`. */
static int pg_exec(struct vd_store *st, const char *sql, int n, const char *const *vals,
		   ExecStatusType want, PGresult **out, struct vd_err *err, const char *what)
{
	PGresult *r = PQexecParams(st->pg->c, sql, n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != want) {
		pg_fail(st, err, what);
		PQclear(r);
		return -1;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int pg_cmd(struct vd_store *st, const char *sql, struct vd_err *err, const char *what)
{
	return pg_exec(st, sql, 0, NULL, PGRES_COMMAND_OK, NULL, err, what);
}

static int copy_end(struct vd_store *st, struct vd_err *err)
{
	if (!st->pg->copying)
		return 0;
	st->pg->copying = 0;
	int rc = PQputCopyEnd(st->pg->c, NULL) == 1 ? 0 : -1;
	PGresult *r;
	while ((r = PQgetResult(st->pg->c))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = -1;
		PQclear(r);
	}
	return rc ? pg_fail(st, err, "cannot store probes") : 0;
}

static int pg_begin(struct vd_store *st, struct vd_err *err)
{
	return pg_cmd(st, "BEGIN", err, "cannot start a transaction");
}

static int pg_commit(struct vd_store *st, struct vd_err *err)
{
	if (copy_end(st, err) || pg_cmd(st, "COMMIT", err, "cannot commit")) {
		PQclear(PQexec(st->pg->c, "ROLLBACK"));
		return -1;
	}
	return 0;
}

static void pg_rollback(struct vd_store *st)
{
	if (st->pg->copying) {
		PQputCopyEnd(st->pg->c, "rolled back");
		PGresult *r;
		while ((r = PQgetResult(st->pg->c)))
			PQclear(r);
		st->pg->copying = 0;
	}
	PQclear(PQexec(st->pg->c, "ROLLBACK"));
}

static void fmt_ns(char *b, size_t n, vd_ns t, const char **out)
{
	if (!vd_ns_valid(t)) {
		*out = NULL;
		return;
	}
	snprintf(b, n, "%" PRId64, t);
	*out = b;
}

static int pg_begin_run(struct vd_store *st, const struct vd_run_info *info, const char *host,
			const char *kernel, int64_t *run_id, struct vd_err *err)
{
	char now[24], start[24];
	const char *tb = info->testbed ? info->testbed : "default", *startp;
	snprintf(now, sizeof(now), "%" PRId64, vd_now(CLOCK_REALTIME));
	fmt_ns(start, sizeof(start), info->start_ns, &startp);
	const char *tbv[] = {tb, now};
	const char *rv[] = {
	    tb,		 info->tool,	 VMDELAY_VERSION,   host,  kernel, info->command_line,
	    info->label, info->scenario, info->params_json, startp};
	PGresult *r = NULL;
	if (pg_begin(st, err))
		return -1;
	if (pg_exec(st,
		    "INSERT INTO testbeds(name, created_ns) VALUES ($1, $2)"
		    " ON CONFLICT (name) DO NOTHING",
		    2, tbv, PGRES_COMMAND_OK, NULL, err, "testbed") ||
	    pg_exec(st,
		    "INSERT INTO runs(testbed_id, tool, tool_version, host, kernel_release,"
		    " command_line, label, scenario, params, start_ns, status)"
		    " SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running'"
		    " FROM testbeds WHERE name = $1 RETURNING id",
		    10, rv, PGRES_TUPLES_OK, &r, err, "cannot insert run"))
		goto fail;
	*run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return pg_commit(st, err);
fail:
	pg_rollback(st);
	return -1;
}

static int pg_add_meta(struct vd_store *st, int64_t run_id, const char *key, const char *value,
		       struct vd_err *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *v[] = {id, key, value};
	return copy_end(st, err) ||
		       pg_exec(st,
			       "INSERT INTO run_meta VALUES ($1, $2, $3) ON CONFLICT (run_id, key)"
			       " DO UPDATE SET value = EXCLUDED.value",
			       3, v, PGRES_COMMAND_OK, NULL, err, "cannot insert run metadata")
		   ? -1
		   : 0;
}

/* A COPY text field: \N for NULL, the characters COPY gives a meaning escaped. */
static size_t copy_field(char *b, const char *s)
{
	if (!s)
		return (size_t)sprintf(b, "\\N");
	size_t n = 0;
	for (; *s; s++) {
		if (*s == '\\' || *s == '\t' || *s == '\n' || *s == '\r')
			b[n++] = '\\';
		b[n++] = *s == '\t' ? 't' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : *s;
	}
	return n;
}

static int pg_add_probe(struct vd_store *st, int64_t run_id, int64_t idx, const struct vd_probe *p,
			struct vd_err *err)
{
	if (!st->pg->copying) {
		if (pg_exec(st, "COPY probes FROM STDIN", 0, NULL, PGRES_COPY_IN, NULL, err,
			    "cannot store probes"))
			return -1;
		st->pg->copying = 1;
	}
	char line[512];
	size_t n =
	    (size_t)sprintf(line, "%" PRId64 "\t%" PRId64 "\t%" PRIu32 "\t", run_id, idx, p->seq);
	n += copy_field(line + n, vd_phase_name(p->phase));
	line[n++] = '\t';
	n += copy_field(line + n, vd_probe_status_name(p->status));
	const vd_ns times[] = {p->user_tx, p->sched_tx,	 p->sched_tx_last, p->kernel_tx,
			       p->hw_tx,   p->kernel_rx, p->hw_rx,	   p->user_rx};
	for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
		n += vd_ns_valid(times[k]) ? (size_t)sprintf(line + n, "\t%" PRId64, times[k])
					   : (size_t)sprintf(line + n, "\t\\N");
	const int32_t ints[] = {p->size, p->ttl, p->icmp_type, p->icmp_code, p->cpu};
	for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
		n += ints[k] >= 0 ? (size_t)sprintf(line + n, "\t%" PRId32, ints[k])
				  : (size_t)sprintf(line + n, "\t\\N");
	n += vd_ns_valid(p->timer_late)
		 ? (size_t)sprintf(line + n, "\t%" PRId64 "\n", p->timer_late)
		 : (size_t)sprintf(line + n, "\t\\N\n");
	if (PQputCopyData(st->pg->c, line, (int)n) != 1)
		return pg_fail(st, err, "cannot store probes");
	return 0;
}

static int pg_add_result(struct vd_store *st, int64_t run_id, int64_t idx, const char *vantage,
			 const char *metric, const char *phase, const char *direction,
			 const char *stat, double value, struct vd_err *err)
{
	char id[24], val[40], ix[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	snprintf(ix, sizeof(ix), "%" PRId64, idx);
	snprintf(val, sizeof(val), "%.17g", value);
	const char *v[] = {id,
			   vantage ? vantage : "",
			   metric,
			   phase ? phase : "",
			   direction ? direction : "",
			   stat,
			   val,
			   ix};
	return copy_end(st, err) ||
		       pg_exec(st,
			       "INSERT INTO results(run_id, vantage, metric, phase, direction,"
			       " stat, value, idx) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
			       8, v, PGRES_COMMAND_OK, NULL, err, "cannot insert result")
		   ? -1
		   : 0;
}

static int pg_add_row(struct vd_store *st, const char *table, size_t n, const char *const *cols,
		      const char *const *vals, struct vd_err *err)
{
	char sql[1024];
	if (vd_store_insert_sql(sql, sizeof(sql), table, n, cols, 1))
		return vd_err_set(err, "%s: %s: too many columns", st->pg->shown, table);
	return copy_end(st, err) ||
		       pg_exec(st, sql, (int)n, vals, PGRES_COMMAND_OK, NULL, err, table)
		   ? -1
		   : 0;
}

static int pg_finish_run(struct vd_store *st, int64_t run_id, vd_ns end_ns, int status,
			 struct vd_err *err)
{
	char id[24], end[24];
	const char *endp;
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	fmt_ns(end, sizeof(end), end_ns, &endp);
	const char *v[] = {endp, vd_run_status_name(status), status == VD_RUN_COMPLETE ? "1" : "0",
			   id};
	return copy_end(st, err) ||
		       pg_exec(
			   st,
			   "UPDATE runs SET end_ns = $1, status = $2, complete = $3 WHERE id = $4",
			   4, v, PGRES_COMMAND_OK, NULL, err, "cannot finish run")
		   ? -1
		   : 0;
}

static void pg_delete_run(struct vd_store *st, int64_t run_id)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *v[] = {id};
	struct vd_err ignored;
	pg_exec(st, "DELETE FROM runs WHERE id = $1", 1, v, PGRES_COMMAND_OK, NULL, &ignored, "");
}

static vd_ns value_ns(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? VD_NS_NONE : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static int pg_load_probes(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			  struct vd_err *err)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRId64, run_id);
	const char *v[] = {id};
	PGresult *r;
	if (copy_end(st, err) ||
	    pg_exec(st,
		    "SELECT seq, phase, status, user_tx_ns, sched_tx_ns, sched_tx_last_ns,"
		    " kernel_tx_ns, hw_tx_ns, kernel_rx_ns, hw_rx_ns, user_rx_ns, size, ttl,"
		    " icmp_type, icmp_code, cpu, timer_late_ns FROM probes WHERE run_id = $1"
		    " ORDER BY idx",
		    1, v, PGRES_TUPLES_OK, &r, err, "cannot read probes"))
		return -1;
	int rows = PQntuples(r);
	*probes = calloc((size_t)(rows ? rows : 1), sizeof(**probes));
	if (!*probes) {
		PQclear(r);
		return vd_err_set(err, "%s: out of memory", st->pg->shown);
	}
	for (int i = 0; i < rows; i++) {
		struct vd_probe *p = &(*probes)[i];
		vd_probe_init(p, (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10));
		if (vd_phase_parse(PQgetvalue(r, i, 1), &p->phase) ||
		    vd_probe_status_parse(PQgetvalue(r, i, 2), &p->status)) {
			PQclear(r);
			return vd_err_set(err, "%s: run %s: bad phase or status in probe %d",
					  st->pg->shown, id, i);
		}
		vd_ns *times[] = {&p->user_tx, &p->sched_tx,  &p->sched_tx_last, &p->kernel_tx,
				  &p->hw_tx,   &p->kernel_rx, &p->hw_rx,	 &p->user_rx};
		int col = 3;
		for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
			*times[k] = value_ns(r, i, col++);
		int32_t *ints[] = {&p->size, &p->ttl, &p->icmp_type, &p->icmp_code, &p->cpu};
		for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++, col++)
			*ints[k] =
			    PQgetisnull(r, i, col) ? -1 : (int32_t)atoi(PQgetvalue(r, i, col));
		p->timer_late = value_ns(r, i, col);
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

/* sql with its '?' placeholders numbered $1, $2... in order (not inside '...' literals);
 * malloc'd, NULL when out of memory. Each '?' becomes at most 11 bytes. */
static char *dollar_sql(const char *sql)
{
	size_t len = strlen(sql), marks = 0;
	for (size_t i = 0; i < len; i++)
		marks += sql[i] == '?';
	char *out = malloc(len + marks * 10 + 1);
	if (!out)
		return NULL;
	size_t o = 0, n = 0;
	int literal = 0;
	for (size_t i = 0; i < len; i++) {
		literal ^= sql[i] == '\'';
		if (sql[i] == '?' && !literal)
			o += (size_t)sprintf(out + o, "$%zu", ++n);
		else
			out[o++] = sql[i];
	}
	out[o] = '\0';
	return out;
}

static int pg_select(struct vd_store *st, const char *sql, size_t n, const char *const *params,
		     vd_store_row_fn fn, void *arg, struct vd_err *err)
{
	char *q = dollar_sql(sql);
	if (!q)
		return vd_err_set(err, "%s: out of memory", st->pg->shown);
	PGresult *r;
	int rc = copy_end(st, err) ||
		 pg_exec(st, q, (int)n, params, PGRES_TUPLES_OK, &r, err, "cannot read the store");
	free(q);
	if (rc)
		return -1;
	struct vd_store_row row = {.ops = st->ops, .res = r};
	for (int i = 0, rows = PQntuples(r); i < rows && !rc; i++) {
		row.row = i;
		rc = fn(arg, &row);
	}
	PQclear(r);
	return rc;
}

static int pg_col_null(const struct vd_store_row *r, int col)
{
	return PQgetisnull(r->res, r->row, col);
}

static const char *pg_col_text(const struct vd_store_row *r, int col)
{
	return PQgetisnull(r->res, r->row, col) ? NULL : PQgetvalue(r->res, r->row, col);
}

static int64_t pg_col_int64(const struct vd_store_row *r, int col)
{
	return strtoll(PQgetvalue(r->res, r->row, col), NULL, 10);
}

/* float8 comes as the shortest text that reads back to the same double (PostgreSQL 12 on,
 * extra_float_digits 1): strtod gives what SQLite's sqlite3_column_double does. */
static double pg_col_double(const struct vd_store_row *r, int col)
{
	return strtod(PQgetvalue(r->res, r->row, col), NULL);
}

static void pg_close(struct vd_store *st)
{
	if (!st->pg)
		return;
	PQfinish(st->pg->c);
	free(st->pg->shown);
	free(st->pg);
	st->pg = NULL;
}

const struct vd_store_ops vd_store_pg_ops = {
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .begin_run = pg_begin_run,
    .add_meta = pg_add_meta,
    .add_probe = pg_add_probe,
    .add_result = pg_add_result,
    .add_row = pg_add_row,
    .finish_run = pg_finish_run,
    .delete_run = pg_delete_run,
    .load_probes = pg_load_probes,
    .close = pg_close,
    .select = pg_select,
    .col_null = pg_col_null,
    .col_text = pg_col_text,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .insert_order = "ctid",
};

/* The schema version, 0 for an empty database; refuses another program's database or a newer
 * schema without writing anything. */
static int pg_version(struct vd_store *st, int *version, struct vd_err *err)
{
	PGresult *r;
	if (pg_exec(st,
		    "SELECT to_regclass('vmdelay_schema') IS NOT NULL, (SELECT count(*) FROM"
		    " pg_tables WHERE schemaname = current_schema())",
		    0, NULL, PGRES_TUPLES_OK, &r, err, "cannot read the database"))
		return -1;
	int ours = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	long tables = strtol(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	*version = 0;
	if (!ours && tables > 0)
		return vd_err_set(err,
				  "%s: not a vmdelay store: a database with %ld tables and no"
				  " vmdelay_schema table; it is left as it is",
				  st->pg->shown, tables);
	if (!ours)
		return 0;
	if (pg_exec(st, "SELECT max(version) FROM vmdelay_schema", 0, NULL, PGRES_TUPLES_OK, &r,
		    err, "cannot read the schema version"))
		return -1;
	*version = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (*version > vd_store_migration_count())
		return vd_err_set(
		    err,
		    "%s: schema version %d is newer than this build's %d (vmdelay %s):"
		    " use a newer vmdelay; the database is left as it is",
		    st->pg->shown, *version, vd_store_migration_count(), VMDELAY_VERSION);
	return 0;
}

/* Connects; a read-only session refuses every write (a reader never migrates). */
static int pg_connect(struct vd_store *st, int readonly, struct vd_err *err)
{
	st->ops = &vd_store_pg_ops;
	if (!(st->pg = calloc(1, sizeof(*st->pg))) || !(st->pg->shown = shown_url(st->path)))
		return vd_err_set(err, "%s: out of memory", st->path);
	st->pg->c = PQconnectdb(st->path);
	if (PQstatus(st->pg->c) != CONNECTION_OK)
		return pg_fail(st, err, "cannot connect");
	if (pg_cmd(st, "SET client_min_messages = warning", err, "cannot use database") ||
	    (readonly &&
	     pg_cmd(st, "SET default_transaction_read_only = on", err, "cannot use database")))
		return -1;
	return pg_version(st, &st->version, err);
}

int vd_store_pg_open_readonly(struct vd_store *st, struct vd_err *err)
{
	return pg_connect(st, 1, err);
}

const char *vd_store_name(const struct vd_store *st)
{
	return st->pg ? st->pg->shown : st->path;
}

int vd_store_pg_open(struct vd_store *st, struct vd_err *err)
{
	if (pg_connect(st, 0, err))
		return -1;
	int v = st->version;
	if (v == vd_store_migration_count())
		return 0;
	/* One migrating writer at a time; the version is read again under the lock. */
	char lock[64];
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%d)", PG_MIGRATION_LOCK);
	PGresult *r;
	if (pg_begin(st, err) ||
	    pg_exec(st, lock, 0, NULL, PGRES_TUPLES_OK, &r, err, "cannot lock for the migration"))
		goto fail;
	PQclear(r);
	if (pg_version(st, &v, err) ||
	    pg_cmd(st, "CREATE TABLE IF NOT EXISTS vmdelay_schema (version INTEGER NOT NULL)", err,
		   "migration"))
		goto fail;
	for (; v < vd_store_migration_count(); v++) {
		char bump[96];
		snprintf(bump, sizeof(bump), "INSERT INTO vmdelay_schema VALUES (%d)", v + 1);
		r = PQexec(st->pg->c, vd_store_pg_migration(v));
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (!ok) {
			pg_fail(st, err, "migration");
			goto fail;
		}
		if (pg_cmd(st, bump, err, "migration"))
			goto fail;
	}
	st->version = v;
	return pg_commit(st, err);
fail:
	pg_rollback(st);
	return -1;
}
