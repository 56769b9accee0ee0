/* clock_pass.c — the first pass of a streamed analysis on several clocks (clock_pass.h), and
 * the matching timeline of the second.
 *
 * Each clock is fitted as vd_delay_analyze's alignment fits it: against the nearest outer
 * point already on the reference clock, from every probe both points saw, the two traces read
 * again side by side (clock_join.h), the fit kept as hulls and sums (align_acc.h). Under
 * --rest N the caller fits them again from the probes at rest (clock_rest.h). */
#include "vmdelay/delay/clock_pass.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock_join.h"
#include "vmdelay/delay/align_acc.h"

/* Least send + receive delay (ns) the hull line must leave for matching on the timeline. */
#define MIN_HULL_GAP 4.0

/* Fits v's clock against a: the fit by method and by hull (for the matching timeline). */
static int fit_pair(const struct vd_vantage_spec *specs, size_t a, size_t v,
		    const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		    const struct vd_clock_fit *a_fit, struct vd_clock_fit *fit,
		    struct vd_clock_fit *hull, size_t *point_probes, struct vd_err *err)
{
	struct vd_align_acc *acc = vd_align_acc_new();
	if (!acc)
		return vd_err_set(err, "out of memory");
	int rc = vd_clock_join(&specs[a], &specs[v], ropts, opts, a_fit, acc, point_probes, err);
	/* no probe seen at both: the usual way warns. The matching timeline takes the hull
	 * line, under which every probe's fitted one-way delays are >= gap / 2: with a few ns
	 * of room its intervals nest across the clocks as on one (the timeline rounds to 1 ns);
	 * without, the usual way matches them (nearest in time) */
	if (!rc && (vd_align_acc_fit(acc, opts->align, fit) < 0 ||
		    vd_align_acc_fit(acc, VD_ALIGN_HULL, hull) < 0 ||
		    !(vd_align_acc_hull_gap(acc) >= MIN_HULL_GAP)))
		rc = 1;
	vd_align_acc_free(acc);
	return rc;
}

/* The maps onto the reference clock stretched by 1 + s: s at least every skew, so that no map
 * runs slower than its clock. */
static int make_maps(const struct vd_delay *d, const struct vd_clock_fit *hull,
		     struct vd_clock_map *maps)
{
	double s = 0;
	for (size_t k = 0; k < d->naligns; k++)
		if (hull[k].skew > 0 && hull[k].skew < 0.5)
			s = fmax(s, hull[k].skew / (1 - hull[k].skew));
		else if (hull[k].skew >= 0.5)
			return 1; /* a clock twice as fast: nonsense */
	vd_ns T = d->naligns ? hull[0].t0 : 0;
	for (size_t v = 0; v < d->nvp; v++) {
		if (d->fit_of[v] < 0) {
			maps[v] = (struct vd_clock_map){.a = s, .b = T, .d = 0};
			continue;
		}
		const struct vd_clock_fit *f = &hull[d->fit_of[v]];
		double dd = s * (double)(f->t0 - T) - (1 + s) * f->offset_ns;
		if (!(fabs(dd) < 0x1p59))
			return 1; /* clocks decades apart */
		maps[v] =
		    (struct vd_clock_map){.a = fmax(0, s - (1 + s) * f->skew), .b = f->t0, .d = dd};
	}
	return 0;
}

int vd_clock_pass(const struct vd_vantage_spec *specs, size_t n,
		  const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		  struct vd_delay *d, struct vd_clock_map *maps, size_t *point_probes,
		  struct vd_err *err)
{
	/* --align none matches on a coarse offset only */
	if (opts->align == VD_ALIGN_NONE)
		return 1;
	struct vd_delay_align *al = realloc(d->aligns, n * sizeof(*al));
	struct vd_clock_fit *hull = malloc(n * sizeof(*hull));
	if (!al || !hull) {
		if (al)
			d->aligns = al;
		free(hull);
		return vd_err_set(err, "out of memory");
	}
	d->aligns = al;
	d->naligns = 0;
	int rc = 0;
	*point_probes = 0;
	for (size_t v = 0; v < n && !rc; v++) {
		size_t u = 0;
		while (strcmp(specs[u].clock, specs[v].clock) != 0)
			u++;
		d->clock_id[v] = u;
		d->aligned[v] = 1;
		if (u == 0) {
			d->fit_of[v] = -1;
		} else if (u < v) {
			d->fit_of[v] = d->fit_of[u];
		} else {
			size_t a = v - 1; /* every point before is aligned (or this pass gave up) */
			struct vd_delay_align *x = &d->aligns[d->naligns];
			const struct vd_clock_fit *a_fit =
			    d->fit_of[a] >= 0 ? &d->aligns[d->fit_of[a]].fit : NULL;
			size_t most = 0;
			rc = fit_pair(specs, a, v, ropts, opts, a_fit, &x->fit, &hull[d->naligns],
				      &most, err);
			*point_probes = most > *point_probes ? most : *point_probes;
			x->vantage = v;
			x->against = a;
			if (!rc) {
				if (d->rest_probes < x->fit.n)
					d->rest_probes = x->fit.n;
				d->fit_of[v] = (int)d->naligns++;
			}
		}
	}
	if (!rc)
		rc = make_maps(d, hull, maps);
	free(hull);
	return rc;
}
