/* report.h — vmdelay-analyze's outputs of a per-layer delay analysis: text tables, per-probe
 * CSV, one JSON document (docs/formats/analyze.md), the SQLite store and SVG plots. */
#ifndef VMDELAY_ANALYZE_REPORT_H
#define VMDELAY_ANALYZE_REPORT_H

#include <stdio.h>

#include "vmdelay/delay.h"
#include "vmdelay/err.h"

struct report_ctx {
	const struct vd_delay *d;
	enum vd_align_method align;
	size_t rest;
};

int report_text(FILE *f, const struct report_ctx *c);
int report_csv(FILE *f, const struct report_ctx *c);
int report_json(FILE *f, const struct report_ctx *c);
/* Stores the run, its vantage points and results in the database at path. */
int report_db(const char *path, const struct report_ctx *c, int argc, char **argv,
	      const char *label, struct vd_err *err);
/* Writes rtt_cdf.svg, delta_cdf.svg, send_recv_pdf.svg and rtt_time.svg into dir (created). */
int report_plots(const char *dir, const struct report_ctx *c, struct vd_err *err);

/* Layer names: "total", or the inner vantage point's name. */
const char *report_layer_name(const struct vd_delay *d, size_t layer);

#endif
