/* tping_sqlite.h — one run of tping's SQLite store (the probes table). */
#ifndef VMDELAY_INPUT_TPING_SQLITE_H
#define VMDELAY_INPUT_TPING_SQLITE_H

#include <stdint.h>

#include "tping_rows.h"
#include "vmdelay/core/err.h"

/* Reads run's probes (run < 0: the highest run id holding probes) in their order. 0, or -1
 * with a message naming path (and the run); a run without probes is an error. */
int vd_tping_sqlite_read(const char *path, int64_t run, vd_tping_row_fn row, void *ctx,
			 struct vd_err *err);

#endif
