/* store_impl.h — internal to lib/store: the open store handle shared by its files. */
#ifndef VMDELAY_STORE_IMPL_H
#define VMDELAY_STORE_IMPL_H

#include <sqlite3.h>
#include <stdint.h>
#include <stddef.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

struct vd_probe;
struct vd_run_info;
struct vd_store;

/* One row of a select, read through its backend's column accessors. */
struct vd_store_row {
	const struct vd_store_ops *ops;
	void *res; /* SQLite: the statement; PostgreSQL: the PGresult */
	int row;   /* PostgreSQL: the row number in res */
};

/* Called for each row of a select; non-zero stops the select and is returned. */
typedef int (*vd_store_row_fn)(void *arg, const struct vd_store_row *row);

/* What a backend (SQLite, PostgreSQL) does; store.c runs the batches and the run's life. */
struct vd_store_ops {
	int (*begin)(struct vd_store *st, struct vd_err *err); /* a write transaction */
	int (*commit)(struct vd_store *st, struct vd_err *err);
	void (*rollback)(struct vd_store *st);
	/* Inserts and commits the runs row (status 'running'), in its own transaction. */
	int (*begin_run)(struct vd_store *st, const struct vd_run_info *info, const char *host,
			 const char *kernel, int64_t *run_id, struct vd_err *err);
	int (*add_meta)(struct vd_store *st, int64_t run_id, const char *key, const char *value,
			struct vd_err *err);
	int (*add_probe)(struct vd_store *st, int64_t run_id, int64_t idx, const struct vd_probe *p,
			 struct vd_err *err);
	int (*add_result)(struct vd_store *st, int64_t run_id, int64_t idx, const char *vantage,
			  const char *metric, const char *phase, const char *direction,
			  const char *stat, double value, struct vd_err *err);
	/* One row of table: cols[i] = vals[i] (text, NULL for NULL; the column's type converts). */
	int (*add_row)(struct vd_store *st, const char *table, size_t n, const char *const *cols,
		       const char *const *vals, struct vd_err *err);
	int (*finish_run)(struct vd_store *st, int64_t run_id, vd_ns end_ns,
			  int status /* enum vd_run_status */, struct vd_err *err);
	void (*delete_run)(struct vd_store *st, int64_t run_id); /* with its rows */
	int (*load_probes)(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			   struct vd_err *err);
	void (*close)(struct vd_store *st);

	/* Reading (any session, read-only included). sql is in the dialect both backends share
	 * (docs/schema.md): '?' placeholders, numbered $1, $2... in order for PostgreSQL;
	 * params[i] text (NULL for NULL), converted by the column compared with. */
	int (*select)(struct vd_store *st, const char *sql, size_t n, const char *const *params,
		      vd_store_row_fn fn, void *arg, struct vd_err *err);
	int (*col_null)(const struct vd_store_row *r, int col);
	const char *(*col_text)(const struct vd_store_row *r, int col); /* NULL for NULL */
	int64_t (*col_int64)(const struct vd_store_row *r, int col);
	double (*col_double)(const struct vd_store_row *r, int col);
	/* A table's rows in insertion order: ORDER BY this column (SQLite's rowid; PostgreSQL's
	 * ctid, the heap position: insertion order for a table appended to, unless freed space
	 * or concurrent writers put later rows on earlier pages; docs/schema.md). */
	const char *insert_order;
};

/* The column accessors of a select's row. */
static inline int vd_row_null(const struct vd_store_row *r, int col)
{
	return r->ops->col_null(r, col);
}
static inline const char *vd_row_text(const struct vd_store_row *r, int col)
{
	return r->ops->col_text(r, col);
}
static inline int64_t vd_row_int64(const struct vd_store_row *r, int col)
{
	return r->ops->col_int64(r, col);
}
static inline double vd_row_double(const struct vd_store_row *r, int col)
{
	return r->ops->col_double(r, col);
}

extern const struct vd_store_ops vd_store_sqlite_ops;
extern const struct vd_store_ops vd_store_pg_ops;

struct vd_store {
	const struct vd_store_ops *ops;
	sqlite3 *db;	  /* SQLite backend; NULL for PostgreSQL */
	struct vd_pg *pg; /* PostgreSQL backend */
	char *path;
	int readonly;
	int version; /* the schema version found on opening; 0: an empty database */
	/* The run being written: rows go into a transaction committed about every batch_ns. */
	int in_run;
	int in_txn;
	vd_ns txn_start;
	vd_ns batch_ns;
	int64_t run_id;
	int64_t probe_idx;
	int64_t result_run, result_idx; /* the next results row's idx in run result_run */
	sqlite3_stmt *ins_probe, *ins_result, *ins_meta;
	/* Busy handler state: when the current wait began, how long to wait at most, gave up. */
	vd_ns busy_since;
	vd_ns busy_limit;
	int busy_gave_up;
	uint32_t jitter; /* state of the backoff's jitter */
};

struct vd_pg;

/* A new handle for path (no backend yet); NULL with a message when out of memory. */
struct vd_store *vd_store_new(const char *path, struct vd_err *err);
/* Whether path names a PostgreSQL database (postgresql:// or postgres://). */
int vd_store_is_pg(const char *path);
int vd_store_pg_open(struct vd_store *st, struct vd_err *err);
/* A read-only session (default_transaction_read_only): never migrates; the same refusals. */
int vd_store_pg_open_readonly(struct vd_store *st, struct vd_err *err);
/* The path or URL for messages (a PostgreSQL password masked). */
const char *vd_store_shown(const struct vd_store *st);

/* "INSERT INTO table(cols...) VALUES (?, ...)" ($1, ... with dollar) into b; -1 if too long. */
int vd_store_insert_sql(char *b, size_t len, const char *table, size_t n, const char *const *cols,
			int dollar);

/* "PATH: what: sqlite's message" (plus how long it waited when a lock never came). */
int vd_store_fail(struct vd_store *st, struct vd_err *err, const char *what);
int vd_store_exec(struct vd_store *st, const char *sql, struct vd_err *err, const char *what);

#endif
