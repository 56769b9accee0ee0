/* tping_sqlite.h — one run of tping's SQLite store (the probes table), row by row. */
#ifndef VMDELAY_INPUT_TPING_SQLITE_H
#define VMDELAY_INPUT_TPING_SQLITE_H

#include <stdint.h>

#include "tping_rows.h"

/* Opens run's probes (run < 0: the highest run id holding probes), in their order. 0, or -1
 * with a message naming path (and the run); a run without probes is an error. */
int vd_tping_sqlite_open(const char *path, int64_t run, struct vd_tping_rows **out,
			 struct vd_err *err);

#endif
