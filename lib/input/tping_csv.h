/* tping_csv.h — tping's CSV (a header naming the columns, then one probe per line). */
#ifndef VMDELAY_INPUT_TPING_CSV_H
#define VMDELAY_INPUT_TPING_CSV_H

#include <stdio.h>

#include "tping_rows.h"
#include "vmdelay/core/err.h"

/* Reads every row of f (named path in messages) in order. 0, or -1 with "path: line N: ...". */
int vd_tping_csv_read(FILE *f, const char *path, vd_tping_row_fn row, void *ctx,
		      struct vd_err *err);

#endif
