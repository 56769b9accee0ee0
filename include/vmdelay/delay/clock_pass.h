/* clock_pass.h — the clocks of the streamed delay analysis (delay_stream.h) when its traces are
 * on several clock labels: a first pass over the traces fits each clock as vd_delay_analyze does
 * (align.h; the fit kept in bounded memory, align_acc.h), and a map puts every point's times on
 * one matching timeline for the second pass, which matches and summarizes as on one clock.
 * docs/methodology.md, "Clock fit in two passes". */
#ifndef VMDELAY_CLOCK_PASS_H
#define VMDELAY_CLOCK_PASS_H

#include <stddef.h>

#include "vmdelay/core/err.h"
#include "vmdelay/delay/clock_map.h"
#include "vmdelay/delay/delay.h"
#include "vmdelay/input/echo_read.h"
#include "vmdelay/input/vantage_spec.h"

/* Fits the clocks of specs[0..n) (one vantage point each, d made for them: d->vps named, d's
 * per-point arrays allocated) as vd_delay_analyze's alignment does from every probe: fills
 * d->clock_id, fit_of, aligned, aligns, naligns, rest_probes, and maps[0..n), and the most
 * probes one point of a fit made into *point_probes (the probes of the analysis are at least
 * as many). Each fit reads the two traces it needs once more. Under --rest N the caller fits
 * the clocks again from the probes at rest, which only matching every trace numbers
 * (lib/delay/clock_rest.h), on the same maps. 0; 1 when the clocks cannot be fitted this way
 * (--align none, a clock seen at no point with the reference, a damaged trace): the caller
 * reads the usual way, which says why; -1 out of memory (err). */
int vd_clock_pass(const struct vd_vantage_spec *specs, size_t n,
		  const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		  struct vd_delay *d, struct vd_clock_map *maps, size_t *point_probes,
		  struct vd_err *err);

#endif
