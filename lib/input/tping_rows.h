/* tping_rows.h — tping's probe rows as the analysis reads them from any of tping's files
 * (docs/formats/tping.md): the columns it uses, a cell's text into a struct vd_probe, and the
 * row iterator each file reader (tping_csv.c, tping_json.c, tping_sqlite.c) implements. */
#ifndef VMDELAY_INPUT_TPING_ROWS_H
#define VMDELAY_INPUT_TPING_ROWS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vmdelay/core/err.h"
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

/* A tping file read one probe row at a time, in file order (tping_csv.c, tping_json.c,
 * tping_sqlite.c): next gives 1 with *p (phase -1 when the file has none), 0 at the end, or -1
 * with a message naming the file and line (or run). close frees it. */
struct vd_tping_rows {
	int (*next)(struct vd_tping_rows *r, struct vd_probe *p, struct vd_err *err);
	void (*close)(struct vd_tping_rows *r);
	const char *path;
};

/* The text readers' common part (CSV, JSON lines): the file and its current line. A reader's
 * state starts with it; vd_tping_lines_open allocates size bytes of it (zeroed) and opens path,
 * its close frees it all. */
struct vd_tping_lines {
	struct vd_tping_rows base;
	FILE *f;
	char *line;
	size_t cap;
	unsigned long lineno; /* 1-based number of the line in l->line */
};

int vd_tping_lines_open(const char *path, size_t size,
			int (*next)(struct vd_tping_rows *r, struct vd_probe *p,
				    struct vd_err *err),
			struct vd_tping_rows **out, struct vd_err *err);
/* The next line into l->line: its length; -1 at the end of the file, or on a read error with
 * *failed set and err naming the file. */
ssize_t vd_tping_lines_next(struct vd_tping_lines *l, int *failed, struct vd_err *err);

/* A run id: digits only; -1 for anything else. */
int64_t vd_tping_run_parse(const char *s);
/* The SQLite run a tping #SELECT names with run=N (comma list), or -1 when it names none. */
int64_t vd_tping_select_run(const char *select);

#endif
