/* report.h — vmdelay-analyze's outputs of a per-layer delay analysis: text tables, per-probe
 * CSV, one JSON document (docs/formats/analyze.md), the SQLite store and SVG plots. */
#ifndef VMDELAY_ANALYZE_REPORT_H
#define VMDELAY_ANALYZE_REPORT_H

#include <stdio.h>

#include "vmdelay/delay/delay.h"
#include "vmdelay/core/err.h"
#include "vmdelay/store/store.h"

struct report_ctx {
	const struct vd_delay *d;
	enum vd_align_method align;
	size_t rest;
};

int report_text(FILE *f, const struct report_ctx *c);
int report_csv(FILE *f, const struct report_ctx *c);
int report_json(FILE *f, const struct report_ctx *c);
/* Stores the run, its vantage points and results in the database at path, labelled with
 * labels' testbed, label, scenario and meta (its other fields are filled in here). */
int report_db(const char *path, const struct report_ctx *c, int argc, char **argv,
	      const struct vd_run_info *labels, struct vd_err *err);
/* --plot DIR (report_plot.c): writes into dir (created) the data files and analyze.gp, a gnuplot
 * script drawing rtt_cdf.svg, rtt_time.svg, delta_cdf.svg and send_recv_pdf.svg from them; runs
 * gnuplot when installed, else writes the same charts with lib/out/plot_svg.c. The gnuplot program
 * is $VMDELAY_GNUPLOT when set ("" or "none": never), else gnuplot in $PATH. */
int report_plots(const char *dir, const struct report_ctx *c, struct vd_err *err);

/* Vantage points one analysis takes (cmd_delay.c refuses more): bounds the layer arrays. */
#define REPORT_MAX_VANTAGE 64

/* Layer names: "total", or the inner vantage point's name. */
const char *report_layer_name(const struct vd_delay *d, size_t layer);
/* Layers reported, into out (at least nvp entries): each adjacent pair 1..nvp-1, then the total
 * (0) when there are more than two vantage points. Returns the count. */
size_t report_layers(const struct vd_delay *d, size_t *out);
/* A direction is reported when its values can exist: send/recv need comparable clocks. */
int report_dir_possible(const struct vd_delay *d, size_t layer, enum vd_delay_dir dir);

/* One row group of the per-layer tables: a layer and a direction it can have. */
struct report_cell {
	size_t layer;
	enum vd_delay_dir dir;
};
#define REPORT_MAX_CELLS (REPORT_MAX_VANTAGE * VD_DIR__COUNT)
/* The cells reported, into out (REPORT_MAX_CELLS entries): layer by layer in report_layers'
 * order, each layer's possible directions in enum order. Returns the count. */
size_t report_cells(const struct vd_delay *d, struct report_cell *out);

#endif
