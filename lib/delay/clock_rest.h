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

#endif
