/* output.h — every table a tool prints goes through here: text (aligned columns), CSV with a
 * header row, or JSON lines, so a new field appears in all three at once (HACKING.md,
 * "Outputs"). */
#ifndef VMDELAY_OUTPUT_H
#define VMDELAY_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include "vmdelay/core/vdtime.h"
#include "vmdelay/out/json.h"

enum vd_out_mode { VD_OUT_TEXT, VD_OUT_CSV, VD_OUT_JSON };

struct vd_out;

/* Writes rows to f (not closed by vd_out_destroy). NULL on out of memory. */
struct vd_out *vd_out_create(FILE *f, enum vd_out_mode mode);

/* Text mode buffers rows to align columns: this prints them. Also called by destroy. */
void vd_out_flush(struct vd_out *o);

/* Flushes and frees. Returns 0, or -1 if any write to f failed (e.g. a full disk). */
int vd_out_destroy(struct vd_out *o);

/* A row is row_begin, one call per field (same keys in the same order every row), row_end.
 * CSV prints its header from the first row's keys. */
void vd_out_row_begin(struct vd_out *o);
void vd_out_row_end(struct vd_out *o);

void vd_out_int(struct vd_out *o, const char *key, int64_t v);
/* v when present, else the empty / null cell of vd_out_str(o, key, NULL): a field some rows
 * do not have (TCP ports of an ICMP record, the TTL of a lost probe). */
void vd_out_int_opt(struct vd_out *o, const char *key, int present, int64_t v);
void vd_out_str(struct vd_out *o, const char *key, const char *s);	    /* NULL: empty / null */
void vd_out_dbl(struct vd_out *o, const char *key, double v, int decimals); /* NAN: empty */
/* A time or duration: integer ns in CSV/JSON; in text, µs with 3 decimals under a header whose
 * "_ns" suffix becomes "_us". VD_NS_NONE prints empty (CSV, text "-") or null (JSON). */
void vd_out_ns(struct vd_out *o, const char *key, vd_ns v);

/* Writes s as one CSV cell, quoted only when it must be (RFC 4180). */
void vd_csv_cell(FILE *f, const char *s);

#endif
