/* tping_csv.h — tping's CSV (a header naming the columns, then one probe per line). */
#ifndef VMDELAY_INPUT_TPING_CSV_H
#define VMDELAY_INPUT_TPING_CSV_H

#include "tping_rows.h"

/* Opens path for reading its rows one at a time. 0, or -1 with a message naming it. */
int vd_tping_csv_open(const char *path, struct vd_tping_rows **out, struct vd_err *err);

#endif
