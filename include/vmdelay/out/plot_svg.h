/* plot_svg.h — a small line / point chart written as a standalone SVG file (no gnuplot needed):
 * CDFs and PDFs of per-layer delays, RTT over time. */
#ifndef VMDELAY_PLOT_SVG_H
#define VMDELAY_PLOT_SVG_H

#include <stddef.h>

#include "vmdelay/core/err.h"

struct vd_svg_series {
	const char *label;
	const double *x, *y;
	size_t n;
};

struct vd_svg_chart {
	const char *title, *xlabel, *ylabel;
	int points; /* draw each sample as a dot instead of joining them */
};

/* Writes the chart to path. Series with n == 0 are listed in the legend only. Non-finite
 * values are skipped. Returns 0, or -1 with a message naming path. */
int vd_svg_write(const char *path, const struct vd_svg_chart *c, const struct vd_svg_series *s,
		 size_t ns, struct vd_err *err);

/* A name made safe for a file name: characters other than [A-Za-z0-9._-] become '_'. */
void vd_plot_file_safe(const char *in, char *out, size_t n);

#endif
