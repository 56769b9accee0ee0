/* store_impl.h — internal to lib/store: the open store handle shared by its files. */
#ifndef VMDELAY_STORE_IMPL_H
#define VMDELAY_STORE_IMPL_H

#include <sqlite3.h>
#include <stdint.h>

#include "vmdelay/core/err.h"
#include "vmdelay/core/vdtime.h"

struct vd_store {
	sqlite3 *db;
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
};

/* "PATH: what: sqlite's message" (plus how long it waited when a lock never came). */
int vd_store_fail(struct vd_store *st, struct vd_err *err, const char *what);
int vd_store_exec(struct vd_store *st, const char *sql, struct vd_err *err, const char *what);

#endif
