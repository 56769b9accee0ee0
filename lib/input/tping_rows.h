/* tping_rows.h — tping's probe rows as the analysis reads them from any of tping's files
 * (docs/formats/tping.md): the columns it uses, a cell's text into a struct vd_probe, and the
 * callback each file reader (tping_csv.c, tping_json.c, tping_sqlite.c) hands rows to. */
#ifndef VMDELAY_INPUT_TPING_ROWS_H
#define VMDELAY_INPUT_TPING_ROWS_H

#include "vmdelay/input/probe.h"

/* The columns of tping's CSV, JSON lines and SQLite probes table that the analysis reads. */
enum {
	VD_TPING_COL_SEQ,
	VD_TPING_COL_PHASE,
	VD_TPING_COL_STATUS,
	VD_TPING_COL_USER_TX,
	VD_TPING_COL_KERNEL_TX,
	VD_TPING_COL_HW_TX,
	VD_TPING_COL_KERNEL_RX,
	VD_TPING_COL_HW_RX,
	VD_TPING_COL_USER_RX,
	VD_TPING_COL__COUNT
};

extern const char *const vd_tping_col_names[VD_TPING_COL__COUNT];

/* The column called name, or -1 when the analysis does not read it. */
int vd_tping_col_index(const char *name);

/* Sets column c of p from text (NULL, "" or "null": missing, which only seq may not be).
 * Returns 0, or -1 on a malformed value or a time outside [0, VD_ECHO_TS_LIMIT). */
int vd_tping_cell_set(struct vd_probe *p, int c, const char *text);

/* A row read, in file order; phase is -1 when the file has no phase. 0, or -1 to stop
 * (out of memory: the reader returns -1 with err naming the file). */
typedef int (*vd_tping_row_fn)(void *ctx, const struct vd_probe *p);

#endif
