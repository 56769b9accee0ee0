/* tping_json.h — tping's JSON lines (one flat object per probe, docs/formats/tping.md), parsed
 * with jansson. */
#ifndef VMDELAY_INPUT_TPING_JSON_H
#define VMDELAY_INPUT_TPING_JSON_H

#include <stdio.h>

#include "tping_rows.h"
#include "vmdelay/core/err.h"

/* Reads every object of f (named path in messages) in order; blank lines are skipped. 0, or
 * -1 with "path: line N: ...". Unknown keys are ignored, whatever their value. */
int vd_tping_json_read(FILE *f, const char *path, vd_tping_row_fn row, void *ctx,
		       struct vd_err *err);

#endif
