/* align.h — clock offset and skew between two vantage points on different clocks, from probes
 * seen at both while the machine is at rest (Whiteaker et al. section 3.2: least squares;
 * Moon, Skelly, Towsley, "Estimation and removal of clock skew from network delay
 * measurements", INFOCOM 1999: the lower-convex-hull linear program). docs/methodology.md. */
#ifndef VMDELAY_ALIGN_H
#define VMDELAY_ALIGN_H

#include <stddef.h>

#include "vmdelay/core/vdtime.h"

enum vd_align_method { VD_ALIGN_NONE, VD_ALIGN_LSQ, VD_ALIGN_HULL };

/* One probe seen at an outer vantage point (whose clock is the reference, already aligned) and an
 * inner one (clock to align). The prober is inside: the request passes inner then outer, the
 * reply outer then inner. */
struct vd_align_sample {
	vd_ns in_req, out_req; /* request times, inner and outer clock */
	vd_ns in_rep, out_rep; /* reply times */
};

/* theta(t) = inner clock - reference clock = offset_ns + skew * (t - t0), t on the inner clock. */
struct vd_clock_fit {
	enum vd_align_method method;
	size_t n;	    /* samples used */
	vd_ns t0;	    /* first sample's inner request time */
	double skew;	    /* dimensionless (1e-6 = 1 ppm): inner runs fast by this */
	double offset_ns;   /* theta(t0) */
	double residual_ns; /* RMS of the per-probe midpoint offsets about the fitted line */
};

/* Fits theta from n samples. lsq: least squares line through each probe's midpoint offset
 * ((in_req - out_req) + (in_rep - out_rep)) / 2, which assumes the layer's send and receive
 * delays are equal on average at rest. hull: Moon's estimator on each direction's one-way delays
 * (the lower convex hull edge over the mean time), the two skews averaged, the offset centred
 * between the directions' bounds, which assumes equal minimum send and receive delays.
 * Returns 0, or -1 when n == 0 or out of memory. */
int vd_align_fit(enum vd_align_method method, const struct vd_align_sample *s, size_t n,
		 struct vd_clock_fit *out);

/* Maps an inner-clock time to the reference clock: t - theta(t). VD_NS_NONE stays so. */
__attribute__((pure)) vd_ns vd_align_apply(const struct vd_clock_fit *f, vd_ns t);

/* Moon et al.'s one-way estimator alone: the line a + b * x under every point (x[i], y[i])
 * minimizing the sum of vertical distances. x in any unit (double). Returns 0, or -1. */
int vd_align_hull_line(const double *x, const double *y, size_t n, double *a, double *b);
/* The same line for a mean x given apart: the hull of a subset holding every vertex of the
 * points' lower hull, with the mean of all of them, gives the line of all of them (align_acc.h). */
int vd_align_hull_line_at(const double *x, const double *y, size_t n, double mean, double *a,
			  double *b);

const char *vd_align_method_name(enum vd_align_method m); /* "none", "lsq", "hull" */
int vd_align_method_parse(const char *name, enum vd_align_method *m);

#endif
