/* tping_json.h — tping's JSON lines (one flat object per probe, docs/formats/tping.md), parsed
 * with jansson. Blank lines are skipped; unknown keys are ignored, whatever their value. */
#ifndef VMDELAY_INPUT_TPING_JSON_H
#define VMDELAY_INPUT_TPING_JSON_H

#include "tping_rows.h"

/* Opens path for reading its rows one at a time. 0, or -1 with a message naming it. */
int vd_tping_json_open(const char *path, struct vd_tping_rows **out, struct vd_err *err);

/* One line (len bytes, no NUL needed) into *p: 1 a probe, 0 a blank line, -1 not a tping
 * JSON object with a seq. For the reader and the fuzz harness. */
int vd_tping_json_line(const char *line, size_t len, struct vd_probe *p);

#endif
