/* store_impl.h — internal to lib/store: the open store handle shared by its files. */
#ifndef VMDELAY_STORE_IMPL_H
#define VMDELAY_STORE_IMPL_H

#include <sqlite3.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

struct vd_probe;
struct vd_run_info;

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
	int (*add_result)(struct vd_store *st, int64_t run_id, const char *vantage,
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
};

extern const struct vd_store_ops vd_store_sqlite_ops;
extern const struct vd_store_ops vd_store_pg_ops;

struct vd_store {
	const struct vd_store_ops *ops;
	sqlite3 *db;	  /* SQLite backend; NULL for PostgreSQL */
	struct vd_pg *pg; /* PostgreSQL backend */
	char *path;
	int readonly;
	/* The run being written: rows go into a transaction committed about every batch_ns. */
	int in_run;
	int in_txn;
	vd_ns txn_start;
	vd_ns batch_ns;
	int64_t run_id;
	int64_t probe_idx;
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

/* "INSERT INTO table(cols...) VALUES (?, ...)" ($1, ... with dollar) into b; -1 if too long. */
int vd_store_insert_sql(char *b, size_t len, const char *table, size_t n, const char *const *cols,
			int dollar);

/* "PATH: what: sqlite's message" (plus how long it waited when a lock never came). */
int vd_store_fail(struct vd_store *st, struct vd_err *err, const char *what);
int vd_store_exec(struct vd_store *st, const char *sql, struct vd_err *err, const char *what);

#endif
