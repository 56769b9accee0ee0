/* store.h — the SQLite store every tool writes its runs to (schema: docs/schema.md).
 * WAL mode. A run's row is committed when it begins (status 'running'), its rows in batches
 * committed about every second, and its end status last: a writer killed at any moment leaves
 * what it had committed and a run that is not complete. */
#ifndef VMDELAY_STORE_H
#define VMDELAY_STORE_H

#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/input/probe.h"
#include "vmdelay/core/vdtime.h"
#include "vmdelay/store/run_meta.h"

struct sqlite3;
struct vd_store;

/* Schema version this build writes; older files are migrated on open, newer ones refused. */
int vd_store_schema_version(void);

/* Opens (creating if needed) and migrates the database at path, for writing. A path that cannot
 * be written, a file that is not a vmdelay store (not SQLite, or another program's SQLite file)
 * or a newer schema: -1 with a message naming the path and what was found, and the file is
 * left byte-identical. Waits for other writers' locks (VMDELAY_STORE_WAIT_S, default 600 s). */
int vd_store_open(const char *path, struct vd_store **out, struct vd_err *err);
/* Opens an existing store for reading only: never creates, migrates or writes (works on a
 * read-only file or directory; on PostgreSQL a read-only session). The same refusals as
 * vd_store_open; a database with no table at all is an empty store. */
int vd_store_open_readonly(const char *path, struct vd_store **out, struct vd_err *err);
/* Whether path is a PostgreSQL URL (postgresql:// or postgres://) rather than a file. */
int vd_store_path_is_pg(const char *path);
/* The store's path or URL for messages (a PostgreSQL password masked as ***). */
const char *vd_store_name(const struct vd_store *st);
/* Closing with a run still open keeps what it wrote and marks it failed. */
void vd_store_close(struct vd_store *st);

/* The raw handle, for modules that add rows to their own tables within the open run (SQLite
 * only: NULL for PostgreSQL). */
struct sqlite3 *vd_store_db(struct vd_store *st);

struct vd_run_info {
	const char *tool;		 /* "tping", "vmdelay-analyze", ... */
	const char *testbed;		 /* created in `testbeds` if new; NULL: "default" */
	const char *label;		 /* free text, may be NULL */
	const char *scenario;		 /* may be NULL */
	const char *command_line;	 /* the full argv joined with spaces */
	const char *params_json;	 /* the run's parameters as a JSON object, may be NULL */
	const struct vd_meta_list *meta; /* the user's --meta labels (run_meta rows), may be NULL */
	vd_ns start_ns;
};

/* argv[0..argc) joined with single spaces, for vd_run_info.command_line (malloc'd; NULL when
 * out of memory). */
char *vd_store_command_line(int argc, char **argv);

/* Inserts and commits the runs row, status 'running' (host, kernel release and tool version
 * filled in here), then adds info->meta's run_meta rows. The rows added after the runs row are
 * committed in batches. A key the tool stores itself later (vd_store_add_meta)
 * replaces the user's value of that key. */
int vd_store_begin_run(struct vd_store *st, const struct vd_run_info *info, int64_t *run_id,
		       struct vd_err *err);
int vd_store_add_meta(struct vd_store *st, int64_t run_id, const char *key, const char *value,
		      struct vd_err *err);
int vd_store_add_probe(struct vd_store *st, int64_t run_id, const struct vd_probe *p,
		       struct vd_err *err);
/* One result value (long format): e.g. vantage "guest", metric "delta_kern", phase "load",
 * direction "rtt", stat "median_ns". NULL strings are stored as ''. */
int vd_store_add_result(struct vd_store *st, int64_t run_id, const char *vantage,
			const char *metric, const char *phase, const char *direction,
			const char *stat, double value, struct vd_err *err);

/* One row of another table of the run (vantage_points, transfers, events): column cols[i] gets
 * vals[i], given as text (NULL: NULL) and converted to the column's type. */
int vd_store_add_row(struct vd_store *st, const char *table, size_t n, const char *const *cols,
		     const char *const *vals, struct vd_err *err);

/* runs.status; only VD_RUN_COMPLETE sets runs.complete = 1. A run left 'running' by a process
 * that is gone was killed. */
enum vd_run_status {
	VD_RUN_RUNNING,	    /* begun, not finished (or its writer was killed) */
	VD_RUN_COMPLETE,    /* ran to its end as asked */
	VD_RUN_INTERRUPTED, /* stopped early by SIGINT / SIGTERM: what was done is stored */
	VD_RUN_FAILED,	    /* stopped by an error */
	VD_RUN__COUNT
};
const char *vd_run_status_name(enum vd_run_status s);

/* Sets end_ns and the status and commits the last batch. */
int vd_store_finish_run(struct vd_store *st, int64_t run_id, vd_ns end_ns,
			enum vd_run_status status, struct vd_err *err);
/* vd_store_finish_run with VD_RUN_COMPLETE. */
int vd_store_end_run(struct vd_store *st, int64_t run_id, vd_ns end_ns, struct vd_err *err);
/* Removes the open run and its rows (for a run that must not be kept half-written). */
void vd_store_abort_run(struct vd_store *st);

/* How old a batch gets before it is committed (default 1 s). */
void vd_store_set_batch_interval(struct vd_store *st, vd_ns ns);

/* Reads the probes of a run, in insertion order, into a malloc'd array. */
int vd_store_load_probes(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			 struct vd_err *err);

#endif
