/* clock_rest.h — the clock fits of a streamed analysis under --rest N (vd_clock_pass): from
 * the first and last N probes only, as vd_delay_analyze fits them. Internal to lib/delay. */
#ifndef VMDELAY_LIB_DELAY_CLOCK_REST_H
#define VMDELAY_LIB_DELAY_CLOCK_REST_H

#include <stddef.h>

#include "vmdelay/core/err.h"
#include "vmdelay/delay/clock_map.h"
#include "vmdelay/delay/delay.h"
#include "vmdelay/input/echo_read.h"
#include "vmdelay/input/vantage_spec.h"

/* Reads specs[0..n) once more, matched on the timeline of maps, and fits again each clock of
 * d->aligns (in order: a fit against a fitted point takes that point's new fit) from the
 * probes among the first and the last opts->rest seen at both its points; sets
 * d->rest_probes. 0; 1 when the usual way must say why (a damaged trace, a clock with no
 * such probe); -1 out of memory (err). */
int vd_clock_rest(const struct vd_vantage_spec *specs, size_t n,
		  const struct vd_echo_read_opts *ropts, const struct vd_delay_opts *opts,
		  const struct vd_clock_map *maps, struct vd_delay *d, struct vd_err *err);

/* Probe p's times at every point (each point's own), p < the n given vd_clock_rest_fit. */
typedef const struct vd_delay_times *(*vd_rest_times_fn)(void *ctx, size_t p);

/* Fits again each clock of d->aligns as vd_clock_rest does after its pass, from the probes
 * among the first and the last rest of the n probes numbered across every point (only those
 * are asked of times), in probe order; sets d->rest_probes. The streamed analysis, when its
 * summaries keep every probe's times, takes them from there instead of a pass of their own.
 * 0; 1 a clock with no such probe (or its fit failing); -1 out of memory. */
int vd_clock_rest_fit(size_t n, size_t rest, vd_rest_times_fn times, void *ctx,
		      const struct vd_delay_opts *opts, struct vd_delay *d);

#endif
