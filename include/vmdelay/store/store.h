/* store.h — the SQLite store every tool writes its runs to (schema: docs/schema.md).
 * WAL mode; a run is written in one transaction, so a run is either all there or absent. */
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

/* Opens (creating if needed) and migrates the database at path. A path that cannot be written,
 * a file that is not SQLite, or a newer schema: -1 with a message naming the path. */
int vd_store_open(const char *path, struct vd_store **out, struct vd_err *err);
void vd_store_close(struct vd_store *st);

/* The raw handle, for modules that add rows to their own tables within the open run. */
struct sqlite3 *vd_store_db(struct vd_store *st);

struct vd_run_info {
	const char *tool;         /* "tping", "vmdelay-analyze", ... */
	const char *testbed;      /* created in `testbeds` if new; NULL: "default" */
	const char *label;        /* free text, may be NULL */
	const char *scenario;     /* may be NULL */
	const char *command_line; /* the full argv joined with spaces */
	const char *params_json;  /* the run's parameters as a JSON object, may be NULL */
	const struct vd_meta_list *meta; /* the user's --meta labels (run_meta rows), may be NULL */
	vd_ns start_ns;
};

/* argv[0..argc) joined with single spaces, for vd_run_info.command_line (malloc'd; NULL when
 * out of memory). */
char *vd_store_command_line(int argc, char **argv);

/* Begins the run's transaction and inserts the runs row (host, kernel release and tool version
 * filled in here) and info->meta's run_meta rows. A key the tool stores itself later
 * (vd_store_add_meta) replaces the user's value of that key. */
int vd_store_begin_run(struct vd_store *st, const struct vd_run_info *info, int64_t *run_id,
		       struct vd_err *err);
int vd_store_add_meta(struct vd_store *st, int64_t run_id, const char *key, const char *value,
		      struct vd_err *err);
int vd_store_add_probe(struct vd_store *st, int64_t run_id, const struct vd_probe *p,
		       struct vd_err *err);
/* One result value (long format): e.g. vantage "guest", metric "delta_kern", phase "load",
 * direction "rtt", stat "median_ns". NULL strings are stored as ''. */
int vd_store_add_result(struct vd_store *st, int64_t run_id, const char *vantage, const char *metric,
			const char *phase, const char *direction, const char *stat, double value,
			struct vd_err *err);
/* Sets end_ns, marks the run complete and commits. */
int vd_store_end_run(struct vd_store *st, int64_t run_id, vd_ns end_ns, struct vd_err *err);
/* Rolls the open run back. */
void vd_store_abort_run(struct vd_store *st);

/* Reads the probes of a run, in insertion order, into a malloc'd array. */
int vd_store_load_probes(struct vd_store *st, int64_t run_id, struct vd_probe **probes, size_t *n,
			 struct vd_err *err);

#endif
